//! `spfgate decide` and `spfgate whitelist` run as a user would, against
//! `examples/policy.json` and `examples/zone.yaml`.

use std::process::Output;

use serde_json::Value;

mod common;
use common::{examples, spfgate};

fn decide_json(ip: &str, from: &str) -> (Value, Output) {
    let policy = examples().join("policy.json");
    let zone = examples().join("zone.yaml");
    let out = spfgate(
        &[
            "decide",
            "--policy",
            policy.to_str().unwrap(),
            "--zone",
            zone.to_str().unwrap(),
            "--ip",
            ip,
            "--mail-from",
            from,
            "--helo",
            "mail.example",
            "--format",
            "json",
        ],
        None,
    );
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, out)
}

#[test]
fn decide_prints_every_action_and_exits_0() {
    for (ip, from, action, code) in [
        ("192.0.2.1", "alice@acme.example", "accept", 250),
        ("203.0.113.5", "billing@initech.example", "accept", 250),
        ("192.0.2.5", "billing@initech.example", "reject", 550),
        ("192.0.2.1", "info@slow.example", "defer", 451),
        ("192.0.2.1", "", "reject", 550),
    ] {
        let (v, out) = decide_json(ip, from);
        assert_eq!(out.status.code(), Some(0), "{from}");
        assert_eq!(v["action"], action, "{from}: {v}");
        assert_eq!(v["smtp"]["code"], code, "{from}: {v}");
        for key in ["smtp", "account", "rule", "spf", "headers"] {
            assert!(v.get(key).is_some(), "{key} in {v}");
        }
        assert!(v["headers"].get("Authentication-Results").is_some());
        assert!(v["headers"].get("Received-SPF").is_some());
    }
}

#[test]
fn decide_fail_carries_spf_details() {
    let (v, _) = decide_json("192.0.2.5", "billing@initech.example");
    assert_eq!(v["smtp"]["enhanced"], "5.7.23");
    assert_eq!(v["account"], "initech");
    assert_eq!(v["spf"]["result"], "fail");
    assert_eq!(v["spf"]["lookups"], 1);
    assert!(v["spf"]["round_trips"].as_u64().unwrap() >= 1);
}

#[test]
fn decide_text_output_and_bad_policy_exit_2() {
    let policy = examples().join("policy.json");
    let out = spfgate(
        &[
            "decide",
            "--policy",
            policy.to_str().unwrap(),
            "--ip",
            "192.0.2.1",
            "--mail-from",
            "newsletter@globex.example",
            "--helo",
            "h.example",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("accept: 250 2.1.0"), "{text}");
    let out = spfgate(
        &[
            "decide",
            "--policy",
            "/nonexistent/policy.json",
            "--ip",
            "192.0.2.1",
            "--mail-from",
            "a@b.example",
            "--helo",
            "h",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn whitelist_reads_stdin_and_exits_1_on_errors() {
    let out = spfgate(&["whitelist"], Some(b"198.51.100.0/24\n2001:db8::/32"));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok: 2 entries"), "{text}");
    let out = spfgate(&["whitelist", "--format", "json"], Some(b"198.51.100.0/33"));
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["line"], 1);
}

#[test]
fn whitelist_reads_a_file() {
    let dir = std::env::temp_dir().join(format!("spfgate-wl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("list.txt");
    std::fs::write(&path, "# office\n198.51.100.7, 198.51.100.7\n").unwrap();
    let out = spfgate(&["whitelist", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("warning: line 2, column 15"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
