//! Answers copied into the evaluation's arenas as they arrive.
//!
//! The evaluator keeps only what SPF reads from an answer: the addresses of the
//! family asked for, exchange and PTR names, TXT bytes. So an answer can be lent
//! (from a cache, a zone, a C caller's buffer) instead of built for each lookup, and
//! restarting an evaluator frees nothing.

use std::net::IpAddr;

use super::compiled::Str;
use crate::dns::{Answer, QueryType, Rdata};
use crate::record::{Selection, is_spf_record};

/// One record of the type asked for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Item {
    /// From an A or AAAA answer.
    Addr(IpAddr),
    /// An MX exchange (as given) or a PTR target (without final dots), in the text arena.
    Name(Str),
    /// A TXT record's bytes in [`Answers::bytes`].
    Txt { start: u32, len: u32 },
}

/// What a resolver said, with its records in the arenas.
#[derive(Debug, Clone, Copy)]
pub(super) enum Digest {
    NxDomain,
    /// A name DNS cannot carry, answered locally as if NXDOMAIN. Nothing was asked,
    /// so it is no void lookup.
    Unqueryable,
    /// A temporary failure and its reason, in the text arena.
    TempFail(Str),
    /// NOERROR with `total` records of any type; `items` of them, starting at `start`
    /// in [`Answers::items`], are of the type asked for.
    Records {
        total: u32,
        start: u32,
        items: u32,
    },
}

impl Digest {
    /// NXDOMAIN or NOERROR without records: a void lookup (RFC 7208 §4.6.4).
    pub(super) fn is_void(self) -> bool {
        matches!(self, Digest::NxDomain | Digest::Records { total: 0, .. })
    }
}

/// The arenas of one evaluation's answers; names go to the evaluation's text arena.
#[derive(Debug, Default)]
pub(super) struct Answers {
    items: Vec<Item>,
    bytes: Vec<u8>,
}

impl Answers {
    /// Forgets every answer, keeping the allocations.
    pub(super) fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
    }

    /// Makes room for `items` records holding `bytes` bytes of TXT data.
    pub(super) fn reserve(&mut self, items: usize, bytes: usize) {
        self.items.reserve(items);
        self.bytes.reserve(bytes);
    }

    /// Copies what SPF reads from an answer to a `qtype` lookup. For TXT answers, also
    /// picks the SPF record among them (RFC 7208 §4.5) while the records are at hand;
    /// the index counts TXT records.
    pub(super) fn digest(
        &mut self,
        answer: &Answer,
        qtype: QueryType,
        text: &mut String,
    ) -> (Digest, Selection) {
        let records = match answer {
            Answer::NxDomain => return (Digest::NxDomain, Selection::NoRecord),
            Answer::TempFail(reason) => {
                return (
                    Digest::TempFail(Str::push(text, reason)),
                    Selection::NoRecord,
                );
            }
            Answer::Records(records) => records,
        };
        let mut spf = Selection::NoRecord;
        let start = self.items.len();
        for record in records {
            let item = match (qtype, record) {
                (QueryType::A, Rdata::A(a)) => Item::Addr(IpAddr::V4(*a)),
                (QueryType::Aaaa, Rdata::Aaaa(a)) => Item::Addr(IpAddr::V6(*a)),
                (QueryType::Mx, Rdata::Mx { exchange, .. }) => {
                    Item::Name(Str::push(text, exchange))
                }
                (QueryType::Ptr, Rdata::Ptr(name)) => {
                    Item::Name(Str::push(text, name.trim_end_matches('.')))
                }
                (QueryType::Txt, Rdata::Txt(t)) => {
                    if is_spf_record(t) {
                        spf = match spf {
                            Selection::NoRecord => Selection::One(self.items.len() - start),
                            _ => Selection::Multiple,
                        };
                    }
                    let start = self.bytes.len() as u32;
                    self.bytes.extend_from_slice(t);
                    Item::Txt {
                        start,
                        len: t.len() as u32,
                    }
                }
                // Records of other types are ignored, but count as records.
                _ => continue,
            };
            self.items.push(item);
        }
        let digest = Digest::Records {
            total: records.len() as u32,
            start: start as u32,
            items: (self.items.len() - start) as u32,
        };
        (digest, spf)
    }

    /// How many records of the type asked for an answer holds.
    pub(super) fn count(&self, digest: Digest) -> usize {
        self.items(digest).len()
    }

    /// The addresses of an A or AAAA answer.
    pub(super) fn addrs(&self, digest: Digest) -> impl Iterator<Item = IpAddr> + '_ {
        self.items(digest).iter().filter_map(|item| match item {
            Item::Addr(a) => Some(*a),
            _ => None,
        })
    }

    /// The `k`-th name of an MX or PTR answer (`k` below [`count`](Self::count)).
    pub(super) fn name(&self, digest: Digest, k: usize) -> Str {
        match self.items(digest)[k] {
            Item::Name(name) => name,
            _ => unreachable!("MX and PTR answers hold names only"),
        }
    }

    /// The `k`-th record of a TXT answer (`k` below [`count`](Self::count)).
    pub(super) fn txt(&self, digest: Digest, k: usize) -> &[u8] {
        match self.items(digest)[k] {
            Item::Txt { start, len } => &self.bytes[start as usize..(start + len) as usize],
            _ => unreachable!("TXT answers hold TXT records only"),
        }
    }

    fn items(&self, digest: Digest) -> &[Item] {
        match digest {
            Digest::Records { start, items, .. } => {
                &self.items[start as usize..(start + items) as usize]
            }
            Digest::NxDomain | Digest::Unqueryable | Digest::TempFail(_) => &[],
        }
    }
}
