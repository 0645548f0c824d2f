//! Loading policy documents: JSON and TOML, every mode, and errors that point
//! at the account, the field and the line/column.

use std::collections::HashMap;

use spfgate::policy::document::{
    AccountDocument, Mode, Policy, PolicyDocument, PolicyErrorKind, SecurityDocument,
    WhitelistField,
};

const JSON: &str = r#"{
  "authserv_id": "mx.gateway.example",
  "accounts": [
    {"id": "a-open", "senders": ["o@open.example"], "security": {"mode": "open"}},
    {"id": "a-restricted", "senders": ["r@r.example", "R2@R.example"],
     "security": {"mode": "restricted", "whitelist": "192.0.2.0/24\n2001:db8::/32"}},
    {"id": "a-ipwl", "senders": ["i@i.example"],
     "security": {"mode": "ip-whitelist", "whitelist": ["192.0.2.1", "192.0.2.2 - 192.0.2.3"]}},
    {"id": "a-spf", "senders": ["s@s.example"], "security": {"mode": "spf"}},
    {"id": "a-either", "senders": ["e@e.example"],
     "security": {"mode": "ip-whitelist-or-spf", "whitelist": "198.51.100.0/24"}}
  ]
}"#;

const TOML: &str = r#"
authserv_id = "mx.gateway.example"

[[accounts]]
id = "a-open"
senders = ["o@open.example"]
security = { mode = "open" }

[[accounts]]
id = "a-restricted"
senders = ["r@r.example", "R2@R.example"]
[accounts.security]
mode = "restricted"
whitelist = """
192.0.2.0/24
2001:db8::/32"""

[[accounts]]
id = "a-ipwl"
senders = ["i@i.example"]
security = { mode = "ip-whitelist", whitelist = ["192.0.2.1", "192.0.2.2 - 192.0.2.3"] }

[[accounts]]
id = "a-spf"
senders = ["s@s.example"]
security = { mode = "spf" }

[[accounts]]
id = "a-either"
senders = ["e@e.example"]
security = { mode = "ip-whitelist-or-spf", whitelist = "198.51.100.0/24" }
"#;

fn summary(policy: &Policy) -> Vec<(String, Mode, Vec<String>)> {
    policy
        .accounts()
        .iter()
        .map(|a| {
            let nets = a.whitelist().networks().map(|n| n.to_string()).collect();
            (a.id().to_owned(), a.mode(), nets)
        })
        .collect()
}

#[test]
fn json_and_toml_load_the_same_policy_with_every_mode() {
    let json = Policy::from_json(JSON).unwrap();
    let toml = Policy::from_toml(TOML).unwrap();
    assert_eq!(summary(&json), summary(&toml));
    let modes: Vec<Mode> = json.accounts().iter().map(|a| a.mode()).collect();
    assert_eq!(
        modes,
        [
            Mode::Open,
            Mode::Restricted,
            Mode::IpWhitelist,
            Mode::Spf,
            Mode::IpWhitelistOrSpf
        ]
    );
    assert_eq!(json.authserv_id(), "mx.gateway.example");
    assert_eq!(
        summary(&json)[2].2,
        ["192.0.2.1/32", "192.0.2.2/31"],
        "list form and ranges"
    );
    assert_eq!(
        json.find_sender("r2@r.example").unwrap().id(),
        "a-restricted"
    );
    assert_eq!(json.sender_map().len(), 6);
}

#[test]
fn sender_lookups_go_through_one_hash_map() {
    let policy = Policy::from_json(JSON).unwrap();
    // The type is the proof: lookups read a HashMap keyed by the normalized
    // address, so their cost does not grow with the number of accounts.
    let map: &HashMap<String, usize> = policy.sender_map();
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "e@e.example",
            "i@i.example",
            "o@open.example",
            "r2@r.example",
            "r@r.example",
            "s@s.example"
        ]
    );
    for (key, &index) in map {
        let found = policy
            .find_sender(key)
            .expect("every key finds its account");
        assert_eq!(found.id(), policy.accounts()[index].id());
    }
}

