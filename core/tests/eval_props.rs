//! Properties of the evaluator over random records and random answers: it never
//! panics, never exceeds its limits, and reaches the same outcome whatever order a
//! batch's answers arrive in.

use std::collections::HashMap;
use std::net::IpAddr;

use proptest::prelude::*;
use spfgate::dns::{Answer, Lookup, QueryType, Rdata};
use spfgate::eval::{
    Config, Evaluator, Identity, Limits, Outcome, Problem, Request, SpfResult, Step, VoidCounting,
};

const NAMES: [&str; 5] = ["a.test", "b.test", "c.test", "d.test", "e.test"];

fn term() -> impl Strategy<Value = String> {
    let name = prop::sample::select(NAMES.to_vec());
    let qual = prop::sample::select(vec!["", "+", "-", "~", "?"]);
    let mech = prop_oneof![
        Just("all".to_owned()),
        name.clone().prop_map(|n| format!("include:{n}")),
        name.clone().prop_map(|n| format!("a:{n}")),
        Just("a".to_owned()),
        name.clone().prop_map(|n| format!("mx:{n}/24")),
        Just("mx".to_owned()),
        name.clone().prop_map(|n| format!("exists:%{{i}}.{n}")),
        Just("ptr".to_owned()),
        name.clone().prop_map(|n| format!("ptr:{n}")),
        (0u8..4).prop_map(|o| format!("ip4:192.0.2.{o}/31")),
        Just("ip6:2001:db8::/64".to_owned()),
        name.clone().prop_map(|n| format!("a:%{{p}}.{n}")),
    ];
    (qual, mech).prop_map(|(q, m)| format!("{q}{m}"))
}

fn record() -> impl Strategy<Value = String> {
    let modifier = prop_oneof![
        Just(String::new()),
        prop::sample::select(NAMES.to_vec()).prop_map(|n| format!(" redirect={n}")),
        prop::sample::select(NAMES.to_vec()).prop_map(|n| format!(" exp={n}")),
    ];
    (prop::collection::vec(term(), 0..8), modifier)
        .prop_map(|(terms, m)| format!("v=spf1 {}{m}", terms.join(" ")))
}

/// What a name answers for each type: a random mix of records, no data, NXDOMAIN
/// and temporary failures.
#[derive(Debug, Clone)]
struct Zone {
    txt: HashMap<String, Answer>,
    other: Vec<Answer>,
}

fn answer_kind() -> impl Strategy<Value = u8> {
    0u8..10
}

fn zone() -> impl Strategy<Value = Zone> {
    (
        prop::collection::vec((record(), answer_kind()), NAMES.len()),
        prop::collection::vec(answer_kind(), 16),
    )
        .prop_map(|(records, kinds)| {
            let txt = NAMES
                .iter()
                .zip(records)
                .map(|(n, (r, k))| {
                    let answer = match k {
                        0 => Answer::NxDomain,
                        1 => Answer::temp_fail("timeout"),
                        2 => Answer::Records(vec![]),
                        3 => Answer::Records(vec![
                            Rdata::Txt(r.clone().into_bytes()),
                            Rdata::Txt(r.into_bytes()),
                        ]),
                        _ => Answer::Records(vec![Rdata::Txt(r.into_bytes())]),
                    };
                    (n.to_string(), answer)
                })
                .collect();
            let other = kinds
                .into_iter()
                .map(|k| match k {
                    0 => Answer::NxDomain,
                    1 => Answer::temp_fail("timeout"),
                    2 => Answer::Records(vec![]),
                    3 => Answer::Records(
                        (0..12)
                            .map(|i| Rdata::Mx {
                                preference: i,
                                exchange: format!("mx{i}.a.test"),
                            })
                            .collect(),
                    ),
                    4 => Answer::Records(vec![
                        Rdata::Ptr("a.test".into()),
                        Rdata::Ptr("mx1.b.test".into()),
                    ]),
                    5 => Answer::Records(vec![Rdata::Mx {
                        preference: 0,
                        exchange: "b.test".into(),
                    }]),
                    _ => Answer::Records(vec![
                        Rdata::A("192.0.2.1".parse().unwrap()),
                        Rdata::Aaaa("2001:db8::1".parse().unwrap()),
                    ]),
                })
                .collect();
            Zone { txt, other }
        })
}

