//! `spfgate lint RECORD | --domain NAME [--zone FILE | --server ADDR] [--format json]`
//!
//! With a RECORD only: static findings. With `--domain` and a resolver: the lookup
//! analysis of the record published at NAME (or of RECORD as if published there), with
//! counts, the chain behind each finding, and a flattening suggestion.
//!
//! The analysis loop is generic over a batch resolver, `FnMut(&[Lookup]) -> Vec<(LookupId,
//! Answer)>`, so the dispatcher can pass the zone resolver or a live one.

use std::io::Write;
#[cfg(test)]
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};
use spfgate::dns::{Answer, Lookup, LookupId};
use spfgate::lint::{Analysis, AnalysisOptions, Finding, Report, Severity, lint_record};
#[cfg(test)]
use spfgate::zone::Zone;

use crate::dns_source::{DnsArgs, DnsSource, drive};
use crate::output::{Format, VoidCountingArg, limits};

/// Arguments of `spfgate lint`.
#[derive(Debug, Clone, clap::Args)]
pub struct LintArgs {
    /// Record text to lint, e.g. "v=spf1 mx -all" (with --domain: analysed as if published there).
    pub record: Option<String>,
    /// Analyse the record tree of this domain (needs --zone or --server).
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,
    #[command(flatten)]
    pub dns: DnsArgs,
    /// How void lookups count against the limit of two.
    #[arg(long, value_enum, default_value_t = VoidCountingArg::PerTerm)]
    pub void_counting: VoidCountingArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the command, writing to stdout. Exit code 1 when any finding is an error;
/// `Err` for unusable arguments or files.
pub fn run(args: &LintArgs) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    if args.domain.is_some() {
        let mut dns = DnsSource::from_args(&args.dns)?;
        run_with(args, |batch| dns.resolve_batch(batch), &mut out)
    } else {
        run_with(args, no_resolver, &mut out)
    }
}

/// Runs the command with a batch resolver: it gets each batch of lookups and returns
/// the answers by id (any order; a missing answer counts as a temporary failure).
pub fn run_with(
    args: &LintArgs,
    mut resolve: impl FnMut(&[Lookup]) -> Vec<(LookupId, Answer)>,
    out: &mut dyn Write,
) -> Result<ExitCode, String> {
    let (doc, text, worst) = match (&args.domain, &args.record) {
        (Some(domain), record) => {
            let options = AnalysisOptions {
                limits: limits(args.void_counting),
                ..AnalysisOptions::default()
            };
            let analysis = match record {
                Some(text) => Analysis::with_record(domain, text, options),
                None => Analysis::new(domain, options),
            };
            let report = drive(analysis, &mut resolve);
            (report_json(&report), report_text(&report), report.worst())
        }
        (None, Some(record)) => {
            let findings = lint_record(record);
            let worst = findings.iter().map(|f| f.severity).min();
            let doc = json!({
                "record": record,
                "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
            });
            (doc, findings_text(&findings), worst)
        }
        (None, None) => return Err("give a RECORD to lint or --domain NAME to analyse".into()),
    };
    let written = match args.format {
        Format::Json => writeln!(out, "{doc:#}"),
        Format::Text => out.write_all(text.as_bytes()),
    };
    written.map_err(|e| format!("cannot write the output: {e}"))?;
    Ok(if worst == Some(Severity::Error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The resolver for static linting, which asks nothing.
fn no_resolver(batch: &[Lookup]) -> Vec<(LookupId, Answer)> {
    batch
        .iter()
        .map(|l| (l.id, Answer::temp_fail("no resolver")))
        .collect()
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "code": f.code,
        "severity": f.severity.as_str(),
        "span": [f.span.start, f.span.len],
        "message": f.message,
        "hint": f.hint,
        "domain": f.domain,
        "chain": f.chain,
    })
}

fn report_json(r: &Report) -> Value {
    json!({
        "domain": r.domain,
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "counts": {
            "dns_terms": r.dns_terms,
            "void_lookups": {"ipv4": r.void_lookups.ipv4, "ipv6": r.void_lookups.ipv6},
            "mx_hosts": r.mx_hosts.iter().map(|m| json!({
                "chain": m.chain,
                "domain": m.domain,
                "span": [m.span.start, m.span.len],
                "target": m.target,
                "hosts": m.hosts,
            })).collect::<Vec<_>>(),
            "depth": r.depth,
            "exact": r.exact,
            "queries": r.queries,
            "round_trips": r.round_trips,
        },
        "records": r.records.iter().map(|t| json!({
            "chain": t.chain,
            "domain": t.domain,
            "depth": t.depth,
            "text": t.text,
        })).collect::<Vec<_>>(),
        "flattening": r.flattening.as_ref().map(|f| json!({
            "record": f.record,
            "strings": f.strings,
            "dns_terms_before": f.dns_terms_before,
            "dns_terms_after": f.dns_terms_after,
            "kept": f.kept,
        })),
    })
}

fn findings_text(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings\n".into();
    }
    findings.iter().map(|f| format!("{f}\n")).collect()
}

