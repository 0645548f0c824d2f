//! The lookup analysis: agreement with the evaluator on the RFC 7208 suite, a realistic
//! provider chain, hostile trees, and the flattening rules.

use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::{Value, json};
use spfgate::dns::{Answer, AnswerError, LookupId, QueryType};
use spfgate::eval::{Config, Evaluator, Limits, Problem, Request, TraceEvent, VoidCounting};
use spfgate::lint::{Analysis, AnalysisOptions, AnalysisStep, Report, Severity, codes};
use spfgate::zone::Zone;

fn analyse(zone: &Zone, domain: &str) -> Report {
    Analysis::new(domain, AnalysisOptions::default()).run_with(|l| zone.resolve(l))
}

fn zone(value: Value) -> Zone {
    Zone::from_value(&value).expect("test zone has the suite's shape")
}

fn finding_codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code).collect()
}

// ----- counts agree with the evaluator -------------------------------------------------

/// The domain `check_host()` starts from, as the evaluator derives it.
fn checked_domain(mail_from: &str, helo: &str) -> String {
    match mail_from.rsplit_once('@') {
        Some((_, d)) => d.to_owned(),
        None if !mail_from.is_empty() => mail_from.to_owned(),
        None => helo.to_owned(),
    }
}

/// True when the evaluation walked the whole worst-case path: every term that matched
/// is `all`, an `include` (whose target then ended in `+all`) or an `exists` (which
/// matches every client when its fixed name has an A record, as the analysis models).
/// Anything else matching (an address, `ptr`, a macro-dependent `exists`) stopped the
/// evaluator before the end, where the analysis keeps counting.
fn reached_the_end(trace: &[TraceEvent]) -> bool {
    trace.iter().all(|e| match e {
        TraceEvent::Term {
            term,
            matched: true,
            ..
        } => {
            let name = term.trim_start_matches(['+', '-', '~', '?']);
            name == "all"
                || name.starts_with("include:")
                || (name.starts_with("exists:") && !name.contains('%'))
        }
        _ => true,
    })
}

/// For every test of the RFC 7208 suite, with the test's own client address and with
/// two documentation addresses no scenario lists (203.0.113.254, 2001:db8:ffff::254),
/// the evaluator's `dns_terms` and `void_lookups` equal the analysis counts whenever
/// both are about the same path:
///
/// - the evaluation ended without a problem (no permerror, temperror or `none`): a
///   receiver stops counting at the first error, the analysis counts on;
/// - the evaluation reached the end of the path (see [`reached_the_end`]): an early
///   address match stops a receiver, while the analysis counts the worst case;
/// - the analysis is exact: no macro targets, `ptr` or `%{p}` (their lookups depend on
///   the sender and client, so the analysis does not follow them), no DNS failures.
///
/// The void count compared is the one for the client's family (an `a` term looks up A
/// for IPv4 clients and AAAA for IPv6 clients).
///
/// Conversely, when the evaluator stops with a limit or structure permerror, the analysis
/// reports the matching finding (if it could follow the whole tree).
///
/// Both ways of counting void lookups are compared, each with the analysis counting
/// the same way.
#[test]
fn counts_agree_with_the_evaluator_on_the_rfc7208_suite() {
    for mode in [VoidCounting::PerTerm, VoidCounting::PerLookup] {
        counts_agree_on_the_rfc7208_suite(mode);
    }
}