#[test]
fn local_parts_can_be_matched_exactly() {
    let text = JSON.replacen(
        "\"authserv_id\"",
        "\"local_part_case_sensitive\": true, \"authserv_id\"",
        1,
    );
    let policy = Policy::from_json(&text).unwrap();
    assert!(policy.local_part_case_sensitive());
    assert!(policy.find_sender("R2@r.EXAMPLE").is_some());
    assert!(policy.find_sender("r2@r.example").is_none());
    // Two spellings differing only in case are two senders then.
    let doc = r#"{"authserv_id": "x", "local_part_case_sensitive": true, "accounts": [
        {"id": "a", "senders": ["Bob@x.example"], "security": {"mode": "open"}},
        {"id": "b", "senders": ["bob@x.example"], "security": {"mode": "open"}}]}"#;
    assert!(Policy::from_json(doc).is_ok());
}

#[test]
fn a_sender_listed_twice_names_both_accounts() {
    let doc = r#"{"authserv_id": "x", "accounts": [
  {"id": "first", "senders": ["Bob@X.example"], "security": {"mode": "open"}},
  {"id": "second", "senders": ["a@x.example", "bob@x.EXAMPLE"], "security": {"mode": "open"}}]}"#;
    let err = Policy::from_json(doc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3, column 47: account `second` (accounts[1]), senders[1]: sender `bob@x.example` \
         is listed by account `first` and by account `second`"
    );
    assert_eq!(err.kind.code(), "duplicate-sender");
    assert_eq!(err.field, "accounts[1].senders[1]");
    assert_eq!(err.account.as_ref().map(|a| a.index), Some(1));
    // Listing a sender twice in one account is harmless.
    let doc = r#"{"authserv_id": "x", "accounts": [
  {"id": "a", "senders": ["b@x.example", "B@x.example"], "security": {"mode": "open"}}]}"#;
    assert!(Policy::from_json(doc).is_ok());
}

#[test]
fn semantic_errors_point_into_the_document() {
    let cases: [(&str, &str, &str); 6] = [
        (
            r#"{"authserv_id": "x", "accounts": [{"id": "a", "senders": ["nobody"], "security": {"mode": "open"}}]}"#,
            "line 1, column 59: account `a` (accounts[0]), senders[0]: sender `nobody` is not an address: it has no `@`",
            "bad-sender",
        ),
        (
            r#"{"authserv_id": "x", "accounts": [{"id": "a", "senders": ["x @y"], "security": {"mode": "open"}}]}"#,
            "line 1, column 59: account `a` (accounts[0]), senders[0]: sender `x @y` contains a blank or control character",
            "bad-sender",
        ),
        (
            r#"{"authserv_id": "x", "accounts": [{"id": "", "senders": [], "security": {"mode": "open"}}]}"#,
            "line 1, column 42: account `` (accounts[0]), id: the account id is empty",
            "empty-account-id",
        ),
        (
            "{\"authserv_id\": \"x\", \"accounts\": [\n {\"id\": \"a\", \"senders\": [], \"security\": {\"mode\": \"open\"}},\n {\"id\": \"a\", \"senders\": [], \"security\": {\"mode\": \"open\"}}]}",
            "line 3, column 9: account `a` (accounts[1]), id: account id `a` is already used by accounts[0]",
            "duplicate-account",
        ),
        (
            r#"{"authserv_id": " ", "accounts": []}"#,
            "line 1, column 17: authserv_id: authserv_id must name this gateway (it is empty)",
            "empty-authserv-id",
        ),
        (
            r#"{"authserv_id": "x", "accounts": [{"id": "a", "senders": [], "security": {"mode": "spf", "whitelist": ["192.0.2.1", "10.0.0.0/8", "::1/129"]}}]}"#,
            "line 1, column 131: account `a` (accounts[0]), security.whitelist[2]: line 3, column 1 of the field: `::1/129` — prefix length 129 is above 128",
            "whitelist",
        ),
    ];
    for (doc, want, code) in cases {
        let err = Policy::from_json(doc).unwrap_err();
        assert_eq!(err.to_string(), want, "{doc}");
        assert_eq!(err.kind.code(), code, "{doc}");
    }
}

