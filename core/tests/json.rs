//! The serialized forms (the `serde` feature): the JSON vocabulary of the CLI, the C
//! library and the npm package, as `docs/json.md` documents it. Each shape is held
//! whole, so a renamed or dropped field fails here.

use serde_json::{Value, json};
use spfgate::dns::{Answer, Lookup, LookupId, QueryType, Rdata, drive};
use spfgate::eval::{Config, Evaluator, Request};
use spfgate::lint::{Analysis, AnalysisOptions, lint_record};
use spfgate::policy::whitelist::parse_whitelist;
use spfgate::policy::{DecisionRequest, Policy};
use spfgate::record::Record;

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("every value serializes")
}

fn txt(text: &str) -> Answer {
    Answer::Records(vec![Rdata::Txt(text.as_bytes().to_vec())])
}

fn resolve(lookup: &Lookup) -> Answer {
    match (lookup.name.as_str(), lookup.qtype) {
        ("example.com", QueryType::Txt) => {
            txt("v=spf1 include:_spf.example.net -all exp=exp.example.com")
        }
        ("_spf.example.net", QueryType::Txt) => txt("v=spf1 ip4:198.51.100.0/24 -all"),
        ("exp.example.com", QueryType::Txt) => txt("%{i} is not one of our servers"),
        _ => Answer::NxDomain,
    }
}

fn batch(batch: &[Lookup]) -> Vec<(LookupId, Answer)> {
    batch.iter().map(|l| (l.id, resolve(l))).collect()
}

#[test]
fn lookup() {
    let lookup = Lookup {
        id: LookupId(3),
        name: "example.com".into(),
        qtype: QueryType::Aaaa,
    };
    assert_eq!(
        to_json(&lookup),
        json!({"id": 3, "name": "example.com", "qtype": "AAAA"})
    );
}

#[test]
fn outcome_with_trace() {
    let request = Request::new([192, 0, 2, 1].into(), "alice@example.com", "mx.example.com");
    let config = Config {
        prefetch: false,
        ..Config::default()
    };
    let mut evaluator = Evaluator::new(request, config);
    let outcome = to_json(drive(&mut evaluator, batch));
    assert_eq!(
        outcome,
        json!({
            "result": "fail",
            "reason": "matched -all in the record of example.com",
            "explanation": "192.0.2.1 is not one of our servers",
            "mechanism": "-all",
            "domain": "example.com",
            "problem": null,
            "lookups": 1,
            "void_lookups": 0,
            "queries": 3,
            "round_trips": 3,
            "trace": [
                {"event": "query", "id": 0, "name": "example.com", "qtype": "TXT", "prefetch": false},
                {"event": "answer", "id": 0, "answer": "TXT \"v=spf1 include:_spf.example.net -all exp=exp.example.com\""},
                {"event": "record", "domain": "example.com", "text": "v=spf1 include:_spf.example.net -all exp=exp.example.com", "depth": 0},
                {"event": "query", "id": 1, "name": "_spf.example.net", "qtype": "TXT", "prefetch": false},
                {"event": "answer", "id": 1, "answer": "TXT \"v=spf1 ip4:198.51.100.0/24 -all\""},
                {"event": "record", "domain": "_spf.example.net", "text": "v=spf1 ip4:198.51.100.0/24 -all", "depth": 1},
                {"event": "term", "domain": "_spf.example.net", "term": "ip4:198.51.100.0/24", "matched": false, "depth": 1},
                {"event": "term", "domain": "_spf.example.net", "term": "-all", "matched": true, "depth": 1},
                {"event": "term", "domain": "example.com", "term": "include:_spf.example.net", "matched": false, "depth": 0},
                {"event": "term", "domain": "example.com", "term": "-all", "matched": true, "depth": 0},
                {"event": "query", "id": 2, "name": "exp.example.com", "qtype": "TXT", "prefetch": false},
                {"event": "answer", "id": 2, "answer": "TXT \"%{i} is not one of our servers\""},
            ],
        })
    );
}

