//! Shared inputs for the side-by-side benchmarks of spfgate, mail-auth and viaspf: a
//! short record, the real-record corpus, and the RFC 7208 suite's scenarios with their
//! zones answered from memory, plus one adapter per library that evaluates a scenario.
//!
//! Every library gets the same work: it builds its request from the scenario's text,
//! every answer is handed over as a fresh owned value, and TXT answers are text that
//! the library parses itself.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::Value;
use spfgate::dns::{Answer, Lookup, LookupId, QueryType};
use spfgate::zone::Zone;

pub mod mail_auth_run;
pub mod spfgate_run;
pub mod viaspf_run;

/// A typical short record.
pub const SHORT: &str = "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all";

/// A record of twelve `ip6:` networks, as large senders publish them.
pub const IP6_HEAVY: &str = "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 \
    ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ip6:2a01:111:f400::/48 \
    ip6:2a01:111:f403::/49 ip6:2a01:111:f403:8000::/51 ip6:2a01:111:f403:c000::/51 \
    ip6:2a01:111:f403:f000::/52 ip6:2a03:2880:f000:1234:face:b00c:0:25de ~all";

/// The repository's `shared/` folder beside the repository root.
fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(path)
}

/// The real-record corpus, one record a line.
pub fn corpus() -> Vec<String> {
    let path = shared("corpus/records.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines().map(str::to_owned).collect()
}

/// One suite test: the SMTP facts, the results the suite accepts, and its zone.
pub struct Scenario {
    /// The suite's name for the test.
    pub name: String,
    /// The client.
    pub ip: IpAddr,
    /// MAIL FROM, empty for the null sender.
    pub mail_from: String,
    /// HELO name.
    pub helo: String,
    /// Results the suite accepts (`pass`, `permerror`, ...).
    pub expected: Vec<String>,
    /// Every answer the zone can give, by type and lower-case name.
    pub answers: Answers,
}

/// FNV-1a, for the harnesses' maps of names: they are hashed on every lookup, and
/// SipHash would add more of the harness's own work to every library's figures.
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A map hashed with [`Fnv`].
pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// A zone resolved ahead of time: every name it lists (lower case, without the
/// final dot), with its answer for every query type.
pub struct Answers(FnvMap<String, Vec<(QueryType, Answer)>>);

impl Answers {
    fn from_zone(zone: &Zone) -> Self {
        let mut map = FnvMap::default();
        for (name, _) in zone.entries() {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let answers = [
                QueryType::A,
                QueryType::Aaaa,
                QueryType::Mx,
                QueryType::Txt,
                QueryType::Ptr,
            ]
            .map(|qtype| {
                let lookup = Lookup {
                    id: LookupId(0),
                    name: name.clone(),
                    qtype,
                };
                (qtype, zone.resolve(&lookup))
            });
            map.insert(name, answers.into());
        }
        Answers(map)
    }

    /// Every answer, by type and lower-case name without the final dot.
    pub fn iter(&self) -> impl Iterator<Item = ((QueryType, &str), &Answer)> {
        self.0.iter().flat_map(|(name, answers)| {
            answers
                .iter()
                .map(move |(qtype, answer)| ((*qtype, name.as_str()), answer))
        })
    }

    /// The answer for `name` (any case, with or without the final dot), lent;
    /// NXDOMAIN for names the zone does not list.
    pub fn lend(&self, qtype: QueryType, name: &str) -> &Answer {
        const NXDOMAIN: &Answer = &Answer::NxDomain;
        let name = name.trim_end_matches('.');
        let found = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.0.get(&name.to_ascii_lowercase())
        } else {
            self.0.get(name)
        };
        found
            .and_then(|answers| answers.iter().find(|(t, _)| *t == qtype))
            .map_or(NXDOMAIN, |(_, answer)| answer)
    }

    /// [`lend`](Self::lend) as a fresh value, for libraries that take answers owned.
    pub fn get(&self, qtype: QueryType, name: &str) -> Answer {
        self.lend(qtype, name).clone()
    }
}

/// The 203 scenarios of the RFC 7208 suite.
pub fn suite() -> Vec<Scenario> {
    let path = shared("spf-test-suite/rfc7208-tests.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut scenarios = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let doc: Value = serde::Deserialize::deserialize(doc).expect("suite YAML");
        let zone = Zone::from_value(&doc["zonedata"]).expect("zonedata");
        for (name, test) in doc["tests"].as_object().expect("tests") {
            let s = |k: &str| test[k].as_str().unwrap_or_default().to_owned();
            let expected = match &test["result"] {
                Value::Array(results) => results
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect(),
                r => vec![r.as_str().unwrap_or_default().to_owned()],
            };
            scenarios.push(Scenario {
                name: name.clone(),
                ip: s("host").parse().expect("host"),
                mail_from: s("mailfrom"),
                helo: s("helo"),
                expected,
                answers: Answers::from_zone(&zone),
            });
        }
    }
    assert_eq!(scenarios.len(), 203, "the RFC 7208 suite has 203 tests");
    scenarios
}

/// Runs a future whose every await is ready at once (answers come from memory), so
/// no runtime is needed and none is measured.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
