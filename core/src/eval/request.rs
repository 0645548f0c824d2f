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
    /// Lookups answered NXDOMAIN or with no records; RFC default 2. Every such answer
    /// a term uses counts, also an `mx` term's hosts' and the client's validation's.
    pub void_lookups: u32,
    /// MX names one `mx` may look up; more is a permerror. RFC default 10.
    pub mx_names: u32,
    /// PTR names `ptr` and `%{p}` validate; extra ones are ignored. RFC default 10.
    pub ptr_names: u32,
    /// Hard cap on queries of one evaluation, prefetches included, so that no DNS
    /// content can make an evaluation grow without bound. Reaching it is a permerror.
    pub max_queries: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dns_terms: 10,
            void_lookups: 2,
            mx_names: 10,
            ptr_names: 10,
            // 10 terms × (1 + 10 address lookups), %{p} validation, the record and exp.
            max_queries: 160,
        }
    }
}

/// How an evaluation behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The limits.
    pub limits: Limits,
    /// Ask early for the records of later `include`/`redirect` targets whose names
    /// need no DNS data, cutting round trips. Prefetches do not count against the
    /// RFC limits, only against [`Limits::max_queries`].
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
