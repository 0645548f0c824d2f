//! DNS vocabulary shared by the evaluator, the policy decision and the linter.
//!
//! The engine never talks to the network: it hands out [`Lookup`]s and takes back
//! [`Answer`]s. Callers that already hold raw DNS messages (a C resolver's
//! `res_query()` buffer, a DNS-over-HTTPS body) use [`wire`] to encode queries and
//! decode responses instead.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

mod engine;
pub(crate) mod name;
pub mod wire;

pub use self::engine::{Engine, drive};

/// What the caller of a sans-IO engine (the evaluator, a policy decision, a lint
/// analysis) should do next; `T` is what the engine concludes.
///
/// Exhaustive on purpose: these three steps are the whole loop, and callers match
/// them without a wildcard arm.
#[derive(Debug)]
#[must_use = "the step says which lookups to send or that the work is done"]
pub enum Step<'a, T> {
    /// Resolve these lookups (they are independent: send them all at once) and pass
    /// each answer back by id. Each lookup is handed out once.
    Lookups(Vec<Lookup>),
    /// Lookups handed out earlier are still unanswered; nothing new to send.
    Pending,
    /// Finished; every later poll returns the same conclusion.
    Done(&'a T),
}

/// Caller misuse when answering a lookup. DNS content never produces these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive] // more misuse checks may be added.
pub enum AnswerError {
    /// The id was never handed out by this engine.
    #[error("lookup {0} was never handed out")]
    UnknownId(LookupId),
    /// The lookup already has an answer.
    #[error("lookup {0} was already answered")]
    AlreadyAnswered(LookupId),
    /// A wire response had the TC bit set: resend the query over TCP and answer again.
    #[error("response to lookup {0} is truncated; retry over TCP")]
    Truncated(LookupId),
}

impl AnswerError {
    /// A stable kebab-case name of the variant (`unknown-id`, `already-answered`,
    /// `truncated`), the `code` of the npm package's `SpfAnswerError`.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerError::UnknownId(_) => "unknown-id",
            AnswerError::AlreadyAnswered(_) => "already-answered",
            AnswerError::Truncated(_) => "truncated",
        }
    }
}

/// Identifies one lookup handed out by an engine; answers are matched by it.
///
/// Ids are unique within one evaluation and small, so a C caller can use them
/// as DNS message ids or array indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct LookupId(pub u32);

impl fmt::Display for LookupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The record types SPF evaluation needs.
///
/// Serialized as the mnemonic (`"TXT"`), as resolvers take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "UPPERCASE")
)]
#[non_exhaustive] // SPF may one day ask for more (e.g. HTTPS records for DoH discovery).
pub enum QueryType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Mail exchangers.
    Mx,
    /// Text records (SPF records live here).
    Txt,
    /// Reverse-DNS names.
    Ptr,
}

impl QueryType {
    /// The DNS TYPE code (RFC 1035, RFC 3596).
    pub fn code(self) -> u16 {
        match self {
            QueryType::A => 1,
            QueryType::Aaaa => 28,
            QueryType::Mx => 15,
            QueryType::Txt => 16,
            QueryType::Ptr => 12,
        }
    }

    /// Every type SPF asks for.
    pub const ALL: [QueryType; 5] = [
        QueryType::A,
        QueryType::Aaaa,
        QueryType::Mx,
        QueryType::Txt,
        QueryType::Ptr,
    ];

    /// The type whose mnemonic is `text` (exactly as [`as_str`](Self::as_str)
    /// writes it), if SPF asks for it.
    pub fn from_mnemonic(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The mnemonic as written in zone files (`A`, `AAAA`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            QueryType::A => "A",
            QueryType::Aaaa => "AAAA",
            QueryType::Mx => "MX",
            QueryType::Txt => "TXT",
            QueryType::Ptr => "PTR",
        }
    }
}

impl fmt::Display for QueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One DNS question the caller must answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Lookup {
    /// Pass this back with the answer.
    pub id: LookupId,
    /// Fully qualified name without the trailing dot, ASCII, at most 253 octets.
    pub name: String,
    /// What to ask for.
    pub qtype: QueryType,
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.id, self.name, self.qtype)
    }
}

/// One resource record of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive] // more record types may be supplied in later versions.
pub enum Rdata {
    /// An `A` record.
    A(Ipv4Addr),
    /// An `AAAA` record.
    Aaaa(Ipv6Addr),
    /// An `MX` record.
    Mx {
        /// Preference (lower is preferred; SPF ignores it but keeps it for traces).
        preference: u16,
        /// Exchange host name, without the trailing dot.
        exchange: String,
    },
    /// A `TXT` record: its character-strings joined without separators, as bytes
    /// (DNS does not promise ASCII or UTF-8).
    Txt(Vec<u8>),
    /// A `PTR` record's target name, without the trailing dot.
    Ptr(String),
}

impl fmt::Display for Rdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rdata::A(a) => write!(f, "A {a}"),
            Rdata::Aaaa(a) => write!(f, "AAAA {a}"),
            Rdata::Mx {
                preference,
                exchange,
            } => write!(f, "MX {preference} {exchange}"),
            Rdata::Txt(t) => write!(f, "TXT \"{}\"", t.escape_ascii()),
            Rdata::Ptr(p) => write!(f, "PTR {p}"),
        }
    }
}

/// What a resolver said about one [`Lookup`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Answer {
    /// NOERROR. An empty list is "no data" (the name exists, the type does not),
    /// which SPF counts as a void lookup. Records of other types are ignored.
    Records(Vec<Rdata>),
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// Timeout, SERVFAIL, REFUSED, a malformed message: SPF's temperror.
    TempFail(String),
}

impl Answer {
    /// Shorthand for a temporary failure with a reason.
    pub fn temp_fail(reason: impl Into<String>) -> Self {
        Answer::TempFail(reason.into())
    }

    /// True for NXDOMAIN and for an empty NOERROR answer (RFC 7208 §4.6.4).
    pub fn is_void(&self) -> bool {
        match self {
            Answer::Records(r) => r.is_empty(),
            Answer::NxDomain => true,
            Answer::TempFail(_) => false,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Records(r) if r.is_empty() => f.write_str("NODATA"),
            Answer::Records(r) => {
                for (i, rr) in r.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{rr}")?;
                }
                Ok(())
            }
            Answer::NxDomain => f.write_str("NXDOMAIN"),
            Answer::TempFail(why) => write!(f, "TEMPFAIL ({why})"),
        }
    }
}

/// A name as zones and caches key it: without its final dots, in lower case (DNS names
/// compare without case).
pub(crate) fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::{AnswerError, LookupId, QueryType};

    #[test]
    fn answer_error_codes_name_the_variants() {
        let id = LookupId(3);
        let codes = [
            AnswerError::UnknownId(id).code(),
            AnswerError::AlreadyAnswered(id).code(),
            AnswerError::Truncated(id).code(),
        ];
        assert_eq!(codes, ["unknown-id", "already-answered", "truncated"]);
    }

    #[test]
    fn mnemonics_read_back_exactly() {
        for t in QueryType::ALL {
            assert_eq!(QueryType::from_mnemonic(t.as_str()), Some(t));
        }
        assert_eq!(QueryType::from_mnemonic("txt"), None);
        assert_eq!(QueryType::from_mnemonic("SPF"), None);
    }
}
