//! Inputs found by the fuzz targets in `fuzz/`, kept as ordinary tests.

use spfgate::dns::{Answer, Lookup, QueryType, Rdata};
use spfgate::eval::{Config, Evaluator, Request};
use spfgate::lint::lint_record;
use spfgate::macros::{MacroString, MacroVars, Target, expand};
use spfgate::record::Record;

/// `parse_record`: an `ip4:`/`ip6:` without an address at the end of the record was
/// reported as one byte past the end of the text.
#[test]
fn missing_ip_address_error_stays_inside_the_text() {
    for text in ["v=spf1 IP4:", "v=spf1 ip6:", "v=spf1 -all ip4:"] {
        let error = Record::parse(text).unwrap_err();
        assert!(
            error.offset() + error.len() <= text.len(),
            "{text:?}: error at {}+{} in {} bytes",
            error.offset(),
            error.len(),
            text.len()
        );
    }
}

fn vars(local_part: &str) -> MacroVars<'_> {
    MacroVars {
        sender: "x@example.com",
        local_part,
        sender_domain: "example.com",
        domain: "example.com",
        ip: "192.0.2.3".parse().unwrap(),
        validated_name: None,
        helo: "mx.example.org",
        receiver: "mx.example.net",
        timestamp: 0,
    }
}

/// `macro_expand`: shortening an expanded domain name cut inside a multi-byte
/// character of the sender's local part and panicked.
#[test]
fn domain_truncation_cuts_between_characters() {
    let ms = MacroString::parse("%{l}", false).unwrap();
    // 400 bytes: the 253-octet cut falls inside a two-byte character.
    let local = "é".repeat(200);
    let name = expand(&ms, &vars(&local), Target::DomainName);
    assert!(name.len() <= 253);
    // 2100 bytes: the working-window cut falls inside a three-byte character.
    let local = "€".repeat(700);
    let name = expand(&ms, &vars(&local), Target::DomainName);
    assert!(name.len() <= 253);
}

/// `evaluate`: the same through the evaluator. MAIL FROM is the client's to choose
/// (SMTPUTF8) and the record is the sender domain's, so one connection could panic it.
#[test]
fn non_ascii_local_part_in_a_long_expansion() {
    // 300 bytes of local-part: the 253-octet cut falls inside a character.
    let local = "€".repeat(100);
    let request = Request::new(
        "192.0.2.1".parse().unwrap(),
        &format!("{local}@example.com"),
        "mx.example.org",
    );
    let mut lookups = Vec::new();
    let outcome = Evaluator::new(request, Config::default()).run_with(|lookup: &Lookup| {
        lookups.push(lookup.name.clone());
        match (lookup.name.as_str(), lookup.qtype) {
            ("example.com", QueryType::Txt) => Answer::Records(vec![Rdata::Txt(
                b"v=spf1 exists:%{l}._spf.example.com -all".to_vec(),
            )]),
            _ => Answer::NxDomain,
        }
    });
    assert_eq!(outcome.result.as_str(), "fail");
    // `Lookup::name` is documented as ASCII.
    assert!(lookups.iter().all(|name| name.is_ascii()), "{lookups:?}");
}

/// `evaluate`: a name from DNS data (an MX exchange) that is not ASCII was handed
/// out as a lookup, although `Lookup::name` is documented as ASCII.
#[test]
fn non_ascii_mx_exchange_is_not_looked_up() {
    let request = Request::new(
        "192.0.2.1".parse().unwrap(),
        "a@example.com",
        "mx.example.org",
    );
    let mut lookups = Vec::new();
    let outcome = Evaluator::new(request, Config::default()).run_with(|lookup: &Lookup| {
        lookups.push(lookup.name.clone());
        match (lookup.name.as_str(), lookup.qtype) {
            ("example.com", QueryType::Txt) => {
                Answer::Records(vec![Rdata::Txt(b"v=spf1 mx -all".to_vec())])
            }
            ("example.com", QueryType::Mx) => Answer::Records(vec![Rdata::Mx {
                preference: 10,
                exchange: "mäil.example.com".into(),
            }]),
            _ => Answer::NxDomain,
        }
    });
    assert_eq!(outcome.result.as_str(), "fail");
    assert!(lookups.iter().all(|name| name.is_ascii()), "{lookups:?}");
}

/// `lint`: parse errors in text that is not ASCII pointed into the middle of a
/// character, so slicing the text by a finding's span (as the lint documentation
/// shows) panicked.
#[test]
fn error_spans_fall_on_character_boundaries() {
    for text in [
        "7\0\u{fffd}\u{fffd}",
        "v=spf1 é",
        "v=spf1 a:€.example.com",
        "v=sp€",
    ] {
        let error = Record::parse(text).unwrap_err();
        let span = error.offset()..error.offset() + error.len();
        assert!(text.get(span.clone()).is_some(), "{text:?}: span {span:?}");
        for finding in lint_record(text) {
            let span = finding.span.start..finding.span.end();
            assert!(text.get(span.clone()).is_some(), "{text:?}: {finding}");
        }
    }
}

/// `lint`: an A answer carrying an AAAA record (broken or hostile DNS) was flattened
/// into an `ip6` network, though the evaluator never matches records of the other
/// family, so the flattened record passed a client the original did not.
#[test]
fn flattening_ignores_records_of_the_other_family() {
    use spfgate::lint::{Analysis, AnalysisOptions};
    let client: std::net::IpAddr = "2001:db8::1".parse().unwrap();
    let resolve = |lookup: &Lookup| match (lookup.name.as_str(), lookup.qtype) {
        ("example.com", QueryType::A) => Answer::Records(vec![Rdata::Aaaa(match client {
            std::net::IpAddr::V6(v6) => v6,
            std::net::IpAddr::V4(_) => unreachable!(),
        })]),
        _ => Answer::Records(vec![]),
    };
    let record = "v=spf1 a//64 +a:example.com/13//113";
    let report =
        Analysis::with_record("example.com", record, AnalysisOptions::default()).run_with(resolve);
    let flat = report.flattening.expect("a record of a terms flattens");
    assert!(!flat.record.contains("ip6"), "{}", flat.record);
    let decide = |text: &str| {
        let request = Request::new(client, "postmaster@example.com", "helo.example");
        Evaluator::new(request, Config::default())
            .run_with(|lookup| match (lookup.name.as_str(), lookup.qtype) {
                ("example.com", QueryType::Txt) => {
                    Answer::Records(vec![Rdata::Txt(text.as_bytes().to_vec())])
                }
                _ => resolve(lookup),
            })
            .result
    };
    assert_eq!(decide(record), decide(&flat.record));
}

/// `lint`: the long-record findings pointed at octet 255 (and 450) even when that
/// octet is inside a character of a non-ASCII record, so slicing by the span panicked.
#[test]
fn length_finding_spans_fall_on_character_boundaries() {
    for text in [
        format!("v=spf1 {}", "é".repeat(200)),
        format!("v=spf1 a{}", "€".repeat(200)),
    ] {
        let findings = lint_record(&text);
        assert!(
            findings
                .iter()
                .any(|f| f.code == spfgate::lint::codes::LONG_RECORD)
        );
        for finding in findings {
            let span = finding.span.start..finding.span.end();
            assert!(text.get(span.clone()).is_some(), "{finding}: {span:?}");
        }
    }
}
