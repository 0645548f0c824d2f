//! Trace header values for a finished SPF check: `Received-SPF` (RFC 7208
//! §9.1) and `Authentication-Results` (RFC 8601).
//!
//! Both are pure functions of the request's facts and the [`Outcome`]; the
//! policy decision uses them and a caller running the evaluator alone can too.
//! They return the field *value*: prepend `Received-SPF: ` or
//! `Authentication-Results: ` (and fold long lines if the transport needs it).
//!
//! Every fact comes from the remote side (the sender address and HELO name
//! are typed by the client, the explanation and problem text can come from
//! DNS), so nothing is copied verbatim:
//!
//! - a value is written bare only when the grammar allows it (a dot-atom in
//!   `Received-SPF`, a token or `local@domain` in `Authentication-Results`),
//!   otherwise as a quoted-string with `\` and `"` escaped;
//! - CR, LF, every other control character and every non-ASCII character
//!   become `?` (en and em dashes become `-`), so no value can end the header line or start another;
//! - each value is cut after [`MAX_VALUE_CHARS`] characters.
//!
//! ```
//! use spfgate::eval::{Config, Evaluator, Identity, Request};
//! use spfgate::headers::{CheckFacts, authentication_results, received_spf};
//!
//! let req = Request::new("192.0.2.1".parse().unwrap(), "x;evil=1@h.example", "mx.h.example");
//! let outcome = Evaluator::new(req, Config::default()).run_with(|_| spfgate::dns::Answer::NxDomain);
//! let facts = CheckFacts {
//!     ip: "192.0.2.1".parse().unwrap(),
//!     mail_from: "x;evil=1@h.example",
//!     helo: "mx.h.example",
//!     receiver: "mx.gateway.example",
//!     identity: Identity::MailFrom,
//! };
//! let value = received_spf(&facts, &outcome);
//! assert!(value.starts_with("none (mx.gateway.example: domain of x;evil=1@h.example"));
//! assert!(value.contains("envelope-from=\"x;evil=1@h.example\";"));
//! assert_eq!(
//!     authentication_results("mx.gateway.example", &facts, Some(&outcome), None),
//!     "mx.gateway.example; spf=none smtp.mailfrom=\"x;evil=1@h.example\""
//! );
//! ```

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::eval::{Identity, Outcome, SpfResult};

/// Longest value, in characters after escaping, written into a header; longer
/// ones are cut and end in `...`. RFC 5321 limits a path to 256 octets, so
/// real addresses and host names fit.
pub const MAX_VALUE_CHARS: usize = 256;

/// What the header fields say about the SMTP transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckFacts<'a> {
    /// The connecting client (an IPv4-mapped IPv6 address is shown as IPv4).
    pub ip: IpAddr,
    /// The MAIL FROM address without angle brackets; empty for the null sender.
    pub mail_from: &'a str,
    /// The HELO/EHLO name.
    pub helo: &'a str,
    /// The host name of the checking server; left out when empty.
    pub receiver: &'a str,
    /// Which identity was checked.
    pub identity: Identity,
}

impl CheckFacts<'_> {
    /// The client address as SPF saw it: IPv4-mapped IPv6 unwrapped.
    fn client_ip(&self) -> IpAddr {
        match self.ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(self.ip, IpAddr::V4),
            v4 => v4,
        }
    }

    /// Whether the MAIL FROM identity was checked with a real address.
    fn checks_mail_from(&self) -> bool {
        self.identity == Identity::MailFrom && !self.mail_from.is_empty()
    }

    /// The identity checked, as the RFC 7208 comment names it.
    fn sender(&self) -> String {
        if self.checks_mail_from() {
            self.mail_from.to_owned()
        } else {
            format!("postmaster@{}", self.helo)
        }
    }
}

