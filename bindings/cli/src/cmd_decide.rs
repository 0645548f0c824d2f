//! `spfgate decide`: one SMTP transaction against an account policy.
//!
//! Loads the policy (JSON, or TOML when the file name ends in `.toml`),
//! decides, and answers the decision's DNS lookups from a zone file
//! (`--zone`) or live servers (`--server`, else the system's resolvers).
//! Prints the verdict as text or, with `--format json`, as
//!
//! ```text
//! {"action": "accept|reject|defer",
//!  "smtp": {"code": 550, "enhanced": "5.7.23", "text": "..."},
//!  "account": "acme" | null,
//!  "rule": {"kind": "spf", "mode": "spf", "description": "...", ...},
//!  "spf": {"result": "fail", "explanation": ..., "mechanism": ..., "lookups": 1,
//!          "void_lookups": 0, "queries": 1, "round_trips": 1, ...} | null,
//!  "headers": {"Received-SPF": "..." | null, "Authentication-Results": "..."}}
//! ```
//!
//! Any completed decision exits 0, whatever the action; a policy, zone or
//! argument that cannot be used exits 2.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use spfgate::dns::{Answer, Lookup, LookupId};
use spfgate::eval::Config;
use spfgate::policy::{DecisionRequest, Policy, Rule, Verdict};

use crate::dns_source::{DnsArgs, DnsSource, drive};
use crate::output::{Format, VoidCountingArg, limits};

/// Arguments of `spfgate decide`.
#[derive(Debug, Clone, clap::Args)]
pub struct DecideArgs {
    /// The policy document (JSON; TOML when the name ends in `.toml`).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The connecting client's IP address.
    #[arg(long)]
    pub ip: IpAddr,
    /// The MAIL FROM address (empty or `<>` for the null sender).
    #[arg(long, value_name = "ADDR", allow_hyphen_values = true)]
    pub mail_from: String,
    /// The HELO/EHLO name.
    #[arg(long, value_name = "NAME")]
    pub helo: String,
    /// This gateway's host name (defaults to the policy's authserv_id).
    #[arg(long, value_name = "NAME")]
    pub receiver: Option<String>,
    #[command(flatten)]
    pub dns: DnsArgs,
    /// Seconds since the Unix epoch for SPF's %{t} (default: now).
    #[arg(long)]
    pub now: Option<u64>,
    /// How void lookups count against the limit of two.
    #[arg(long, value_enum, default_value_t = VoidCountingArg::PerTerm)]
    pub void_counting: VoidCountingArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `spfgate decide`: prints the verdict, exit 0; exit 2 when the
/// policy or zone cannot be loaded.
pub fn run(args: &DecideArgs) -> ExitCode {
    match decide(args) {
        Ok(verdict) => {
            let text = match args.format {
                Format::Json => verdict_json(&verdict).to_string(),
                Format::Text => verdict_text(&verdict),
            };
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("spfgate decide: {message}");
            ExitCode::from(2)
        }
    }
}

/// Prints `text` and a newline on stdout; a closed pipe (`| head`) is not
/// an error worth a panic.
pub fn print_out(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
}

/// Loads what `args` name and decides.
fn decide(args: &DecideArgs) -> Result<Verdict, String> {
    let policy = load_policy(&args.policy)?;
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let request = DecisionRequest {
        ip: args.ip,
        mail_from: args.mail_from.clone(),
        helo: args.helo.clone(),
        receiver: args
            .receiver
            .clone()
            .unwrap_or_else(|| policy.authserv_id().to_owned()),
        now,
    };
    let mut dns = DnsSource::from_args(&args.dns)?;
    let config = Config {
        limits: limits(args.void_counting),
        trace: false,
        ..Config::default()
    };
    Ok(drive(policy.decide_with(request, config), |batch| {
        dns.resolve_batch(batch)
    }))
}

/// Reads a policy file: TOML when the name ends in `.toml`, JSON otherwise.
pub fn load_policy(path: &Path) -> Result<Policy, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the policy {}: {e}", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let policy = if is_toml {
        Policy::from_toml(&text)
    } else {
        Policy::from_json(&text)
    };
    policy.map_err(|e| format!("{}: {e}", path.display()))
}

