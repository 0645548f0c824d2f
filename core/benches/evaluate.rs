//! Evaluation throughput over the whole RFC 7208 suite, answered from memory, and
//! round trips on include chains with and without prefetch.
//!
//! TXT answers are given as text, so every evaluation parses what it fetches, as it
//! would with a real resolver. The suite runs with a new evaluator per test, and
//! with one evaluator restarted for each (how a server checking many messages runs),
//! driven by `drive_with` and by `poll`/`answer`.

use std::hint::black_box;
use std::net::IpAddr;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use spfgate::dns::{Answer, Lookup, QueryType, Step};
use spfgate::eval::{Config, Evaluator, Request};
use spfgate::zone::Zone;

/// One suite test with every answer it can ask for, pre-resolved.
struct Prepared {
    request: Request,
    answers: Vec<(QueryType, String, Answer)>,
}

fn bench_config() -> Config {
    Config {
        default_explanation: Some("DEFAULT".into()),
        trace: false,
        ..Config::default()
    }
}

fn load_suite() -> Vec<Prepared> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spf-test-suite/rfc7208-tests.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut prepared = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let doc: Value = serde::Deserialize::deserialize(doc).expect("suite YAML");
        let zone = Zone::from_value(&doc["zonedata"]).expect("zonedata");
        for test in doc["tests"].as_object().expect("tests").values() {
            let s = |k: &str| test[k].as_str().unwrap_or_default().to_owned();
            let ip: IpAddr = s("host").parse().expect("host");
            let request = Request::new(ip, &s("mailfrom"), &s("helo"));
            // Record every lookup one evaluation makes, with its answer.
            let mut answers = Vec::new();
            Evaluator::new(request.clone(), bench_config()).run_with(|lookup| {
                let answer = zone.resolve(lookup);
                answers.push((lookup.qtype, lookup.name.clone(), answer.clone()));
                answer
            });
            prepared.push(Prepared { request, answers });
        }
    }
    assert_eq!(prepared.len(), 203);
    prepared
}

/// The pre-built answer to a lookup, lent as a cache would lend it.
fn answer_from<'a>(answers: &'a [(QueryType, String, Answer)], lookup: &Lookup) -> &'a Answer {
    const NXDOMAIN: &Answer = &Answer::NxDomain;
    answers
        .iter()
        .find(|(t, n, _)| *t == lookup.qtype && *n == lookup.name)
        .map_or(NXDOMAIN, |(_, _, a)| a)
}

fn suite(c: &mut Criterion) {
    let prepared = load_suite();
    let config = bench_config();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(prepared.len() as u64));
    group.bench_function("rfc7208_suite", |b| {
        b.iter(|| {
            for p in &prepared {
                let ev = Evaluator::new(p.request.clone(), config.clone());
                black_box(ev.run_with(|l| answer_from(&p.answers, l)));
            }
        })
    });
    // As a server evaluates message after message: one evaluator, restarted.
    let mut ev = Evaluator::new(prepared[0].request.clone(), config.clone());
    group.bench_function("rfc7208_suite_restarted", |b| {
        b.iter(|| {
            for p in &prepared {
                ev.restart(&p.request);
                black_box(ev.drive_with(|l| answer_from(&p.answers, l)));
            }
        })
    });
    // The same through poll() and answer(), as a front end without an in-process
    // resolver drives it (the npm package's Evaluator, tests/node/bench.mjs).
    group.bench_function("rfc7208_suite_restarted_polled", |b| {
        b.iter(|| {
            for p in &prepared {
                ev.restart(&p.request);
                loop {
                    match ev.poll() {
                        Step::Lookups(batch) => {
                            for lookup in &batch {
                                ev.answer(lookup.id, answer_from(&p.answers, lookup))
                                    .expect("a lookup of this batch");
                            }
                        }
                        Step::Done(outcome) => {
                            black_box(outcome);
                            break;
                        }
                        Step::Pending => unreachable!("every lookup was answered"),
                    }
                }
            }
        })
    });
    group.finish();
}

/// A top record with four sibling includes, each including one more level.
fn include_chain_zone() -> Zone {
    let mut doc = serde_json::Map::new();
    let mut top = String::from("v=spf1");
    for i in 0..4 {
        top.push_str(&format!(" include:s{i}.chain.example"));
        doc.insert(
            format!("s{i}.chain.example"),
            serde_json::json!([{ "TXT": format!("v=spf1 ip4:198.51.100.{i} include:n{i}.chain.example -all") }]),
        );
        doc.insert(
            format!("n{i}.chain.example"),
            serde_json::json!([{ "TXT": format!("v=spf1 ip4:203.0.113.{i} -all") }]),
        );
    }
    top.push_str(" -all");
    doc.insert("chain.example".into(), serde_json::json!([{ "TXT": top }]));
    Zone::from_value(&Value::Object(doc)).expect("chain zone")
}

fn round_trips(c: &mut Criterion) {
    let zone = include_chain_zone();
    let request = Request::new(
        "192.0.2.1".parse().unwrap(),
        "a@chain.example",
        "mx.chain.example",
    );
    let mut group = c.benchmark_group("include_chain");
    for prefetch in [false, true] {
        let config = Config {
            prefetch,
            ..bench_config()
        };
        let outcome = Evaluator::new(request.clone(), config.clone()).run_with(|l| zone.resolve(l));
        println!(
            "include_chain prefetch={prefetch}: {} round trips, {} queries, result {}",
            outcome.round_trips, outcome.queries, outcome.result
        );
        let name = if prefetch { "prefetch" } else { "no_prefetch" };
        group.bench_function(name, |b| {
            b.iter(|| {
                let ev = Evaluator::new(request.clone(), config.clone());
                black_box(ev.run_with(|l| zone.resolve(l)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, suite, round_trips);
criterion_main!(benches);
