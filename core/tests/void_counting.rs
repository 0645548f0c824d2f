//! Void lookups per term and per lookup (RFC 7208 §4.6.4), literal domain-specs
//! truncated like expanded ones (§4.8, §7.3), and prefetch never deciding a result.

use serde_json::{Value, json};
use spfgate::eval::{
    Config, Evaluator, Limits, Outcome, Problem, Request, SpfResult, VoidCounting,
};
use spfgate::lint::{Analysis, AnalysisOptions};
use spfgate::zone::Zone;

const MODES: [VoidCounting; 2] = [VoidCounting::PerTerm, VoidCounting::PerLookup];

fn config(void_counting: VoidCounting, prefetch: bool) -> Config {
    Config {
        limits: Limits {
            void_counting,
            ..Limits::default()
        },
        prefetch,
        default_explanation: Some("DEFAULT".into()),
        ..Config::default()
    }
}

fn evaluate_with(zone: &Value, ip: &str, config: Config) -> Outcome {
    let zone = Zone::from_value(zone).expect("test zone");
    let request = Request::new(ip.parse().unwrap(), "user@example.com", "mx.example.com");
    Evaluator::new(request, config).run_with(|l| zone.resolve(l))
}

/// The result and void count in each mode, with and without prefetch (which must
/// agree).
fn evaluate(zone: &Value, ip: &str) -> [(SpfResult, u32); 2] {
    MODES.map(|mode| {
        let with = evaluate_with(zone, ip, config(mode, true));
        let without = evaluate_with(zone, ip, config(mode, false));
        assert_eq!(
            (with.result, &with.problem, with.void_lookups),
            (without.result, &without.problem, without.void_lookups),
            "{mode}: prefetch changed the outcome"
        );
        (with.result, with.void_lookups)
    })
}

fn per_term_is_the_default() -> bool {
    Config::default().limits.void_counting == VoidCounting::PerTerm
}

#[test]
fn the_default_counts_terms() {
    assert!(per_term_is_the_default());
    for mode in MODES {
        assert_eq!(mode.to_string().parse::<VoidCounting>(), Ok(mode));
    }
    assert!("per-answer".parse::<VoidCounting>().is_err());
}

/// pyspf issue #44: an IPv6 client whose address is the first MX host's AAAA; the
/// three other hosts have A records only.
#[test]
fn ipv6_client_matching_the_first_mx_host() {
    let zone = json!({
        "example.com": [
            {"TXT": "v=spf1 mx ~all"},
            {"MX": [10, "mx1.example.com"]},
            {"MX": [20, "mx2.example.com"]},
            {"MX": [30, "mx3.example.com"]},
            {"MX": [40, "mx4.example.com"]}
        ],
        "mx1.example.com": [{"A": "192.0.2.1"}, {"AAAA": "2a01:261:e80:4800::1"}],
        "mx2.example.com": [{"A": "192.0.2.2"}],
        "mx3.example.com": [{"A": "192.0.2.3"}],
        "mx4.example.com": [{"A": "192.0.2.4"}]
    });
    let [per_term, per_lookup] = evaluate(&zone, "2a01:261:e80:4800::1");
    assert_eq!(per_term, (SpfResult::Pass, 0));
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
    // An IPv4 client of the same domain is unaffected.
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.3");
    assert_eq!(per_term, (SpfResult::Pass, 0));
    assert_eq!(per_lookup, (SpfResult::Pass, 0));
}

/// mailauth issue #104: an include whose `mx` names four hosts without AAAA records.
#[test]
fn ipv6_client_of_four_v4_only_mx_hosts() {
    let mut zone = json!({
        "example.com": [{"TXT": "v=spf1 include:res.example.net -all"}],
        "res.example.net": [{"TXT": "v=spf1 mx:res.example.net ~all"}]
    });
    for i in 1..=4 {
        zone["res.example.net"]
            .as_array_mut()
            .unwrap()
            .push(json!({"MX": [i, format!("h{i}.res.example.net")]}));
        zone[format!("h{i}.res.example.net")] = json!([{"A": format!("198.51.100.{i}")}]);
    }
    let [per_term, per_lookup] = evaluate(&zone, "2001:db8::25");
    // The include's `~all` is no match in the parent; its `-all` decides.
    assert_eq!(per_term, (SpfResult::Fail, 1));
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
    let [per_term, per_lookup] = evaluate(&zone, "198.51.100.3");
    assert_eq!(per_term, (SpfResult::Pass, 0));
    assert_eq!(per_lookup, (SpfResult::Pass, 0));
}

