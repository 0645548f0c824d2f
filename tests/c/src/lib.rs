//! What the C test drivers share: the RFC 7208 suite, read in place from
//! `../shared/spf-test-suite`, and its zones as DNS wire answers.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use spfgate::dns::{Lookup, LookupId, QueryType, wire};
use spfgate::zone::Zone;

/// The explanation every driver configures, as the suite's drivers do.
pub const DEFAULT_EXPLANATION: &str = "DEFAULT";

/// One test of a scenario.
#[derive(Debug, Clone)]
pub struct Case {
    /// The test's name.
    pub name: String,
    /// The client IP, as text.
    pub ip: String,
    /// MAIL FROM.
    pub mail_from: String,
    /// HELO.
    pub helo: String,
    /// The results the suite accepts.
    pub results: Vec<String>,
    /// The explanation the suite expects, if it checks one.
    pub explanation: Option<String>,
}

/// One scenario: its zone and its tests.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's description.
    pub description: String,
    /// The zone data as the suite gives it.
    pub zonedata: Value,
    /// The zone, for resolving.
    pub zone: Zone,
    /// The tests.
    pub cases: Vec<Case>,
}

/// The suite file: `../shared/spf-test-suite/rfc7208-tests.yml` beside the checkout.
pub fn suite_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spf-test-suite/rfc7208-tests.yml")
}

/// Reads the suite; a missing or malformed file is an error, never an empty suite.
pub fn load_suite(path: &Path) -> Result<Vec<Scenario>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the test suite at {}: {e}", path.display()))?;
    let mut scenarios = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let doc: Value = serde::Deserialize::deserialize(doc).map_err(|e| e.to_string())?;
        let zonedata = match &doc["zonedata"] {
            Value::Null => json!({}),
            z => z.clone(),
        };
        let zone = Zone::from_value(&zonedata).map_err(|e| e.to_string())?;
        let tests = doc["tests"].as_object().ok_or("a scenario without tests")?;
        let mut cases = Vec::new();
        for (name, t) in tests {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            let results = match &t["result"] {
                Value::String(r) => vec![r.clone()],
                Value::Array(rs) => rs
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect(),
                other => return Err(format!("{name}: unexpected result {other}")),
            };
            cases.push(Case {
                name: name.clone(),
                ip: s("host"),
                mail_from: s("mailfrom"),
                helo: s("helo"),
                results,
                explanation: t["explanation"].as_str().map(str::to_owned),
            });
        }
        scenarios.push(Scenario {
            description: doc["description"].as_str().unwrap_or_default().to_owned(),
            zonedata,
            zone,
            cases,
        });
    }
    Ok(scenarios)
}

/// The query types SPF asks for.
pub const QTYPES: [QueryType; 5] = [
    QueryType::A,
    QueryType::Aaaa,
    QueryType::Mx,
    QueryType::Txt,
    QueryType::Ptr,
];

/// Every name of the zone with every query type, answered as a DNS server
/// would (message id 0): `(name, qtype, response bytes)`. A name outside the
/// zone is NXDOMAIN, which the C driver encodes itself.
pub fn wire_answers(zone: &Zone) -> Vec<(String, QueryType, Vec<u8>)> {
    let mut names: Vec<&str> = zone.entries().map(|(n, _)| n).collect();
    names.sort_unstable();
    let mut out = Vec::new();
    for name in names {
        for qtype in QTYPES {
            let lookup = Lookup {
                id: LookupId(0),
                name: name.to_owned(),
                qtype,
            };
            let answer = zone.resolve(&lookup);
            // A name DNS cannot carry is never asked for: nothing to encode.
            if let Ok(bytes) = wire::encode_response(&lookup, 0, &answer) {
                out.push((name.to_owned(), qtype, bytes));
            }
        }
    }
    out
}

/// Lower-case hex of `bytes`, `-` for none (so that no field of the data file
/// is empty).
pub fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
