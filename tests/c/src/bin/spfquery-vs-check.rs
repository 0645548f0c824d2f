//! `examples/c/spfquery` (libspfgate over libresolv) against `spfgate check
//! --server` (the Rust resolver), both asking a real NSD.
//!
//! ```text
//! spfquery-vs-check SPFQUERY SPFGATE
//! ```
//!
//! Each scenario of the RFC 7208 suite is written as a master file for the root
//! zone and served by NSD on 127.0.0.1 (`tests/dns-server/start-nsd.sh`); every
//! test whose names the master file can serve runs through both programs, whose
//! output (result, reason, explanation, counts, trace) must be the same, as
//! must the outcome fields of their `--format json` output, and
//! whose result must be one the suite allows. Tests that look up a name the
//! master file leaves out (TIMEOUT entries, duplicate records) are counted as
//! skipped, with the name. A record of 1 600 bytes checks the retry over TCP.
//! Exits non-zero on any difference.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde_json::json;
use spfgate::eval::{Config, Evaluator, Request, Step};
use spfgate::zone::Zone;
use spfgate_c_tests::{Case, Scenario, load_suite, suite_path};
use spfgate_cli::zonefile::master_file;

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dns-server")
}

/// A port free for both UDP and TCP on 127.0.0.1.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP socket");
        let port = udp.local_addr().expect("local address").port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// NSD serving one root zone; stopped when dropped.
struct Nsd {
    port: u16,
    state: PathBuf,
}

impl Nsd {
    fn serve(text: &str, dir: &Path) -> Result<Nsd, String> {
        let zones = dir.join("zones");
        std::fs::create_dir_all(&zones).map_err(|e| e.to_string())?;
        std::fs::write(zones.join("root.zone"), text).map_err(|e| e.to_string())?;
        let mut errors = String::new();
        for _ in 0..5 {
            let port = free_port();
            let state = dir.join(format!("nsd-{port}"));
            let out = Command::new(scripts().join("start-nsd.sh"))
                .arg(&zones)
                .arg(port.to_string())
                .env("SPFGATE_NSD_STATE", &state)
                .output()
                .map_err(|e| format!("start-nsd.sh: {e}"))?;
            if out.status.success() {
                return Ok(Nsd { port, state });
            }
            errors.push_str(&String::from_utf8_lossy(&out.stderr));
        }
        Err(format!("NSD did not start: {errors}"))
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = Command::new(scripts().join("stop-nsd.sh"))
            .arg(self.port.to_string())
            .env("SPFGATE_NSD_STATE", &self.state)
            .output();
    }
}

/// Every name `case` makes the engine look up in `zone`.
fn queried_names(zone: &Zone, case: &Case) -> BTreeSet<String> {
    let ip = case.ip.parse().expect("suite host is an IP address");
    let mut evaluator = Evaluator::new(
        Request::new(ip, &case.mail_from, &case.helo),
        Config::default(),
    );
    let mut names = BTreeSet::new();
    loop {
        let batch = match evaluator.poll() {
            Step::Done(_) => return names,
            Step::Lookups(batch) => batch,
            Step::Pending => unreachable!("every lookup is answered at once"),
        };
        for lookup in batch {
            names.insert(lookup.name.clone());
            let answer = zone.resolve(&lookup);
            evaluator
                .answer(lookup.id, answer)
                .expect("answering a handed-out lookup");
        }
    }
}

/// A scenario of our own: a 1 600-byte record, over the 512 bytes of a UDP
/// answer without EDNS, so spfquery must retry over TCP to get it.
fn long_record() -> Scenario {
    let terms: Vec<String> = (0..90)
        .map(|i| format!("ip4:198.51.{}.{}", i / 8, 100 + i))
        .collect();
    let record = format!("v=spf1 {} ip4:192.0.2.1 -all", terms.join(" "));
    assert!(record.len() > 1_500, "{} bytes", record.len());
    let zonedata = json!({"big.example": [{"TXT": record}]});
    let case = |name: &str, ip: &str, result: &str| Case {
        name: name.to_owned(),
        ip: ip.to_owned(),
        mail_from: "a@big.example".to_owned(),
        helo: "mx.big.example".to_owned(),
        results: vec![result.to_owned()],
        explanation: None,
    };
    Scenario {
        description: "a record too long for UDP".to_owned(),
        zone: Zone::from_value(&zonedata).expect("a valid zone"),
        zonedata,
        cases: vec![
            case("long-record-pass", "192.0.2.1", "pass"),
            case("long-record-fail", "192.0.2.2", "fail"),
        ],
    }
}

