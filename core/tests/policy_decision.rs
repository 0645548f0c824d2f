//! The account decision: every mode × SPF result × whitelist hit/miss, the
//! null and unknown sender, IPv4-mapped clients, hostile input, and one
//! policy shared across threads.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;
use spfgate::dns::{Answer, Lookup, Rdata, wire};
use spfgate::eval::{AnswerError, SpfResult};
use spfgate::policy::{Action, DecisionRequest, DecisionStep, Mode, Policy, Rule, Verdict};

const HIT: &str = "198.51.100.7";
const MISS: &str = "203.0.113.9";
const WHITELIST: &str = "# office\n198.51.100.0/24, 2001:db8:1::/48";

/// SPF results and the domain whose record gives them for any client.
const RESULTS: [(SpfResult, &str); 7] = [
    (SpfResult::Pass, "pass.example"),
    (SpfResult::Fail, "fail.example"),
    (SpfResult::SoftFail, "softfail.example"),
    (SpfResult::Neutral, "neutral.example"),
    (SpfResult::None, "none.example"),
    (SpfResult::PermError, "permerror.example"),
    (SpfResult::TempError, "temperror.example"),
];

/// Account variants: name, mode, whitelist text.
const VARIANTS: [(&str, &str, &str); 9] = [
    ("open", "open", ""),
    ("restricted-list", "restricted", WHITELIST),
    ("restricted-empty", "restricted", ""),
    ("ipwl-list", "ip-whitelist", WHITELIST),
    ("ipwl-empty", "ip-whitelist", ""),
    ("spf", "spf", ""),
    ("spf-with-list", "spf", WHITELIST),
    ("either-list", "ip-whitelist-or-spf", WHITELIST),
    ("either-empty", "ip-whitelist-or-spf", ""),
];

fn resolve(lookup: &Lookup) -> Answer {
    let txt = |t: &str| Answer::Records(vec![Rdata::Txt(t.as_bytes().to_vec())]);
    match lookup.name.as_str() {
        "pass.example" => txt("v=spf1 +all"),
        "fail.example" => txt("v=spf1 -all exp=exp.fail.example"),
        "exp.fail.example" => txt("Denied for %{h} from %{i}"),
        "softfail.example" => txt("v=spf1 ~all"),
        "neutral.example" => txt("v=spf1 ?all"),
        "permerror.example" => txt("v=spf1 ip4:192.0.2.0/33 -all"),
        "temperror.example" => Answer::temp_fail("SERVFAIL"),
        "acme.example" => txt("v=spf1 ip4:198.51.100.0/24 -all"),
        _ => Answer::NxDomain,
    }
}

fn policy() -> Policy {
    let mut accounts = Vec::new();
    for (variant, mode, whitelist) in VARIANTS {
        for (_, domain) in RESULTS {
            accounts.push(json!({
                "id": format!("{variant}/{domain}"),
                "senders": [format!("{variant}@{domain}")],
                "security": {"mode": mode, "whitelist": whitelist},
            }));
        }
    }
    accounts.push(json!({
        "id": "acme",
        "senders": ["Alice@Acme.Example", "x;evil=1@acme.example"],
        "security": {"mode": "spf"},
    }));
    let doc = json!({"authserv_id": "mx.gateway.example", "accounts": accounts});
    Policy::from_json(&doc.to_string()).expect("the test policy loads")
}

/// Runs a decision through poll/answer, counting the lookups asked.
fn decide(policy: &Policy, ip: &str, from: &str, helo: &str) -> (Verdict, usize) {
    let ip: IpAddr = ip.parse().expect("test IP");
    let mut request = DecisionRequest::new(ip, from, helo);
    request.receiver = "mx.gateway.example".into();
    let mut decision = policy.decide(request);
    let mut asked = 0;
    loop {
        let batch = match decision.poll() {
            DecisionStep::Done(verdict) => return (verdict.clone(), asked),
            DecisionStep::Lookups(batch) => batch,
            DecisionStep::Pending => panic!("pending with every lookup answered"),
        };
        asked += batch.len();
        for lookup in batch {
            decision
                .answer(lookup.id, resolve(&lookup))
                .expect("ids come from the batch");
        }
    }
}

