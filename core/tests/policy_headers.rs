//! Received-SPF and Authentication-Results values with hostile strings in
//! every field: each value is parsed back with the RFC grammar to prove that
//! nothing was injected (no extra keys, no extra lines, no broken quoting).

use spfgate::eval::{Identity, Outcome, Problem, SpfResult};
use spfgate::headers::{CheckFacts, MAX_VALUE_CHARS, authentication_results, received_spf};

const HOSTILE: [&str; 9] = [
    "x;evil=1@h.example",
    "a\"b\r\nX-Injected: 1@h.example",
    "back\\slash\"quote@h.example",
    "(comment) close) open(@h.example",
    "tab\there@h.example",
    "nul\0bell\u{7}del\u{7f}@h.example",
    "ünïcødé€@h.example",
    "; spf=pass smtp.mailfrom=ceo@bank.example",
    "\r\n\r\nBody",
];

fn outcome(result: SpfResult, mechanism: Option<&str>, problem: Option<Problem>) -> Outcome {
    Outcome {
        result,
        mechanism: mechanism.map(str::to_owned),
        domain: "h.example".into(),
        problem,
        explanation: None,
        dns_terms: 0,
        void_lookups: 0,
        queries: 1,
        round_trips: 1,
        trace: Vec::new(),
    }
}

/// A header value must be printable ASCII on one line.
fn assert_one_safe_line(value: &str) {
    assert!(
        value.chars().all(|c| (' '..='~').contains(&c)),
        "unsafe character in {value:?}"
    );
}

/// Reads an RFC 5322 quoted-string starting at `s[0] == '"'`; returns the
/// unescaped content and the rest.
fn quoted(s: &str) -> (String, &str) {
    assert!(s.starts_with('"'), "expected a quoted-string at {s:?}");
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next().expect("quoted-pair").1),
            '"' => return (out, &s[i + 2..]),
            c => out.push(c),
        }
    }
    panic!("unterminated quoted-string in {s:?}");
}

/// Reads a value: quoted-string, or bare up to `stop`.
fn value(s: &str, stop: &[char]) -> (String, &'static str, usize) {
    if s.starts_with('"') {
        let (v, rest) = quoted(s);
        (v, "quoted", s.len() - rest.len())
    } else {
        let end = s.find(|c| stop.contains(&c)).unwrap_or(s.len());
        (s[..end].to_owned(), "bare", end)
    }
}

/// Parses `result (comment) k=v; k=v` into the result and the pairs.
fn parse_received_spf(header: &str) -> (String, Vec<(String, String)>) {
    let (result, rest) = header.split_once(' ').expect("result then a blank");
    let rest = rest.strip_prefix('(').expect("a comment");
    let mut depth = 1;
    let mut chars = rest.char_indices();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let mut rest = &rest[end.expect("comment closed") + 1..];
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix(' ').expect("blank before a pair");
        let (key, after) = rest.split_once('=').expect("key=value");
        assert!(
            key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "bad key {key:?}"
        );
        let (v, form, used) = value(after, &[';']);
        if form == "bare" {
            assert!(
                v.split('.').all(|p| !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))),
                "bare value {v:?} is not a dot-atom"
            );
        }
        pairs.push((key.to_owned(), v));
        rest = &after[used..];
        rest = rest.strip_prefix(';').unwrap_or(rest);
    }
    (result.to_owned(), pairs)
}

/// Parses `authserv; spf=r [reason=v] ptype.prop=v` or `authserv; none`.
fn parse_authentication_results(header: &str) -> (String, Vec<(String, String)>) {
    let (authserv, used) = {
        let (v, _, used) = value(header, &[';']);
        (v, used)
    };
    let mut rest = header[used..]
        .strip_prefix("; ")
        .expect("`; ` after authserv-id");
    let mut pairs = Vec::new();
    if rest == "none" {
        return (authserv, pairs);
    }
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').expect("key=value");
        let (v, _, used) = value(after, &[' ']);
        pairs.push((key.to_owned(), v));
        rest = after[used..].strip_prefix(' ').unwrap_or(&after[used..]);
    }
    (authserv, pairs)
}

/// What a hostile string looks like after sanitizing.
fn sanitized(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if v.len() > MAX_VALUE_CHARS {
        format!("{}...", &v[..MAX_VALUE_CHARS - 3])
    } else {
        v
    }
}

#[test]
fn received_spf_keeps_its_keys_whatever_the_input() {
    let problem = Problem::NoRecord("x\r\nEvil: 1; a=b".into());
    for h in HOSTILE {
        for (result, mech, prob) in [
            (SpfResult::Pass, Some(h), None),
            (SpfResult::None, None, Some(problem.clone())),
            (SpfResult::Fail, Some("-all"), None),
        ] {
            let facts = CheckFacts {
                ip: "::ffff:192.0.2.1".parse().unwrap(),
                mail_from: h,
                helo: h,
                receiver: h,
                identity: Identity::MailFrom,
            };
            let header = received_spf(&facts, &outcome(result, mech, prob.clone()));
            assert_one_safe_line(&header);
            let (parsed_result, pairs) = parse_received_spf(&header);
            assert_eq!(parsed_result, result.as_str());
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            let want_last = if mech.is_some() {
                "mechanism"
            } else {
                "problem"
            };
            assert_eq!(
                keys,
                [
                    "client-ip",
                    "envelope-from",
                    "helo",
                    "receiver",
                    "identity",
                    want_last
                ],
                "{header}"
            );
            assert_eq!(pairs[0].1, "192.0.2.1");
            for (_, v) in &pairs[1..4] {
                assert_eq!(*v, sanitized(h), "{header}");
            }
            assert_eq!(pairs[4].1, "mailfrom");
            if let Some(m) = mech {
                assert_eq!(pairs[5].1, sanitized(m));
            } else {
                assert_eq!(pairs[5].1, "no SPF record at x??Evil: 1; a=b");
            }
        }
    }
}

