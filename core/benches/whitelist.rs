//! Whitelist lookups and parsing.
//!
//! `lookup/*` compares `IpMatcher::find` with a linear scan over
//! `Vec<IpNet>` at 10, 1 000 and 1 000 000 random networks (half IPv4, half
//! IPv6) for a fixed mix of clients: half inside a listed network, half
//! anywhere. The goal is at most 100 ns per lookup at 1 000 000 networks.
//! `parse/10k_lines` parses a 10 000-line whitelist text.
//!
//! Inputs come from a fixed-seed splitmix64 generator, so runs compare.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use spfgate::policy::matcher::IpMatcher;
use spfgate::policy::whitelist::parse_whitelist;

/// splitmix64: tiny, fast and good enough for benchmark inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn v6(&mut self) -> u128 {
        // Inside 2000::/3 like real unicast space.
        let bits = (u128::from(self.next()) << 64) | u128::from(self.next());
        (bits >> 3) | (1 << 125)
    }
}

fn random_networks(rng: &mut Rng, n: usize) -> Vec<IpNet> {
    (0..n)
        .filter_map(|i| {
            if i % 2 == 0 {
                let prefix = 20 + rng.below(13) as u8;
                Ipv4Net::new(Ipv4Addr::from(rng.next() as u32), prefix)
                    .ok()
                    .map(|n| IpNet::V4(n.trunc()))
            } else {
                let prefix = [32, 48, 56, 64, 128][rng.below(5) as usize];
                Ipv6Net::new(Ipv6Addr::from(rng.v6()), prefix)
                    .ok()
                    .map(|n| IpNet::V6(n.trunc()))
            }
        })
        .collect()
}

/// 1 024 clients: even ones inside a random listed network, odd ones anywhere.
fn clients(rng: &mut Rng, nets: &[IpNet]) -> Vec<IpAddr> {
    (0..1024)
        .map(|i| {
            let inside = nets.get(rng.below(nets.len() as u64) as usize);
            match (i % 2, inside) {
                (0, Some(IpNet::V4(n))) => {
                    let host = (rng.next() as u32) & !u32::from(n.netmask());
                    IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | host))
                }
                (0, Some(IpNet::V6(n))) => {
                    let host = rng.v6() & !u128::from(n.netmask());
                    IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | host))
                }
                _ if rng.below(2) == 0 => IpAddr::V4(Ipv4Addr::from(rng.next() as u32)),
                _ => IpAddr::V6(Ipv6Addr::from(rng.v6())),
            }
        })
        .collect()
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup");
    for n in [10usize, 1_000, 1_000_000] {
        let mut rng = Rng(0x5eed ^ n as u64);
        let nets = random_networks(&mut rng, n);
        let queries = clients(&mut rng, &nets);
        let matcher = IpMatcher::new(nets.iter().copied());
        let hits = queries.iter().filter(|&&ip| matcher.contains(ip)).count();
        eprintln!("lookup/{n}: {hits} of {} clients listed", queries.len());

        let mut i = 0usize;
        group.bench_with_input(BenchmarkId::new("matcher", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                black_box(matcher.find(black_box(queries[i])))
            })
        });
        if n >= 1_000_000 {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(2));
        }
        group.bench_with_input(BenchmarkId::new("linear", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                let ip = black_box(queries[i]);
                black_box(nets.iter().position(|net| net.contains(&ip)))
            })
        });
    }
    group.finish();

    let mut rng = Rng(0x5eed);
    let nets = random_networks(&mut rng, 1_000_000);
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("matcher/1000000", |b| {
        b.iter(|| IpMatcher::new(black_box(&nets).iter().copied()))
    });
    group.finish();
}

/// 10 000 lines the way admins type them: addresses, CIDRs, ranges,
/// comments and assorted separators, with a few mistakes.
fn whitelist_text(rng: &mut Rng) -> String {
    let mut text = String::new();
    for line in 0..10_000u32 {
        let a = Ipv4Addr::from(rng.next() as u32);
        let b = Ipv4Addr::from(u32::from(a).saturating_add(rng.below(5000) as u32));
        let v6 = Ipv6Addr::from(rng.v6());
        let entry = match line % 8 {
            0 => format!("{a}"),
            1 => format!("{a}/{}", 16 + rng.below(17)),
            2 => format!("{a} - {b}"),
            3 => format!("{v6}"),
            4 => format!("{v6}/{}", [32, 48, 64][rng.below(3) as usize]),
            5 => format!("{a}, {v6}; {b}"),
            6 => format!("# office {line}\n{a}"),
            _ => format!("{a}/33 # oops"),
        };
        text.push_str(&entry);
        text.push('\n');
    }
    text
}

fn parsing(c: &mut Criterion) {
    let text = whitelist_text(&mut Rng(0x5eed));
    c.bench_function("parse/10k_lines", |b| {
        b.iter(|| parse_whitelist(black_box(&text)))
    });
}

criterion_group!(benches, lookups, parsing);
criterion_main!(benches);