impl Zone {
    fn resolve(&self, lookup: &Lookup) -> Answer {
        if lookup.qtype == QueryType::Txt {
            return self
                .txt
                .get(&lookup.name.to_ascii_lowercase())
                .cloned()
                .unwrap_or(Answer::NxDomain);
        }
        // Deterministic per (name, type), whatever order lookups arrive in.
        let h = lookup
            .name
            .bytes()
            .fold(u32::from(lookup.qtype.code()), |h, b| {
                h.wrapping_mul(31).wrapping_add(u32::from(b))
            });
        self.other[h as usize % self.other.len()].clone()
    }
}

/// Drives an evaluation, answering each batch in the order `order` picks.
fn drive(request: &Request, config: &Config, zone: &Zone, order: &[usize]) -> Outcome {
    let mut ev = Evaluator::new(request.clone(), config.clone());
    let mut polls = 0;
    let mut pick = order.iter().cycle();
    loop {
        polls += 1;
        assert!(polls < 1000, "the evaluation must finish");
        let mut batch = match ev.poll() {
            Step::Done(outcome) => return outcome.clone(),
            Step::Lookups(batch) => batch,
            Step::Pending => panic!("nothing outstanding after answering every lookup"),
        };
        while !batch.is_empty() {
            let i = pick.next().copied().unwrap_or(0) % batch.len();
            let lookup = batch.swap_remove(i);
            ev.answer(lookup.id, zone.resolve(&lookup)).unwrap();
        }
    }
}

fn request(ip: IpAddr) -> Request {
    Request::new(ip, "user@a.test", "helo.test")
}

/// An answer of one TXT record.
fn txt(record: &str) -> Answer {
    Answer::Records(vec![Rdata::Txt(record.as_bytes().to_vec())])
}

/// An MX answer naming `hosts`, in that order.
fn mx(hosts: &[&str]) -> Answer {
    let exchanges = hosts.iter().enumerate().map(|(i, host)| Rdata::Mx {
        preference: i as u16,
        exchange: (*host).into(),
    });
    Answer::Records(exchanges.collect())
}