fn counts_agree_on_the_rfc7208_suite(void_counting: VoidCounting) {
    let limits = Limits {
        void_counting,
        ..Limits::default()
    };
    let config = Config {
        limits,
        ..Config::default()
    };
    let options = AnalysisOptions {
        limits,
        ..AnalysisOptions::default()
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spf-test-suite/rfc7208-tests.yml");
    let text = std::fs::read_to_string(&path).expect("the RFC 7208 suite is present");
    let (mut compared, mut errors_checked) = (0, 0);
    let mut mismatches = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let doc: Value = serde::Deserialize::deserialize(doc).expect("suite YAML parses");
        let zone = Zone::from_value(&doc["zonedata"]).expect("zonedata");
        for (name, t) in doc["tests"].as_object().expect("tests") {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            let domain = checked_domain(&s("mailfrom"), &s("helo"));
            let report = Analysis::new(&domain, options).run_with(|l| zone.resolve(l));
            let own: IpAddr = s("host").parse().expect("host address");
            for ip in [
                own,
                "203.0.113.254".parse().unwrap(),
                "2001:db8:ffff::254".parse().unwrap(),
            ] {
                let req = Request::new(ip, &s("mailfrom"), &s("helo"));
                let outcome = Evaluator::new(req, config.clone()).run_with(|l| zone.resolve(l));
                let v6 = matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none());
                let voids = if v6 {
                    report.void_lookups.ipv6
                } else {
                    report.void_lookups.ipv4
                };
                let followed = !finding_codes(&report).contains(&codes::NOT_FOLLOWED);
                match &outcome.problem {
                    None if report.exact && reached_the_end(&outcome.trace) => {
                        compared += 1;
                        if (outcome.dns_terms, outcome.void_lookups) != (report.dns_terms, voids) {
                            mismatches.push(format!(
                                "{name} ({ip}): evaluator {}/{} analysis {}/{}",
                                outcome.dns_terms, outcome.void_lookups, report.dns_terms, voids
                            ));
                        }
                    }
                    Some(problem) if followed => {
                        let want = match problem {
                            // A loop makes the evaluator count terms until the limit; the
                            // analysis names the loop instead.
                            Problem::TooManyDnsTerms(_)
                                if finding_codes(&report).contains(&codes::LOOP) =>
                            {
                                codes::LOOP
                            }
                            Problem::TooManyDnsTerms(_) => codes::TOO_MANY_DNS_TERMS,
                            Problem::TooManyVoidLookups(_) => codes::TOO_MANY_VOID_LOOKUPS,
                            Problem::TooManyMxNames { .. } => codes::TOO_MANY_MX_HOSTS,
                            Problem::MultipleRecords(_) => codes::MULTIPLE_RECORDS,
                            Problem::IncludeNone(_)
                            | Problem::RedirectNone(_)
                            | Problem::NoRecord(_) => codes::NO_RECORD,
                            _ => continue,
                        };
                        errors_checked += 1;
                        if !finding_codes(&report).contains(&want) {
                            mismatches.push(format!(
                                "{name} ({ip}): evaluator {problem}, analysis lacks {want}"
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    println!(
        "{void_counting}: compared {compared} evaluations, checked {errors_checked} permerror causes"
    );
    assert!(mismatches.is_empty(), "{void_counting}: {mismatches:#?}");
    assert!(compared >= 150, "only {compared} evaluations compared");
    assert!(
        errors_checked >= 20,
        "only {errors_checked} permerror causes checked"
    );
}

// ----- a realistic provider chain ---------------------------------------------------------

/// A domain sending through three providers shaped like the big ones: a mail-suite
/// include fanning out to netblock records (4 levels), a cloud-mail include with two
/// sub-records, and a marketing-mail include, plus the domain's own `mx`.
fn provider_zone() -> Zone {
    zone(json!({
        "example.com": [
            {"TXT": "v=spf1 mx include:_spf.mailsuite.example include:spf.protection.cloudmail.example include:sendgrid.example ~all"},
            {"TXT": "google-site-verification=abc"},
            {"MX": [10, "mx1.example.com"]}, {"MX": [20, "mx2.example.com"]}
        ],
        "mx1.example.com": [{"A": "192.0.2.25"}, {"AAAA": "2001:db8:25::1"}],
        "mx2.example.com": [{"A": "192.0.2.26"}],
        "_spf.mailsuite.example": [{"TXT": "v=spf1 include:_netblocks.mailsuite.example include:_netblocks2.mailsuite.example include:_netblocks3.mailsuite.example ~all"}],
        "_netblocks.mailsuite.example": [{"TXT": ["v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ",
                                                 "ip4:66.249.80.0/20 ip4:72.14.192.0/18 ~all"]}],
        "_netblocks2.mailsuite.example": [{"TXT": "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ~all"}],
        "_netblocks3.mailsuite.example": [{"TXT": "v=spf1 ip4:172.217.0.0/19 include:_netblocks4.mailsuite.example ~all"}],
        "_netblocks4.mailsuite.example": [{"TXT": "v=spf1 ip4:172.217.32.0/20 ip4:172.217.128.0/19 ~all"}],
        "spf.protection.cloudmail.example": [{"TXT": "v=spf1 include:spfa.protection.cloudmail.example include:spfb.protection.cloudmail.example -all"}],
        "spfa.protection.cloudmail.example": [{"TXT": "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all"}],
        "spfb.protection.cloudmail.example": [{"TXT": "v=spf1 ip4:52.100.0.0/14 ip4:104.47.0.0/17 -all"}],
        "sendgrid.example": [{"TXT": "v=spf1 include:u1234.wl.sendgrid.example -all"}],
        "u1234.wl.sendgrid.example": [{"TXT": "v=spf1 ip4:167.89.0.0/17 ip4:208.117.48.0/20 ~all"}]
    }))
}

#[test]
fn provider_chain_analysis() {
    let report = analyse(&provider_zone(), "example.com");
    // mx, 3 top includes, 3 + 1 mail-suite includes, 2 cloud-mail, 1 marketing = 11.
    assert_eq!(report.dns_terms, 11);
    assert_eq!(report.void_lookups.ipv4, 0);
    assert_eq!(report.depth, 3);
    assert_eq!(report.records.len(), 11);
    assert_eq!(report.mx_hosts.len(), 1);
    assert_eq!(
        (report.mx_hosts[0].target.as_str(), report.mx_hosts[0].hosts),
        ("example.com", 2)
    );
    assert!(!report.exact, "over the limit: receivers stop early");

    let over: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == codes::TOO_MANY_DNS_TERMS)
        .collect();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].severity, Severity::Error);
    assert_eq!(
        over[0].chain_text(),
        "example.com → include:sendgrid.example"
    );
    assert_eq!(over[0].domain, "sendgrid.example");
    let rec = "v=spf1 include:u1234.wl.sendgrid.example -all";
    assert_eq!(
        &rec[over[0].span.start..over[0].span.end()],
        "include:u1234.wl.sendgrid.example"
    );
    // The deepest record is named with its whole chain.
    let deepest = report.records.iter().find(|r| r.depth == 3).unwrap();
    assert_eq!(
        deepest.chain.join(" → "),
        "example.com → include:_spf.mailsuite.example → include:_netblocks3.mailsuite.example → include:_netblocks4.mailsuite.example"
    );
    // Batches: the record, then its 3 includes + MX + nothing else, then the next level...
    assert!(
        report.round_trips <= 5,
        "{} round trips",
        report.round_trips
    );

    let flat = report.flattening.expect("the record parses");
    assert_eq!((flat.dns_terms_before, flat.dns_terms_after), (11, 0));
    assert!(flat.kept.is_empty(), "{:?}", flat.kept);
    // Every network is `+`, so they form one run: merged and sorted, IPv4 first.
    assert_eq!(
        flat.record,
        "v=spf1 ip4:35.190.247.0/24 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/14 \
         ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:104.47.0.0/17 \
         ip4:167.89.0.0/17 ip4:172.217.0.0/19 ip4:172.217.32.0/20 ip4:172.217.128.0/19 ip4:192.0.2.25 \
         ip4:192.0.2.26 ip4:208.117.48.0/20 ip6:2001:db8:25::1 ip6:2001:4860:4000::/36 \
         ip6:2404:6800:4000::/36 ip6:2a01:111:f400::/48 ~all"
    );
    assert!(flat.strings.len() >= 2);
    assert!(flat.strings.iter().all(|s| s.len() <= 255));
    assert_eq!(flat.strings.concat(), flat.record);
    // The suggestion lints clean apart from its length.
    let left: Vec<_> = spfgate::lint::lint_record(&flat.record)
        .into_iter()
        .filter(|f| f.code != codes::LONG_RECORD && f.code != codes::UDP_SIZE)
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The flattened record authorizes exactly what the original does: check with the
/// evaluator for addresses inside and outside every provider's networks.
#[test]
fn provider_chain_flattening_is_equivalent() {
    let zone = provider_zone();
    let flat = analyse(&zone, "example.com").flattening.unwrap();
    let mut flat_zone = zone.clone();
    flat_zone.add(
        "flat.example.com",
        spfgate::zone::ZoneEntry::Record(spfgate::dns::Rdata::Txt(flat.record.into_bytes())),
    );
    let limits = spfgate::eval::Limits {
        dns_terms: 100,
        ..Default::default()
    };
    let config = Config {
        limits,
        ..Config::default()
    };
    for ip in [
        "192.0.2.25",
        "192.0.2.26",
        "192.0.2.27",
        "64.233.170.1",
        "172.217.40.1",
        "172.217.48.1",
        "40.93.1.1",
        "104.47.200.1",
        "167.89.1.1",
        "2001:4860:4000::1",
        "2001:db8:25::1",
        "2001:db8:25::2",
        "203.0.113.1",
    ] {
        let run = |domain: &str| {
            let req = Request::new(ip.parse().unwrap(), &format!("a@{domain}"), domain);
            let zone = if domain == "example.com" {
                &zone
            } else {
                &flat_zone
            };
            Evaluator::new(req, config.clone())
                .run_with(|l| zone.resolve(l))
                .result
        };
        assert_eq!(run("example.com"), run("flat.example.com"), "{ip}");
    }
}

// ----- flattening rules ------------------------------------------------------------------

#[test]
fn flattening_keeps_qualifiers_and_unflattenable_terms() {
    let z = zone(json!({
        "example.org": [{"TXT": "v=spf1 -include:bad.example.org ~include:soft.example.org include:carve.example.org include:open.example.org exists:%{i}.ok.example.org a:www.example.org/24 redirect=r.example.org ra=postmaster"}],
        "bad.example.org": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -ip4:198.51.101.0/24 ~all"}],
        "soft.example.org": [{"TXT": "v=spf1 -ip4:192.0.2.8 ip4:192.0.2.0/29 ip6:2001:db8::/64"}],
        "carve.example.org": [{"TXT": "v=spf1 -ip4:203.0.113.7 ip4:203.0.113.0/24 -all"}],
        "open.example.org": [{"TXT": "v=spf1 +all"}],
        "www.example.org": [{"A": "192.0.2.130"}, {"A": "192.0.2.140"}],
        "r.example.org": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}]
    }));
    let report = analyse(&z, "example.org");
    let flat = report.flattening.unwrap();
    assert_eq!(
        flat.record,
        "v=spf1 -ip4:198.51.100.0/24 ~ip4:192.0.2.0/29 ~ip6:2001:db8::/64 include:carve.example.org \
         include:open.example.org exists:%{i}.ok.example.org ip4:192.0.2.0/24 -all ra=postmaster"
    );
    // The redirect target's 198.51.100.0/24 is covered by the earlier -ip4 and dropped.
    assert_eq!(
        flat.kept,
        [
            "include:carve.example.org",
            "include:open.example.org",
            "exists:%{i}.ok.example.org"
        ]
    );
    // open.example.org ends in `+all`, so its include matches every client and the
    // evaluation ends there: 4 DNS terms before (bad, soft, carve, open), 2 after.
    assert_eq!((flat.dns_terms_before, flat.dns_terms_after), (4, 2));
    // The macro-dependent `exists` lies beyond that point, so the counts are exact.
    assert!(report.exact);
}

#[test]
fn flattening_splits_long_records_into_strings() {
    let nets: Vec<String> = (0..60).map(|i| format!("ip4:198.51.{i}.1")).collect();
    let z = zone(json!({
        "example.net": [{"TXT": "v=spf1 include:big.example.net -all"}],
        "big.example.net": [{"TXT": format!("v=spf1 {} -all", nets.join(" "))}]
    }));
    let flat = analyse(&z, "example.net").flattening.unwrap();
    assert_eq!(flat.strings.concat(), flat.record);
    assert!(flat.strings.len() >= 4);
    assert!(flat.strings.iter().all(|s| s.len() <= 255));
    assert!(
        flat.strings[1..].iter().all(|s| s.starts_with(' ')),
        "cut before a space"
    );
}

// ----- structure and limit findings ----------------------------------------------------

#[test]
fn loops_missing_and_multiple_records() {
    let z = zone(json!({
        "example.com": [{"TXT": "v=spf1 include:a.example.com include:gone.example.com include:two.example.com -all"}],
        "a.example.com": [{"TXT": "v=spf1 include:b.example.com -all"}],
        "b.example.com": [{"TXT": "v=spf1 redirect=a.example.com"}],
        "two.example.com": [{"TXT": "v=spf1 -all"}, {"TXT": "v=spf1 ~all"}]
    }));
    let report = analyse(&z, "example.com");
    let find = |code| {
        report
            .findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no {code}"))
    };
    let l = find(codes::LOOP);
    assert_eq!(
        l.chain_text(),
        "example.com → include:a.example.com → include:b.example.com → redirect=a.example.com"
    );
    assert_eq!(
        (l.domain.as_str(), l.span.start, l.span.len),
        ("b.example.com", 7, 22)
    );
    let gone = find(codes::NO_RECORD);
    assert_eq!(gone.chain_text(), "example.com → include:gone.example.com");
    assert_eq!((gone.domain.as_str(), gone.span.start), ("example.com", 29));
    let two = find(codes::MULTIPLE_RECORDS);
    assert_eq!(
        (two.domain.as_str(), two.span.start, two.span.len),
        ("example.com", 54, 23)
    );
    assert!(!report.exact);

    let none = analyse(&z, "nothing.example.com");
    assert_eq!(finding_codes(&none), [codes::NO_RECORD]);
    assert!(none.flattening.is_none());
}

#[test]
fn void_lookups_per_family_and_mx_hosts() {
    let mut mx: Vec<Value> = (0..11)
        .map(|i| json!({"MX": [i, format!("mx{i}.example.net")]}))
        .collect();
    mx.push(json!({"TXT": "v=spf1 -all"}));
    let z = zone(json!({
        "example.com": [{"TXT": "v=spf1 a:v4only.example.com mx:nomx.example.com exists:gone.example.com mx:big.example.net -all"}],
        "v4only.example.com": [{"A": "192.0.2.1"}],
        "nomx.example.com": [{"A": "192.0.2.2"}],
        "big.example.net": mx
    }));
    let report = analyse(&z, "example.com");
    assert_eq!(report.void_lookups.ipv4, 2);
    assert_eq!(report.void_lookups.ipv6, 3);
    let over: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == codes::TOO_MANY_VOID_LOOKUPS)
        .collect();
    assert_eq!(over.len(), 1);
    assert_eq!(
        (over[0].span.start, over[0].span.len),
        (48, 23),
        "exists:gone.example.com"
    );
    assert!(over[0].message.contains("IPv6"));
    let voids: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == codes::VOID_LOOKUP)
        .map(|f| (f.severity, f.span.start))
        .collect();
    assert_eq!(
        voids,
        [
            (Severity::Info, 7),
            (Severity::Warning, 28),
            (Severity::Warning, 48)
        ]
    );
    let big = report
        .findings
        .iter()
        .find(|f| f.code == codes::TOO_MANY_MX_HOSTS)
        .unwrap();
    assert_eq!((big.span.start, big.span.len), (72, 18));
    assert_eq!(
        report.mx_hosts.iter().map(|m| m.hosts).collect::<Vec<_>>(),
        [11]
    );
    // No addresses were asked for the hosts of an mx a receiver refuses.
    assert!(report.queries < 10, "{} queries", report.queries);
}

#[test]
fn static_findings_carry_their_chain() {
    let z = zone(json!({
        "example.com": [{"TXT": "v=spf1 include:inc.example.com -all"}],
        "inc.example.com": [{"TXT": "v=spf1 ptr ip4:192.0.2.1/24"}]
    }));
    let report = analyse(&z, "example.com");
    let ptr = report
        .findings
        .iter()
        .find(|f| f.code == codes::PTR_DEPRECATED)
        .unwrap();
    assert_eq!(
        (ptr.domain.as_str(), ptr.span.start, ptr.span.len),
        ("inc.example.com", 7, 3)
    );
    assert_eq!(ptr.chain_text(), "example.com → include:inc.example.com");
    assert!(finding_codes(&report).contains(&codes::HOST_BITS));
    // No `all` is harmless in an included record.
    assert!(!finding_codes(&report).contains(&codes::NO_ALL));
    // ptr is not counted ahead of time.
    let nf = report
        .findings
        .iter()
        .find(|f| f.code == codes::NOT_FOLLOWED)
        .unwrap();
    assert_eq!(
        (nf.domain.as_str(), nf.span.start, nf.span.len),
        ("inc.example.com", 7, 3)
    );
}

#[test]
fn dns_failures_are_findings() {
    let z = zone(json!({
        "example.com": [{"TXT": "v=spf1 include:slow.example.com a:slow.example.com -all"}],
        "slow.example.com": ["TIMEOUT"]
    }));
    let report = analyse(&z, "example.com");
    let fails: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == codes::DNS_FAILURE)
        .map(|f| f.span.start)
        .collect();
    assert_eq!(fails, [7, 32]);
    assert!(!report.exact);
    let flat = report.flattening.unwrap();
    assert_eq!(
        flat.kept,
        ["include:slow.example.com", "a:slow.example.com"]
    );
}