/// The `Received-SPF` value (RFC 7208 §9.1): the result, a comment a person
/// can read, then `key=value` pairs: `client-ip`, `envelope-from`, `helo`,
/// `receiver`, `identity`, and `mechanism` or `problem` when known.
///
/// ```
/// use spfgate::eval::{Identity, Outcome, SpfResult};
/// use spfgate::headers::{CheckFacts, received_spf};
///
/// let outcome = Outcome {
///     result: SpfResult::Pass, mechanism: Some("ip4:192.0.2.0/24".into()),
///     domain: "acme.example".into(), problem: None, explanation: None,
///     dns_terms: 0, void_lookups: 0, queries: 1, round_trips: 1, trace: vec![],
/// };
/// let facts = CheckFacts {
///     ip: "192.0.2.7".parse().unwrap(), mail_from: "alice@acme.example",
///     helo: "mail.acme.example", receiver: "", identity: Identity::MailFrom,
/// };
/// assert_eq!(received_spf(&facts, &outcome),
///     "pass (domain of alice@acme.example designates 192.0.2.7 as permitted sender) \
///      client-ip=192.0.2.7; envelope-from=\"alice@acme.example\"; helo=mail.acme.example; \
///      identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"");
/// ```
pub fn received_spf(facts: &CheckFacts<'_>, outcome: &Outcome) -> String {
    let ip = facts.client_ip();
    let sender = facts.sender();
    let prose = match outcome.result {
        SpfResult::Pass => format!("domain of {sender} designates {ip} as permitted sender"),
        SpfResult::Fail => {
            format!("domain of {sender} does not designate {ip} as permitted sender")
        }
        SpfResult::SoftFail => {
            format!("domain of transitioning {sender} does not designate {ip} as permitted sender")
        }
        SpfResult::Neutral => {
            format!("{ip} is neither permitted nor denied by domain of {sender}")
        }
        SpfResult::None => format!("domain of {sender} does not provide an SPF record"),
        SpfResult::TempError => format!("temporary error checking domain of {sender}"),
        SpfResult::PermError => format!("permanent error in the SPF record for {sender}"),
    };
    let comment = if facts.receiver.is_empty() {
        prose
    } else {
        format!("{}: {prose}", facts.receiver)
    };
    let mut out = format!("{} ({})", outcome.result, comment_text(&comment));
    let mut pairs: Vec<(&str, String)> = vec![("client-ip", ip.to_string())];
    if facts.checks_mail_from() {
        pairs.push(("envelope-from", facts.mail_from.to_owned()));
    }
    pairs.push(("helo", facts.helo.to_owned()));
    if !facts.receiver.is_empty() {
        pairs.push(("receiver", facts.receiver.to_owned()));
    }
    let identity = match facts.identity {
        Identity::MailFrom => "mailfrom",
        Identity::Helo => "helo",
    };
    pairs.push(("identity", identity.to_owned()));
    if let Some(mechanism) = &outcome.mechanism {
        pairs.push(("mechanism", mechanism.clone()));
    }
    if let Some(problem) = &outcome.problem {
        pairs.push(("problem", problem.to_string()));
    }
    for (i, (key, value)) in pairs.iter().enumerate() {
        let sep = if i == 0 { " " } else { "; " };
        // Writing to a String cannot fail.
        let _ = write!(out, "{sep}{key}={}", value_text(value, is_dot_atom));
    }
    out
}

/// The `Authentication-Results` value (RFC 8601): `authserv-id; spf=result`
/// with an optional `reason=`, then `smtp.mailfrom=` (or `smtp.helo=` when
/// the HELO identity or a null sender was checked). Without an outcome
/// (no SPF check was made) it is `authserv-id; none`.
///
/// ```
/// use spfgate::eval::Identity;
/// use spfgate::headers::{CheckFacts, authentication_results};
///
/// let facts = CheckFacts {
///     ip: "192.0.2.7".parse().unwrap(), mail_from: "a\"b\r\nX-Injected: 1@h.example",
///     helo: "h.example", receiver: "", identity: Identity::MailFrom,
/// };
/// assert_eq!(authentication_results("mx.gateway.example", &facts, None, None),
///            "mx.gateway.example; none");
/// ```
pub fn authentication_results(
    authserv_id: &str,
    facts: &CheckFacts<'_>,
    outcome: Option<&Outcome>,
    reason: Option<&str>,
) -> String {
    let mut out = value_text(authserv_id, is_token);
    let Some(outcome) = outcome else {
        out.push_str("; none");
        return out;
    };
    let _ = write!(out, "; spf={}", outcome.result);
    if let Some(reason) = reason {
        let _ = write!(out, " reason={}", value_text(reason, is_token));
    }
    if facts.checks_mail_from() {
        let _ = write!(
            out,
            " smtp.mailfrom={}",
            value_text(facts.mail_from, is_address_or_token)
        );
    } else {
        let _ = write!(out, " smtp.helo={}", value_text(facts.helo, is_token));
    }
    out
}

