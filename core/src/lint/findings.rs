//! Static checks on one record's text.

use ipnet::IpNet;

use super::{Finding, Severity, codes};
use crate::macros::{MacroLetter, MacroString};
use crate::record::{
    Mechanism, Modifier, ParseError, ParseErrorKind, Qualifier, Record, Span, Term,
};

/// Longest character-string a TXT record can hold.
pub(crate) const MAX_STRING: usize = 255;
/// Beyond this record length the whole DNS answer risks exceeding 512-octet UDP.
const UDP_RISK: usize = 450;
/// DNS-querying terms a receiver allows (RFC 7208 §4.6.4).
pub(crate) const DNS_TERM_LIMIT: u32 = 10;

/// Lints one record's text. Findings are sorted by position; a record that does not
/// parse gets its syntax error and the length checks only.
///
/// ```
/// use spfgate::lint::{codes, lint_record};
/// let text = "v=spf1 ptr -all";
/// let findings = lint_record(text);
/// assert_eq!(findings.len(), 1);
/// assert_eq!(findings[0].code, codes::PTR_DEPRECATED);
/// assert_eq!(&text[findings[0].span.start..findings[0].span.end()], "ptr");
/// ```
pub fn lint_record(text: &str) -> Vec<Finding> {
    let mut out = length_findings(text);
    match Record::parse(text) {
        Ok(record) => term_findings(text, &record, &mut out),
        Err(e) => out.push(syntax_finding(&e)),
    }
    out.sort_by_key(|f| (f.span.start, f.span.len));
    out
}

/// The finding for a parse error.
pub(crate) fn syntax_finding(e: &ParseError) -> Finding {
    let hint = match e.kind() {
        ParseErrorKind::NotSpf => "start the record with `v=spf1` followed by a space",
        ParseErrorKind::NonAscii { .. } | ParseErrorKind::ControlCharacter { .. } => {
            "use printable ASCII and single spaces only"
        }
        ParseErrorKind::UnknownMechanism { .. } => {
            "check the spelling; modifiers are written name=value"
        }
        ParseErrorKind::CidrTooLong { .. } | ParseErrorKind::InvalidCidr => {
            "use /0–/32 for IPv4 and /0–/128 for IPv6"
        }
        ParseErrorKind::DuplicateModifier { .. } => "keep only one of them",
        ParseErrorKind::MissingDomain | ParseErrorKind::InvalidDomainEnd => {
            "write a fully qualified domain such as `_spf.example.com`"
        }
        _ => "correct the term at the marked position",
    };
    Finding::new(
        codes::SYNTAX_ERROR,
        Severity::Error,
        Span {
            start: e.offset(),
            len: e.len(),
        },
        e.to_string(),
        hint,
    )
}

fn length_findings(text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let len = text.len();
    // The part past `limit` octets, starting at a character boundary so the span can
    // slice the text even when it is not ASCII.
    let beyond = |limit: usize| {
        let start = (limit..len)
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(len);
        Span {
            start,
            len: len - start,
        }
    };
    if len > MAX_STRING {
        out.push(Finding::new(
            codes::LONG_RECORD,
            Severity::Info,
            beyond(MAX_STRING),
            format!("the record is {len} octets; one DNS character-string holds at most 255"),
            "publish it as several quoted strings of at most 255 octets in one TXT record",
        ));
    }
    if len > UDP_RISK {
        out.push(Finding::new(
            codes::UDP_SIZE,
            Severity::Warning,
            beyond(UDP_RISK),
            format!(
                "the record is {len} octets; with other TXT records the answer may exceed 512-octet UDP and need TCP"
            ),
            "shorten it, e.g. move networks into an included record",
        ));
    }
    out
}

