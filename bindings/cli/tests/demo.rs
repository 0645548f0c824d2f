//! `spfgate demo`: the README's main command decides every example transaction
//! offline, with the action each one is there to show.

use std::process::Command;

use serde_json::Value;

#[test]
fn demo_decides_every_example_offline() {
    let out = Command::new(env!("CARGO_BIN_EXE_spfgate"))
        .args(["demo", "--format", "json"])
        .output()
        .expect("run spfgate demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let transactions = run["transactions"].as_array().expect("transactions");
    let actions: Vec<(&str, &str)> = transactions
        .iter()
        .map(|t| {
            (
                t["shows"].as_str().unwrap(),
                t["verdict"]["action"].as_str().unwrap(),
            )
        })
        .collect();
    let expect = |shows: &str, action: &str| {
        assert!(
            actions.contains(&(shows, action)),
            "{shows}: expected {action} in {actions:?}"
        );
    };
    expect("whitelist hit, no DNS at all", "accept");
    expect("IPv4-mapped client and mixed-case sender", "accept");
    expect("whitelist miss", "reject");
    expect("empty whitelist: SPF pass through an include", "accept");
    expect("SPF fail", "reject");
    expect("SPF softfail", "reject");
    expect("SPF permerror", "reject");
    expect("DNS timeout: defer, nothing is lost", "defer");
    expect("unknown sender", "reject");
    expect("null sender", "reject");
    let codes: Vec<&str> = transactions
        .iter()
        .filter_map(|t| t["verdict"]["smtp"]["enhanced"].as_str())
        .collect();
    for code in ["2.1.0", "5.7.1", "5.7.23", "5.7.24", "4.7.24"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
}