fn report_text(r: &Report) -> String {
    let mut s = String::new();
    for t in &r.records {
        s += &format!(
            "{:w$}{}: {}\n",
            "",
            t.domain,
            t.text,
            w = t.depth as usize * 2
        );
    }
    s += &format!(
        "\n{}: {} DNS-querying terms (limit 10), void lookups {} for IPv4 / {} for IPv6 clients, depth {}{}\n",
        r.domain,
        r.dns_terms,
        r.void_lookups.ipv4,
        r.void_lookups.ipv6,
        r.depth,
        if r.exact {
            ""
        } else {
            " (not exact: see findings)"
        },
    );
    for m in &r.mx_hosts {
        s += &format!(
            "mx in {}: {} has {} MX hosts\n",
            m.domain, m.target, m.hosts
        );
    }
    s += "\n";
    s += &findings_text(&r.findings);
    if let Some(f) = &r.flattening {
        s += &format!(
            "\nflattened ({} → {} DNS-querying terms):\n",
            f.dns_terms_before, f.dns_terms_after
        );
        for part in &f.strings {
            s += &format!("  \"{part}\"\n");
        }
        if !f.kept.is_empty() {
            s += &format!("kept as written: {}\n", f.kept.join(" "));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch resolver answering from a zone.
    fn zone_resolver(zone: &Zone) -> impl FnMut(&[Lookup]) -> Vec<(LookupId, Answer)> + '_ {
        |batch| batch.iter().map(|l| (l.id, zone.resolve(l))).collect()
    }

    fn args(record: Option<&str>, domain: Option<&str>, format: Format) -> LintArgs {
        LintArgs {
            record: record.map(str::to_owned),
            domain: domain.map(str::to_owned),
            dns: DnsArgs {
                zone: domain.map(|_| PathBuf::from("zone.yml")),
                server: Vec::new(),
                timeout: 2.0,
                trace: false,
            },
            void_counting: VoidCountingArg::PerTerm,
            format,
        }
    }

    #[test]
    fn static_lint_json_and_exit_code() {
        let mut out = Vec::new();
        let code = run_with(
            &args(Some("v=spf1 +all"), None, Format::Json),
            no_resolver,
            &mut out,
        );
        assert_eq!(code, Ok(ExitCode::FAILURE));
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["findings"][0]["code"], "plus-all");
        assert_eq!(doc["findings"][0]["span"], json!([7, 4]));
    }

    #[test]
    fn domain_analysis_through_a_batch_resolver() {
        let zone = Zone::from_json(
            r#"{"example.com": [{"TXT": "v=spf1 include:_spf.example.net -all"}],
                "_spf.example.net": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        let a = args(None, Some("example.com"), Format::Json);
        assert_eq!(
            run_with(&a, zone_resolver(&zone), &mut out),
            Ok(ExitCode::SUCCESS)
        );
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["counts"]["dns_terms"], 1);
        assert_eq!(doc["flattening"]["record"], "v=spf1 ip4:192.0.2.0/24 -all");
        let mut out = Vec::new();
        let a = args(None, Some("example.com"), Format::Text);
        run_with(&a, zone_resolver(&zone), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("flattened (1 → 0 DNS-querying terms)"),
            "{text}"
        );
    }

    #[test]
    fn usage_errors() {
        let mut out = Vec::new();
        assert!(run_with(&args(None, None, Format::Text), no_resolver, &mut out).is_err());
        let mut a = args(None, Some("example.com"), Format::Text);
        a.dns.zone = Some(PathBuf::from("/nonexistent/zone.yml"));
        assert!(run(&a).unwrap_err().contains("cannot read zone file"));
    }
}