/// The client's reverse zone lists eleven names; two of the first ten have the
/// client's address, nine have none. The names validating a client are the client's
/// choice, so per term they never count.
#[test]
fn eleven_ptr_names_nine_without_addresses() {
    let mut zone = json!({
        "1.2.0.192.in-addr.arpa": (0..11)
            .map(|i| json!({"PTR": format!("n{i}.client.example")}))
            .collect::<Vec<_>>(),
        "n0.client.example": [{"A": "192.0.2.1"}],
        "n5.client.example": [{"A": "192.0.2.1"}]
    });
    zone["example.com"] = json!([{"TXT": "v=spf1 ptr:other.example -all"}]);
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.1");
    assert_eq!(per_term, (SpfResult::Fail, 0));
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
    zone["example.com"] = json!([{"TXT": "v=spf1 ptr:client.example -all"}]);
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.1");
    assert_eq!(per_term, (SpfResult::Pass, 0));
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
    // The PTR lookup itself is the term's own: void, it counts once in both modes.
    zone["example.com"] = json!([{"TXT": "v=spf1 ptr ptr:a.example ptr:b.example -all"}]);
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.99");
    assert_eq!(per_term, (SpfResult::PermError, 3));
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
}

/// `%{p}` over reverse names that have no addresses: it reads `unknown`, and the
/// validation's void lookups are not the term's.
#[test]
fn validated_name_macro_over_names_without_addresses() {
    let zone = json!({
        "example.com": [{"TXT": "v=spf1 a:%{p}.hosts.example.com ip4:192.0.2.0/24 -all"}],
        "1.2.0.192.in-addr.arpa": [
            {"PTR": "p1.client.example"},
            {"PTR": "p2.client.example"},
            {"PTR": "p3.client.example"}
        ]
    });
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.1");
    // unknown.hosts.example.com is NXDOMAIN: the term's own void lookup.
    assert_eq!(per_term, (SpfResult::Pass, 1));
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
    let zone = json!({
        "example.com": [{"TXT": "v=spf1 exists:%{p}.hosts.example.com -all"}],
        "unknown.hosts.example.com": [{"A": "127.0.0.2"}],
        "1.2.0.192.in-addr.arpa": [{"PTR": "p1.client.example"}, {"PTR": "p2.client.example"}]
    });
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.1");
    assert_eq!(per_term, (SpfResult::Pass, 0));
    assert_eq!(per_lookup, (SpfResult::Pass, 2));
}

/// The limit still bites where terms find nothing: three `a:` terms at NXDOMAIN names
/// before the matching term.
#[test]
fn three_void_address_terms_are_a_permerror() {
    let zone = json!({
        "example.com": [{"TXT": "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com a:ok.example.com -all"}],
        "ok.example.com": [{"A": "192.0.2.1"}]
    });
    for (result, voids) in evaluate(&zone, "192.0.2.1") {
        assert_eq!((result, voids), (SpfResult::PermError, 3));
    }
    let outcome = evaluate_with(&zone, "192.0.2.1", Config::default());
    assert_eq!(outcome.problem, Some(Problem::TooManyVoidLookups(2)));
}

/// Three `mx:` terms whose MX queries are empty (NOERROR, no records), and three whose
/// every host has no address.
#[test]
fn three_void_mx_terms_are_a_permerror() {
    let zone = json!({
        "example.com": [{"TXT": "v=spf1 mx:e1.example.com mx:e2.example.com mx:e3.example.com ip4:192.0.2.1 -all"}],
        "e1.example.com": [{"A": "192.0.2.10"}],
        "e2.example.com": [{"A": "192.0.2.11"}],
        "e3.example.com": [{"A": "192.0.2.12"}]
    });
    for (result, voids) in evaluate(&zone, "192.0.2.1") {
        assert_eq!((result, voids), (SpfResult::PermError, 3));
    }
    let mut zone = json!({
        "example.com": [{"TXT": "v=spf1 mx:h1.example.com mx:h2.example.com mx:h3.example.com ip4:192.0.2.1 -all"}]
    });
    for i in 1..=3 {
        zone[format!("h{i}.example.com")] = json!([
            {"MX": [10, format!("gone{i}a.example.com")]},
            {"MX": [20, format!("gone{i}b.example.com")]}
        ]);
    }
    let [per_term, per_lookup] = evaluate(&zone, "192.0.2.1");
    assert_eq!(per_term, (SpfResult::PermError, 3));
    // Per lookup the second term's first host is already the third void lookup.
    assert_eq!(per_lookup, (SpfResult::PermError, 3));
    let outcome = evaluate_with(&zone, "192.0.2.1", Config::default());
    assert_eq!(outcome.mechanism, None);
    assert_eq!(outcome.dns_terms, 3);
}