/// What an SPF result must become: action, code, enhanced code.
fn spf_reply(result: SpfResult) -> (Action, u16, &'static str) {
    match result {
        SpfResult::Pass => (Action::Accept, 250, "2.1.0"),
        SpfResult::Fail => (Action::Reject, 550, "5.7.23"),
        SpfResult::SoftFail | SpfResult::Neutral | SpfResult::None => {
            (Action::Reject, 550, "5.7.1")
        }
        SpfResult::PermError => (Action::Reject, 550, "5.7.24"),
        SpfResult::TempError => (Action::Defer, 451, "4.7.24"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Open,
    Hit,
    Miss,
    Empty,
    Spf,
}

#[test]
fn every_mode_spf_result_and_whitelist_outcome() {
    let policy = policy();
    let mut cases = 0;
    for (variant, _, _) in VARIANTS {
        for (result, domain) in RESULTS {
            for (client, in_list) in [(HIT, true), (MISS, false)] {
                let expect = match (variant, in_list) {
                    ("open", _) => Expect::Open,
                    ("restricted-list" | "ipwl-list" | "either-list", true) => Expect::Hit,
                    ("restricted-list" | "ipwl-list", false) => Expect::Miss,
                    ("ipwl-empty", _) => Expect::Empty,
                    _ => Expect::Spf,
                };
                let from = format!("{variant}@{domain}");
                let (v, asked) = decide(&policy, client, &from, "mail.example");
                let what = format!("{variant} × {result} × {client}");
                assert_eq!(
                    v.account.as_deref(),
                    Some(&*format!("{variant}/{domain}")),
                    "{what}"
                );
                assert!(v.mode.is_some(), "{what}");
                let no_dns = |v: &Verdict| {
                    assert_eq!(asked, 0, "{what}: no DNS without SPF");
                    assert!(v.spf.is_none(), "{what}");
                    assert!(v.headers.received_spf.is_none(), "{what}");
                    assert_eq!(
                        v.headers.authentication_results, "mx.gateway.example; none",
                        "{what}"
                    );
                };
                match expect {
                    Expect::Open => {
                        no_dns(&v);
                        assert_eq!(v.rule, Rule::Open, "{what}");
                        assert_eq!((v.action, v.smtp.code), (Action::Accept, 250), "{what}");
                    }
                    Expect::Hit => {
                        no_dns(&v);
                        assert_eq!(
                            v.rule,
                            Rule::WhitelistHit {
                                entry: "198.51.100.0/24".into(),
                                line: 2,
                                column: 1
                            },
                            "{what}"
                        );
                        assert_eq!(v.action, Action::Accept, "{what}");
                        assert_eq!(v.smtp.enhanced, "2.1.0", "{what}");
                    }
                    Expect::Miss => {
                        no_dns(&v);
                        assert_eq!(v.rule, Rule::WhitelistMiss, "{what}");
                        assert_eq!(
                            (v.action, v.smtp.code, v.smtp.enhanced),
                            (Action::Reject, 550, "5.7.1"),
                            "{what}"
                        );
                        assert!(v.smtp.text.contains(MISS), "{what}: {}", v.smtp.text);
                    }
                    Expect::Empty => {
                        no_dns(&v);
                        assert_eq!(v.rule, Rule::WhitelistEmpty, "{what}");
                        assert_eq!(
                            (v.action, v.smtp.code, v.smtp.enhanced),
                            (Action::Reject, 550, "5.7.1"),
                            "{what}"
                        );
                        assert!(v.smtp.text.contains("whitelist is empty"), "{what}");
                    }
                    Expect::Spf => {
                        assert!(asked > 0, "{what}: SPF asks DNS");
                        let outcome = v.spf.as_ref().expect("SPF ran");
                        assert_eq!(outcome.result, result, "{what}");
                        let Rule::Spf { result: r, .. } = &v.rule else {
                            panic!("{what}: rule {:?}", v.rule);
                        };
                        assert_eq!(*r, result, "{what}");
                        assert_eq!(
                            (v.action, v.smtp.code, v.smtp.enhanced),
                            spf_reply(result),
                            "{what}"
                        );
                        let rs = v.headers.received_spf.as_deref().expect("Received-SPF");
                        assert!(rs.starts_with(result.as_str()), "{what}: {rs}");
                        assert!(
                            v.headers
                                .authentication_results
                                .starts_with(&format!("mx.gateway.example; spf={result} ")),
                            "{what}: {}",
                            v.headers.authentication_results
                        );
                    }
                }
                assert_safe(&v.smtp.text);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 9 * 7 * 2);
}

#[test]
fn spf_replies_say_why() {
    let policy = policy();
    let text = |domain: &str| {
        let helo = "h\r\nInjected: yes \u{1b}[31m";
        decide(&policy, MISS, &format!("spf@{domain}"), helo).0
    };
    let none = text("none.example");
    assert!(
        none.smtp
            .text
            .contains("none.example publishes no SPF record")
    );
    let softfail = text("softfail.example");
    assert!(softfail.smtp.text.contains("is not authorized"));
    assert_eq!(
        softfail.rule.to_string(),
        "SPF softfail: ~all in the record of softfail.example"
    );
    let fail = text("fail.example");
    assert!(fail.smtp.text.starts_with("SPF fail: fail.example does not authorize 203.0.113.9 to send for <spf@fail.example>: Denied for h??Injected: yes ?[31m from 203.0.113.9"), "{}", fail.smtp.text);
    let temp = text("temperror.example");
    assert!(
        temp.smtp.text.contains("try again later"),
        "{}",
        temp.smtp.text
    );
    let perm = text("permerror.example");
    assert!(
        perm.smtp.text.contains("cannot be used"),
        "{}",
        perm.smtp.text
    );
}

#[test]
fn null_and_unknown_senders_are_rejected_without_dns() {
    let policy = policy();
    for from in ["", "<>", "  <>  "] {
        let (v, asked) = decide(&policy, HIT, from, "h.example");
        assert_eq!(asked, 0);
        assert_eq!(v.rule, Rule::NullSender);
        assert_eq!(
            (v.action, v.smtp.code, v.smtp.enhanced),
            (Action::Reject, 550, "5.7.1")
        );
        assert_eq!(v.account, None);
    }
    for from in [
        "nobody@pass.example",
        "no-at-sign",
        "@pass.example",
        "open@",
    ] {
        let (v, asked) = decide(&policy, HIT, from, "h.example");
        assert_eq!(asked, 0, "{from}");
        assert_eq!(v.rule, Rule::UnknownSender, "{from}");
        assert_eq!(
            (v.action, v.smtp.code, v.smtp.enhanced),
            (Action::Reject, 550, "5.7.1")
        );
        assert_eq!(v.headers.authentication_results, "mx.gateway.example; none");
    }
}

#[test]
fn senders_match_ignoring_case_and_brackets() {
    let policy = policy();
    let (v, _) = decide(&policy, HIT, "<ALICE@acme.EXAMPLE.>", "h.example");
    assert_eq!(v.account.as_deref(), Some("acme"));
    assert_eq!(v.mode, Some(Mode::Spf));
    assert_eq!(v.action, Action::Accept);
}

#[test]
fn ipv4_mapped_clients_match_ipv4_entries_and_records() {
    let policy = policy();
    let mapped = format!("::ffff:{HIT}");
    let (v, asked) = decide(&policy, &mapped, "ipwl-list@pass.example", "h.example");
    assert_eq!(asked, 0);
    assert!(matches!(v.rule, Rule::WhitelistHit { .. }), "{:?}", v.rule);
    assert!(v.smtp.text.contains(HIT) && !v.smtp.text.contains("::ffff"));
    let (v, _) = decide(&policy, &mapped, "alice@acme.example", "h.example");
    assert_eq!(v.action, Action::Accept);
    let rs = v.headers.received_spf.expect("SPF ran");
    assert!(rs.contains(&format!("client-ip={HIT};")), "{rs}");
    // An IPv6 client inside the IPv6 entry.
    let (v, _) = decide(
        &policy,
        "2001:db8:1::25",
        "ipwl-list@pass.example",
        "h.example",
    );
    assert!(matches!(v.rule, Rule::WhitelistHit { ref entry, .. } if entry == "2001:db8:1::/48"));
}

/// Nothing a client types reaches a reply or header unescaped.
fn assert_safe(text: &str) {
    assert!(
        text.chars().all(|c| (' '..='~').contains(&c)),
        "unsafe character in {text:?}"
    );
}

#[test]
fn hostile_input_never_reaches_replies_or_headers_raw() {
    let policy = policy();
    let hostile_from = [
        "a\"b\r\nX-Injected: 1@h.example",
        "x;evil=1@h.example",
        "\u{0}\u{7}é€@h.example",
        &format!("{}@h.example", "a".repeat(5000)),
    ];
    for from in hostile_from {
        let (v, _) = decide(&policy, MISS, from, "h.example");
        assert_eq!(v.rule, Rule::UnknownSender);
        assert_safe(&v.smtp.text);
        assert!(v.smtp.text.len() <= spfgate::policy::decision::MAX_REPLY_TEXT);
        assert_safe(&v.headers.authentication_results);
    }
    // A listed sender with hostile HELO and receiver through SPF.
    let ip: IpAddr = HIT.parse().unwrap();
    let mut request = DecisionRequest::new(ip, "x;evil=1@acme.example", "h\r\nX-Evil: 1;a=b");
    request.receiver = "r\"x\\y(z)\n".into();
    let v = policy.decide(request).run_with(resolve);
    assert_eq!(v.action, Action::Accept);
    let rs = v.headers.received_spf.as_deref().unwrap();
    assert_safe(rs);
    assert_safe(&v.headers.authentication_results);
    assert!(
        rs.contains("envelope-from=\"x;evil=1@acme.example\";"),
        "{rs}"
    );
    assert!(rs.contains("helo=\"h??X-Evil: 1;a=b\";"), "{rs}");
    assert!(rs.contains("receiver=\"r\\\"x\\\\y(z)?\";"), "{rs}");
    assert!(
        v.headers
            .authentication_results
            .ends_with("smtp.mailfrom=\"x;evil=1@acme.example\""),
        "{}",
        v.headers.authentication_results
    );
}

#[test]
fn decided_without_dns_is_done_for_good_and_refuses_answers() {
    let policy = policy();
    let mut d = policy.decide(DecisionRequest::new(
        HIT.parse().unwrap(),
        "open@pass.example",
        "h",
    ));
    assert!(matches!(d.poll(), DecisionStep::Done(_)));
    assert!(matches!(d.poll(), DecisionStep::Done(_)));
    assert!(d.verdict().is_some());
    let id = spfgate::dns::LookupId(0);
    assert_eq!(
        d.answer(id, Answer::NxDomain),
        Err(AnswerError::UnknownId(id))
    );
    assert_eq!(d.answer_wire(id, &[]), Err(AnswerError::UnknownId(id)));
}

#[test]
fn spf_decisions_take_wire_answers_and_stay_done() {
    let policy = policy();
    let mut d = policy.decide(DecisionRequest::new(
        MISS.parse().unwrap(),
        "spf@fail.example",
        "h",
    ));
    assert!(d.verdict().is_none());
    let verdict = loop {
        match d.poll() {
            DecisionStep::Done(v) => break v.clone(),
            DecisionStep::Pending => panic!("pending"),
            DecisionStep::Lookups(batch) => {
                for lookup in batch {
                    let bytes = wire::encode_response(&lookup, 1, &resolve(&lookup)).unwrap();
                    d.answer_wire(lookup.id, &bytes).unwrap();
                }
            }
        }
    };
    assert_eq!(verdict.smtp.enhanced, "5.7.23");
    assert!(matches!(d.poll(), DecisionStep::Done(v) if *v == verdict));
    assert_eq!(d.verdict(), Some(&verdict));
}

#[test]
fn run_with_matches_the_poll_loop() {
    let policy = policy();
    for (_, domain) in RESULTS {
        for variant in ["spf", "either-list", "open"] {
            let from = format!("{variant}@{domain}");
            let (looped, _) = decide(&policy, MISS, &from, "mail.example");
            let mut request = DecisionRequest::new(MISS.parse().unwrap(), &from, "mail.example");
            request.receiver = "mx.gateway.example".into();
            assert_eq!(policy.decide(request).run_with(resolve), looped, "{from}");
        }
    }
}

#[test]
fn one_policy_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    let policy = Arc::new(policy());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let policy = Arc::clone(&policy);
            std::thread::spawn(move || {
                let mut actions = HashMap::new();
                for (_, domain) in RESULTS {
                    let from = format!("either-list@{domain}");
                    let ip = if t % 2 == 0 { HIT } else { MISS };
                    let (v, _) = decide(&policy, ip, &from, "h.example");
                    *actions.entry(v.action.as_str()).or_insert(0) += 1;
                }
                (t, actions)
            })
        })
        .collect();
    for handle in handles {
        let (t, actions) = handle.join().expect("thread finished");
        if t % 2 == 0 {
            assert_eq!(actions.get("accept"), Some(&7));
        } else {
            assert_eq!(actions.get("accept"), Some(&1)); // pass
            assert_eq!(actions.get("defer"), Some(&1)); // temperror
            assert_eq!(actions.get("reject"), Some(&5));
        }
    }
}