#[test]
fn authentication_results_keeps_its_properties_whatever_the_input() {
    for h in HOSTILE {
        for identity in [Identity::MailFrom, Identity::Helo] {
            let facts = CheckFacts {
                ip: "2001:db8::1".parse().unwrap(),
                mail_from: h,
                helo: h,
                receiver: h,
                identity,
            };
            let out = outcome(SpfResult::Fail, Some("-all"), None);
            let header = authentication_results(h, &facts, Some(&out), Some(h));
            assert_one_safe_line(&header);
            let (authserv, pairs) = parse_authentication_results(&header);
            assert_eq!(authserv, sanitized(h), "{header}");
            let prop = match identity {
                Identity::MailFrom => "smtp.mailfrom",
                Identity::Helo => "smtp.helo",
            };
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["spf", "reason", prop], "{header}");
            assert_eq!(pairs[0].1, "fail");
            assert_eq!(pairs[1].1, sanitized(h));
            assert_eq!(pairs[2].1, sanitized(h));
            let none = authentication_results(h, &facts, None, None);
            assert_one_safe_line(&none);
            assert!(none.ends_with("; none"), "{none}");
        }
    }
}

#[test]
fn ordinary_values_stay_readable() {
    let facts = CheckFacts {
        ip: "192.0.2.1".parse().unwrap(),
        mail_from: "alice@acme.example",
        helo: "mail.acme.example",
        receiver: "mx.gateway.example",
        identity: Identity::MailFrom,
    };
    let pass = outcome(SpfResult::Pass, Some("ip4:192.0.2.0/24"), None);
    assert_eq!(
        received_spf(&facts, &pass),
        "pass (mx.gateway.example: domain of alice@acme.example designates 192.0.2.1 as \
         permitted sender) client-ip=192.0.2.1; envelope-from=\"alice@acme.example\"; \
         helo=mail.acme.example; receiver=mx.gateway.example; identity=mailfrom; \
         mechanism=\"ip4:192.0.2.0/24\""
    );
    assert_eq!(
        authentication_results("mx.gateway.example", &facts, Some(&pass), None),
        "mx.gateway.example; spf=pass smtp.mailfrom=alice@acme.example"
    );
    assert_eq!(
        authentication_results(
            "mx.gateway.example",
            &facts,
            Some(&pass),
            Some("matched ip4:192.0.2.0/24")
        ),
        "mx.gateway.example; spf=pass reason=\"matched ip4:192.0.2.0/24\" \
         smtp.mailfrom=alice@acme.example"
    );
    let null_sender = CheckFacts {
        mail_from: "",
        ..facts
    };
    let none = outcome(SpfResult::None, None, Some(Problem::NoRecord("h".into())));
    let header = received_spf(&null_sender, &none);
    assert!(header.starts_with(
        "none (mx.gateway.example: domain of postmaster@mail.acme.example does not provide an SPF record)"
    ));
    assert!(!header.contains("envelope-from"), "{header}");
    assert!(
        authentication_results("gw", &null_sender, Some(&none), None)
            .ends_with("smtp.helo=mail.acme.example")
    );
}

#[test]
fn every_result_has_its_comment() {
    let facts = CheckFacts {
        ip: "192.0.2.1".parse().unwrap(),
        mail_from: "a@b.example",
        helo: "b.example",
        receiver: "",
        identity: Identity::Helo,
    };
    let comments = [
        (SpfResult::Pass, "designates 192.0.2.1 as permitted sender"),
        (SpfResult::Fail, "does not designate 192.0.2.1"),
        (SpfResult::SoftFail, "domain of transitioning"),
        (SpfResult::Neutral, "is neither permitted nor denied"),
        (SpfResult::None, "does not provide an SPF record"),
        (SpfResult::TempError, "temporary error"),
        (SpfResult::PermError, "permanent error"),
    ];
    for (result, words) in comments {
        let header = received_spf(&facts, &outcome(result, None, None));
        assert!(header.contains(words), "{header}");
        assert!(header.contains("identity=helo"), "{header}");
        assert!(header.contains("postmaster@b.example"), "{header}");
    }
}

#[test]
fn very_long_values_are_bounded() {
    let long = format!("{}@h.example", "a".repeat(100_000));
    let facts = CheckFacts {
        ip: "192.0.2.1".parse().unwrap(),
        mail_from: &long,
        helo: &long,
        receiver: &long,
        identity: Identity::MailFrom,
    };
    let header = received_spf(&facts, &outcome(SpfResult::Pass, None, None));
    assert!(header.len() < 8 * MAX_VALUE_CHARS, "{} bytes", header.len());
    let ar = authentication_results(&long, &facts, None, None);
    assert!(ar.len() < 2 * MAX_VALUE_CHARS);
}
