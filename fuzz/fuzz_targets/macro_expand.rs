//! Arbitrary macro-strings expanded against arbitrary request fields: expansion never
//! panics and its output stays within the size rules of its target.
//!
//! Input: NUL-separated fields `macro-string, local-part, sender domain, domain, helo,
//! receiver, validated name, client IP, timestamp`; missing fields take the RFC 7208
//! §7.4 example values, so a bare macro-string is a useful seed. Bytes that are not
//! UTF-8 become U+FFFD, which keeps multi-byte characters in play.
#![no_main]

use std::borrow::Cow;
use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use spfgate::macros::{MAX_EXPLANATION, MacroString, MacroVars, Target, expand};

const DEFAULTS: [&str; 9] = [
    "",
    "strong-bad",
    "email.example.com",
    "email.example.com",
    "mx.example.org",
    "mx.example.net",
    "",
    "192.0.2.3",
    "1700000000",
];

fuzz_target!(|data: &[u8]| {
    let mut fields: Vec<Cow<'_, str>> = data
        .split(|&b| b == 0)
        .map(String::from_utf8_lossy)
        .collect();
    if fields.len() < DEFAULTS.len() {
        fields.extend(DEFAULTS[fields.len()..].iter().map(|&d| Cow::Borrowed(d)));
    }
    let sender = format!("{}@{}", fields[1], fields[2]);
    let vars = MacroVars {
        sender: &sender,
        local_part: &fields[1],
        sender_domain: &fields[2],
        domain: &fields[3],
        ip: fields[7].parse().unwrap_or(IpAddr::from([192, 0, 2, 3])),
        validated_name: (!fields[6].is_empty()).then_some(&*fields[6]),
        helo: &fields[4],
        receiver: &fields[5],
        timestamp: fields[8].parse().unwrap_or(0),
    };
    let text = &fields[0];
    for in_exp_text in [false, true] {
        let Ok(ms) = MacroString::parse(text, in_exp_text) else {
            continue;
        };
        let name = expand(&ms, &vars, Target::DomainName);
        let bare = name.strip_suffix('.').unwrap_or(&name);
        assert!(bare.len() <= 253, "domain name of {} octets", bare.len());
        let explanation = expand(&ms, &vars, Target::Explanation);
        assert!(
            explanation.len() <= MAX_EXPLANATION,
            "explanation of {} bytes",
            explanation.len()
        );
        // Below both bounds nothing is cut, so the two targets agree.
        if explanation.len() <= 253 {
            assert_eq!(name, explanation, "expansions differ below the size bounds");
        }
        if ms.is_literal() && text.len() <= 253 {
            assert_eq!(name, **text, "a literal expands to itself");
        }
    }
});
