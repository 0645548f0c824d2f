//! Parser throughput: the real-record corpus and a typical short record.
//!
//! Run with `cargo bench -p spfgate --bench parse`; criterion reports records per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spfgate::record::Record;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/records.txt"
);

const SHORT: &str = "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all";

fn corpus(c: &mut Criterion) {
    let text = std::fs::read_to_string(CORPUS)
        .unwrap_or_else(|e| panic!("cannot read the record corpus at {CORPUS}: {e}"));
    let records: Vec<&str> = text.lines().collect();
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            for r in &records {
                let _ = black_box(Record::parse(black_box(r)));
            }
        });
    });
    group.finish();
}

fn short(c: &mut Criterion) {
    let mut group = c.benchmark_group("short");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| b.iter(|| Record::parse(black_box(SHORT))));
    group.finish();
}

criterion_group!(benches, corpus, short);
criterion_main!(benches);