#[test]
fn whitelist_errors_give_the_position_inside_the_field_and_count_the_rest() {
    let doc = "{\"authserv_id\": \"x\", \"accounts\": [\n  {\"id\": \"acme\", \"senders\": [],\n   \"security\": {\"mode\": \"restricted\",\n                \"whitelist\": \"192.0.2.0/24\\n  10.0.0.256, 300.1.1.1\"}}]}";
    let err = Policy::from_json(doc).unwrap_err();
    assert_eq!((err.line, err.column), (Some(4), Some(30)));
    let PolicyErrorKind::Whitelist { error, more } = &*err.kind else {
        panic!("{err}");
    };
    assert_eq!((error.line, error.column, *more), (2, 3, 1));
    assert!(err.to_string().ends_with("(and 1 more error)"), "{err}");
}

#[test]
fn toml_errors_point_into_the_document_too() {
    let doc = "authserv_id = \"x\"\n\n[[accounts]]\nid = \"a\"\nsenders = [\"ok@x.example\",\n  \"broken\"]\nsecurity = { mode = \"open\" }\n";
    let err = Policy::from_toml(doc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 6, column 3: account `a` (accounts[0]), senders[1]: sender `broken` is not an address: it has no `@`"
    );
    let bad_mode = "authserv_id = \"x\"\n[[accounts]]\nid = \"a\"\nsenders = []\nsecurity = { mode = \"closed\" }\n";
    let err = Policy::from_toml(bad_mode).unwrap_err();
    assert_eq!(err.line, Some(5), "{err}");
    assert!(err.to_string().contains("ip-whitelist-or-spf"), "{err}");
}

#[test]
fn syntax_and_shape_errors_carry_the_parsers_line_and_column() {
    let err = Policy::from_json("{\"authserv_id\": \"x\",\n \"accounts\": [}").unwrap_err();
    assert_eq!((err.line, err.column), (Some(2), Some(15)));
    assert!(matches!(*err.kind, PolicyErrorKind::Syntax { .. }));
    assert_eq!(err.kind.code(), "syntax");
    let err = Policy::from_json(
        "{\"authserv_id\": \"x\", \"accounts\": [{\"id\": \"a\", \"senders\": [],\n \"security\": {\"mode\": \"closed\"}}]}",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(
        err.to_string()
            .starts_with("line 2, column 30: unknown variant `closed`, expected one of"),
        "{err}"
    );
    let err = Policy::from_json(r#"{"authserv_id": "x", "accounts": [], "extra": 1}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    let err = Policy::from_json(
        r#"{"authserv_id": "x", "accounts": [{"id": "a", "senders": [], "security": {"mode": "open", "whitelist": 5}}]}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected the whitelist text (a string) or a list of strings"),
        "{err}"
    );
}

#[test]
fn documents_built_in_code_compile_and_round_trip() {
    let doc = PolicyDocument {
        authserv_id: "mx.gateway.example".into(),
        local_part_case_sensitive: false,
        accounts: vec![AccountDocument {
            id: "acme".into(),
            senders: vec!["alice@acme.example".into()],
            security: SecurityDocument {
                mode: Mode::IpWhitelist,
                whitelist: WhitelistField::Text(String::new()),
            },
        }],
    };
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(
        json,
        r#"{"authserv_id":"mx.gateway.example","accounts":[{"id":"acme","senders":["alice@acme.example"],"security":{"mode":"ip-whitelist","whitelist":""}}]}"#
    );
    let policy = Policy::compile(doc).unwrap();
    assert!(policy.accounts()[0].whitelist().entries().is_empty());
    let err = Policy::compile(PolicyDocument {
        authserv_id: String::new(),
        local_part_case_sensitive: false,
        accounts: vec![],
    })
    .unwrap_err();
    assert_eq!((err.line, err.field.as_str()), (None, "authserv_id"));
}
