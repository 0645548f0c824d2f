//! In-memory zones in the RFC 7208 test suite's `zonedata` shape, answering lookups
//! without a network: for tests, demos and the CLI's `--zone`.
//!
//! The shape is a map from names to record lists, each record `{TYPE: value}` or the
//! bare string `TIMEOUT`, with the suite drivers' conventions: `SPF` records also
//! answer TXT queries unless the name lists any `TXT` (`TXT: NONE` lists none);
//! a query whose type has no record listed before a `TIMEOUT` times out; TXT/SPF
//! values may be lists of character-strings; MX values are `[preference, exchange]`.
//!
//! ```
//! use spfgate::dns::{Answer, Lookup, LookupId, QueryType, Rdata};
//! use spfgate::zone::Zone;
//! let zone = Zone::from_json(r#"{"example.com": [{"SPF": "v=spf1 -all"}, {"MX": [10, "mx.example.com"]}]}"#)?;
//! let lookup = Lookup { id: LookupId(0), name: "EXAMPLE.com".into(), qtype: QueryType::Txt };
//! assert_eq!(zone.resolve(&lookup), Answer::Records(vec![Rdata::Txt(b"v=spf1 -all".to_vec())]));
//! # Ok::<(), spfgate::zone::ZoneError>(())
//! ```

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use crate::dns::wire::MAX_CNAME_HOPS;
use crate::dns::{Answer, Lookup, QueryType, Rdata, normalize};

/// A zone file that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", entry_of(name))]
pub struct ZoneError {
    /// The name whose entry is wrong (empty when the document itself is wrong).
    pub name: String,
    /// What is wrong.
    pub message: String,
}

/// `zone entry for `name`: ` before a message about one name's entry.
fn entry_of(name: &str) -> String {
    match name {
        "" => String::new(),
        name => format!("zone entry for `{name}`: "),
    }
}

/// One listed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneEntry {
    /// A record of a type the engine asks for.
    Record(Rdata),
    /// `SPF: value`: answers TXT queries unless the name lists a TXT record.
    Spf(Vec<u8>),
    /// `TXT: NONE`: the name has no TXT record, and SPF records are not copied.
    TxtNone,
    /// `CNAME: target`.
    Cname(String),
    /// `TIMEOUT`: queries of types not listed before it time out.
    Timeout,
}

/// Names and their records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zone {
    names: HashMap<String, Vec<ZoneEntry>>,
}

impl Zone {
    /// Parses a JSON document (YAML callers convert to a `serde_json::Value` first).
    pub fn from_json(text: &str) -> Result<Self, ZoneError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ZoneError {
            name: String::new(),
            message: e.to_string(),
        })?;
        Self::from_value(&value)
    }

    /// Builds a zone from a parsed `{name: [records]}` document.
    pub fn from_value(value: &Value) -> Result<Self, ZoneError> {
        let Some(map) = value.as_object() else {
            return Err(ZoneError {
                name: String::new(),
                message: "expected a map from names to record lists".into(),
            });
        };
        let mut zone = Zone::default();
        for (name, records) in map {
            let err = |message: String| ZoneError {
                name: name.clone(),
                message,
            };
            let list = match records {
                Value::Array(list) => list.as_slice(),
                Value::Null => &[],
                _ => return Err(err("expected a list of records".into())),
            };
            let entries = list
                .iter()
                .map(parse_entry)
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            zone.names
                .entry(normalize(name))
                .or_default()
                .extend(entries);
        }
        Ok(zone)
    }

    /// Adds one entry (for zones built in code).
    pub fn add(&mut self, name: &str, entry: ZoneEntry) {
        self.names.entry(normalize(name)).or_default().push(entry);
    }

    /// The names and their entries, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[ZoneEntry])> {
        self.names.iter().map(|(n, e)| (n.as_str(), e.as_slice()))
    }

    /// Answers a lookup the way the suite's drivers do, following CNAMEs.
    pub fn resolve(&self, lookup: &Lookup) -> Answer {
        let mut name = normalize(&lookup.name);
        for _ in 0..MAX_CNAME_HOPS {
            let Some(entries) = self.names.get(&name) else {
                return Answer::NxDomain;
            };
            let has_txt = entries
                .iter()
                .any(|e| matches!(e, ZoneEntry::TxtNone | ZoneEntry::Record(Rdata::Txt(_))));
            let mut records = Vec::new();
            let mut cname = None;
            for entry in entries {
                match entry {
                    ZoneEntry::Timeout if records.is_empty() => {
                        return Answer::temp_fail("timeout");
                    }
                    ZoneEntry::Timeout => break,
                    ZoneEntry::Record(r) if rdata_type(r) == lookup.qtype => {
                        records.push(r.clone())
                    }
                    ZoneEntry::Spf(t) if lookup.qtype == QueryType::Txt && !has_txt => {
                        records.push(Rdata::Txt(t.clone()));
                    }
                    ZoneEntry::Cname(target) => cname = Some(normalize(target)),
                    _ => {}
                }
            }
            match cname {
                Some(target) if records.is_empty() => name = target,
                _ => return Answer::Records(records),
            }
        }
        Answer::temp_fail("CNAME chain too long")
    }
}

