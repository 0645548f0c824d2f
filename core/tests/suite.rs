//! Runs the openspf RFC 7208 (and RFC 4408) conformance suites from `../shared`.
//!
//! Every test of every scenario runs; the suite file missing is a failure, not a skip.

use std::path::PathBuf;

use serde_json::Value;
use spfgate::dns::wire;
use spfgate::eval::{Config, Evaluator, Limits, Outcome, Request, Step, TraceEvent, VoidCounting};
use spfgate::zone::Zone;

fn suite_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spf-test-suite")
        .join(file)
}

/// One test of a scenario.
struct Case {
    scenario: String,
    name: String,
    ip: String,
    mail_from: String,
    helo: String,
    results: Vec<String>,
    explanation: Option<String>,
}

fn load(file: &str) -> Vec<(Zone, Vec<Case>)> {
    let path = suite_path(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the test suite at {}: {e}", path.display()));
    let mut scenarios = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let doc: Value = serde::Deserialize::deserialize(doc).expect("suite YAML parses");
        let description = doc["description"].as_str().unwrap_or_default().to_owned();
        let zone = Zone::from_value(&doc["zonedata"]).expect("zonedata has the suite's shape");
        let mut cases = Vec::new();
        for (name, t) in doc["tests"].as_object().expect("tests map") {
            let s = |k: &str| t[k].as_str().map(str::to_owned).unwrap_or_default();
            let results = match &t["result"] {
                Value::String(r) => vec![r.clone()],
                Value::Array(rs) => rs
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect(),
                other => panic!("{name}: unexpected result {other}"),
            };
            cases.push(Case {
                scenario: description.clone(),
                name: name.clone(),
                ip: s("host"),
                mail_from: s("mailfrom"),
                helo: s("helo"),
                results,
                explanation: t["explanation"].as_str().map(str::to_owned),
            });
        }
        scenarios.push((zone, cases));
    }
    scenarios
}

/// How answers reach the evaluator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// Typed [`spfgate::dns::Answer`]s, lent.
    Typed,
    /// Every answer encoded as a DNS response message and decoded by `answer_wire`.
    Wire,
}

/// Whether each case gets a new evaluator or one evaluator is restarted for every case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lifetime {
    Fresh,
    Restarted,
}

fn evaluate(ev: &mut Evaluator, zone: &Zone, transport: Transport) -> Outcome {
    loop {
        let batch = match ev.poll() {
            Step::Done(outcome) => return outcome.clone(),
            Step::Lookups(batch) => batch,
            Step::Pending => panic!("every lookup was answered"),
        };
        for lookup in batch {
            let answer = zone.resolve(&lookup);
            match transport {
                Transport::Typed => ev.answer(lookup.id, &answer),
                Transport::Wire => {
                    let message_id = lookup.id.0 as u16;
                    let bytes = wire::encode_response(&lookup, message_id, &answer)
                        .expect("suite answers encode");
                    ev.answer_wire(lookup.id, &bytes)
                }
            }
            .expect("answering a handed-out lookup");
        }
    }
}

/// The outcome with its trace's lookup ids counted from 0, as a new evaluator's are
/// (a restarted one keeps counting).
fn ids_from_zero(mut outcome: Outcome) -> Outcome {
    let first = outcome.trace.iter().find_map(|event| match event {
        TraceEvent::Query { id, .. } => Some(id.0),
        _ => None,
    });
    for event in &mut outcome.trace {
        if let TraceEvent::Query { id, .. } | TraceEvent::Answer { id, .. } = event {
            id.0 -= first.unwrap_or(0);
        }
    }
    outcome
}

/// Runs one case; `Err` describes a failure.
fn run_case(
    zone: &Zone,
    case: &Case,
    config: &Config,
    transport: Transport,
    kept: &mut Option<Evaluator>,
) -> Result<(), String> {
    let ip = case
        .ip
        .parse()
        .map_err(|e| format!("bad host {}: {e}", case.ip))?;
    let request = Request::new(ip, &case.mail_from, &case.helo);
    let new = |request| {
        evaluate(
            &mut Evaluator::new(request, config.clone()),
            zone,
            transport,
        )
    };
    let outcome = match kept {
        Some(ev) => {
            ev.restart(&request);
            let outcome = evaluate(ev, zone, transport);
            // Everything, down to the trace, as a new evaluator's: nothing of an
            // earlier evaluation (its strings are reused) shows through.
            let expected = new(request);
            if ids_from_zero(outcome.clone()) != expected {
                return Err(format!(
                    "restarted: {outcome:?}\nnew evaluator: {expected:?}"
                ));
            }
            outcome
        }
        None => new(request),
    };
    let got = outcome.result.as_str();
    if !case.results.iter().any(|r| r == got) {
        return Err(format!(
            "result {got}, expected {:?} ({})",
            case.results,
            outcome.reason()
        ));
    }
    if let Some(want) = &case.explanation
        && outcome.explanation.as_deref() != Some(want.as_str())
    {
        return Err(format!(
            "explanation {:?}, expected {want:?}",
            outcome.explanation
        ));
    }
    Ok(())
}