fn term_findings(text: &str, record: &Record<'_>, out: &mut Vec<Finding>) {
    let terms: Vec<(&Term<'_>, Span)> = record.spanned_terms().collect();
    let all_at = terms
        .iter()
        .position(|(t, _)| matches!(t, Term::Directive(d) if d.mechanism == Mechanism::All));
    let mut dns_terms = 0u32;
    let mut fails = false;
    for (i, &(term, span)) in terms.iter().enumerate() {
        match term {
            Term::Directive(d) => {
                fails |= d.qualifier == Qualifier::Fail;
                if d.mechanism.queries_dns() {
                    dns_terms += 1;
                    if dns_terms == DNS_TERM_LIMIT + 1 {
                        out.push(Finding::new(
                            codes::TOO_MANY_DNS_TERMS,
                            Severity::Error,
                            span,
                            "this is the 11th DNS-querying term; receivers stop here with permerror",
                            "replace a, mx, ptr and include terms by ip4/ip6 networks (see flattening)",
                        ));
                    }
                }
                if all_at.is_some_and(|a| i > a) {
                    out.push(Finding::new(
                        codes::AFTER_ALL,
                        Severity::Warning,
                        span,
                        format!("`{}` comes after `all` and is never evaluated", d),
                        "move it before `all` or remove it",
                    ));
                }
                mechanism_findings(d.qualifier, &d.mechanism, span, out);
                duplicate_findings(&terms[..i], term, span, out);
            }
            Term::Modifier(m) => modifier_findings(m, span, all_at.is_some(), out),
        }
    }
    if record.redirect().is_some() {
        dns_terms += 1;
        if dns_terms == DNS_TERM_LIMIT + 1
            && let Some(&(_, span)) = terms
                .iter()
                .find(|(t, _)| matches!(t, Term::Modifier(Modifier::Redirect(_))))
        {
            out.push(Finding::new(
                codes::TOO_MANY_DNS_TERMS,
                Severity::Error,
                span,
                "following this redirect is the 11th DNS-querying term; receivers stop with permerror",
                "replace a, mx, ptr and include terms by ip4/ip6 networks (see flattening)",
            ));
        }
    }
    if all_at.is_none() && record.redirect().is_none() {
        let end = text.trim_end_matches(' ').len();
        out.push(Finding::new(
            codes::NO_ALL,
            Severity::Warning,
            Span { start: end, len: 0 },
            "no `all` and no `redirect=`: hosts not listed get `neutral`, which most receivers accept",
            "end the record with `-all` (or `~all` while testing)",
        ));
    }
    if !fails
        && let Some(&(_, span)) = terms
            .iter()
            .find(|(t, _)| matches!(t, Term::Modifier(Modifier::Explanation(_))))
    {
        out.push(Finding::new(
            codes::EXP_UNUSED,
            Severity::Info,
            span,
            "`exp=` is shown only for `fail`, and no directive of this record is `-` qualified",
            "remove `exp=`, or end the record with `-all`",
        ));
    }
}

fn mechanism_findings(q: Qualifier, m: &Mechanism<'_>, span: Span, out: &mut Vec<Finding>) {
    match m {
        Mechanism::All => match q {
            Qualifier::Pass => out.push(Finding::new(
                codes::PLUS_ALL,
                Severity::Error,
                span,
                "`+all` authorizes every host on the Internet to send as this domain",
                "use `-all` (or `~all` while testing)",
            )),
            Qualifier::Neutral => out.push(Finding::new(
                codes::NEUTRAL_ALL,
                Severity::Warning,
                span,
                "`?all` says nothing about hosts not listed; receivers treat them as unauthenticated",
                "use `-all` (or `~all` while testing)",
            )),
            _ => {}
        },
        Mechanism::Ptr(target) => {
            out.push(Finding::new(
                codes::PTR_DEPRECATED,
                Severity::Warning,
                span,
                "`ptr` is deprecated (RFC 7208 §5.5): slow, unreliable, and many receivers skip it",
                "list the sending hosts with ip4/ip6 or `a` instead",
            ));
            if let Some(t) = target {
                macro_p_finding(t, span, out);
            }
        }
        Mechanism::Ip4(net) => network_findings(q, IpNet::V4(*net), 8, span, out),
        Mechanism::Ip6(net) => network_findings(q, IpNet::V6(*net), 32, span, out),
        Mechanism::Include(t) => {
            macro_target_findings(t, "include", span, out);
        }
        Mechanism::A { domain, .. } | Mechanism::Mx { domain, .. } => {
            if let Some(t) = domain {
                macro_p_finding(t, span, out);
            }
        }
        Mechanism::Exists(t) => macro_p_finding(t, span, out),
        #[allow(unreachable_patterns)] // `Mechanism` is non-exhaustive for other crates only.
        _ => {}
    }
}

fn macro_p_finding(target: &MacroString<'_>, span: Span, out: &mut Vec<Finding>) {
    if target.uses(MacroLetter::ValidatedName) {
        out.push(Finding::new(
            codes::MACRO_P,
            Severity::Warning,
            span,
            "`%{p}` needs reverse-DNS lookups per check and is unreliable (RFC 7208 §7.3)",
            "use `%{i}` or list the hosts explicitly",
        ));
    }
}

fn macro_target_findings(target: &MacroString<'_>, what: &str, span: Span, out: &mut Vec<Finding>) {
    macro_p_finding(target, span, out);
    if !target.is_literal() {
        out.push(Finding::new(
            codes::MACRO_TARGET,
            Severity::Warning,
            span,
            format!(
                "the {what} target `{target}` is built from macros: which record applies depends on the sender and client, so no validator can check it ahead of time"
            ),
            format!("prefer a fixed {what} name; keep per-sender logic in `exists:`"),
        ));
    }
}

fn network_findings(q: Qualifier, net: IpNet, broad: u8, span: Span, out: &mut Vec<Finding>) {
    if net.addr() != net.network() {
        out.push(Finding::new(
            codes::HOST_BITS,
            Severity::Warning,
            span,
            format!(
                "{} has bits set beyond /{}; it means {}",
                net.addr(),
                net.prefix_len(),
                net.trunc()
            ),
            format!("write {}", net.trunc()),
        ));
    }
    if net.prefix_len() <= broad {
        let (severity, what) = if q == Qualifier::Pass && net.prefix_len() == 0 {
            (Severity::Error, "every address of the family, like `+all`")
        } else {
            (Severity::Warning, "a very large part of the Internet")
        };
        out.push(Finding::new(
            codes::BROAD_NETWORK,
            severity,
            span,
            format!("/{} covers {what}", net.prefix_len()),
            "list the provider's actual sending networks",
        ));
    }
}

fn modifier_findings(m: &Modifier<'_>, span: Span, has_all: bool, out: &mut Vec<Finding>) {
    match m {
        Modifier::Redirect(t) => {
            if has_all {
                out.push(Finding::new(
                    codes::REDIRECT_IGNORED,
                    Severity::Warning,
                    span,
                    "`redirect=` is ignored because the record has `all`",
                    "remove `all` to use the redirect, or remove the redirect",
                ));
            }
            macro_target_findings(t, "redirect", span, out);
        }
        Modifier::Explanation(t) => macro_p_finding(t, span, out),
        Modifier::Unknown { name, .. } => {
            let known = ["ra", "rp", "rr"]
                .iter()
                .any(|k| name.eq_ignore_ascii_case(k));
            out.push(if known {
                Finding::new(
                    codes::EXTENSION_MODIFIER,
                    Severity::Info,
                    span,
                    format!("`{name}=` is an RFC 6652 failure-reporting modifier; SPF evaluation ignores it"),
                    "nothing to fix",
                )
            } else {
                Finding::new(
                    codes::UNKNOWN_MODIFIER,
                    Severity::Info,
                    span,
                    format!("`{name}=` is not an SPF modifier; receivers ignore it"),
                    "check the spelling (`redirect=`, `exp=`) or remove it",
                )
            });
        }
    }
}

/// Duplicate mechanisms, and networks covered by an earlier term.
fn duplicate_findings(
    before: &[(&Term<'_>, Span)],
    term: &Term<'_>,
    span: Span,
    out: &mut Vec<Finding>,
) {
    let Term::Directive(d) = term else { return };
    let net = network(&d.mechanism);
    for &(earlier, at) in before {
        let Term::Directive(e) = earlier else {
            continue;
        };
        if let (Some(net), Some(wide)) = (net, network(&e.mechanism)) {
            if wide.contains(&net) {
                let (what, hint) = if wide == net {
                    ("the same network", "remove the later term")
                } else if e.qualifier == d.qualifier {
                    ("a wider network", "remove the later term")
                } else {
                    (
                        "a wider network with another qualifier, so it never decides",
                        "move it before the wider term or remove it",
                    )
                };
                out.push(Finding::new(
                    codes::DUPLICATE_NETWORK,
                    Severity::Warning,
                    span,
                    format!(
                        "{net} is already covered by `{e}` at byte {}: {what}",
                        at.start
                    ),
                    hint,
                ));
                return;
            }
        } else if e.mechanism == d.mechanism {
            let cost = if d.mechanism.queries_dns() {
                " and costs a DNS-querying term"
            } else {
                ""
            };
            out.push(Finding::new(
                codes::DUPLICATE_TERM,
                Severity::Warning,
                span,
                format!(
                    "`{}` repeats the term at byte {}; it can never match{cost}",
                    d.mechanism, at.start
                ),
                "remove the later term",
            ));
            return;
        }
    }
}

fn network(m: &Mechanism<'_>) -> Option<IpNet> {
    match m {
        Mechanism::Ip4(n) => Some(IpNet::V4(n.trunc())),
        Mechanism::Ip6(n) => Some(IpNet::V6(n.trunc())),
        _ => None,
    }
}
