//! What a decision concludes: the [`Verdict`] with its action, the rule that decided,
//! the SMTP reply and the trace header values.

use std::fmt;

use super::document::Mode;
use crate::eval::{Outcome, Problem, SpfResult};
use crate::headers::sanitized;

/// Longest SMTP reply text, in characters; longer texts are cut and end in
/// `...`, keeping the reply line far below RFC 5321's 512 octets.
pub const MAX_REPLY_TEXT: usize = 400;

/// What the gateway does with the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive] // a later policy may add e.g. quarantine.
pub enum Action {
    /// Take the mail (2xx).
    Accept,
    /// Refuse it for good (5xx).
    Reject,
    /// Refuse it for now so the sender retries (4xx).
    Defer,
}

impl Action {
    /// `accept`, `reject` or `defer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Defer => "defer",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SMTP reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SmtpReply {
    /// The reply code (250, 451, 550).
    pub code: u16,
    /// The enhanced status code (RFC 3463, RFC 7372), e.g. `5.7.23`.
    pub enhanced: &'static str,
    /// Text for the client: printable ASCII only, at most
    /// [`MAX_REPLY_TEXT`] characters, any input in it escaped.
    pub text: String,
}

impl fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.enhanced, self.text)
    }
}

/// The rule that decided. `Display` describes it for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive] // new modes bring new rules.
pub enum Rule {
    /// MAIL FROM was the null sender `<>`.
    NullSender,
    /// No account lists the sender.
    UnknownSender,
    /// The account is `open`.
    Open,
    /// The client is in the account's whitelist.
    WhitelistHit {
        /// The whitelist entry as typed.
        entry: String,
        /// Its line in the whitelist field.
        line: usize,
        /// Its column.
        column: usize,
    },
    /// The account accepts only whitelisted clients and this one is not.
    WhitelistMiss,
    /// The account is `ip-whitelist` with an empty whitelist: nobody is accepted.
    WhitelistEmpty,
    /// SPF decided.
    Spf {
        /// The SPF result.
        result: SpfResult,
        /// The deciding directive, if one matched.
        directive: Option<String>,
        /// The domain whose record decided (or where the problem was).
        domain: String,
        /// The problem, when one ended the evaluation.
        problem: Option<Problem>,
    },
}

impl Rule {
    /// A short name: `null-sender`, `unknown-sender`, `open`,
    /// `whitelist-hit`, `whitelist-miss`, `whitelist-empty`, `spf`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::NullSender => "null-sender",
            Rule::UnknownSender => "unknown-sender",
            Rule::Open => "open",
            Rule::WhitelistHit { .. } => "whitelist-hit",
            Rule::WhitelistMiss => "whitelist-miss",
            Rule::WhitelistEmpty => "whitelist-empty",
            Rule::Spf { .. } => "spf",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NullSender => f.write_str("null sender <> is not accepted"),
            Rule::UnknownSender => f.write_str("no account lists the sender"),
            Rule::Open => f.write_str("the account accepts every listed sender"),
            Rule::WhitelistHit {
                entry,
                line,
                column,
            } => write!(
                f,
                "whitelist entry `{entry}` (line {line}, column {column}) contains the client"
            ),
            Rule::WhitelistMiss => f.write_str("the client is not in the account's whitelist"),
            Rule::WhitelistEmpty => f.write_str(
                "the account accepts only whitelisted clients and its whitelist is empty",
            ),
            Rule::Spf {
                result,
                directive: Some(directive),
                domain,
                ..
            } => write!(f, "SPF {result}: {directive} in the record of {domain}"),
            Rule::Spf {
                result,
                problem: Some(problem),
                ..
            } => write!(f, "SPF {result}: {problem}"),
            Rule::Spf { result, domain, .. } => {
                write!(
                    f,
                    "SPF {result}: no directive matched in the record of {domain}"
                )
            }
        }
    }
}

/// Ready header values (without the field names).
///
/// Serialized keyed by the header field names (`Received-SPF`,
/// `Authentication-Results`), so a front end can add each entry as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TraceHeaders {
    /// `Received-SPF`, when SPF was checked.
    #[cfg_attr(feature = "serde", serde(rename = "Received-SPF"))]
    pub received_spf: Option<String>,
    /// `Authentication-Results`: the SPF result, or `none` when SPF was not checked.
    #[cfg_attr(feature = "serde", serde(rename = "Authentication-Results"))]
    pub authentication_results: String,
}

/// The finished decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Accept, reject or defer.
    pub action: Action,
    /// The reply to send.
    pub smtp: SmtpReply,
    /// The sender's account, when one lists it.
    pub account: Option<String>,
    /// That account's mode.
    pub mode: Option<Mode>,
    /// What decided.
    pub rule: Rule,
    /// The SPF evaluation, when one ran.
    pub spf: Option<Outcome>,
    /// Trace header values to add to the accepted message.
    pub headers: TraceHeaders,
}

/// An SMTP reply whose text is printable ASCII (dashes become `-`, anything
/// else `?`)
/// and at most [`MAX_REPLY_TEXT`] characters.
pub(super) fn reply(code: u16, enhanced: &'static str, text: &str) -> SmtpReply {
    SmtpReply {
        code,
        enhanced,
        text: sanitized(text, MAX_REPLY_TEXT),
    }
}