/// The A answer that holds the client 192.0.2.1.
fn client_address() -> Answer {
    Answer::Records(vec![Rdata::A("192.0.2.1".parse().unwrap())])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn limits_hold_and_order_does_not_matter(
        zone in zone(),
        v6 in any::<bool>(),
        prefetch in any::<bool>(),
        order in prop::collection::vec(any::<usize>(), 1..8),
        dns_terms in 1u32..12,
        void_lookups in 0u32..4,
        per_lookup in any::<bool>(),
        max_queries in 8u32..200,
    ) {
        let ip: IpAddr = if v6 { "2001:db8::1".parse().unwrap() } else { "192.0.2.1".parse().unwrap() };
        let void_counting = if per_lookup { VoidCounting::PerLookup } else { VoidCounting::PerTerm };
        let limits = Limits { dns_terms, void_lookups, void_counting, max_queries, ..Limits::default() };
        let config = Config { limits, prefetch, default_explanation: Some("DEFAULT".into()), trace: false };
        let req = request(ip);
        let first = drive(&req, &config, &zone, &[0]);
        let second = drive(&req, &config, &zone, &order);

        // Limits: a count can pass its limit only by the one step that ends the evaluation.
        // Prefetches not needed by a term have their own bound, half the cap.
        let bound = if prefetch { max_queries + max_queries / 2 } else { max_queries };
        prop_assert!(first.queries <= bound);
        prop_assert!(first.dns_terms <= dns_terms + 1);
        if first.dns_terms > dns_terms {
            prop_assert_eq!(first.result, SpfResult::PermError);
            prop_assert_eq!(&first.problem, &Some(Problem::TooManyDnsTerms(dns_terms)));
        }
        prop_assert!(first.void_lookups <= void_lookups + 1);
        if first.void_lookups > void_lookups {
            prop_assert_eq!(first.result, SpfResult::PermError);
        }
        if first.result == SpfResult::Fail {
            prop_assert!(first.explanation.is_some());
        } else {
            prop_assert!(first.explanation.is_none());
        }

        // Same outcome whatever the answer order.
        prop_assert_eq!(first.result, second.result);
        prop_assert_eq!(&first.mechanism, &second.mechanism);
        prop_assert_eq!(&first.explanation, &second.explanation);
        prop_assert_eq!(&first.problem, &second.problem);
        prop_assert_eq!(first.dns_terms, second.dns_terms);
        prop_assert_eq!(first.void_lookups, second.void_lookups);
        prop_assert_eq!(first.round_trips, second.round_trips);
    }

    /// Prefetch only saves round trips: for any zone, limits and answer order, the
    /// outcome with prefetch is the outcome without.
    #[test]
    fn prefetch_never_changes_a_result(
        zone in zone(),
        v6 in any::<bool>(),
        order in prop::collection::vec(any::<usize>(), 1..8),
        dns_terms in 1u32..12,
        void_lookups in 0u32..4,
        per_lookup in any::<bool>(),
        max_queries in 1u32..60,
    ) {
        let ip: IpAddr = if v6 { "2001:db8::1".parse().unwrap() } else { "192.0.2.1".parse().unwrap() };
        let void_counting = if per_lookup { VoidCounting::PerLookup } else { VoidCounting::PerTerm };
        let limits = Limits { dns_terms, void_lookups, void_counting, max_queries, ..Limits::default() };
        let config = |prefetch| Config { limits, prefetch, default_explanation: Some("DEFAULT".into()), trace: false };
        let req = request(ip);
        let with = drive(&req, &config(true), &zone, &order);
        let without = drive(&req, &config(false), &zone, &order);
        prop_assert_eq!(with.result, without.result);
        prop_assert_eq!(&with.mechanism, &without.mechanism);
        prop_assert_eq!(&with.domain, &without.domain);
        prop_assert_eq!(&with.problem, &without.problem);
        prop_assert_eq!(&with.explanation, &without.explanation);
        prop_assert_eq!(with.dns_terms, without.dns_terms);
        prop_assert_eq!(with.void_lookups, without.void_lookups);
        prop_assert!(with.round_trips <= without.round_trips);
    }

    #[test]
    fn arbitrary_txt_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), v6 in any::<bool>()) {
        let ip: IpAddr = if v6 { "::ffff:192.0.2.1".parse().unwrap() } else { "192.0.2.1".parse().unwrap() };
        let mut text = b"v=spf1 ".to_vec();
        text.extend_from_slice(&bytes);
        let outcome = Evaluator::new(request(ip), Config::default()).run_with(|l| {
            if l.qtype == QueryType::Txt && l.name == "a.test" {
                Answer::Records(vec![Rdata::Txt(text.clone())])
            } else {
                Answer::NxDomain
            }
        });
        prop_assert!(outcome.queries <= Limits::default().max_queries);
    }
}

#[test]
fn misuse_is_an_error_and_done_stays_done() {
    let mut ev = Evaluator::new(request("192.0.2.1".parse().unwrap()), Config::default());
    let Step::Lookups(batch) = ev.poll() else {
        panic!("the first poll asks for the record")
    };
    let unknown = spfgate::dns::LookupId(99);
    assert!(ev.answer(unknown, Answer::NxDomain).is_err());
    ev.answer(
        batch[0].id,
        Answer::Records(vec![Rdata::Txt(b"v=spf1 -all".to_vec())]),
    )
    .unwrap();
    assert!(
        ev.answer(batch[0].id, Answer::NxDomain).is_err(),
        "answering twice"
    );
    let first = match ev.poll() {
        Step::Done(o) => o.clone(),
        other => panic!("expected Done, got {other:?}"),
    };
    assert_eq!(first.result, SpfResult::Fail);
    for _ in 0..3 {
        match ev.poll() {
            Step::Done(o) => assert_eq!(o, &first),
            other => panic!("expected Done, got {other:?}"),
        }
    }
}

/// A restarted evaluator starts clean even mid-evaluation, and refuses answers meant
/// for the lookups of the evaluation before.
#[test]
fn restart_forgets_the_previous_evaluation() {
    let mut ev = Evaluator::new(request("192.0.2.1".parse().unwrap()), Config::default());
    let Step::Lookups(old) = ev.poll() else {
        panic!("the first poll asks for the record")
    };
    ev.restart(&request("198.51.100.7".parse().unwrap()));
    let Step::Lookups(new) = ev.poll() else {
        panic!("the restarted evaluation asks for the record again")
    };
    assert_ne!(old[0].id, new[0].id, "ids keep counting across restarts");
    assert_eq!(
        ev.answer(old[0].id, Answer::NxDomain),
        Err(spfgate::dns::AnswerError::UnknownId(old[0].id))
    );
    let record = Answer::Records(vec![Rdata::Txt(
        b"v=spf1 ip4:198.51.100.0/24 -all".to_vec(),
    )]);
    ev.answer(new[0].id, record).unwrap();
    let Step::Done(outcome) = ev.poll() else {
        panic!("one answer decides")
    };
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!((outcome.queries, outcome.round_trips), (1, 1));
}

