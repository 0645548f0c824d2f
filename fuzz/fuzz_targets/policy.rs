//! Account policy documents, as arbitrary JSON or TOML text or built from parts and
//! written in both formats, then decisions against them with a fuzzer-built zone.
//! Invariants: loading never panics and error positions are inside the text; a built
//! document loads the same from JSON, from TOML and in code; every listed sender finds
//! its account; a decision ends with a reply and headers that cannot break the SMTP
//! dialogue or the message header (printable ASCII, bounded), and its action matches
//! the reply code.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spfgate::policy::document::{
    AccountDocument, PolicyDocument, SecurityDocument, WhitelistField,
};
use spfgate::policy::{Action, DecisionRequest, Mode, Policy, PolicyError, Rule, decision};
use spfgate_fuzz::{AnswerIn, ClientIn, EntryIn, NameIn, Render, pick};

const IDS: &[&str] = &["acme", "globex", " ", ""];
const SENDERS: &[&str] = &[
    "alice@acme.example",
    "Alice@ACME.example.",
    "bob@example.com",
    "<carol@example.org>",
    "postmaster@example.com",
    "no-at-sign",
    "@example.com",
];
const WHITELISTS: &[&str] = &[
    "",
    "192.0.2.0/24",
    "192.0.2.1, 2001:db8::/32 # office\n10.0.0.1 - 10.0.0.6",
    "::ffff:192.0.2.0/120",
    "0.0.0.0/0",
    "01.2.3.4",
];
const MODES: &[Mode] = &[
    Mode::Open,
    Mode::Restricted,
    Mode::IpWhitelist,
    Mode::Spf,
    Mode::IpWhitelistOrSpf,
];

#[derive(Arbitrary, Debug)]
enum TextIn {
    Listed(u8),
    Raw(String),
}