#[test]
fn outcome_with_a_problem() {
    let request = Request::new([192, 0, 2, 1].into(), "a@temp.example", "mx.example.com");
    let config = Config {
        trace: false,
        ..Config::default()
    };
    let outcome = Evaluator::new(request, config).run_with(|_| Answer::temp_fail("SERVFAIL"));
    let outcome = to_json(&outcome);
    assert_eq!(outcome["result"], "temperror");
    assert_eq!(outcome["mechanism"], Value::Null);
    assert_eq!(
        outcome["problem"],
        "DNS lookup of temp.example TXT failed: SERVFAIL"
    );
    assert_eq!(outcome["reason"], outcome["problem"]);
    assert_eq!(outcome["trace"], json!([]));
}

fn policy() -> Policy {
    Policy::from_json(
        r#"{"authserv_id": "mx.gateway.example", "accounts": [
            {"id": "acme", "senders": ["alice@example.com"], "security": {"mode": "spf"}},
            {"id": "office", "senders": ["bob@example.org"],
             "security": {"mode": "restricted", "whitelist": "192.0.2.0/24"}}]}"#,
    )
    .expect("valid policy")
}

#[test]
fn verdict_after_spf() {
    let policy = policy();
    let mut request = DecisionRequest::new(
        [198, 51, 100, 7].into(),
        "alice@example.com",
        "mx.example.com",
    );
    request.receiver = "mx.gateway.example".into();
    let mut decision = policy.decide(request);
    let verdict = to_json(drive(&mut decision, batch));
    assert_eq!(
        verdict,
        json!({
            "action": "accept",
            "smtp": {"code": 250, "enhanced": "2.1.0", "text": "Sender <alice@example.com> OK: SPF pass for 198.51.100.7"},
            "account": "acme",
            "rule": {
                "kind": "spf",
                "mode": "spf",
                "description": "SPF pass: include:_spf.example.net in the record of example.com",
                "result": "pass",
                "directive": "include:_spf.example.net",
                "domain": "example.com",
                "problem": null,
            },
            "spf": {
                "result": "pass",
                "reason": "matched include:_spf.example.net in the record of example.com",
                "explanation": null,
                "mechanism": "include:_spf.example.net",
                "domain": "example.com",
                "problem": null,
                "lookups": 1,
                "void_lookups": 0,
                "queries": 2,
                "round_trips": 2,
                "trace": [],
            },
            "headers": {
                "Received-SPF": "pass (mx.gateway.example: domain of alice@example.com designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from=\"alice@example.com\"; helo=mx.example.com; receiver=mx.gateway.example; identity=mailfrom; mechanism=\"include:_spf.example.net\"",
                "Authentication-Results": "mx.gateway.example; spf=pass reason=\"matched include:_spf.example.net in the record of example.com\" smtp.mailfrom=alice@example.com",
            },
        })
    );
}

#[test]
fn verdict_without_spf() {
    let policy = policy();
    let request = DecisionRequest::new([192, 0, 2, 9].into(), "bob@example.org", "mx.example.org");
    let verdict = to_json(&policy.decide(request).run_with(resolve));
    assert_eq!(verdict["action"], "accept");
    assert_eq!(
        verdict["rule"],
        json!({
            "kind": "whitelist-hit",
            "mode": "restricted",
            "description": "whitelist entry `192.0.2.0/24` (line 1, column 1) contains the client",
            "entry": "192.0.2.0/24",
            "line": 1,
            "column": 1,
        })
    );
    assert_eq!(verdict["spf"], Value::Null);
    assert_eq!(verdict["headers"]["Received-SPF"], Value::Null);
    let request = DecisionRequest::new([192, 0, 2, 9].into(), "", "mx.example.org");
    let verdict = to_json(&policy.decide(request).run_with(resolve));
    assert_eq!(
        verdict["rule"],
        json!({"kind": "null-sender", "mode": null, "description": "null sender <> is not accepted"})
    );
    assert_eq!(verdict["account"], Value::Null);
}

