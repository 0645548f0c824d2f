//! `--void-counting per-term|per-lookup` on `check`, `decide` and `lint`: an IPv6
//! client whose address is the first of four MX hosts, the other three IPv4-only.

mod common;

use std::path::PathBuf;

use serde_json::Value;

use common::spfgate;

const ZONE: &str = r#"{
  "example.com": [
    {"TXT": "v=spf1 mx ~all"},
    {"MX": [10, "mx1.example.com"]}, {"MX": [20, "mx2.example.com"]},
    {"MX": [30, "mx3.example.com"]}, {"MX": [40, "mx4.example.com"]}
  ],
  "mx1.example.com": [{"A": "192.0.2.1"}, {"AAAA": "2a01:261:e80:4800::1"}],
  "mx2.example.com": [{"A": "192.0.2.2"}],
  "mx3.example.com": [{"A": "192.0.2.3"}],
  "mx4.example.com": [{"A": "192.0.2.4"}]
}"#;

const POLICY: &str = r#"{
  "authserv_id": "mx.gateway.example",
  "accounts": [
    {"id": "example", "senders": ["user@example.com"], "security": {"mode": "spf"}}
  ]
}"#;

/// A directory holding the zone and the policy.
fn files() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spfgate-void-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("zone.json"), ZONE).expect("zone file");
    std::fs::write(dir.join("policy.json"), POLICY).expect("policy file");
    dir
}

fn json(args: &[&str]) -> Value {
    let out = spfgate(args, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn check_decide_and_lint_count_void_lookups_as_asked() {
    let dir = files();
    let zone = dir.join("zone.json");
    let zone = zone.to_str().unwrap();
    let policy = dir.join("policy.json");
    let policy = policy.to_str().unwrap();
    let client = [
        "--ip",
        "2a01:261:e80:4800::1",
        "--mail-from",
        "user@example.com",
        "--helo",
        "mx1.example.com",
        "--zone",
        zone,
        "--format",
        "json",
    ];
    let modes: [&[&str]; 3] = [
        &[],
        &["--void-counting", "per-term"],
        &["--void-counting", "per-lookup"],
    ];
    let mut results = Vec::new();
    for mode in modes {
        let check = json(&[&["check"], &client[..], mode].concat());
        let decide = json(&[&["decide", "--policy", policy], &client[..], mode].concat());
        let lint = json(
            &[
                &[
                    "lint",
                    "--domain",
                    "example.com",
                    "--zone",
                    zone,
                    "--format",
                    "json",
                ],
                mode,
            ]
            .concat(),
        );
        results.push((
            check["result"].as_str().unwrap().to_owned(),
            check["void_lookups"].as_u64().unwrap(),
            decide["action"].as_str().unwrap().to_owned(),
            decide["spf"]["result"].as_str().unwrap().to_owned(),
            lint["counts"]["void_lookups"]["ipv6"].as_u64().unwrap(),
        ));
    }
    let per_term = (
        "pass".to_owned(),
        0,
        "accept".to_owned(),
        "pass".to_owned(),
        0,
    );
    let per_lookup = (
        "permerror".to_owned(),
        3,
        "reject".to_owned(),
        "permerror".to_owned(),
        3,
    );
    assert_eq!(results, [per_term.clone(), per_term, per_lookup]);

    let out = spfgate(
        &[&["check"], &client[..], &["--void-counting", "per-answer"]].concat(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