fn rdata_type(r: &Rdata) -> QueryType {
    match r {
        Rdata::A(_) => QueryType::A,
        Rdata::Aaaa(_) => QueryType::Aaaa,
        Rdata::Mx { .. } => QueryType::Mx,
        Rdata::Txt(_) => QueryType::Txt,
        Rdata::Ptr(_) => QueryType::Ptr,
    }
}

fn parse_entry(value: &Value) -> Result<ZoneEntry, String> {
    if value.as_str() == Some("TIMEOUT") {
        return Ok(ZoneEntry::Timeout);
    }
    let Some((rtype, v)) = value.as_object().and_then(|m| {
        let mut it = m.iter();
        let first = it.next();
        if it.next().is_some() { None } else { first }
    }) else {
        return Err(format!(
            "expected {{TYPE: value}} or TIMEOUT, found {value}"
        ));
    };
    let text = || {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{rtype} value must be a string, found {v}"))
    };
    let entry = match rtype.to_ascii_uppercase().as_str() {
        "A" => {
            let ip: Ipv4Addr = text()?.parse().map_err(|e| format!("A value: {e}"))?;
            ZoneEntry::Record(Rdata::A(ip))
        }
        "AAAA" => {
            let ip: Ipv6Addr = text()?.parse().map_err(|e| format!("AAAA value: {e}"))?;
            ZoneEntry::Record(Rdata::Aaaa(ip))
        }
        "MX" => {
            let pair = v.as_array().filter(|a| a.len() == 2);
            let parsed = pair.and_then(|a| {
                let preference = u16::try_from(a[0].as_u64()?).ok()?;
                let exchange = a[1].as_str()?.trim_end_matches('.').to_owned();
                Some(Rdata::Mx {
                    preference,
                    exchange,
                })
            });
            ZoneEntry::Record(
                parsed.ok_or_else(|| format!("MX value must be [pref, name], found {v}"))?,
            )
        }
        "PTR" => ZoneEntry::Record(Rdata::Ptr(text()?.trim_end_matches('.').to_owned())),
        "CNAME" => ZoneEntry::Cname(text()?),
        "TXT" if v.as_str() == Some("NONE") => ZoneEntry::TxtNone,
        "TXT" => ZoneEntry::Record(Rdata::Txt(character_strings(v)?)),
        "SPF" => ZoneEntry::Spf(character_strings(v)?),
        other => return Err(format!("unsupported record type {other}")),
    };
    Ok(entry)
}

/// A TXT value: one string, or a list of character-strings joined without separators.
fn character_strings(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Array(parts) => parts.iter().try_fold(Vec::new(), |mut out, p| {
            let s = p
                .as_str()
                .ok_or_else(|| format!("TXT strings must be strings, found {p}"))?;
            out.extend_from_slice(s.as_bytes());
            Ok(out)
        }),
        other => Err(format!(
            "TXT value must be a string or a list, found {other}"
        )),
    }
}
