//! Record linting and lookup analysis, with the evaluator's parser and limit rules.
//!
//! Three tools, all without I/O:
//!
//! - [`lint_record`]: static findings on one record's text.
//! - [`Analysis`]: a sans-IO state machine, driven like [`crate::eval::Evaluator`]
//!   (`poll` → lookups → `answer` → `poll` …), that fetches a domain's record and every
//!   `include`/`redirect` target, counts what a receiver counts along the evaluation
//!   path, and names the chain of records behind each finding.
//! - A flattening suggestion in the analysis [`Report`]: an equivalent record made of
//!   `ip4`/`ip6` terms plus the terms that cannot be resolved ahead of time.
//!
//! ```
//! use spfgate::lint::{codes, lint_record, Severity};
//! let findings = lint_record("v=spf1 ip4:192.0.2.1/24 +all");
//! assert_eq!(findings[0].code, codes::HOST_BITS);
//! assert_eq!((findings[1].code, findings[1].severity), (codes::PLUS_ALL, Severity::Error));
//! assert_eq!(&"v=spf1 ip4:192.0.2.1/24 +all"[findings[1].span.start..findings[1].span.end()], "+all");
//! ```
//!
//! # Finding codes
//!
//! Codes are stable kebab-case names; the constants in [`codes`] spell them.
//!
//! | code | severity | what |
//! |------|----------|------|
//! | `syntax-error` | error | the record does not parse (span: the offending bytes) |
//! | `plus-all` | error | `+all` authorizes every host on the Internet |
//! | `neutral-all` | warning | `?all` asserts nothing about other hosts |
//! | `ptr-deprecated` | warning | `ptr` is slow, unreliable and deprecated (RFC 7208 §5.5) |
//! | `no-all` | warning | neither `all` nor `redirect=`: unlisted hosts get `neutral` |
//! | `after-all` | warning | a mechanism after `all` is never evaluated |
//! | `redirect-ignored` | warning | `redirect=` is ignored when the record has `all` |
//! | `duplicate-term` | warning | the same mechanism twice (a wasted lookup for DNS terms) |
//! | `duplicate-network` | warning | an `ip4`/`ip6` network already covered by another term |
//! | `host-bits` | warning | `ip4`/`ip6` with bits set beyond the prefix length |
//! | `broad-network` | warning (error for `+…/0`) | a /0–/8 IPv4 or /0–/32 IPv6 network |
//! | `macro-target` | warning | `include`/`redirect` target built from macros: the result depends on the sender |
//! | `macro-p` | warning | `%{p}` (validated reverse name) is slow and unreliable (RFC 7208 §7.3) |
//! | `exp-unused` | info | `exp=` on a record with no `-` directive: the explanation is never shown |
//! | `too-many-dns-terms` | error | more than 10 DNS-querying terms (permerror) |
//! | `long-record` | info | longer than 255 octets: must be published as several strings |
//! | `udp-size` | warning | longer than 450 octets: the DNS answer may not fit in UDP |
//! | `unknown-modifier` | info | a modifier SPF does not define; receivers ignore it |
//! | `extension-modifier` | info | an RFC 6652 `ra=`, `rp=` or `rr=` modifier (a known extension) |
//!
//! The tree analysis adds:
//!
//! | code | severity | what |
//! |------|----------|------|
//! | `too-many-void-lookups` | error | more than 2 void lookups (NXDOMAIN or empty), counted as the evaluator counts them (permerror) |
//! | `void-lookup` | warning | one such lookup |
//! | `too-many-mx-hosts` | error | an `mx` target with more than 10 MX hosts (permerror) |
//! | `no-record` | error | an `include`/`redirect` target (or the domain) has no SPF record |
//! | `multiple-records` | error | more than one SPF record at a name (permerror) |
//! | `loop` | error | an `include`/`redirect` leads back to a record on its own chain |
//! | `dns-failure` | warning | a lookup failed temporarily; the analysis is incomplete |
//! | `not-followed` | info | a target built from macros (or `ptr`) cannot be resolved ahead of time |
//! | `analysis-limit` | warning | the analysis stopped at its depth or query bound |

use std::fmt;

use crate::record::Span;

mod analysis;
mod findings;
mod flatten;
mod gather;
mod report;
mod voids;
mod walk;

pub use self::analysis::{Analysis, AnalysisStep};
pub use self::findings::lint_record;
pub use self::report::{AnalysisOptions, Flattening, MxHosts, Report, TreeRecord, VoidLookups};

