//! The RFC 7208 suite for the C drivers, and the Rust side of the C ABI benchmark.
//!
//! ```text
//! suite-wire data OUT            # writes the suite with every answer as DNS wire bytes
//! suite-wire bench DATA SECONDS  # the suite through the Rust API, evaluations/s
//! ```
//!
//! The data file is line-based, every free-form field in hex (`-` when empty):
//!
//! ```text
//! scenario DESCRIPTION
//! answer QTYPE NAME MESSAGE      # one per zone name and query type
//! test NAME
//! request IP MAIL_FROM HELO
//! expect RESULT[,RESULT...] EXPLANATION
//! ```
//!
//! A name not in the scenario's answers is NXDOMAIN, which the drivers encode
//! themselves (the question copied into a header with rcode 3).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use spfgate::eval::{Config, Evaluator, Request, Step};
use spfgate_c_tests::{DEFAULT_EXPLANATION, hex, load_suite, suite_path, wire_answers};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["data", out] => write_data(Path::new(out)),
        ["bench", data, seconds] => seconds
            .parse::<f64>()
            .map_err(|e| format!("SECONDS: {e}"))
            .and_then(|s| bench(Path::new(data), Duration::from_secs_f64(s))),
        _ => Err("usage: suite-wire data OUT | suite-wire bench DATA SECONDS".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("suite-wire: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_data(out: &Path) -> Result<(), String> {
    let scenarios = load_suite(&suite_path())?;
    let mut text = String::new();
    for scenario in &scenarios {
        text.push_str(&format!(
            "scenario {}\n",
            hex(scenario.description.as_bytes())
        ));
        for (name, qtype, bytes) in wire_answers(&scenario.zone) {
            text.push_str(&format!(
                "answer {} {} {}\n",
                qtype.code(),
                hex(name.as_bytes()),
                hex(&bytes)
            ));
        }
        for case in &scenario.cases {
            text.push_str(&format!("test {}\n", hex(case.name.as_bytes())));
            text.push_str(&format!(
                "request {} {} {}\n",
                case.ip,
                hex(case.mail_from.as_bytes()),
                hex(case.helo.as_bytes())
            ));
            let explanation = case.explanation.as_deref().unwrap_or_default();
            text.push_str(&format!(
                "expect {} {}\n",
                case.results.join(","),
                hex(explanation.as_bytes())
            ));
        }
    }
    let mut file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", out.display()))
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("bad hex {s}"))
        })
        .collect()
}

/// One scenario of the data file, as the C benchmark holds it.
struct Scenario {
    answers: Vec<(String, u16, Vec<u8>)>,
    tests: Vec<(Request, Vec<String>)>,
}

fn read_data(path: &Path) -> Result<Vec<Scenario>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut expect_for: Option<Request> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let current = scenarios.last_mut();
        match (f[0], current) {
            ("scenario", _) => scenarios.push(Scenario {
                answers: Vec::new(),
                tests: Vec::new(),
            }),
            ("answer", Some(s)) => {
                let name = String::from_utf8(unhex(f[2])?).map_err(|e| e.to_string())?;
                let qtype = f[1].parse().map_err(|e| format!("qtype: {e}"))?;
                s.answers.push((name, qtype, unhex(f[3])?));
            }
            ("test", Some(_)) => {}
            ("request", Some(_)) => {
                let ip = f[1].parse().map_err(|e| format!("ip {}: {e}", f[1]))?;
                let from = String::from_utf8(unhex(f[2])?).map_err(|e| e.to_string())?;
                let helo = String::from_utf8(unhex(f[3])?).map_err(|e| e.to_string())?;
                expect_for = Some(Request::new(ip, &from, &helo));
            }
            ("expect", Some(s)) => {
                let request = expect_for.take().ok_or("expect before request")?;
                let results = f[1].split(',').map(str::to_owned).collect();
                s.tests.push((request, results));
            }
            _ => return Err(format!("unexpected line: {line}")),
        }
    }
    Ok(scenarios)
}

/// The NXDOMAIN response to a question, built exactly as the C driver builds it.
fn nxdomain(name: &str, qtype: u16, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&[0, 0, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&[0, 1]);
}

/// Runs every test once through the Rust API with wire answers; returns how
/// many gave an accepted result.
fn run_once(ev: &mut Evaluator, scenarios: &[Scenario], scratch: &mut Vec<u8>) -> usize {
    let mut passed = 0;
    for scenario in scenarios {
        for (request, results) in &scenario.tests {
            ev.restart(request);
            let outcome = loop {
                let batch = match ev.poll() {
                    Step::Done(outcome) => break outcome,
                    Step::Lookups(batch) => batch,
                    Step::Pending => unreachable!("every lookup is answered at once"),
                };
                for lookup in batch {
                    let code = lookup.qtype.code();
                    let found = scenario
                        .answers
                        .iter()
                        .find(|(n, q, _)| *q == code && *n == lookup.name);
                    let bytes = match found {
                        Some((_, _, bytes)) => bytes.as_slice(),
                        None => {
                            nxdomain(&lookup.name, code, scratch);
                            scratch.as_slice()
                        }
                    };
                    ev.answer_wire(lookup.id, bytes)
                        .expect("a handed-out lookup takes its answer");
                }
            };
            if results.iter().any(|r| r == outcome.result.as_str()) {
                passed += 1;
            }
        }
    }
    passed
}

fn bench(data: &Path, duration: Duration) -> Result<(), String> {
    let scenarios = read_data(data)?;
    let tests: usize = scenarios.iter().map(|s| s.tests.len()).sum();
    let config = Config {
        default_explanation: Some(DEFAULT_EXPLANATION.into()),
        trace: false,
        ..Config::default()
    };
    let warm_up = Request::new([192, 0, 2, 1].into(), "a@unused.example", "unused.example");
    let mut ev = Evaluator::new(warm_up, config);
    let mut scratch = Vec::new();
    let passed = run_once(&mut ev, &scenarios, &mut scratch);
    if passed != tests {
        return Err(format!(
            "{passed} of {tests} tests passed; not benchmarking"
        ));
    }
    // Best of five rounds, each running the whole suite until its share of the time is up.
    let mut best = 0f64;
    for _ in 0..5 {
        let start = Instant::now();
        let mut evaluations = 0usize;
        while start.elapsed() < duration / 5 {
            evaluations += run_once(&mut ev, &scenarios, &mut scratch);
        }
        best = best.max(evaluations as f64 / start.elapsed().as_secs_f64());
    }
    println!("rust: {best:.0} evaluations/s");
    Ok(())
}