/// Evaluations and decisions can move between threads (a milter's thread pool, a
/// resolver callback thread), so the C and JS bindings can hand them out as handles.
#[test]
fn evaluators_and_decisions_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Evaluator>();
    assert_send::<spfgate::policy::Decision>();
    assert_send::<spfgate::lint::Analysis>();
}

/// Prefetch asks for literal include targets, and for the targets of records that
/// arrived prefetched, ahead of need: four sibling includes two levels deep take 3
/// round trips instead of 9, with the same result and queries.
#[test]
fn prefetch_saves_round_trips_on_include_chains() {
    let mut doc = serde_json::Map::new();
    let mut top = String::from("v=spf1");
    for i in 0..4 {
        top.push_str(&format!(" include:s{i}.chain.example"));
        let sibling = format!("v=spf1 ip4:198.51.100.{i} include:n{i}.chain.example -all");
        doc.insert(
            format!("s{i}.chain.example"),
            serde_json::json!([{ "TXT": sibling }]),
        );
        let leaf = format!("v=spf1 ip4:203.0.113.{i} -all");
        doc.insert(
            format!("n{i}.chain.example"),
            serde_json::json!([{ "TXT": leaf }]),
        );
    }
    top.push_str(" -all");
    doc.insert("chain.example".into(), serde_json::json!([{ "TXT": top }]));
    let zone =
        spfgate::zone::Zone::from_value(&serde_json::Value::Object(doc)).expect("chain zone");
    let request = Request::new(
        "192.0.2.1".parse().unwrap(),
        "a@chain.example",
        "mx.chain.example",
    );
    let run = |prefetch| {
        let config = Config {
            prefetch,
            ..Config::default()
        };
        Evaluator::new(request.clone(), config).run_with(|l| zone.resolve(l))
    };
    let (with, without) = (run(true), run(false));
    assert_eq!((with.round_trips, without.round_trips), (3, 9));
    assert_eq!(
        (with.result, with.queries),
        (without.result, without.queries)
    );
}

/// The default explanation is expanded like an `exp=` text when it holds macros, kept
/// as written when it holds none or does not parse, and capped at 2048 bytes.
#[test]
fn default_explanations() {
    let explain = |default: &str| {
        let config = Config {
            default_explanation: Some(default.into()),
            ..Config::default()
        };
        let fail = txt("v=spf1 -all");
        Evaluator::new(request("192.0.2.1".parse().unwrap()), config)
            .run_with(|_| &fail)
            .explanation
            .expect("a fail is explained")
    };
    assert_eq!(
        explain("%{i} may not send for %{d}%_(%{l})"),
        "192.0.2.1 may not send for a.test (user)"
    );
    assert_eq!(explain("See the policy"), "See the policy");
    assert_eq!(explain("broken %{x"), "broken %{x");
    assert_eq!(explain(&"x".repeat(2048)), "x".repeat(2048));
    assert_eq!(explain(&"x".repeat(3000)), "x".repeat(2048));
    assert_eq!(explain(&format!("%%{}", "y".repeat(3000))).len(), 2048);
}