/// The keys of the outcome JSON both programs print.
const JSON_KEYS: &[&str] = &[
    "result",
    "reason",
    "explanation",
    "mechanism",
    "domain",
    "problem",
    "lookups",
    "void_lookups",
    "queries",
    "round_trips",
];

/// Runs both programs with `--format json` and compares the outcome's fields.
fn compare_json(spfquery: &Path, spfgate: &Path, common: &[String]) -> Result<(), String> {
    let json_args = |check: bool| {
        let mut args: Vec<String> = check.then(|| "check".to_owned()).into_iter().collect();
        args.extend(common.iter().cloned());
        args.push("--format=json".to_owned());
        args
    };
    let parse = |text: String| -> Result<serde_json::Value, String> {
        serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))
    };
    let c = parse(run(spfquery, &json_args(false))?)?;
    let rust = parse(run(spfgate, &json_args(true))?)?;
    for key in JSON_KEYS {
        if c.get(key).is_none() || c.get(key) != rust.get(key) {
            return Err(format!(
                "JSON `{key}`: spfquery {:?}, spfgate check {:?}",
                c.get(key),
                rust.get(key)
            ));
        }
    }
    Ok(())
}

/// Runs a program and returns its stdout, or why it failed.
fn run(program: &Path, args: &[String]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {args:?}: {}\n{}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [spfquery, spfgate] = &args[..] else {
        eprintln!("usage: spfquery-vs-check SPFQUERY SPFGATE");
        return ExitCode::from(2);
    };
    let scenarios = match load_suite(&suite_path()) {
        Ok(mut s) => {
            s.push(long_record());
            s
        }
        Err(e) => {
            eprintln!("spfquery-vs-check: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = std::env::temp_dir().join(format!("spfgate-spfquery-{}", std::process::id()));
    let (mut agreed, mut skipped, mut failures) = (0, Vec::new(), Vec::new());
    for (index, scenario) in scenarios.iter().enumerate() {
        let file = master_file(&scenario.zone);
        let unservable: BTreeSet<String> = file
            .unservable
            .iter()
            .map(|u| u.name.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let scenario_dir = dir.join(index.to_string());
        let nsd = match Nsd::serve(&file.text, &scenario_dir) {
            Ok(nsd) => nsd,
            Err(e) => {
                failures.push(format!("{}: {e}", scenario.description));
                continue;
            }
        };
        let server = format!("127.0.0.1:{}", nsd.port);
        for case in &scenario.cases {
            if let Some(name) = queried_names(&scenario.zone, case)
                .intersection(&unservable)
                .next()
            {
                skipped.push(format!("{} ({name})", case.name));
                continue;
            }
            let common = [
                format!("--ip={}", case.ip),
                format!("--mail-from={}", case.mail_from),
                format!("--helo={}", case.helo),
                format!("--server={server}"),
                "--timeout=2".to_owned(),
            ];
            let mut check_args = vec!["check".to_owned()];
            check_args.extend(common.iter().cloned());
            let from_c = run(spfquery, &common);
            let from_rust = run(spfgate, &check_args);
            if let Err(why) = compare_json(spfquery, spfgate, &common) {
                failures.push(format!("{}: {why}", case.name));
            }
            match (from_c, from_rust) {
                (Ok(c), Ok(rust)) if c == rust => {
                    let result = c
                        .lines()
                        .next()
                        .and_then(|l| l.strip_prefix("result: "))
                        .unwrap_or_default();
                    if case.results.iter().any(|r| r == result) {
                        agreed += 1;
                    } else {
                        failures.push(format!(
                            "{}: result {result}, the suite allows {:?}",
                            case.name, case.results
                        ));
                    }
                }
                (Ok(c), Ok(rust)) => failures.push(format!(
                    "{}: spfquery printed\n{c}spfgate check printed\n{rust}",
                    case.name
                )),
                (Err(e), _) | (_, Err(e)) => failures.push(format!("{}: {e}", case.name)),
            }
        }
        drop(nsd);
        let _ = std::fs::remove_dir_all(&scenario_dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    println!(
        "spfquery vs spfgate check --server over NSD: {agreed} agreed, {} differed, {} skipped (unservable names: {})",
        failures.len(),
        skipped.len(),
        skipped.join(", ")
    );
    if failures.is_empty() && agreed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
