//! What a lookup analysis is given and what it concludes, as plain data: its
//! [`AnalysisOptions`] and its [`Report`], with the flattening suggestion.

use super::{Finding, Severity};
use crate::eval::Limits;
use crate::record::Span;

/// Bounds and limits of an [`Analysis`](super::Analysis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// The receiver limits to check against (RFC 7208 defaults).
    pub limits: Limits,
    /// Deepest `include`/`redirect` nesting fetched (the checked domain is depth 0).
    pub max_depth: u32,
    /// Most lookups the analysis asks for; beyond it, parts stay unexplored.
    pub max_queries: u32,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            limits: Limits::default(),
            // A receiver stops after 10 DNS-querying terms, so a valid tree is at most 11 deep.
            max_depth: 16,
            max_queries: 400,
        }
    }
}

/// Void lookups per client address family: `a` terms and the hosts of `mx` terms are
/// looked up as A records for IPv4 clients and AAAA records for IPv6 clients, so a name
/// with only A records costs IPv6 clients a void lookup. The MX lookup itself and
/// `exists` count for both. Counted as [`Limits::void_counting`] says, as the
/// evaluator counts them: an `mx` term's hosts count once for the term (per term) or
/// each (per lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VoidLookups {
    /// Counted when the client is IPv4.
    pub ipv4: u32,
    /// Counted when the client is IPv6.
    pub ipv6: u32,
}

/// The MX host count behind one `mx` term.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MxHosts {
    /// The chain to the record holding the term.
    pub chain: Vec<String>,
    /// The record holding the term.
    pub domain: String,
    /// The term's span in that record.
    pub span: Span,
    /// The name whose MX records were counted.
    pub target: String,
    /// MX hosts found (a receiver looks up at most 10).
    pub hosts: u32,
}

/// One record on the evaluation path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TreeRecord {
    /// How it was reached: the domain, then `include:`/`redirect=` steps.
    pub chain: Vec<String>,
    /// Its domain.
    pub domain: String,
    /// Nesting depth (0 for the checked domain).
    pub depth: u32,
    /// The record text.
    pub text: String,
}

/// The result of an [`Analysis`](super::Analysis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The checked domain.
    pub domain: String,
    /// Every finding: static findings of each record on the path (with their chain),
    /// then limit, lookup and structure findings, in path order.
    pub findings: Vec<Finding>,
    /// DNS-querying terms along the whole path for a client nothing matches. Counting
    /// goes on past the limit and past errors, so every problem shows; a receiver stops
    /// at the first error.
    pub dns_terms: u32,
    /// Void lookups along the same path.
    pub void_lookups: VoidLookups,
    /// MX host counts, one per `mx` term on the path.
    pub mx_hosts: Vec<MxHosts>,
    /// Deepest include/redirect nesting on the path.
    pub depth: u32,
    /// The records walked, in evaluation order.
    pub records: Vec<TreeRecord>,
    /// True when the counts are exactly what every receiver counts for such a client:
    /// no errors, no DNS failures, no macros or `ptr` whose lookups depend on the
    /// client, and nothing beyond the analysis bounds.
    pub exact: bool,
    /// An equivalent record with resolved networks, when the domain's record parses.
    pub flattening: Option<Flattening>,
    /// Lookups handed out.
    pub queries: u32,
    /// Batches handed out.
    pub round_trips: u32,
}

impl Report {
    /// The most serious severity among the findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}

/// A suggested equivalent record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Flattening {
    /// The record text.
    pub record: String,
    /// The same text split into character-strings of at most 255 octets, to publish
    /// as one TXT record (receivers join them without separators).
    pub strings: Vec<String>,
    /// DNS-querying terms of the original along the worst-case path.
    pub dns_terms_before: u32,
    /// The same count for the suggestion (kept includes count with their subtree).
    pub dns_terms_after: u32,
    /// Terms kept verbatim because they cannot be resolved ahead of time.
    pub kept: Vec<String>,
}
