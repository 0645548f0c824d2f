//! What an evaluation concludes, and how it got there.

use std::fmt;

use crate::dns::{LookupId, QueryType};
use crate::record::ParseError;

/// The SPF results of RFC 7208 §2.6.
///
/// Serialized as the lower-case name (`"softfail"`), as [`as_str`](Self::as_str) gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum SpfResult {
    /// No record, or no checkable domain.
    None,
    /// The record makes no assertion about the client.
    Neutral,
    /// The client is authorized.
    Pass,
    /// The client is not authorized.
    Fail,
    /// Probably not authorized.
    SoftFail,
    /// A transient DNS error; retry later.
    TempError,
    /// The domain's records are broken.
    PermError,
}

impl SpfResult {
    /// The lower-case name used in headers and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an evaluation ended in `none`, `temperror` or `permerror`, or ended by default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive] // new limits or checks may add causes.
pub enum Problem {
    /// The checked domain is not a usable multi-label DNS name (RFC 7208 §4.3).
    #[error("`{0}` is not a valid fully qualified domain name")]
    InvalidDomain(String),
    /// The domain publishes no SPF record.
    #[error("no SPF record at {0}")]
    NoRecord(String),
    /// More than one SPF record at a name.
    #[error("more than one SPF record at {0}")]
    MultipleRecords(String),
    /// The record does not parse.
    #[error("syntax error in the record of {domain}: {error}")]
    Syntax {
        /// Whose record.
        domain: String,
        /// What is wrong.
        error: ParseError,
    },
    /// An `include` target has no record.
    #[error("include:{0} has no SPF record")]
    IncludeNone(String),
    /// A `redirect` target has no record.
    #[error("redirect={0} has no SPF record")]
    RedirectNone(String),
    /// More DNS-querying terms than allowed.
    #[error("more than {0} DNS-querying terms")]
    TooManyDnsTerms(u32),
    /// More void lookups than allowed.
    #[error("more than {0} void lookups")]
    TooManyVoidLookups(u32),
    /// An `mx` target has more MX names than allowed.
    #[error("{name} has more than {limit} MX records")]
    TooManyMxNames {
        /// The mx target.
        name: String,
        /// The limit.
        limit: u32,
    },
    /// The hard cap on queries was reached.
    #[error("more than {0} DNS queries")]
    QueryCap(u32),
    /// A lookup failed temporarily.
    #[error("DNS lookup of {name} {qtype} failed: {reason}")]
    DnsFailure {
        /// The name looked up.
        name: String,
        /// The type.
        qtype: QueryType,
        /// The resolver's reason (timeout, SERVFAIL, ...).
        reason: String,
    },
}

/// One step of an evaluation, for traces shown to people.
///
/// Serialized as an object tagged by `event` (`query`, `answer`, `record`, `term`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "event", rename_all = "snake_case")
)]
#[non_exhaustive] // traces may grow more detail.
pub enum TraceEvent {
    /// A lookup was handed out.
    Query {
        /// Its id.
        id: LookupId,
        /// Name asked.
        name: String,
        /// Type asked.
        qtype: QueryType,
        /// Asked ahead of need, not counted against the RFC limits.
        prefetch: bool,
    },
    /// An answer arrived.
    Answer {
        /// The lookup.
        id: LookupId,
        /// The answer as text.
        answer: String,
    },
    /// A domain's record was selected and parsed.
    Record {
        /// Whose record.
        domain: String,
        /// Its text.
        text: String,
        /// Nesting depth (0 at the top; includes add 1).
        depth: u32,
    },
    /// A term was evaluated.
    Term {
        /// The record's domain.
        domain: String,
        /// The term in canonical form.
        term: String,
        /// Whether it matched.
        matched: bool,
        /// Nesting depth.
        depth: u32,
    },
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::Query {
                id,
                name,
                qtype,
                prefetch,
            } => {
                let p = if *prefetch { " (prefetch)" } else { "" };
                write!(f, "query {id} {name} {qtype}{p}")
            }
            TraceEvent::Answer { id, answer } => write!(f, "answer {id} {answer}"),
            TraceEvent::Record {
                domain,
                text,
                depth,
            } => write!(
                f,
                "{:w$}record {domain}: {text}",
                "",
                w = *depth as usize * 2
            ),
            TraceEvent::Term {
                domain,
                term,
                matched,
                depth,
            } => {
                let m = if *matched { "match" } else { "no match" };
                write!(
                    f,
                    "{:w$}{domain}: {term} -> {m}",
                    "",
                    w = *depth as usize * 2
                )
            }
        }
    }
}

/// The finished evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The SPF result.
    pub result: SpfResult,
    /// The directive that decided, in canonical form (`-all`, `include:_spf.example.com`);
    /// `None` when no directive matched or an error ended the evaluation.
    pub mechanism: Option<String>,
    /// The domain whose record held the deciding directive (or where the problem was).
    pub domain: String,
    /// Why the result was reached, when no directive decided it.
    pub problem: Option<Problem>,
    /// The explanation, for `fail` only: the record's `exp=` text or the default.
    pub explanation: Option<String>,
    /// DNS-querying terms counted (RFC 7208 §4.6.4).
    pub dns_terms: u32,
    /// Void lookups counted.
    pub void_lookups: u32,
    /// Queries handed out, prefetches included.
    pub queries: u32,
    /// Batches of lookups handed out by `poll()`.
    pub round_trips: u32,
    /// Every step, when [`crate::eval::Config::trace`] is on.
    pub trace: Vec<TraceEvent>,
}

impl Outcome {
    /// A one-line reason a person can read: the directive, or the problem.
    pub fn reason(&self) -> String {
        match (&self.mechanism, &self.problem) {
            (Some(m), _) => format!("matched {m} in the record of {}", self.domain),
            (None, Some(p)) => p.to_string(),
            (None, None) => format!("no directive matched in the record of {}", self.domain),
        }
    }
}