/// `<63 a's>.<63 b's>.<63 c's>.<63 d's>.test`: 260 octets, truncated from the left
/// by whole labels to `<63 b's>.<63 c's>.<63 d's>.test` (RFC 7208 §7.3), whether the
/// domain-spec has macros or not (§4.8).
#[test]
fn literal_domain_specs_over_253_octets_are_truncated() {
    let label = |c: char| c.to_string().repeat(63);
    let kept = format!("{}.{}.{}.test", label('b'), label('c'), label('d'));
    let long = format!("{}.{kept}", label('a'));
    assert_eq!(long.len(), 260);
    let with_record = |record: String| {
        let mut zone = json!({ "example.com": [{"TXT": record}] });
        zone[&kept] = json!([
            {"A": "127.0.0.2"},
            {"TXT": "v=spf1 +all"}
        ]);
        zone
    };
    for spec in [long.clone(), format!("{long}.")] {
        let zone = with_record(format!("v=spf1 exists:{spec} -all"));
        for (result, _) in evaluate(&zone, "192.0.2.1") {
            assert_eq!(result, SpfResult::Pass, "exists:{spec}");
        }
        let outcome = evaluate_with(&zone, "192.0.2.1", Config::default());
        assert_eq!(outcome.mechanism, Some(format!("exists:{spec}")));
        let zone = with_record(format!("v=spf1 redirect={spec}"));
        for (result, _) in evaluate(&zone, "192.0.2.1") {
            assert_eq!(result, SpfResult::Pass, "redirect={spec}");
        }
        let outcome = evaluate_with(&zone, "192.0.2.1", Config::default());
        assert_eq!(outcome.domain, kept);
    }
    // The same name with a macro was already truncated; both paths agree.
    let zone = with_record(format!("v=spf1 exists:%{{d1r}}.{long} -all"));
    let outcome = evaluate_with(&zone, "192.0.2.1", Config::default());
    assert_eq!(outcome.result, SpfResult::Pass);
    // exp= names the TXT record of the truncated name.
    let mut zone = json!({ "example.com": [{"TXT": format!("v=spf1 -all exp={long}")}] });
    zone[&kept] = json!([{"TXT": "Not allowed for %{d}"}]);
    for mode in MODES {
        let outcome = evaluate_with(&zone, "192.0.2.1", config(mode, true));
        assert_eq!(outcome.result, SpfResult::Fail);
        assert_eq!(
            outcome.explanation.as_deref(),
            Some("Not allowed for example.com")
        );
    }
    // The linter follows the same name.
    let zone = Zone::from_value(&with_record(format!("v=spf1 include:{long} -all"))).unwrap();
    let report =
        Analysis::new("example.com", AnalysisOptions::default()).run_with(|l| zone.resolve(l));
    assert_eq!(report.records.len(), 2, "{:?}", report.records);
    assert_eq!(report.records[1].domain, kept);
}

/// Nine `mx:` terms of ten non-matching hosts each, a matching `a:` as the tenth DNS
/// term, then eleven includes of ten includes each. The evaluation needs 101 queries
/// and stops at the match (RFC 7208 §4.6.2); the prefetched include records must not
/// push it over the 160-query cap.
#[test]
fn prefetch_cannot_reach_the_query_cap_for_the_evaluation() {
    let mut record = String::from("v=spf1");
    let mut zone = json!({});
    for m in 0..9 {
        let name = format!("m{m}.example.com");
        record.push_str(&format!(" mx:{name}"));
        zone[&name] = Value::Array(
            (0..10)
                .map(|h| json!({"MX": [h, format!("h{h}.{name}")]}))
                .collect(),
        );
        for h in 0..10 {
            zone[format!("h{h}.{name}")] = json!([{"A": format!("198.51.100.{}", m * 10 + h)}]);
        }
    }
    record.push_str(" a:ok.example.com");
    zone["ok.example.com"] = json!([{"A": "192.0.2.1"}]);
    for i in 0..11 {
        let name = format!("i{i}.example.com");
        record.push_str(&format!(" include:{name}"));
        let inner: String = (0..10).map(|j| format!(" include:j{j}.{name}")).collect();
        zone[&name] = json!([{"TXT": format!("v=spf1{inner} -all")}]);
        for j in 0..10 {
            zone[format!("j{j}.{name}")] = json!([{"TXT": "v=spf1 -all"}]);
        }
    }
    record.push_str(" -all");
    zone["example.com"] = json!([{"TXT": record}]);
    for (result, voids) in evaluate(&zone, "192.0.2.1") {
        assert_eq!((result, voids), (SpfResult::Pass, 0));
    }
    let with = evaluate_with(&zone, "192.0.2.1", Config::default());
    assert_eq!(with.mechanism.as_deref(), Some("a:ok.example.com"));
    assert_eq!(with.dns_terms, 10);
    let without = evaluate_with(&zone, "192.0.2.1", config(VoidCounting::PerTerm, false));
    assert_eq!(without.queries, 101);
    assert!(with.queries > 101, "the includes were prefetched");
    // Prefetches have their own bound, half the cap.
    assert!(with.queries <= 101 + 80, "{}", with.queries);
}