#[test]
fn record() {
    let record = Record::parse("v=spf1 ~a:mail.example.com/24 ip6:2001:db8::/32 ptr -all redirect=_spf.example.com ra=postmaster")
        .expect("valid record");
    assert_eq!(
        to_json(&record),
        json!({
            "record": "v=spf1 ~a:mail.example.com/24 ip6:2001:db8::/32 ptr -all redirect=_spf.example.com ra=postmaster",
            "terms": [
                {"kind": "directive", "qualifier": "softfail", "mechanism": "a", "domain": "mail.example.com",
                 "cidr4": 24, "cidr6": 128, "span": [7, 22]},
                {"kind": "directive", "qualifier": "pass", "mechanism": "ip6", "domain": "2001:db8::",
                 "cidr4": null, "cidr6": 32, "span": [30, 17]},
                {"kind": "directive", "qualifier": "pass", "mechanism": "ptr", "domain": null,
                 "cidr4": null, "cidr6": null, "span": [48, 3]},
                {"kind": "directive", "qualifier": "fail", "mechanism": "all", "domain": null,
                 "cidr4": null, "cidr6": null, "span": [52, 4]},
                {"kind": "modifier", "name": "redirect", "value": "_spf.example.com", "span": [57, 25]},
                {"kind": "modifier", "name": "ra", "value": "postmaster", "span": [83, 13]},
            ],
        })
    );
}

#[test]
fn parse_error() {
    let error = Record::parse("v=spf1 ip4:192.0.2.0/33 -all").expect_err("bad CIDR");
    assert_eq!(
        to_json(&error),
        json!({
            "kind": {"code": "cidr_too_long", "length": 33, "max": 32},
            "message": "ip4:192.0.2.0/33 — CIDR length 33 is above 32 (byte 21)",
            "offset": 21,
            "length": 2,
            "term": "ip4:192.0.2.0/33",
        })
    );
    let error = Record::parse("v=spf2").expect_err("not SPF");
    assert_eq!(to_json(&error)["kind"], json!({"code": "not_spf"}));
}

#[test]
fn findings() {
    assert_eq!(
        to_json(&lint_record("v=spf1 +all")),
        json!([{
            "code": "plus-all",
            "severity": "error",
            "span": [7, 4],
            "message": "`+all` authorizes every host on the Internet to send as this domain",
            "hint": "use `-all` (or `~all` while testing)",
            "domain": "",
            "chain": [],
        }])
    );
}

#[test]
fn lint_report() {
    let mut analysis = Analysis::new("example.com", AnalysisOptions::default());
    let report = to_json(drive(&mut analysis, batch));
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["counts", "domain", "findings", "flattening", "records"]
    );
    assert_eq!(
        report["counts"],
        json!({
            "dns_terms": 1,
            "void_lookups": {"ipv4": 0, "ipv6": 0},
            "mx_hosts": [],
            "depth": 1,
            "exact": true,
            "queries": 2,
            "round_trips": 2,
        })
    );
    assert_eq!(
        report["records"][1],
        json!({
            "chain": ["example.com", "include:_spf.example.net"],
            "domain": "_spf.example.net",
            "depth": 1,
            "text": "v=spf1 ip4:198.51.100.0/24 -all",
        })
    );
    assert_eq!(
        report["flattening"],
        json!({
            "record": "v=spf1 ip4:198.51.100.0/24 -all exp=exp.example.com",
            "strings": ["v=spf1 ip4:198.51.100.0/24 -all exp=exp.example.com"],
            "dns_terms_before": 1,
            "dns_terms_after": 0,
            "kept": [],
        })
    );
}

#[test]
fn whitelist_report() {
    let report = to_json(&parse_whitelist("192.0.2.1/24\nmail.example.com"));
    assert_eq!(
        report,
        json!({
            "entries": [{"networks": ["192.0.2.0/24"], "text": "192.0.2.1/24", "line": 1, "column": 1,
                         "span": {"start": 0, "end": 12}}],
            "errors": [{"line": 2, "column": 1, "span": {"start": 13, "end": 29}, "text": "mail.example.com",
                        "kind": {"code": "unknown_token"}}],
            "warnings": [
                {"line": 1, "column": 1, "span": {"start": 0, "end": 12}, "text": "192.0.2.1/24",
                 "kind": {"code": "host_bits_set", "normalized": "192.0.2.0/24"}},
                {"line": 1, "column": 1, "span": {"start": 0, "end": 12}, "text": "192.0.2.1/24",
                 "kind": {"code": "documentation", "block": "192.0.2.0/24"}},
            ],
            "errors_omitted": 0,
            "warnings_omitted": 0,
            "ok": false,
        })
    );
}
