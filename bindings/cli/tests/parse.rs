//! `spfgate parse` run as a user runs it: arguments, standard input, exit status.

use std::process::Output;

use serde_json::Value;

mod common;
use common::spfgate;

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[test]
fn valid_record_as_text() {
    let out = spfgate(
        &[
            "parse",
            "V=SPF1 +ip4:192.0.2.0/24 include:_spf.example.com mx//64 ra=x -ALL",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com mx//64 ra=x -all\n\
         \x20 pass     ip4      192.0.2.0  /24\n\
         \x20 pass     include  _spf.example.com\n\
         \x20 pass     mx       (current domain)  /32 //64\n\
         \x20 modifier ra       x\n\
         \x20 fail     all\n"
    );
}

#[test]
fn valid_record_as_json() {
    let out = spfgate(
        &[
            "parse",
            "--format",
            "json",
            "v=spf1 a:mail.example.com/24 ip6:::1 redirect=_spf.example.com",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(
        v["record"],
        "v=spf1 a:mail.example.com/24 ip6:::1 redirect=_spf.example.com"
    );
    let terms = v["terms"].as_array().expect("terms");
    assert_eq!(terms.len(), 3);
    assert_eq!(
        terms[0],
        serde_json::json!({
            "kind": "directive", "qualifier": "pass", "mechanism": "a",
            "domain": "mail.example.com", "cidr4": 24, "cidr6": 128, "span": [7, 21]
        })
    );
    assert_eq!(terms[1]["mechanism"], "ip6");
    assert_eq!(terms[1]["domain"], "::1");
    assert_eq!(terms[1]["cidr6"], 128);
    assert_eq!(
        terms[2],
        serde_json::json!({
            "kind": "modifier", "name": "redirect", "value": "_spf.example.com", "span": [37, 25]
        })
    );
}

#[test]
fn invalid_record_as_text() {
    let out = spfgate(&["parse", "v=spf1 ip4:192.0.2.0/33"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "invalid: ip4:192.0.2.0/33 — CIDR length 33 is above 32 (byte 21)\n\
         \x20 v=spf1 ip4:192.0.2.0/33\n\
         \x20                      ^^\n"
    );
}

#[test]
fn invalid_record_as_json() {
    let out = spfgate(&["parse", "--format=json", "v=spf1 include:example"], None);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["offset"], 15);
    assert_eq!(v["error"]["length"], 7);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("include:example — the domain must end")
    );
}

#[test]
fn record_from_standard_input() {
    let out = spfgate(&["parse"], Some(b"v=spf1 mx -all\n"));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("v=spf1 mx -all\n"));

    let out = spfgate(&["parse", "--format", "json"], Some(b"v=spf1 -all\r\n"));
    assert_eq!(json(&out)["record"], "v=spf1 -all");

    // Only one newline is removed; a second is part of the record, and invalid.
    let out = spfgate(&["parse", "--format", "json"], Some(b"v=spf1 -all\n\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["offset"], 11);

    // Bytes that are not UTF-8 are reported, not refused.
    let out = spfgate(&["parse", "--format", "json"], Some(b"v=spf1 a:\xff.com"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["offset"], 9);
}

#[test]
fn usage_errors_exit_with_2() {
    assert_eq!(
        spfgate(&["parse", "--format", "yaml", "v=spf1"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        spfgate(&["parse", "v=spf1", "extra"], None).status.code(),
        Some(2)
    );
    assert_eq!(spfgate(&[], None).status.code(), Some(2));
}