/// RFC 7208 §4.3: one final dot is the root's empty label and is dropped; a second
/// leaves an empty label not at the end, a malformed domain, so the result is `none`
/// before any lookup, for the MAIL FROM domain and the HELO identity alike.
#[test]
fn one_final_dot_is_dropped_and_two_make_the_domain_malformed() {
    let check = |mail_from: &str, helo: &str, identity: Identity| {
        let mut request = Request::new("192.0.2.1".parse().unwrap(), mail_from, helo);
        request.identity = identity;
        let fail = txt("v=spf1 -all");
        let outcome = Evaluator::new(request, Config::default()).run_with(|_| &fail);
        (outcome.result, outcome.domain, outcome.queries)
    };
    let mail_from = Identity::MailFrom;
    let checked = (SpfResult::Fail, "example.com".to_owned(), 1);
    assert_eq!(check("user@example.com.", "h.test", mail_from), checked);
    assert_eq!(check("example.com.", "h.test", mail_from), checked);
    assert_eq!(check("", "example.com.", mail_from), checked);
    assert_eq!(check("", "example.com.", Identity::Helo), checked);
    for (from, helo, identity, domain) in [
        ("user@example.com..", "h.test", mail_from, "example.com."),
        ("user@example.com...", "h.test", mail_from, "example.com.."),
        ("example.com..", "h.test", mail_from, "example.com."),
        ("", "example.com..", mail_from, "example.com."),
        (
            "user@h.test",
            "example.com..",
            Identity::Helo,
            "example.com.",
        ),
    ] {
        let none = (SpfResult::None, domain.to_owned(), 0);
        assert_eq!(check(from, helo, identity), none, "{from:?} {helo:?}");
    }
}

/// `record` at a.test: `three.test` has three MX hosts of which only m1.test has an
/// address (192.0.2.1); the client's reverse names are p1, p2 and p3.test, of which
/// only p1.test has an address (192.0.2.1). Returns the result and void count.
fn void_case(config: Config, record: &str, ip: &str) -> (SpfResult, u32) {
    let ptr = Answer::Records(
        ["p1.test", "p2.test", "p3.test"]
            .iter()
            .map(|name| Rdata::Ptr((*name).into()))
            .collect(),
    );
    let request = request(ip.parse().unwrap());
    let outcome = Evaluator::new(request, config).run_with(|l| match (l.name.as_str(), l.qtype) {
        ("a.test", QueryType::Txt) => txt(record),
        ("three.test", QueryType::Mx) => mx(&["m1.test", "m2.test", "m3.test"]),
        (name, QueryType::Ptr) if name.ends_with(".arpa") => ptr.clone(),
        ("m1.test", QueryType::A) | ("p1.test", QueryType::A) => client_address(),
        _ => Answer::NxDomain,
    });
    (outcome.result, outcome.void_lookups)
}

/// Counting per term (the default), a term counts once when its own lookup is void;
/// an `mx` term's hosts count once for the term when none has an address, and the
/// names validating the client never count (RFC 7208 §4.6.4).
#[test]
fn only_a_terms_own_void_lookup_counts_per_term() {
    let evaluate = |record: &str, ip: &str| void_case(Config::default(), record, ip);
    assert_eq!(
        evaluate("v=spf1 mx:three.test -all", "192.0.2.9"),
        (SpfResult::Fail, 0)
    );
    assert_eq!(
        evaluate("v=spf1 a:v.test mx:three.test -all", "192.0.2.9"),
        (SpfResult::Fail, 1)
    );
    assert_eq!(
        evaluate("v=spf1 a:v.test mx:three.test -all", "192.0.2.1"),
        (SpfResult::Pass, 1)
    );
    assert_eq!(
        evaluate("v=spf1 ptr:p1.test -all", "192.0.2.1"),
        (SpfResult::Pass, 0)
    );
    assert_eq!(
        evaluate("v=spf1 ptr:other.test ptr:p1.test -all", "192.0.2.1"),
        (SpfResult::Pass, 0)
    );
    // `%{p}` is p1.test; p1.test.x.test is the term's own void lookup.
    assert_eq!(
        evaluate("v=spf1 exists:%{p}.x.test -all", "192.0.2.1"),
        (SpfResult::Fail, 1)
    );
    // Three terms whose own lookups are void.
    assert_eq!(
        evaluate(
            "v=spf1 a:v.test exists:w.test mx:x.test mx:three.test",
            "192.0.2.1"
        ),
        (SpfResult::PermError, 3)
    );
    assert_eq!(
        evaluate(
            "v=spf1 a:.x.test a:.y.test exists:.z.test -all",
            "192.0.2.9"
        ),
        (SpfResult::Fail, 0)
    );
}

