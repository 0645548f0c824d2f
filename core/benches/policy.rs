//! Policy loading and sender lookups at gateway scale.
//!
//! `load/json_100k_accounts_1m_senders` parses and compiles a generated JSON
//! document of 100 000 accounts with 10 senders each (every mode, a third of
//! the accounts with a small whitelist). `find_sender/*` looks up a listed
//! sender (mixed case, so normalization is included) in policies of 1 000 and
//! 1 000 000 senders: one hash lookup, so both should cost about the same.
//! `decide/whitelist_hit_1m` is a whole decision that needs no DNS.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use spfgate::policy::{DecisionRequest, DecisionStep, Policy};

const SENDERS_PER_ACCOUNT: usize = 10;
const MODES: [&str; 5] = [
    "open",
    "restricted",
    "ip-whitelist",
    "spf",
    "ip-whitelist-or-spf",
];

/// A JSON document of `accounts` accounts, 10 senders each.
fn document(accounts: usize) -> String {
    let mut out = String::with_capacity(accounts * 300);
    out.push_str(r#"{"authserv_id": "mx.gateway.example", "accounts": ["#);
    for i in 0..accounts {
        if i > 0 {
            out.push(',');
        }
        let senders: Vec<String> = (0..SENDERS_PER_ACCOUNT)
            .map(|j| format!("\"user{j}@d{i}.example\""))
            .collect();
        let whitelist = if i % 3 == 0 {
            format!(
                "10.{}.{}.0/24, 2001:db8:{:x}:{:x}::/64",
                i >> 8 & 255,
                i & 255,
                i >> 16,
                i & 0xffff
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            r#"{{"id": "acct{i}", "senders": [{}], "security": {{"mode": "{}", "whitelist": "{whitelist}"}}}}"#,
            senders.join(","),
            MODES[i % MODES.len()],
        ));
    }
    out.push_str("]}");
    out
}

fn bench(c: &mut Criterion) {
    let big_text = document(100_000);
    let mut load = c.benchmark_group("load");
    load.sample_size(10);
    load.measurement_time(Duration::from_secs(30));
    load.bench_function("json_100k_accounts_1m_senders", |b| {
        b.iter(|| Policy::from_json(black_box(&big_text)).expect("generated policy loads"))
    });
    load.finish();

    let big = Policy::from_json(&big_text).expect("generated policy loads");
    drop(big_text);
    assert_eq!(big.sender_map().len(), 1_000_000);
    let small = Policy::from_json(&document(100)).expect("generated policy loads");
    assert_eq!(small.sender_map().len(), 1_000);

    let mut find = c.benchmark_group("find_sender");
    for (name, policy, accounts) in [("1k", &small, 100usize), ("1m", &big, 100_000)] {
        // A fixed walk over listed senders, spread across the whole map.
        let probes: Vec<String> = (0..1024)
            .map(|k| format!("User{}@D{}.Example", k % 10, (k * 7919) % accounts))
            .collect();
        let mut next = 0;
        find.bench_function(name, |b| {
            b.iter(|| {
                next = (next + 1) % probes.len();
                policy.find_sender(black_box(&probes[next])).is_some()
            })
        });
    }
    find.finish();

    c.bench_function("decide/whitelist_hit_1m", |b| {
        // acct3 is ip-whitelist with 10.0.3.0/24.
        let ip = "10.0.3.9".parse().expect("IP");
        b.iter(|| {
            let mut decision =
                big.decide(DecisionRequest::new(ip, "user4@d3.example", "h.example"));
            matches!(decision.poll(), DecisionStep::Done(v) if v.action.as_str() == "accept")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
