//! The DNS data an analysis gathers: one slot per lookup (the cache and the id space at
//! once), the SPF record of a name selected as the evaluator selects it, and the names
//! terms ask for.

use std::collections::HashMap;

use crate::dns::{Answer, QueryType, Rdata, normalize};
use crate::macros::MacroString;
use crate::record::{ParseError, Record, Selection, select_record};

/// One lookup: the cache and the id space at once.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) name: String,
    pub(super) qtype: QueryType,
    pub(super) sent: bool,
    pub(super) answer: Option<Answer>,
    /// Nesting depth of the record that needs it (TXT: of the record itself).
    pub(super) depth: u32,
    /// Whether the answer's follow-up lookups were requested.
    pub(super) processed: bool,
}

/// The DNS data gathered so far.
#[derive(Debug, Default)]
pub(super) struct Dns {
    pub(super) slots: Vec<Slot>,
    pub(super) index: HashMap<(String, QueryType), usize>,
}

/// A name's SPF record as gathered.
pub(super) enum Fetched<'a> {
    Found(&'a str),
    NoRecord,
    Multiple,
    Syntax(ParseError),
    TempFail(&'a str),
    Unfetched,
}

impl Dns {
    /// The answer for a lookup, if it was asked and answered.
    pub(super) fn get(&self, name: &str, qtype: QueryType) -> Option<&Answer> {
        let i = self.index.get(&(normalize(name), qtype))?;
        self.slots[*i].answer.as_ref()
    }

    /// The SPF record at `name`, selected like the evaluator does.
    pub(super) fn record(&self, name: &str) -> Fetched<'_> {
        let Some(answer) = self.get(name, QueryType::Txt) else {
            return Fetched::Unfetched;
        };
        let records = match answer {
            Answer::TempFail(reason) => return Fetched::TempFail(reason),
            Answer::NxDomain => return Fetched::NoRecord,
            Answer::Records(records) => records,
        };
        let txts: Vec<&[u8]> = records
            .iter()
            .filter_map(|r| match r {
                Rdata::Txt(t) => Some(t.as_slice()),
                _ => None,
            })
            .collect();
        match select_record(&txts) {
            Selection::NoRecord => Fetched::NoRecord,
            Selection::Multiple => Fetched::Multiple,
            Selection::One(i) => match Record::parse_bytes(txts[i]) {
                Err(e) => Fetched::Syntax(e),
                Ok(_) => match std::str::from_utf8(txts[i]) {
                    Ok(text) => Fetched::Found(text),
                    // Parsed records are ASCII; kept total rather than asserted.
                    Err(_) => Fetched::Unfetched,
                },
            },
        }
    }
}

/// The exchange names of an MX answer.
pub(super) fn mx_exchanges(records: &[Rdata]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match r {
            Rdata::Mx { exchange, .. } => Some(exchange.clone()),
            _ => None,
        })
        .collect()
}

/// A target without macros, normalized and truncated to 253 octets as the evaluator
/// truncates every domain-spec (RFC 7208 §4.8, §7.3); `None` when it needs the sender
/// or client.
pub(super) fn literal(spec: &MacroString<'_>) -> Option<String> {
    spec.is_literal().then(|| {
        let mut name = normalize(spec.as_str());
        name.drain(..crate::macros::domain_truncation(name.as_bytes()));
        name
    })
}

/// A mechanism's target: its literal domain-spec or the current domain.
pub(super) fn target(spec: Option<&MacroString<'_>>, domain: &str) -> Option<String> {
    match spec {
        None => Some(normalize(domain)),
        Some(spec) => literal(spec),
    }
}