/// Replaces what must not appear in a header (controls, CR, LF, non-ASCII)
/// by `?` (dashes by `-`) and cuts after [`MAX_VALUE_CHARS`] characters.
fn printable(text: &str) -> String {
    sanitized(text, MAX_VALUE_CHARS)
}

/// The one sanitizer for text that goes into a header or an SMTP reply: printable
/// ASCII, dashes as `-`, anything else (controls, CR, LF, non-ASCII) as `?`, cut to
/// `max_chars` characters with `...` when longer.
pub(crate) fn sanitized(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars + 1)
        .map(|c| match c {
            ' '..='~' => c,
            // Our own problem messages use dashes (`ip4:192.0.2.0/33 — CIDR ...`).
            '\u{2013}' | '\u{2014}' => '-',
            _ => '?',
        })
        .collect();
    if out.len() > max_chars {
        out.truncate(max_chars.saturating_sub(3));
        out.push_str("...");
    }
    out
}

/// The value bare when `bare_ok` accepts it, else as an RFC 5322 quoted-string.
fn value_text(value: &str, bare_ok: fn(&str) -> bool) -> String {
    let clean = printable(value);
    if bare_ok(&clean) {
        return clean;
    }
    let mut out = String::with_capacity(clean.len() + 2);
    out.push('"');
    for c in clean.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Comment text (RFC 5322 `ctext` plus quoted-pairs): `(`, `)` and `\` escaped.
fn comment_text(text: &str) -> String {
    let mut out = String::new();
    for c in printable(text).chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// RFC 5322 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// RFC 5322 `dot-atom-text`: atext runs separated by single dots.
fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

/// RFC 2045 `token`, kept to the characters mail software agrees on: letters,
/// digits and `-._+`. Anything else is quoted, which is always valid.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '+'))
}

/// A token, or RFC 8601's bare `local-part@domain-name` form with a simple
/// local part and a host name.
fn is_address_or_token(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => is_token(local) && is_dot_atom(local) && is_host_name(domain),
        None => is_token(s),
    }
}

/// Letters, digits and hyphens in dot-separated labels.
fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bare_only_when_the_grammar_allows() {
        assert_eq!(value_text("mail.example", is_dot_atom), "mail.example");
        assert_eq!(value_text("-all", is_dot_atom), "-all");
        assert_eq!(value_text("a@b.example", is_dot_atom), "\"a@b.example\"");
        assert_eq!(value_text("2001:db8::1", is_dot_atom), "\"2001:db8::1\"");
        assert_eq!(value_text("", is_dot_atom), "\"\"");
        assert_eq!(value_text("a..b", is_dot_atom), "\"a..b\"");
        assert_eq!(value_text("a\"b\\c", is_token), "\"a\\\"b\\\\c\"");
        assert_eq!(
            value_text("a@b.example", is_address_or_token),
            "a@b.example"
        );
        assert_eq!(
            value_text("a=b@b.example", is_address_or_token),
            "\"a=b@b.example\""
        );
        assert_eq!(
            value_text("a@-b.example", is_address_or_token),
            "\"a@-b.example\""
        );
    }

    #[test]
    fn controls_and_non_ascii_become_question_marks() {
        assert_eq!(printable("a\r\nb\tc\u{7f}é\0"), "a??b?c???");
        assert_eq!(comment_text("x) (y\\"), "x\\) \\(y\\\\");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "a".repeat(10_000);
        let v = printable(&long);
        assert_eq!(v.len(), MAX_VALUE_CHARS);
        assert!(v.ends_with("..."));
        assert_eq!(
            printable(&"a".repeat(MAX_VALUE_CHARS)).len(),
            MAX_VALUE_CHARS
        );
    }
}