fn per_lookup() -> Config {
    Config {
        limits: Limits {
            void_counting: VoidCounting::PerLookup,
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// Counting per lookup, every void answer a term consumes counts against the limit of
/// two (RFC 7208 §4.6.4), as pyspf counts them: every host of an `mx` term, the names
/// looked up to validate the client for `ptr` and for each term's `%{p}`. Names DNS
/// cannot carry are not asked, so they are no void lookups.
#[test]
fn every_void_answer_of_a_term_counts_per_lookup() {
    let evaluate = |record: &str, ip: &str| void_case(per_lookup(), record, ip);
    // Three MX hosts: the first has an address, two are void.
    assert_eq!(
        evaluate("v=spf1 mx:three.test -all", "192.0.2.9"),
        (SpfResult::Fail, 2)
    );
    assert_eq!(
        evaluate("v=spf1 a:v.test mx:three.test -all", "192.0.2.9"),
        (SpfResult::PermError, 3)
    );
    // Every host counts, also after one that matches: DNS does not keep the order of
    // MX records, so it must not change the result.
    assert_eq!(
        evaluate("v=spf1 a:v.test mx:three.test -all", "192.0.2.1"),
        (SpfResult::PermError, 3)
    );
    assert_eq!(
        evaluate("v=spf1 mx:three.test -all", "192.0.2.1"),
        (SpfResult::Pass, 2)
    );
    // Validating 192.0.2.1: p1 validates, p2 and p3 have no addresses.
    assert_eq!(
        evaluate("v=spf1 ptr:p1.test -all", "192.0.2.1"),
        (SpfResult::Pass, 2)
    );
    // The count stops at the void lookup that goes over the limit.
    assert_eq!(
        evaluate("v=spf1 ptr:other.test ptr:p1.test -all", "192.0.2.1"),
        (SpfResult::PermError, 3)
    );
    // `%{p}` counts the validation's voids once per term, then the term's own lookup.
    assert_eq!(
        evaluate("v=spf1 exists:%{p}.x.test -all", "192.0.2.1"),
        (SpfResult::PermError, 3)
    );
    // Malformed names are not asked: no void lookups.
    assert_eq!(
        evaluate(
            "v=spf1 a:.x.test a:.y.test exists:.z.test -all",
            "192.0.2.9"
        ),
        (SpfResult::Fail, 0)
    );
}

/// An `mx` term whose hosts' answers arrive in different round trips (one was already
/// asked to validate the client) counts each void answer once.
#[test]
fn mx_hosts_answered_in_different_round_trips_count_once() {
    let request = request("192.0.2.1".parse().unwrap());
    let outcome =
        Evaluator::new(request, per_lookup()).run_with(|l| match (l.name.as_str(), l.qtype) {
            ("a.test", QueryType::Txt) => txt("v=spf1 ptr:x.test mx:order.test -all"),
            (name, QueryType::Ptr) if name.ends_with(".arpa") => {
                Answer::Records(vec![Rdata::Ptr("m2.test".into())])
            }
            ("order.test", QueryType::Mx) => mx(&["m2.test", "m1.test"]),
            ("m1.test", QueryType::A) => client_address(),
            _ => Answer::NxDomain,
        });
    assert_eq!((outcome.result, outcome.void_lookups), (SpfResult::Pass, 2));
}

/// The order of MX records, which DNS does not keep, does not change an `mx` term:
/// every host's lookup counts, so a failed one is a temperror even when another host
/// matches (RFC 7208 §5.4 looks up every host; §2.6.6 makes a failure a temperror).
#[test]
fn mx_results_do_not_depend_on_record_order() {
    let evaluate = |hosts: [&str; 2]| {
        let request = request("192.0.2.1".parse().unwrap());
        Evaluator::new(request, Config::default())
            .run_with(|l| match (l.name.as_str(), l.qtype) {
                ("a.test", QueryType::Txt) => txt("v=spf1 mx -all"),
                ("a.test", QueryType::Mx) => mx(&hosts),
                ("match.test", QueryType::A) => client_address(),
                ("down.test", QueryType::A) => Answer::TempFail("timeout".into()),
                _ => Answer::NxDomain,
            })
            .result
    };
    for hosts in [["match.test", "down.test"], ["down.test", "match.test"]] {
        assert_eq!(evaluate(hosts), SpfResult::TempError, "{hosts:?}");
    }
    for hosts in [["match.test", "void.test"], ["void.test", "match.test"]] {
        assert_eq!(evaluate(hosts), SpfResult::Pass, "{hosts:?}");
    }
}