/// Decides `request` against `policy`, resolving each batch of lookups with
/// `resolve` (for example [`DnsSource::resolve_batch`]); see [`drive`].
pub fn run_decision(
    policy: &Policy,
    request: DecisionRequest,
    resolve: impl FnMut(&[Lookup]) -> Vec<(LookupId, Answer)>,
) -> Verdict {
    drive(policy.decide(request), resolve)
}

/// The verdict as the JSON object printed by `--format json`.
pub fn verdict_json(verdict: &Verdict) -> Value {
    let mut rule = json!({
        "kind": verdict.rule.kind(),
        "mode": verdict.mode.map(|m| m.as_str()),
        "description": verdict.rule.to_string(),
    });
    match &verdict.rule {
        Rule::WhitelistHit {
            entry,
            line,
            column,
        } => {
            rule["entry"] = json!(entry);
            rule["line"] = json!(line);
            rule["column"] = json!(column);
        }
        Rule::Spf {
            directive, domain, ..
        } => {
            rule["directive"] = json!(directive);
            rule["domain"] = json!(domain);
        }
        _ => {}
    }
    let spf = verdict.spf.as_ref().map(|o| {
        json!({
            "result": o.result.as_str(),
            "explanation": o.explanation,
            "mechanism": o.mechanism,
            "domain": o.domain,
            "problem": o.problem.as_ref().map(ToString::to_string),
            "reason": o.reason(),
            "lookups": o.dns_terms,
            "void_lookups": o.void_lookups,
            "queries": o.queries,
            "round_trips": o.round_trips,
        })
    });
    json!({
        "action": verdict.action.as_str(),
        "smtp": {
            "code": verdict.smtp.code,
            "enhanced": verdict.smtp.enhanced,
            "text": verdict.smtp.text,
        },
        "account": verdict.account,
        "rule": rule,
        "spf": spf,
        "headers": {
            "Received-SPF": verdict.headers.received_spf,
            "Authentication-Results": verdict.headers.authentication_results,
        },
    })
}