// ----- hostile DNS is bounded -----------------------------------------------------------

#[test]
fn deep_chains_stop_at_the_depth_bound() {
    let mut zone = serde_json::Map::new();
    for i in 0..100 {
        zone.insert(
            format!("d{i}.example"),
            json!([{"TXT": format!("v=spf1 include:d{}.example -all", i + 1)}]),
        );
    }
    let z = Zone::from_value(&Value::Object(zone)).unwrap();
    let options = AnalysisOptions::default();
    let report = Analysis::new("d0.example", options).run_with(|l| z.resolve(l));
    assert_eq!(report.depth, options.max_depth);
    assert!(report.queries <= options.max_depth + 1);
    let limit = report
        .findings
        .iter()
        .find(|f| f.code == codes::ANALYSIS_LIMIT)
        .unwrap();
    assert_eq!(limit.domain, "d16.example");
    assert_eq!(
        (limit.span.start, limit.span.len),
        (7, 19),
        "include:d17.example"
    );
    assert_eq!(limit.chain.len(), 18);
    assert_eq!(report.dns_terms, options.max_depth + 1);
}

#[test]
fn wide_diamonds_stay_bounded() {
    // Every level includes the next level's ten names, each of which does the same:
    // 10^depth paths, a few hundred names.
    let mut zone = serde_json::Map::new();
    for level in 0..30 {
        for i in 0..10 {
            let next: Vec<String> = (0..10)
                .map(|j| format!("include:n{j}.l{}.example", level + 1))
                .collect();
            zone.insert(
                format!("n{i}.l{level}.example"),
                json!([{"TXT": format!("v=spf1 {} -all", next.join(" "))}]),
            );
        }
    }
    let z = Zone::from_value(&Value::Object(zone)).unwrap();
    let options = AnalysisOptions {
        max_queries: 100,
        ..Default::default()
    };
    let report = Analysis::new("n0.l0.example", options).run_with(|l| z.resolve(l));
    assert!(report.queries <= 100);
    assert!(finding_codes(&report).contains(&codes::ANALYSIS_LIMIT));
    assert!(finding_codes(&report).contains(&codes::TOO_MANY_DNS_TERMS));
}

