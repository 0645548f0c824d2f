//! What an evaluation is asked, and the limits it runs under.

use std::net::IpAddr;
use std::sync::Arc;

/// Which identity is being checked (RFC 7208 §2.3, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Identity {
    /// The MAIL FROM domain; for a null sender, `postmaster@` the HELO name.
    #[default]
    MailFrom,
    /// The HELO/EHLO name, with sender `postmaster@<helo>`.
    Helo,
}

/// One SMTP transaction's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The connecting client. IPv4-mapped IPv6 addresses are treated as IPv4.
    pub ip: IpAddr,
    /// The MAIL FROM address without angle brackets; empty for the null sender `<>`.
    pub mail_from: String,
    /// The HELO/EHLO name.
    pub helo: String,
    /// This receiver's host name, for `%{r}` (`unknown` when empty).
    pub receiver: String,
    /// Seconds since the Unix epoch, for `%{t}`; the engine never reads a clock.
    pub now: u64,
    /// Which identity to check.
    pub identity: Identity,
}

impl Request {
    /// A MAIL FROM check with no receiver name and time 0.
    ///
    /// ```
    /// let req = spfgate::eval::Request::new("192.0.2.1".parse().unwrap(), "a@example.com", "mx.example.com");
    /// assert_eq!(req.identity, spfgate::eval::Identity::MailFrom);
    /// ```
    pub fn new(ip: IpAddr, mail_from: &str, helo: &str) -> Self {
        Request {
            ip,
            mail_from: mail_from.to_owned(),
            helo: helo.to_owned(),
            receiver: String::new(),
            now: 0,
            identity: Identity::MailFrom,
        }
    }
}

/// Processing limits (RFC 7208 §4.6.4), counted across every include and redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// DNS-querying terms (include, a, mx, ptr, exists, redirect); RFC default 10.
    pub dns_terms: u32,
    /// Void lookups (answered NXDOMAIN or with no records) allowed; RFC default 2.
    /// What counts is set by [`void_counting`](Self::void_counting).
    pub void_lookups: u32,
    /// How void lookups are counted: per term (the default) or per lookup.
    pub void_counting: VoidCounting,
    /// MX names one `mx` may look up; more is a permerror. RFC default 10.
    pub mx_names: u32,
    /// PTR names `ptr` and `%{p}` validate; extra ones are ignored. RFC default 10.
    pub ptr_names: u32,
    /// Hard cap on the lookups one evaluation needs, so that no DNS content can make
    /// an evaluation grow without bound. Reaching it is a permerror. A prefetched
    /// lookup counts only once a term needs it (so prefetch never changes a result);
    /// prefetches not yet needed have their own bound of half this cap.
    pub max_queries: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dns_terms: 10,
            void_lookups: 2,
            void_counting: VoidCounting::PerTerm,
            mx_names: 10,
            ptr_names: 10,
            // 10 terms × (1 + 10 address lookups), %{p} validation, the record and exp.
            max_queries: 160,
        }
    }
}

/// What counts against [`Limits::void_lookups`] (RFC 7208 §4.6.4).
///
/// ```
/// use spfgate::eval::VoidCounting;
/// assert_eq!(VoidCounting::default(), VoidCounting::PerTerm);
/// assert_eq!("per-lookup".parse::<VoidCounting>(), Ok(VoidCounting::PerLookup));
/// assert_eq!(VoidCounting::PerTerm.to_string(), "per-term");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive] // other counting rules may be added.
pub enum VoidCounting {
    /// A term counts at most once, when its own lookup is void, as RFC 7208 §4.6.4
    /// words it ("the number of terms for which DNS queries return" no records): the
    /// address lookup of `a`, the A lookup of `exists`, the MX lookup of `mx` (or,
    /// when every MX host's address lookup is void, the term once), the PTR lookup of
    /// `ptr`. The names that validate the client for `ptr` and `%{p}` never count:
    /// the client's own reverse zone chooses them (§4.6.4, §5.5).
    #[default]
    PerTerm,
    /// Every void answer a term uses counts, also each of an `mx` term's hosts and of
    /// the names validating the client for `ptr` and each term's `%{p}`: the counting
    /// of pyspf and Mail::SPF.
    PerLookup,
}

impl VoidCounting {
    /// The name used in options and on the command line: `per-term`, `per-lookup`.
    pub fn as_str(self) -> &'static str {
        match self {
            VoidCounting::PerTerm => "per-term",
            VoidCounting::PerLookup => "per-lookup",
        }
    }
}

impl std::fmt::Display for VoidCounting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A void-counting name that is neither `per-term` nor `per-lookup`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown void counting {0:?}; expected \"per-term\" or \"per-lookup\"")]
pub struct UnknownVoidCounting(pub String);

impl std::str::FromStr for VoidCounting {
    type Err = UnknownVoidCounting;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "per-term" => Ok(VoidCounting::PerTerm),
            "per-lookup" => Ok(VoidCounting::PerLookup),
            other => Err(UnknownVoidCounting(other.to_owned())),
        }
    }
}

/// How an evaluation behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The limits.
    pub limits: Limits,
    /// Ask early for the records of later `include`/`redirect` targets whose names
    /// need no DNS data, cutting round trips. Prefetches never change a result: they
    /// count against no limit until a term needs them, and have their own bound.
    pub prefetch: bool,
    /// The explanation for `fail` when the record gives none (macros expanded).
    /// Shared, so cloning a config per evaluation does not copy it.
    pub default_explanation: Option<Arc<str>>,
    /// Record a [`crate::eval::TraceEvent`] for every step (for UIs and logs).
    pub trace: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            prefetch: true,
            default_explanation: None,
            trace: true,
        }
    }
}