/// The verdict as lines for a person.
pub fn verdict_text(verdict: &Verdict) -> String {
    let mut out = format!("{}: {}\n", verdict.action, verdict.smtp);
    match (&verdict.account, verdict.mode) {
        (Some(account), Some(mode)) => out.push_str(&format!("account: {account} ({mode})\n")),
        (Some(account), None) => out.push_str(&format!("account: {account}\n")),
        _ => out.push_str("account: none\n"),
    }
    out.push_str(&format!("rule: {}\n", verdict.rule));
    if let Some(o) = &verdict.spf {
        out.push_str(&format!(
            "spf: {} ({}; {} DNS terms, {} void, {} queries in {} round trips)\n",
            o.result,
            o.reason(),
            o.dns_terms,
            o.void_lookups,
            o.queries,
            o.round_trips
        ));
    }
    if let Some(h) = &verdict.headers.received_spf {
        out.push_str(&format!("Received-SPF: {h}\n"));
    }
    out.push_str(&format!(
        "Authentication-Results: {}\n",
        verdict.headers.authentication_results
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
    }

    fn decide_example(ip: &str, from: &str) -> Value {
        let policy = load_policy(&examples().join("policy.json")).expect("example policy");
        let zone =
            crate::dns_source::load_zone(&examples().join("zone.yaml")).expect("example zone");
        let mut request = DecisionRequest::new(ip.parse().unwrap(), from, "mail.example");
        request.receiver = "mx.gateway.example".into();
        let verdict = run_decision(&policy, request, |batch| {
            batch.iter().map(|l| (l.id, zone.resolve(l))).collect()
        });
        verdict_json(&verdict)
    }

    #[test]
    fn every_example_account_decides_as_documented() {
        let cases = [
            ("192.0.2.1", "newsletter@globex.example", "accept", "open"),
            ("192.0.2.1", "alice@acme.example", "accept", "whitelist-hit"),
            (
                "198.51.100.1",
                "Bob@ACME.example",
                "reject",
                "whitelist-miss",
            ),
            ("203.0.113.5", "billing@initech.example", "accept", "spf"),
            ("192.0.2.5", "billing@initech.example", "reject", "spf"),
            (
                "203.0.113.25",
                "alerts@umbrella.example",
                "accept",
                "whitelist-hit",
            ),
            (
                "203.0.113.10",
                "old@umbrella.example",
                "reject",
                "whitelist-empty",
            ),
            ("198.51.100.25", "ops@hooli.example", "accept", "spf"),
            ("198.51.100.26", "ops@hooli.example", "reject", "spf"),
            (
                "192.0.2.200",
                "jarvis@stark.example",
                "accept",
                "whitelist-hit",
            ),
            ("198.51.100.9", "jarvis@stark.example", "accept", "spf"),
            ("192.0.2.1", "info@nospf.example", "reject", "spf"),
            ("192.0.2.1", "info@broken.example", "reject", "spf"),
            ("192.0.2.1", "info@slow.example", "defer", "spf"),
            (
                "192.0.2.1",
                "stranger@acme.example",
                "reject",
                "unknown-sender",
            ),
            ("192.0.2.1", "<>", "reject", "null-sender"),
        ];
        for (ip, from, action, kind) in cases {
            let v = decide_example(ip, from);
            assert_eq!(v["action"], action, "{from} from {ip}: {v}");
            assert_eq!(v["rule"]["kind"], kind, "{from} from {ip}: {v}");
        }
    }

    #[test]
    fn json_has_the_documented_fields() {
        let v = decide_example("192.0.2.5", "billing@initech.example");
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = ["action", "smtp", "account", "rule", "spf", "headers"];
        want.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(v["smtp"]["code"], 550);
        assert_eq!(v["smtp"]["enhanced"], "5.7.23");
        assert_eq!(v["account"], "initech");
        assert_eq!(v["spf"]["result"], "fail");
        assert_eq!(v["spf"]["mechanism"], "-all");
        assert_eq!(v["spf"]["lookups"], 1);
        for key in ["explanation", "void_lookups", "queries", "round_trips"] {
            assert!(v["spf"].get(key).is_some(), "{key}");
        }
        assert!(
            v["headers"]["Received-SPF"]
                .as_str()
                .unwrap()
                .starts_with("fail ")
        );
        assert!(
            v["headers"]["Authentication-Results"]
                .as_str()
                .unwrap()
                .starts_with("mx.gateway.example; spf=fail ")
        );
        let v = decide_example("192.0.2.1", "alice@acme.example");
        assert_eq!(v["spf"], Value::Null);
        assert_eq!(v["headers"]["Received-SPF"], Value::Null);
        assert_eq!(v["rule"]["entry"], "192.0.2.0/24");
        assert_eq!(v["rule"]["mode"], "restricted");
    }

    #[test]
    fn unanswered_lookups_become_temporary_failures() {
        let policy = load_policy(&examples().join("policy.json")).unwrap();
        let request = DecisionRequest::new(
            "192.0.2.1".parse().unwrap(),
            "ops@hooli.example",
            "h.example",
        );
        let verdict = run_decision(&policy, request, |_| Vec::new());
        assert_eq!(verdict.action.as_str(), "defer");
        assert_eq!(verdict.smtp.enhanced, "4.7.24");
    }

    #[test]
    fn text_output_names_rule_and_headers() {
        let policy = load_policy(&examples().join("policy.json")).unwrap();
        let request = DecisionRequest::new(
            "192.0.2.9".parse().unwrap(),
            "alice@acme.example",
            "h.example",
        );
        let verdict = run_decision(&policy, request, |_| Vec::new());
        let text = verdict_text(&verdict);
        assert!(
            text.starts_with("accept: 250 2.1.0 Sender <alice@acme.example> OK from whitelisted client 192.0.2.9\n"),
            "{text}"
        );
        assert!(text.contains("account: acme (restricted)\n"), "{text}");
        assert!(text.contains("Authentication-Results: mx.gateway.example; none"));
    }

    #[test]
    fn bad_policies_are_reported_with_their_position() {
        let dir = std::env::temp_dir().join(format!("spfgate-decide-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(
            &path,
            "authserv_id = \"x\"\n[[accounts]]\nid = \"a\"\nsenders = [\"nobody\"]\nsecurity = { mode = \"open\" }\n",
        )
        .unwrap();
        let err = load_policy(&path).unwrap_err();
        assert!(
            err.ends_with("line 4, column 12: account `a` (accounts[0]), senders[0]: sender `nobody` is not an address: it has no `@`"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