// ----- the sans-IO protocol ---------------------------------------------------------------

#[test]
fn poll_hands_out_one_batch_per_level_and_checks_ids() {
    let z = provider_zone();
    let mut analysis = Analysis::new("example.com", AnalysisOptions::default());
    let AnalysisStep::Lookups(first) = analysis.poll() else {
        panic!("expected lookups")
    };
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].name.as_str(), first[0].qtype),
        ("example.com", QueryType::Txt)
    );
    assert!(matches!(analysis.poll(), AnalysisStep::Pending));
    assert_eq!(
        analysis.answer(LookupId(99), Answer::NxDomain),
        Err(AnswerError::UnknownId(LookupId(99)))
    );
    analysis.answer(first[0].id, z.resolve(&first[0])).unwrap();
    assert_eq!(
        analysis.answer(first[0].id, Answer::NxDomain),
        Err(AnswerError::AlreadyAnswered(first[0].id))
    );
    let AnalysisStep::Lookups(second) = analysis.poll() else {
        panic!("expected lookups")
    };
    // The three includes and the MX lookup go out together.
    let mut names: Vec<_> = second.iter().map(|l| (l.name.as_str(), l.qtype)).collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("_spf.mailsuite.example", QueryType::Txt),
            ("example.com", QueryType::Mx),
            ("sendgrid.example", QueryType::Txt),
            ("spf.protection.cloudmail.example", QueryType::Txt),
        ]
    );
    // Answer in reverse order.
    for l in second.iter().rev() {
        analysis.answer(l.id, z.resolve(l)).unwrap();
    }
    loop {
        match analysis.poll() {
            AnalysisStep::Lookups(batch) => {
                for l in batch {
                    analysis.answer(l.id, z.resolve(&l)).unwrap();
                }
            }
            AnalysisStep::Done(report) => {
                assert_eq!(report.dns_terms, 11);
                break;
            }
            _ => panic!("every lookup was answered"),
        }
    }
    assert!(matches!(analysis.poll(), AnalysisStep::Done(r) if r.dns_terms == 11));
}