/// The stable finding codes (see the module documentation for the table).
pub mod codes {
    /// The record does not parse.
    pub const SYNTAX_ERROR: &str = "syntax-error";
    /// `+all`.
    pub const PLUS_ALL: &str = "plus-all";
    /// `?all`.
    pub const NEUTRAL_ALL: &str = "neutral-all";
    /// `ptr` used.
    pub const PTR_DEPRECATED: &str = "ptr-deprecated";
    /// Neither `all` nor `redirect=`.
    pub const NO_ALL: &str = "no-all";
    /// A mechanism after `all`.
    pub const AFTER_ALL: &str = "after-all";
    /// `redirect=` together with `all`.
    pub const REDIRECT_IGNORED: &str = "redirect-ignored";
    /// The same mechanism twice.
    pub const DUPLICATE_TERM: &str = "duplicate-term";
    /// A network covered by another term.
    pub const DUPLICATE_NETWORK: &str = "duplicate-network";
    /// Host bits set beyond the prefix.
    pub const HOST_BITS: &str = "host-bits";
    /// A very wide network.
    pub const BROAD_NETWORK: &str = "broad-network";
    /// An include or redirect target built from macros.
    pub const MACRO_TARGET: &str = "macro-target";
    /// `%{p}` used.
    pub const MACRO_P: &str = "macro-p";
    /// `exp=` that can never be shown.
    pub const EXP_UNUSED: &str = "exp-unused";
    /// More than 10 DNS-querying terms.
    pub const TOO_MANY_DNS_TERMS: &str = "too-many-dns-terms";
    /// Longer than one 255-octet string.
    pub const LONG_RECORD: &str = "long-record";
    /// Longer than 450 octets.
    pub const UDP_SIZE: &str = "udp-size";
    /// A modifier SPF does not define.
    pub const UNKNOWN_MODIFIER: &str = "unknown-modifier";
    /// An RFC 6652 reporting modifier.
    pub const EXTENSION_MODIFIER: &str = "extension-modifier";
    /// More than 2 void lookups.
    pub const TOO_MANY_VOID_LOOKUPS: &str = "too-many-void-lookups";
    /// One void lookup.
    pub const VOID_LOOKUP: &str = "void-lookup";
    /// More than 10 MX hosts behind one `mx`.
    pub const TOO_MANY_MX_HOSTS: &str = "too-many-mx-hosts";
    /// No SPF record at a target.
    pub const NO_RECORD: &str = "no-record";
    /// Several SPF records at a name.
    pub const MULTIPLE_RECORDS: &str = "multiple-records";
    /// An include/redirect loop.
    pub const LOOP: &str = "loop";
    /// A temporary DNS failure.
    pub const DNS_FAILURE: &str = "dns-failure";
    /// A target that cannot be resolved ahead of time.
    pub const NOT_FOLLOWED: &str = "not-followed";
    /// The analysis reached its own bounds.
    pub const ANALYSIS_LIMIT: &str = "analysis-limit";
}

/// How serious a finding is. Serialized as [`as_str`](Self::as_str) gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive] // a finer scale may be added; match with a wildcard arm.
pub enum Severity {
    /// Receivers will return permerror, or the record authorizes far too much.
    Error,
    /// Works, but likely not as intended, or fragile.
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem or remark about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Finding {
    /// A stable code from [`codes`].
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// Where, in bytes of the record text of [`domain`](Self::domain) (of the linted
    /// text for [`lint_record`]). An empty span marks a position, e.g. where `-all` belongs.
    pub span: Span,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, in one line.
    pub hint: String,
    /// Whose record the span is in; empty for [`lint_record`].
    pub domain: String,
    /// How the analysis got there: the checked domain, then each `include:`/`redirect=`
    /// followed (`["example.com", "include:_spf.example.net"]`); empty for [`lint_record`].
    pub chain: Vec<String>,
}

impl Finding {
    pub(crate) fn new(
        code: &'static str,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            severity,
            span,
            message: message.into(),
            hint: hint.into(),
            domain: String::new(),
            chain: Vec::new(),
        }
    }

    /// The chain as text: `example.com → include:_spf.example.net`.
    pub fn chain_text(&self) -> String {
        self.chain.join(" → ")
    }
}

impl fmt::Display for Finding {
    /// `warning ptr-deprecated (bytes 7–10): … — hint`, with the chain when there is one.
    /// The byte range is left out when there is no record text to point into (an
    /// analysis finding about a name without a record has an empty span at 0, where
    /// no term of a record can be).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.severity, self.code)?;
        if !self.chain.is_empty() {
            write!(f, " [{}]", self.chain_text())?;
        }
        let no_text = !self.domain.is_empty() && self.span == Span::default();
        if !no_text {
            write!(f, " (bytes {}–{})", self.span.start, self.span.end())?;
        }
        write!(f, ": {} — {}", self.message, self.hint)
    }
}
