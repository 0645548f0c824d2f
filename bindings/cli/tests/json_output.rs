//! `--format json` of every command prints exactly the core's serialization (the
//! same bytes as `serde_json::to_string` of the core value, computed here), and that
//! output matches the example checked in under `tests/json/` (docs/json.md).
//!
//! `SPFGATE_BLESS=1 cargo test -p spfgate-cli --test json_output` rewrites the
//! examples after an intended change of the vocabulary.

mod common;

use std::path::PathBuf;

use serde_json::Value;
use spfgate::dns::{Lookup, LookupId, drive};
use spfgate::eval::{Config, Evaluator, Request};
use spfgate::lint::{Analysis, AnalysisOptions, lint_record};
use spfgate::policy::DecisionRequest;
use spfgate::policy::whitelist::parse_whitelist;
use spfgate::record::Parsed;
use spfgate::zone::Zone;
use spfgate_cli::cmd_decide::load_policy;
use spfgate_cli::dns_source::load_zone;

use common::{examples, spfgate};

/// Runs `spfgate` and returns its standard output without the final newline.
fn run(args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = spfgate(args, stdin);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    text.strip_suffix('\n').expect("one line").to_owned()
}

/// Checks `printed` against `core` (the core's serialization) and against the
/// checked-in example `tests/json/{name}.json`.
fn compare(name: &str, printed: &str, core: String) {
    assert_eq!(
        printed, core,
        "{name}: the CLI must print the core's serialization"
    );
    let value: Value = serde_json::from_str(printed).expect("valid JSON");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/json")
        .join(format!("{name}.json"));
    if std::env::var_os("SPFGATE_BLESS").is_some() {
        let pretty = serde_json::to_string_pretty(&value).unwrap() + "\n";
        std::fs::write(&path, pretty).expect("write the example");
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let example: Value = serde_json::from_str(&text).expect("the example is JSON");
    assert_eq!(
        value,
        example,
        "{name}: output differs from {}",
        path.display()
    );
}

fn zone() -> Zone {
    load_zone(&examples().join("zone.yaml")).expect("example zone")
}

fn resolver(zone: &Zone) -> impl FnMut(&[Lookup]) -> Vec<(LookupId, spfgate::dns::Answer)> + '_ {
    |batch| batch.iter().map(|l| (l.id, zone.resolve(l))).collect()
}

fn path(file: &str) -> String {
    examples().join(file).display().to_string()
}

#[test]
fn check_outcome() {
    let zone_file = path("zone.yaml");
    let printed = run(
        &[
            "check",
            "--ip",
            "192.0.2.5",
            "--mail-from",
            "billing@initech.example",
            "--helo",
            "mail.initech.example",
            "--zone",
            &zone_file,
            "--trace",
            "--format",
            "json",
        ],
        None,
    );
    let request = Request::new(
        "192.0.2.5".parse().unwrap(),
        "billing@initech.example",
        "mail.initech.example",
    );
    let zone = zone();
    let mut evaluator = Evaluator::new(request, Config::default());
    let core = serde_json::to_string(drive(&mut evaluator, resolver(&zone))).unwrap();
    compare("check", &printed, core);
}

#[test]
fn decide_verdict() {
    let (policy_file, zone_file) = (path("policy.json"), path("zone.yaml"));
    let printed = run(
        &[
            "decide",
            "--policy",
            &policy_file,
            "--zone",
            &zone_file,
            "--ip",
            "192.0.2.5",
            "--mail-from",
            "billing@initech.example",
            "--helo",
            "mail.initech.example",
            "--now",
            "0",
            "--format",
            "json",
        ],
        None,
    );
    let policy = load_policy(&examples().join("policy.json")).expect("example policy");
    let mut request = DecisionRequest::new(
        "192.0.2.5".parse().unwrap(),
        "billing@initech.example",
        "mail.initech.example",
    );
    request.receiver = policy.authserv_id().to_owned();
    let zone = zone();
    let mut decision = policy.decide(request);
    let core = serde_json::to_string(drive(&mut decision, resolver(&zone))).unwrap();
    compare("decide", &printed, core);
}

#[test]
fn lint_record_findings() {
    let record = "v=spf1 ip4:192.0.2.1/24 ptr +all";
    let printed = run(&["lint", record, "--format", "json"], None);
    let core = serde_json::to_string(&lint_record(record)).unwrap();
    compare("lint-record", &printed, core);
}

#[test]
fn lint_domain_report() {
    let zone_file = path("zone.yaml");
    let printed = run(
        &[
            "lint",
            "--domain",
            "initech.example",
            "--zone",
            &zone_file,
            "--format",
            "json",
        ],
        None,
    );
    let zone = zone();
    let mut analysis = Analysis::new("initech.example", AnalysisOptions::default());
    let core = serde_json::to_string(drive(&mut analysis, resolver(&zone))).unwrap();
    compare("lint-domain", &printed, core);
}

#[test]
fn parse_valid_and_invalid() {
    for (name, record) in [
        (
            "parse-valid",
            "v=spf1 a:mail.example.com/24 ip6:2001:db8::/32 ~all redirect=_spf.example.com",
        ),
        ("parse-invalid", "v=spf1 ip4:192.0.2.0/33 -all"),
    ] {
        let printed = run(&["parse", "--format", "json", record], None);
        let core = serde_json::to_string(&Parsed::from_bytes(record.as_bytes())).unwrap();
        compare(name, &printed, core);
    }
}

#[test]
fn whitelist_report() {
    let text = "# office\n192.0.2.1/24, 198.51.100.7\n10.0.0.1 - 10.0.0.6\nmail.example.com\n";
    let printed = run(&["whitelist", "--format", "json"], Some(text.as_bytes()));
    let core = serde_json::to_string(&parse_whitelist(text)).unwrap();
    compare("whitelist", &printed, core);
}