impl TextIn {
    fn text(&self, list: &[&str]) -> String {
        match self {
            TextIn::Listed(i) => pick(list, *i).to_owned(),
            TextIn::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum WhitelistIn {
    Text(TextIn),
    Lines(Vec<TextIn>),
}

#[derive(Arbitrary, Debug)]
struct AccountIn {
    id: TextIn,
    senders: Vec<TextIn>,
    mode: u8,
    whitelist: Option<WhitelistIn>,
}

#[derive(Arbitrary, Debug)]
enum SourceIn {
    Json(String),
    Toml(String),
    Built {
        authserv_id: TextIn,
        case_sensitive: bool,
        accounts: Vec<AccountIn>,
    },
}

#[derive(Arbitrary, Debug)]
struct RequestIn {
    client: ClientIn,
    mail_from: TextIn,
    helo: NameIn,
    receiver: NameIn,
}

#[derive(Arbitrary, Debug)]
struct Input {
    source: SourceIn,
    requests: Vec<RequestIn>,
    zone: Vec<EntryIn>,
    unlisted: AnswerIn,
}

fn build(authserv_id: &TextIn, case_sensitive: bool, accounts: &[AccountIn]) -> PolicyDocument {
    PolicyDocument {
        authserv_id: authserv_id.text(&["mx.gateway.example", ""]),
        local_part_case_sensitive: case_sensitive,
        accounts: accounts
            .iter()
            .map(|a| AccountDocument {
                id: a.id.text(IDS),
                senders: a.senders.iter().map(|s| s.text(SENDERS)).collect(),
                security: SecurityDocument {
                    mode: MODES[usize::from(a.mode) % MODES.len()],
                    whitelist: match &a.whitelist {
                        None => WhitelistField::default(),
                        Some(WhitelistIn::Text(t)) => WhitelistField::Text(t.text(WHITELISTS)),
                        Some(WhitelistIn::Lines(lines)) => WhitelistField::Lines(
                            lines.iter().map(|l| l.text(WHITELISTS)).collect(),
                        ),
                    },
                },
            })
            .collect(),
    }
}

/// Line and column, when given, point into the text (one past the end at most).
fn check_position(error: &PolicyError, text: &str) {
    let _ = error.to_string();
    if let Some(line) = error.line {
        assert!(
            line >= 1 && line <= text.split('\n').count(),
            "{error} in {text:?}"
        );
    }
}

/// What must come out the same however the document was loaded.
fn summary(policy: &Policy) -> Vec<(String, Mode, String)> {
    policy
        .accounts()
        .iter()
        .map(|a| (a.id().to_owned(), a.mode(), a.whitelist().to_string()))
        .collect()
}

fn printable(text: &str) -> bool {
    text.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

fuzz_target!(|input: Input| {
    let (policy, senders) = match &input.source {
        SourceIn::Json(text) => match Policy::from_json(text) {
            Ok(policy) => (policy, Vec::new()),
            Err(e) => return check_position(&e, text),
        },
        SourceIn::Toml(text) => match Policy::from_toml(text) {
            Ok(policy) => (policy, Vec::new()),
            Err(e) => return check_position(&e, text),
        },
        SourceIn::Built {
            authserv_id,
            case_sensitive,
            accounts,
        } => {
            let doc = build(authserv_id, *case_sensitive, accounts);
            let json = serde_json::to_string(&doc).expect("documents serialize to JSON");
            let from_json = Policy::from_json(&json);
            let compiled = Policy::compile(doc.clone());
            let from_toml = toml::to_string(&doc)
                .ok()
                .map(|t| (Policy::from_toml(&t), t));
            let (policy, kind) = match compiled {
                Ok(policy) => (Some(policy), None),
                Err(e) => (None, Some(e.kind)),
            };
            match (&policy, from_json) {
                (Some(p), Ok(j)) => assert_eq!(summary(p), summary(&j), "JSON load differs"),
                (None, Err(e)) => assert_eq!(Some(e.kind), kind, "JSON error differs"),
                (p, j) => panic!("compile {:?} but JSON {:?}", p.is_some(), j.err()),
            }
            if let Some((from_toml, text)) = from_toml {
                match (&policy, from_toml) {
                    (Some(p), Ok(t)) => assert_eq!(summary(p), summary(&t), "TOML load differs"),
                    (None, Err(e)) => assert_eq!(Some(e.kind), kind, "TOML error differs"),
                    (p, t) => panic!(
                        "compile {:?} but TOML {:?} for {text:?}",
                        p.is_some(),
                        t.err()
                    ),
                }
            }
            let Some(policy) = policy else { return };
            let senders = doc
                .accounts
                .into_iter()
                .flat_map(|a| a.senders.into_iter().map(move |s| (s, a.id.clone())))
                .collect();
            (policy, senders)
        }
    };
    for (key, &index) in policy.sender_map() {
        let found = policy.find_sender(key).map(|a| a.id());
        assert_eq!(
            found,
            Some(policy.accounts()[index].id()),
            "sender key {key:?}"
        );
    }
    for (sender, id) in &senders {
        let found = policy.find_sender(sender).map(|a| a.id());
        assert_eq!(found, Some(id.as_str()), "sender {sender:?} of {id:?}");
    }

    for request in &input.requests {
        let ip = request.client.ip();
        let render = Render::for_client(ip);
        let zone = render.zone(&input.zone, &input.unlisted);
        let mail_from = request.mail_from.text(SENDERS);
        let account = policy.find_sender(&mail_from).map(|a| a.id().to_owned());
        let verdict = policy
            .decide(DecisionRequest {
                ip,
                mail_from: mail_from.clone(),
                helo: render.name(&request.helo),
                receiver: render.name(&request.receiver),
                now: 0,
            })
            .run_with(|lookup| zone.resolve(lookup));
        let smtp = &verdict.smtp;
        assert!(printable(&smtp.text), "reply text {:?}", smtp.text);
        assert!(smtp.text.chars().count() <= decision::MAX_REPLY_TEXT);
        let class = match verdict.action {
            Action::Accept => 2,
            Action::Defer => 4,
            _ => 5,
        };
        assert_eq!(smtp.code / 100, class, "{} for {}", smtp, verdict.action);
        let headers = &verdict.headers;
        assert!(printable(&headers.authentication_results), "{headers:?}");
        assert!(
            headers.received_spf.as_deref().is_none_or(printable),
            "{headers:?}"
        );
        match &verdict.rule {
            Rule::NullSender | Rule::UnknownSender => {
                assert_eq!(verdict.action, Action::Reject);
                assert!(account.is_none(), "{mail_from:?} of {account:?}");
            }
            _ => assert_eq!(verdict.account, account, "account of {mail_from:?}"),
        }
        assert_eq!(
            verdict.spf.is_some(),
            matches!(verdict.rule, Rule::Spf { .. })
        );
    }
});
