//! Arbitrary bytes, or a well-formed response with fuzzer-chosen edits, decoded as the
//! response to a lookup: decoding never panics, keeps only records of the asked type
//! with ASCII names, and what it returns encodes and decodes to the same answer.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spfgate::dns::wire::{WireError, decode_response, encode_query, encode_response};
use spfgate::dns::{Answer, Lookup, LookupId, QueryType, Rdata};

const NAMES: &[&str] = &[
    "example.com",
    "_spf.example.com",
    "mx.example.org",
    "1.2.0.192.in-addr.arpa",
    "EXAMPLE.com.",
];
const QTYPES: &[QueryType] = &[
    QueryType::A,
    QueryType::Aaaa,
    QueryType::Mx,
    QueryType::Txt,
    QueryType::Ptr,
];

#[derive(Arbitrary, Debug)]
enum NameIn {
    Known(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum RdataIn {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Mx(u16, NameIn),
    Txt(Vec<u8>),
    Ptr(NameIn),
}

#[derive(Arbitrary, Debug)]
enum AnswerIn {
    Records(Vec<RdataIn>),
    NxDomain,
    TempFail,
}

#[derive(Arbitrary, Debug)]
enum MessageIn {
    Raw(Vec<u8>),
    /// An encoded response to the lookup (or to another name), then byte edits.
    Edited {
        owner: Option<NameIn>,
        answer: AnswerIn,
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
        append: Vec<u8>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    name: NameIn,
    qtype: u8,
    message_id: u16,
    check_id: bool,
    message: MessageIn,
}

fn name(n: &NameIn) -> String {
    match n {
        NameIn::Known(i) => NAMES[usize::from(*i) % NAMES.len()].to_owned(),
        NameIn::Raw(s) => s.clone(),
    }
}

fn answer(a: &AnswerIn) -> Answer {
    match a {
        AnswerIn::NxDomain => Answer::NxDomain,
        AnswerIn::TempFail => Answer::temp_fail("SERVFAIL"),
        AnswerIn::Records(rs) => Answer::Records(
            rs.iter()
                .map(|r| match r {
                    RdataIn::A(o) => Rdata::A(Ipv4Addr::from(*o)),
                    RdataIn::Aaaa(o) => Rdata::Aaaa(Ipv6Addr::from(*o)),
                    RdataIn::Mx(preference, exchange) => Rdata::Mx {
                        preference: *preference,
                        exchange: name(exchange),
                    },
                    RdataIn::Txt(t) => Rdata::Txt(t.clone()),
                    RdataIn::Ptr(n) => Rdata::Ptr(name(n)),
                })
                .collect(),
        ),
    }
}

fn message(lookup: &Lookup, id: u16, m: &MessageIn) -> Vec<u8> {
    match m {
        MessageIn::Raw(bytes) => bytes.clone(),
        MessageIn::Edited {
            owner,
            answer: a,
            edits,
            cut,
            append,
        } => {
            let owner = Lookup {
                name: owner.as_ref().map_or_else(|| lookup.name.clone(), name),
                ..lookup.clone()
            };
            let mut bytes = encode_response(&owner, id, &answer(a)).unwrap_or_default();
            if !bytes.is_empty() {
                for &(at, value) in edits {
                    let at = usize::from(at) % bytes.len();
                    bytes[at] = value;
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(usize::from(*cut));
            }
            bytes.extend_from_slice(append);
            bytes
        }
    }
}

/// Names as decoding reports them: ASCII (other bytes escaped), no trailing dot.
fn check_name(name: &str) {
    assert!(
        name.is_ascii() && !name.ends_with('.'),
        "decoded name {name:?}"
    );
}

fuzz_target!(|input: Input| {
    let lookup = Lookup {
        id: LookupId(1),
        name: name(&input.name),
        qtype: QTYPES[usize::from(input.qtype) % QTYPES.len()],
    };
    // A query is not a response to itself.
    if let Ok(query) = encode_query(&lookup, input.message_id) {
        assert!(matches!(
            decode_response(&lookup, None, &query),
            Err(WireError::NotAResponse)
        ));
    }
    let bytes = message(&lookup, input.message_id, &input.message);
    let expected_id = input.check_id.then_some(input.message_id);
    let decoded = match decode_response(&lookup, expected_id, &bytes) {
        Ok(answer) => answer,
        Err(error) => {
            let _ = error.to_string();
            let _ = error.into_answer();
            return;
        }
    };
    let mut escaped = false;
    if let Answer::Records(records) = &decoded {
        for rdata in records {
            let qtype = match rdata {
                Rdata::A(_) => QueryType::A,
                Rdata::Aaaa(_) => QueryType::Aaaa,
                Rdata::Mx { exchange, .. } => {
                    check_name(exchange);
                    escaped |= exchange.contains('\\');
                    QueryType::Mx
                }
                Rdata::Txt(_) => QueryType::Txt,
                Rdata::Ptr(target) => {
                    check_name(target);
                    escaped |= target.contains('\\');
                    QueryType::Ptr
                }
                _ => unreachable!("decoding only returns the types SPF asks for"),
            };
            assert_eq!(
                qtype, lookup.qtype,
                "a {qtype} record in a {} answer",
                lookup.qtype
            );
        }
    }
    // Escaped names are text for people, not names to encode again.
    if escaped {
        return;
    }
    let again = encode_response(&lookup, input.message_id, &decoded)
        .unwrap_or_else(|e| panic!("decoded answer {decoded} does not encode: {e}"));
    let redecoded = decode_response(&lookup, Some(input.message_id), &again)
        .unwrap_or_else(|e| panic!("re-encoded answer {decoded} does not decode: {e}"));
    match (&decoded, &redecoded) {
        (Answer::TempFail(_), Answer::TempFail(_)) => {}
        _ => assert_eq!(redecoded, decoded, "the answer changed through the wire"),
    }
});
