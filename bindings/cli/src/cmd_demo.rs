//! `spfgate demo`: the main job, offline. Decides a set of SMTP transactions
//! against the example policy and zone embedded from `examples/`, one per rule a
//! gateway account can have, and prints each verdict with its headers.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use serde_json::Value;
use spfgate::policy::{DecisionRequest, Policy, Verdict};
use spfgate::zone::Zone;

use crate::cmd_decide::{run_decision, verdict_text};
use crate::output::{Format, json, print_err, print_out};

const POLICY: &str = include_str!("../../../examples/policy.json");
const ZONE: &str = include_str!("../../../examples/zone.yaml");

/// One transaction of the demo: client IP, MAIL FROM, HELO and what it shows.
const TRANSACTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "198.51.100.1",
        "newsletter@globex.example",
        "mx.globex.example",
        "open account: a listed sender is enough",
    ),
    (
        "192.0.2.10",
        "alice@acme.example",
        "mail.acme.example",
        "whitelist hit, no DNS at all",
    ),
    (
        "::ffff:192.0.2.11",
        "Bob@ACME.example",
        "mail.acme.example",
        "IPv4-mapped client and mixed-case sender",
    ),
    (
        "203.0.113.5",
        "bob@acme.example",
        "mail.acme.example",
        "whitelist miss",
    ),
    (
        "203.0.113.7",
        "billing@initech.example",
        "mail.initech.example",
        "empty whitelist: SPF pass through an include",
    ),
    (
        "192.0.2.5",
        "billing@initech.example",
        "mail.initech.example",
        "SPF fail",
    ),
    (
        "203.0.113.25",
        "alerts@umbrella.example",
        "mx.umbrella.example",
        "IP whitelist range",
    ),
    (
        "203.0.113.25",
        "old@umbrella.example",
        "mx.umbrella.example",
        "IP-whitelist mode with an empty list",
    ),
    (
        "198.51.100.25",
        "ops@hooli.example",
        "mail.hooli.example",
        "SPF pass through mx",
    ),
    (
        "192.0.2.77",
        "ops@hooli.example",
        "mail.hooli.example",
        "SPF softfail",
    ),
    (
        "192.0.2.200",
        "jarvis@stark.example",
        "mx.stark.example",
        "whitelist-or-SPF: whitelist",
    ),
    (
        "198.51.100.9",
        "jarvis@stark.example",
        "mx.stark.example",
        "whitelist-or-SPF: SPF",
    ),
    (
        "192.0.2.99",
        "info@nospf.example",
        "mx.nospf.example",
        "no SPF record",
    ),
    (
        "192.0.2.1",
        "info@broken.example",
        "mx.broken.example",
        "SPF permerror",
    ),
    (
        "192.0.2.1",
        "info@slow.example",
        "mx.slow.example",
        "DNS timeout: defer, nothing is lost",
    ),
    (
        "192.0.2.10",
        "mallory@acme.example",
        "mail.acme.example",
        "unknown sender",
    ),
    ("192.0.2.10", "", "mail.acme.example", "null sender"),
];

/// `--format json`: one object holding every transaction with its verdict.
#[derive(Debug, Serialize)]
struct DemoRun<'a> {
    transactions: Vec<DemoTransaction<'a>>,
}

/// One demo transaction: what was sent, what it shows, the core's verdict.
#[derive(Debug, Serialize)]
struct DemoTransaction<'a> {
    ip: &'a str,
    mail_from: &'a str,
    helo: &'a str,
    shows: &'a str,
    verdict: Verdict,
}

/// Flags of `spfgate demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Output format (`json`: one object, `{"transactions": [{ip, mail_from, helo,
    /// shows, verdict}, ...]}`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs every demo transaction against the embedded policy and zone.
pub fn run(args: &DemoArgs) -> ExitCode {
    let (policy, zone) = match load() {
        Ok(loaded) => loaded,
        Err(e) => {
            print_err(&format!("spfgate demo: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let mut run = DemoRun {
        transactions: Vec::new(),
    };
    for &(ip, mail_from, helo, what) in TRANSACTIONS {
        let request = DecisionRequest {
            ip: ip
                .parse()
                .unwrap_or_else(|_| unreachable!("demo IPs are valid")),
            mail_from: mail_from.to_owned(),
            helo: helo.to_owned(),
            receiver: policy.authserv_id().to_owned(),
            now: 0,
        };
        let verdict = run_decision(&policy, request, |batch| {
            batch.iter().map(|l| (l.id, zone.resolve(l))).collect()
        });
        match args.format {
            Format::Text => print_out(&format!(
                "## {what}\nMAIL FROM:<{mail_from}> from {ip} (HELO {helo})\n{}",
                verdict_text(&verdict)
            )),
            Format::Json => run.transactions.push(DemoTransaction {
                ip,
                mail_from,
                helo,
                shows: what,
                verdict,
            }),
        }
    }
    if args.format == Format::Json {
        print_out(&json(&run));
    }
    ExitCode::SUCCESS
}

fn load() -> Result<(Policy, Zone), String> {
    let policy = Policy::from_json(POLICY).map_err(|e| format!("examples/policy.json: {e}"))?;
    let value: Value =
        serde_yaml_ng::from_str(ZONE).map_err(|e| format!("examples/zone.yaml: {e}"))?;
    let zone = Zone::from_value(&value).map_err(|e| format!("examples/zone.yaml: {e}"))?;
    Ok((policy, zone))
}
