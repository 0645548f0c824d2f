//! spfgate, mail-auth and viaspf side by side: parsing a short record and the corpus,
//! and evaluating the RFC 7208 suite from memory. See README.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spfgate_benches_compare::{SHORT, corpus, mail_auth_run, spfgate_run, suite, viaspf_run};

type Parser = fn(&str) -> bool;

const PARSERS: [(&str, Parser); 3] = [
    ("spfgate", spfgate_run::parse),
    ("mail-auth", mail_auth_run::parse),
    ("viaspf", viaspf_run::parse),
];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_short");
    group.throughput(Throughput::Elements(1));
    for (name, parse) in PARSERS {
        group.bench_function(name, |b| b.iter(|| parse(black_box(SHORT))));
    }
    group.finish();

    let records = corpus();
    let mut group = c.benchmark_group("parse_corpus");
    group.throughput(Throughput::Elements(records.len() as u64));
    for (name, parse) in PARSERS {
        group.bench_function(name, |b| {
            b.iter(|| {
                for r in &records {
                    black_box(parse(black_box(r)));
                }
            })
        });
    }
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let scenarios = suite();
    let mut group = c.benchmark_group("evaluate_suite");
    group.throughput(Throughput::Elements(scenarios.len() as u64));

    let config = spfgate_run::config();
    group.bench_function("spfgate", |b| {
        b.iter(|| {
            for s in &scenarios {
                black_box(spfgate_run::evaluate(s, &config));
            }
        })
    });

    let mut ev = spfgate_run::evaluator(&config);
    group.bench_function("spfgate-restarted", |b| {
        b.iter(|| {
            for s in &scenarios {
                black_box(spfgate_run::evaluate_restarted(s, &mut ev));
            }
        })
    });

    let zones: Vec<_> = scenarios.iter().map(mail_auth_run::Zone::new).collect();
    let authenticator = mail_auth_run::authenticator();
    group.bench_function("mail-auth", |b| {
        b.iter(|| {
            for (s, zone) in scenarios.iter().zip(&zones) {
                black_box(mail_auth_run::evaluate(s, zone, &authenticator));
            }
        })
    });

    let config = viaspf_run::config();
    group.bench_function("viaspf", |b| {
        b.iter(|| {
            for s in &scenarios {
                black_box(viaspf_run::evaluate(s, &config));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, parse, evaluate);
criterion_main!(benches);
