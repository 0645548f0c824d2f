//! `spfgate lint RECORD | --domain NAME [--zone FILE | --server ADDR] [--format json]`
//!
//! With a RECORD only: static findings. With `--domain`: the lookup analysis of the
//! record published at NAME (or of RECORD as if published there), resolved through
//! `--zone`, `--server` or the system's resolvers, with counts, the chain behind each
//! finding, and a flattening suggestion. `--format json` prints the core's
//! serialization: the array of findings, or the analysis report (docs/json.md).
//!
//! The analysis loop is generic over a batch resolver, `FnMut(&[Lookup]) -> Vec<(LookupId,
//! Answer)>`, so the dispatcher can pass the zone resolver or a live one.

use std::io::Write;
#[cfg(test)]
use std::path::PathBuf;
use std::process::ExitCode;

use spfgate::dns::{Answer, Lookup, LookupId, drive};
use spfgate::lint::{Analysis, AnalysisOptions, Finding, Report, Severity, lint_record};
#[cfg(test)]
use spfgate::zone::Zone;

use crate::dns_source::{DnsArgs, DnsSource};
use crate::output::{Format, VoidCountingArg, json, limits, plural};

/// Arguments of `spfgate lint`.
#[derive(Debug, Clone, clap::Args)]
pub struct LintArgs {
    /// Record text to lint, e.g. "v=spf1 mx -all" (with --domain: analysed as if published there).
    pub record: Option<String>,
    /// Analyse the record tree of this domain, resolved through --zone, --server or
    /// the system's resolvers (/etc/resolv.conf).
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
    let (text, worst) = match (&args.domain, &args.record) {
        (Some(domain), record) => {
            let options = AnalysisOptions {
                limits: limits(args.void_counting),
                ..AnalysisOptions::default()
            };
            let mut analysis = match record {
                Some(text) => Analysis::with_record(domain, text, options),
                None => Analysis::new(domain, options),
            };
            let report = drive(&mut analysis, &mut resolve);
            let text = match args.format {
                Format::Json => json(report),
                Format::Text => report_text(report),
            };
            (text, report.worst())
        }
        (None, Some(record)) => {
            let findings = lint_record(record);
            let text = match args.format {
                Format::Json => json(&findings),
                Format::Text => findings_text(&findings),
            };
            (text, findings.iter().map(|f| f.severity).min())
        }
        (None, None) => return Err("give a RECORD to lint or --domain NAME to analyse".into()),
    };
    let written = writeln!(out, "{}", text.trim_end()).and_then(|()| out.flush());
    match written {
        // A closed pipe (`| head`) ends the output quietly.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(format!("cannot write the output: {e}"));
        }
        _ => {}
    }
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
    if !s.is_empty() {
        s += "\n";
    }
    s += &format!(
        "{}: {} (limit 10), void lookups {} for IPv4 / {} for IPv6 clients, depth {}{}\n",
        r.domain,
        plural(r.dns_terms, "DNS-querying term", "DNS-querying terms"),
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
            "mx in {}: {} has {}\n",
            m.domain,
            m.target,
            plural(m.hosts, "MX host", "MX hosts")
        );
    }
    s += "\n";
    s += &findings_text(&r.findings);
    if let Some(f) = &r.flattening {
        s += &format!(
            "\nflattened ({} → {}):\n",
            f.dns_terms_before,
            plural(f.dns_terms_after, "DNS-querying term", "DNS-querying terms")
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
    use serde_json::{Value, json};

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
        assert_eq!(doc[0]["code"], "plus-all");
        assert_eq!(doc[0]["span"], json!([7, 4]));
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