#[test]
fn draft_records_are_analysed_against_published_targets() {
    let report = Analysis::with_record(
        "example.com",
        "v=spf1 include:sendgrid.example include:sendgrid.example -all",
        AnalysisOptions::default(),
    )
    .run_with(|l| provider_zone().resolve(l));
    assert_eq!(report.dns_terms, 4);
    assert!(finding_codes(&report).contains(&codes::DUPLICATE_TERM));
    let flat = report.flattening.unwrap();
    assert_eq!(
        flat.record,
        "v=spf1 ip4:167.89.0.0/17 ip4:208.117.48.0/20 -all"
    );

    let broken = Analysis::with_record(
        "example.com",
        "v=spf1 ip4:1.2.3.4/40",
        AnalysisOptions::default(),
    )
    .run_with(|l| provider_zone().resolve(l));
    assert_eq!(finding_codes(&broken), [codes::SYNTAX_ERROR]);
    assert_eq!(broken.findings[0].span.start, 19);
}

/// Under a query bound, which lookups fit must not depend on the order answers come in
/// or on polling between them (found by the `lint` fuzz target).
#[test]
fn the_report_does_not_depend_on_answer_order_under_a_query_bound() {
    let z = zone(json!({
        "mail.example.org": [{"TXT": "v=spf1 a/32//128 redirect=b.example.com ?include:a.example.com"}],
        "a.example.com": [{"TXT": "v=spf1 a/32//128 mx"}],
        "b.example.com": [{"TXT": "v=spf1 a/32//128"}],
        "mx.example.com": [{"A": "192.0.2.1"}]
    }));
    for max_queries in 1..=14 {
        let options = AnalysisOptions {
            max_queries,
            ..Default::default()
        };
        let reference = Analysis::new("mail.example.org", options).run_with(|l| z.resolve(l));
        for last_first in [false, true] {
            // Answer one lookup at a time, polling after each.
            let mut analysis = Analysis::new("mail.example.org", options);
            let mut outstanding = Vec::new();
            let report = loop {
                match analysis.poll() {
                    AnalysisStep::Done(report) => break report.clone(),
                    AnalysisStep::Lookups(batch) => outstanding.extend(batch),
                    AnalysisStep::Pending => {}
                }
                let lookup = if last_first {
                    outstanding.pop()
                } else {
                    Some(outstanding.remove(0))
                };
                let lookup = lookup.expect("pending with nothing outstanding");
                analysis.answer(lookup.id, z.resolve(&lookup)).unwrap();
            };
            let (mut report, mut reference) = (report, reference.clone());
            (report.round_trips, reference.round_trips) = (0, 0);
            assert_eq!(report, reference, "max_queries {max_queries}");
        }
    }
}
