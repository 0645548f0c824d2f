//! Parser throughput: the real-record corpus, a typical short record and a record of
//! many `ip6:` networks.
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

/// Twelve `ip6:` networks, as large senders publish them; the address parser dominates.
const IP6_HEAVY: &str = "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 \
     ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ip6:2a01:111:f400::/48 \
     ip6:2a01:111:f403::/49 ip6:2a01:111:f403:8000::/51 ip6:2a01:111:f403:c000::/51 \
     ip6:2a01:111:f403:f000::/52 ip6:2a03:2880:f000:1234:face:b00c:0:25de ~all";

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

fn ip6_heavy(c: &mut Criterion) {
    let mut group = c.benchmark_group("ip6_heavy");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| b.iter(|| Record::parse(black_box(IP6_HEAVY))));
    group.finish();
}

criterion_group!(benches, corpus, short, ip6_heavy);
criterion_main!(benches);