fn run_suite(
    file: &str,
    excluded: &[&str],
    config: &Config,
    transport: Transport,
    lifetime: Lifetime,
) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    // One evaluator for the whole file, first used on a request no case makes.
    let mut kept = (lifetime == Lifetime::Restarted).then(|| {
        let warm_up = Request::new([192, 0, 2, 1].into(), "a@unused.example", "unused.example");
        Evaluator::new(warm_up, config.clone())
    });
    for (zone, cases) in load(file) {
        for case in cases {
            if excluded.contains(&case.name.as_str()) {
                continue;
            }
            match run_case(&zone, &case, config, transport, &mut kept) {
                Ok(()) => passed += 1,
                Err(why) => failures.push(format!("{} / {}: {why}", case.scenario, case.name)),
            }
        }
    }
    (passed, failures)
}

fn suite_config() -> Config {
    Config {
        default_explanation: Some("DEFAULT".into()),
        ..Config::default()
    }
}

/// RFC 4408 tests whose expectations RFC 7208 changed; none so far, the engine
/// satisfies both files as published.
const RFC4408_SUPERSEDED: &[&str] = &[];

/// One pass over a suite file.
struct Run {
    label: &'static str,
    file: &'static str,
    excluded: &'static [&'static str],
    config: Config,
    transport: Transport,
    lifetime: Lifetime,
}

fn main() {
    let no_prefetch = Config {
        prefetch: false,
        ..suite_config()
    };
    let per_lookup = Config {
        limits: Limits {
            void_counting: VoidCounting::PerLookup,
            ..Limits::default()
        },
        ..suite_config()
    };
    use Lifetime::{Fresh, Restarted};
    use Transport::{Typed, Wire};
    let rfc7208 = |label, config, transport, lifetime| Run {
        label,
        file: "rfc7208-tests.yml",
        excluded: &[],
        config,
        transport,
        lifetime,
    };
    let runs = [
        rfc7208("rfc7208", suite_config(), Typed, Fresh),
        rfc7208(
            "rfc7208 over DNS wire messages",
            suite_config(),
            Wire,
            Fresh,
        ),
        rfc7208("rfc7208 without prefetch", no_prefetch, Typed, Fresh),
        rfc7208(
            "rfc7208 counting void lookups per lookup",
            per_lookup.clone(),
            Typed,
            Fresh,
        ),
        rfc7208(
            "rfc7208 with one evaluator restarted for every test",
            suite_config(),
            Typed,
            Restarted,
        ),
        Run {
            label: "rfc4408",
            file: "rfc4408-tests.yml",
            excluded: RFC4408_SUPERSEDED,
            config: suite_config(),
            transport: Typed,
            lifetime: Fresh,
        },
        Run {
            label: "rfc4408 counting void lookups per lookup",
            file: "rfc4408-tests.yml",
            excluded: RFC4408_SUPERSEDED,
            config: per_lookup,
            transport: Typed,
            lifetime: Fresh,
        },
    ];
    let mut total_failed = 0;
    for run in runs {
        let Run {
            label,
            file,
            excluded,
            config,
            transport,
            lifetime,
        } = run;
        let (passed, failures) = run_suite(file, excluded, &config, transport, lifetime);
        for f in &failures {
            eprintln!("FAIL {label}: {f}");
        }
        println!("{label}: {passed} passed, {} failed", failures.len());
        if file == "rfc7208-tests.yml" && passed + failures.len() != 203 {
            eprintln!(
                "FAIL {label}: expected 203 tests, ran {}",
                passed + failures.len()
            );
            total_failed += 1;
        }
        total_failed += failures.len();
    }
    if total_failed > 0 {
        std::process::exit(1);
    }
}
