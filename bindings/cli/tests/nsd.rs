//! The live resolver against a real authoritative server: NSD serving
//! `tests/dns-server/zones/resolver.test.zone`.
//!
//! The top-level test command starts NSD with `tests/dns-server/start-nsd.sh`
//! and sets `SPFGATE_NSD_PORT`. Without that variable every test here says
//! loudly that it was skipped and passes, so a plain `cargo test` works on a
//! machine without NSD. To run them by hand:
//!
//! ```text
//! tests/dns-server/start-nsd.sh tests/dns-server/zones 53530
//! SPFGATE_NSD_PORT=53530 cargo test -p spfgate-cli --test nsd
//! tests/dns-server/stop-nsd.sh 53530
//! ```

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use spfgate::dns::{Answer, Lookup, LookupId, QueryType, Rdata};
use spfgate_cli::resolver::{Resolved, Resolver, ResolverConfig, Transport};

/// NSD's address, or `None` (with a warning on stderr) when it is not running.
fn nsd() -> Option<SocketAddr> {
    match std::env::var("SPFGATE_NSD_PORT") {
        Ok(port) => {
            let port: u16 = port
                .parse()
                .unwrap_or_else(|_| panic!("SPFGATE_NSD_PORT={port:?} is not a port number"));
            Some(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port))
        }
        Err(_) => {
            // Straight to stderr: the test harness captures `eprintln!` of
            // passing tests, and this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "!!! SKIPPED {}: SPFGATE_NSD_PORT is unset, no NSD to query. Start one with \
                 tests/dns-server/start-nsd.sh tests/dns-server/zones PORT and set \
                 SPFGATE_NSD_PORT=PORT.",
                std::thread::current().name().unwrap_or("nsd test"),
            );
            None
        }
    }
}

/// Resolves `(name, type)` pairs in one batch against NSD.
fn resolve(server: SocketAddr, questions: &[(&str, QueryType)]) -> Vec<Resolved> {
    let batch: Vec<Lookup> = questions
        .iter()
        .zip(1..)
        .map(|(&(name, qtype), id)| Lookup {
            id: LookupId(id),
            name: name.to_owned(),
            qtype,
        })
        .collect();
    let mut resolver = Resolver::new(ResolverConfig {
        servers: vec![server],
        timeout: Duration::from_secs(3),
        attempts: 2,
    });
    let resolved = resolver.resolve_batch(&batch);
    for (r, lookup) in resolved.iter().zip(&batch) {
        assert_eq!(r.id, lookup.id);
        assert_eq!(r.server, server);
    }
    resolved
}

fn txt(text: impl Into<Vec<u8>>) -> Answer {
    Answer::Records(vec![Rdata::Txt(text.into())])
}

/// The character-strings of the zone's `long` (10 × 60 bytes) and `huge`
/// (8 × 200 bytes) TXT records, joined.
fn joined(prefix: &str, count: usize, filler: char, width: usize) -> String {
    (0..count)
        .map(|i| format!("{prefix}-{i:02}-{}", filler.to_string().repeat(width)))
        .collect()
}

#[test]
fn answers_from_a_real_server() {
    let Some(server) = nsd() else { return };
    let resolved = resolve(
        server,
        &[
            ("resolver.test", QueryType::Mx),
            ("MAIL.Resolver.Test", QueryType::A),
            ("mail.resolver.test", QueryType::Aaaa),
            ("ptr.resolver.test", QueryType::Ptr),
            ("binary.resolver.test", QueryType::Txt),
            ("nowhere.resolver.test", QueryType::A),
            ("mail.resolver.test", QueryType::Txt),
            ("elsewhere.example", QueryType::A),
        ],
    );
    let answers: Vec<&Answer> = resolved.iter().map(|r| &r.answer).collect();
    let mx = |preference, exchange: &str| Rdata::Mx {
        preference,
        exchange: exchange.to_owned(),
    };
    let mut exchanges = match answers[0] {
        Answer::Records(records) => records.clone(),
        other => panic!("MX: {other}"),
    };
    exchanges.sort_by_key(|rr| rr.to_string());
    assert_eq!(
        exchanges,
        [mx(10, "mail.resolver.test"), mx(20, "mail2.example.net")]
    );
    assert_eq!(
        answers[1..],
        [
            &Answer::Records(vec![Rdata::A(Ipv4Addr::new(192, 0, 2, 25))]),
            &Answer::Records(vec![Rdata::Aaaa(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25
            ))]),
            &Answer::Records(vec![Rdata::Ptr("mail.resolver.test".to_owned())]),
            &txt(&b"v=spf1 \xff\x00caf\xc3\xa9"[..]),
            &Answer::NxDomain,
            &Answer::Records(vec![]),
            // Not NSD's zone: it refuses.
            &Answer::temp_fail("REFUSED"),
        ]
    );
    assert!(resolved.iter().all(|r| r.transport == Transport::Udp));
}

#[test]
fn txt_above_512_bytes_comes_over_udp_with_edns() {
    let Some(server) = nsd() else { return };
    let resolved = resolve(server, &[("long.resolver.test", QueryType::Txt)]);
    assert_eq!(resolved[0].answer, txt(joined("part", 10, 'a', 52)));
    assert_eq!(resolved[0].transport, Transport::Udp);
}

#[test]
fn txt_above_the_edns_buffer_comes_over_tcp() {
    let Some(server) = nsd() else { return };
    let resolved = resolve(server, &[("huge.resolver.test", QueryType::Txt)]);
    assert_eq!(resolved[0].answer, txt(joined("huge", 8, 'b', 192)));
    assert_eq!(resolved[0].transport, Transport::Tcp);
}

#[test]
fn cname_chains_are_followed_and_loops_fail() {
    let Some(server) = nsd() else { return };
    let resolved = resolve(
        server,
        &[
            ("alias.resolver.test", QueryType::Txt),
            ("loop1.resolver.test", QueryType::Txt),
        ],
    );
    assert_eq!(resolved[0].answer, txt("v=spf1 -all"));
    assert!(
        matches!(&resolved[1].answer, Answer::TempFail(why) if why.starts_with("CNAME loop")),
        "{}",
        resolved[1].answer
    );
}
