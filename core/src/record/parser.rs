//! The RFC 7208 §12 grammar, with nom for the lexical pieces.
//!
//! One pass over the bytes checks the character set and counts the terms, so the
//! term vectors are allocated once at their final size. Terms are then split on
//! spaces and each is parsed on its own, so an error points at the term and byte it
//! is in. nom runs with the unit error type (no allocation, no backtracking
//! bookkeeping); positions are turned into our own [`ParseError`] here, so no nom
//! type leaves this module. Every step looks at each byte a bounded number of
//! times, so parsing is linear in the record length whatever the input.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::character::complete::char;

use super::error::excerpt;
use super::{
    Directive, DualCidr, Mechanism, Modifier, ParseError, ParseErrorKind, Qualifier, Record, Span,
    Term,
};
use crate::macros::MacroString;

type Res<'a, T> = IResult<&'a str, T, ()>;

/// Length of `v=spf1`.
const VERSION_LEN: usize = 6;

/// One term being parsed: its text and where it starts in the record.
struct TermCx<'a> {
    text: &'a str,
    offset: usize,
}

impl TermCx<'_> {
    /// An error at `at..at+len` within this term.
    fn err(&self, kind: ParseErrorKind, at: usize, len: usize) -> ParseError {
        ParseError::new(kind, self.offset + at, len, self.text)
    }

    /// Position of a sub-slice of the term's text.
    fn pos(&self, sub: &str) -> usize {
        sub.as_ptr() as usize - self.text.as_ptr() as usize
    }
}

pub(super) fn parse_record(text: &str) -> Result<Record<'_>, ParseError> {
    let term_count = check_record(text.as_bytes())?;
    parse_terms(text, term_count)
}

pub(super) fn parse_record_bytes(bytes: &[u8]) -> Result<Record<'_>, ParseError> {
    let term_count = check_record(bytes)?;
    // `check_record` admitted printable ASCII only, which is always UTF-8.
    let text = std::str::from_utf8(bytes).map_err(|e| character_error(bytes, e.valid_up_to()))?;
    parse_terms(text, term_count)
}

/// Checks the `v=spf1` prefix and the character set (printable ASCII and spaces);
/// returns the number of terms.
fn check_record(b: &[u8]) -> Result<usize, ParseError> {
    let Some(rest) = b
        .get(..VERSION_LEN)
        .filter(|v| v.eq_ignore_ascii_case(b"v=spf1"))
        .map(|_| &b[VERSION_LEN..])
    else {
        let len = b.len().min(VERSION_LEN);
        return Err(ParseError::new(ParseErrorKind::NotSpf, 0, len, ""));
    };
    // Two passes without early exits or branches (faster than one branchy pass): flag
    // any byte outside printable ASCII, and count term starts (a non-space after a
    // space; the pairs start at the `1` of `v=spf1`, which is not a space).
    let bad = rest
        .iter()
        .fold(false, |bad, c| bad | !(0x20..=0x7e).contains(c));
    let terms = b[VERSION_LEN - 1..]
        .iter()
        .zip(rest)
        .filter(|&(&prev, &c)| (prev == b' ') & (c != b' '))
        .count();
    if bad {
        let at = b
            .iter()
            .position(|c| !(0x20..=0x7e).contains(c))
            .unwrap_or(0);
        return Err(character_error(b, at));
    }
    // All ASCII from here on: byte indices are character boundaries.
    if rest.first().is_some_and(|&c| c != b' ') {
        let end = rest
            .iter()
            .position(|&c| c == b' ')
            .map_or(b.len(), |i| VERSION_LEN + i);
        let shown = String::from_utf8_lossy(&b[..end]);
        return Err(ParseError::new(ParseErrorKind::NotSpf, 0, end, &shown));
    }
    Ok(terms)
}

/// The error for the byte at `at`, which is not printable ASCII; quotes the term around it.
fn character_error(b: &[u8], at: usize) -> ParseError {
    let byte = b.get(at).copied().unwrap_or(0);
    let kind = if byte.is_ascii() {
        ParseErrorKind::ControlCharacter { byte }
    } else {
        ParseErrorKind::NonAscii { byte }
    };
    let start = b[..at]
        .iter()
        .rposition(|&c| c == b' ')
        .map_or(0, |i| i + 1);
    let end = b[at..]
        .iter()
        .position(|&c| c == b' ')
        .map_or(b.len(), |i| at + i);
    let term = String::from_utf8_lossy(&b[start..end]);
    ParseError::new(kind, at, 1, &term)
}

/// Parses the space-separated terms after `v=spf1`; `count` sizes the vectors exactly.
fn parse_terms(text: &str, count: usize) -> Result<Record<'_>, ParseError> {
    let mut terms = Vec::with_capacity(count);
    let mut spans = Vec::with_capacity(count);
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let b = text.as_bytes();
    let mut start = VERSION_LEN;
    loop {
        while b.get(start) == Some(&b' ') {
            start += 1;
        }
        if start == b.len() {
            break;
        }
        let end = b[start..]
            .iter()
            .position(|&c| c == b' ')
            .map_or(b.len(), |i| start + i);
        let cx = TermCx {
            text: &text[start..end],
            offset: start,
        };
        let term = parse_term(&cx)?;
        if let Term::Modifier(m) = &term {
            let (seen, name) = match m {
                Modifier::Redirect(_) => (&mut seen_redirect, "redirect"),
                Modifier::Explanation(_) => (&mut seen_exp, "exp"),
                Modifier::Unknown { .. } => (&mut false, ""),
            };
            if *seen {
                let kind = ParseErrorKind::DuplicateModifier { name };
                return Err(cx.err(kind, 0, cx.text.len()));
            }
            *seen = true;
        }
        terms.push(term);
        spans.push(Span {
            start,
            len: end - start,
        });
        start = end;
    }
    Ok(Record::from_parts(terms, spans))
}

fn parse_term<'a>(cx: &TermCx<'a>) -> Result<Term<'a>, ParseError> {
    // `name "="` with `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )` makes a
    // modifier; anything else is a directive. One scan of the name decides.
    let b = cx.text.as_bytes();
    let name_len = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')))
        .unwrap_or(b.len());
    if b.get(name_len) == Some(&b'=') && b[0].is_ascii_alphabetic() {
        let (name, value) = (&cx.text[..name_len], &cx.text[name_len + 1..]);
        return parse_modifier(cx, name, value).map(Term::Modifier);
    }
    parse_directive(cx).map(Term::Directive)
}

fn parse_modifier<'a>(
    cx: &TermCx<'a>,
    name: &'a str,
    value: &'a str,
) -> Result<Modifier<'a>, ParseError> {
    if name.eq_ignore_ascii_case("redirect") {
        return domain_spec(cx, value).map(Modifier::Redirect);
    }
    if name.eq_ignore_ascii_case("exp") {
        return domain_spec(cx, value).map(Modifier::Explanation);
    }
    // Unknown modifiers are ignored, but their value must still be a macro-string.
    let value = MacroString::parse(value, true)
        .map_err(|(kind, at, len)| cx.err(kind, cx.pos(value) + at, len))?;
    Ok(Modifier::Unknown {
        name: Cow::Borrowed(name),
        value,
    })
}

fn qualifier(input: &str) -> (&str, Qualifier) {
    let q = match input.as_bytes().first() {
        Some(b'+') => Qualifier::Pass,
        Some(b'-') => Qualifier::Fail,
        Some(b'~') => Qualifier::SoftFail,
        Some(b'?') => Qualifier::Neutral,
        _ => return (input, Qualifier::Pass),
    };
    (&input[1..], q)
}

fn mechanism_name(input: &str) -> Res<'_, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric()).parse(input)
}

/// The mechanisms by name, matched without case.
#[derive(Clone, Copy)]
enum Name {
    All,
    Include,
    Exists,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
}

/// Packs an alphanumeric name of at most 8 bytes into an integer, lower-cased (`| 0x20`
/// lower-cases ASCII letters and leaves digits alone), so one `match` finds the mechanism.
const fn name_key(name: &[u8]) -> Option<u64> {
    if name.len() > 8 {
        return None;
    }
    let mut key = 0u64;
    let mut i = 0;
    while i < name.len() {
        key = (key << 8) | (name[i] | 0x20) as u64;
        i += 1;
    }
    Some(key)
}

/// `name_key` of a mechanism name, for the match arms.
const fn key(name: &str) -> u64 {
    match name_key(name.as_bytes()) {
        Some(k) => k,
        None => 0,
    }
}

impl Name {
    /// The mechanism called `name` (alphanumeric), if any.
    fn lookup(name: &str) -> Option<Name> {
        const ALL: u64 = key("all");
        const INCLUDE: u64 = key("include");
        const EXISTS: u64 = key("exists");
        const A: u64 = key("a");
        const MX: u64 = key("mx");
        const PTR: u64 = key("ptr");
        const IP4: u64 = key("ip4");
        const IP6: u64 = key("ip6");
        Some(match name_key(name.as_bytes())? {
            ALL => Name::All,
            INCLUDE => Name::Include,
            EXISTS => Name::Exists,
            A => Name::A,
            MX => Name::Mx,
            PTR => Name::Ptr,
            IP4 => Name::Ip4,
            IP6 => Name::Ip6,
            _ => return None,
        })
    }
}

fn parse_directive<'a>(cx: &TermCx<'a>) -> Result<Directive<'a>, ParseError> {
    let (rest, qualifier) = qualifier(cx.text);
    let at = cx.pos(rest);
    if rest.is_empty() {
        return Err(cx.err(ParseErrorKind::MissingMechanism, at, 0));
    }
    let (args, name) = mechanism_name(rest).unwrap_or((rest, ""));
    let Some(known) = Name::lookup(name).filter(|_| !name.is_empty()) else {
        // Quote what stands where the name should be: the name, or the junk.
        let shown = if name.is_empty() { rest } else { name };
        let kind = ParseErrorKind::UnknownMechanism {
            name: excerpt(shown),
        };
        return Err(cx.err(kind, at, shown.len()));
    };
    let mechanism = match known {
        Name::All => {
            no_argument(cx, args)?;
            Mechanism::All
        }
        Name::Include => Mechanism::Include(required_domain(cx, args)?),
        Name::Exists => Mechanism::Exists(required_domain(cx, args)?),
        Name::A | Name::Mx => {
            let (head, v4, v6) = split_dual_cidr(args);
            let domain = optional_domain(cx, head)?;
            let cidr = DualCidr {
                v4: v4.map_or(Ok(32), |d| cidr_length(cx, d, 32))?,
                v6: v6.map_or(Ok(128), |d| cidr_length(cx, d, 128))?,
            };
            if matches!(known, Name::A) {
                Mechanism::A { domain, cidr }
            } else {
                Mechanism::Mx { domain, cidr }
            }
        }
        Name::Ptr => Mechanism::Ptr(optional_domain(cx, args)?),
        Name::Ip4 => {
            let (addr, prefix) = network(cx, args, ParseErrorKind::InvalidIp4)?;
            let ip = ip4_address(addr)
                .ok_or_else(|| cx.err(ParseErrorKind::InvalidIp4, cx.pos(addr), addr.len()))?;
            let prefix = prefix.map_or(Ok(32), |d| cidr_length(cx, d, 32))?;
            Mechanism::Ip4(Ipv4Net::new_assert(ip, prefix))
        }
        Name::Ip6 => {
            let (addr, prefix) = network(cx, args, ParseErrorKind::InvalidIp6)?;
            let ip: Ipv6Addr = addr
                .parse()
                .map_err(|_| cx.err(ParseErrorKind::InvalidIp6, cx.pos(addr), addr.len()))?;
            let prefix = prefix.map_or(Ok(128), |d| cidr_length(cx, d, 128))?;
            Mechanism::Ip6(Ipv6Net::new_assert(ip, prefix))
        }
    };
    Ok(Directive {
        qualifier,
        mechanism,
    })
}

fn no_argument(cx: &TermCx<'_>, args: &str) -> Result<(), ParseError> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(cx.err(ParseErrorKind::UnexpectedArgument, cx.pos(args), args.len()))
    }
}

/// `":" domain-spec`, required.
fn required_domain<'a>(cx: &TermCx<'a>, args: &'a str) -> Result<MacroString<'a>, ParseError> {
    match args.strip_prefix(':') {
        Some(spec) => domain_spec(cx, spec),
        None if args.is_empty() => Err(cx.err(ParseErrorKind::MissingDomain, cx.text.len(), 0)),
        None => Err(cx.err(ParseErrorKind::UnexpectedArgument, cx.pos(args), args.len())),
    }
}

/// `[":" domain-spec]`.
fn optional_domain<'a>(
    cx: &TermCx<'a>,
    args: &'a str,
) -> Result<Option<MacroString<'a>>, ParseError> {
    if args.is_empty() {
        return Ok(None);
    }
    required_domain(cx, args).map(Some)
}

/// `domain-spec = macro-string domain-end`.
fn domain_spec<'a>(cx: &TermCx<'a>, spec: &'a str) -> Result<MacroString<'a>, ParseError> {
    let at = cx.pos(spec);
    if spec.is_empty() {
        return Err(cx.err(ParseErrorKind::MissingDomain, at, 0));
    }
    let (ms, tail) = MacroString::parse_with_tail(spec, false)
        .map_err(|(kind, i, len)| cx.err(kind, at + i, len))?;
    if !has_domain_end(tail) {
        return Err(cx.err(ParseErrorKind::InvalidDomainEnd, at, spec.len()));
    }
    Ok(ms)
}

/// `domain-end = ( "." toplabel [ "." ] ) / macro-expand`, given the literal text after
/// the last macro of a non-empty domain-spec (empty when it ends in a macro).
fn has_domain_end(tail: &str) -> bool {
    if tail.is_empty() {
        return true;
    }
    let lit = tail.strip_suffix('.').unwrap_or(tail);
    lit.rfind('.')
        .is_some_and(|dot| is_toplabel(&lit[dot + 1..]))
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
fn is_toplabel(label: &str) -> bool {
    let b = label.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    if b.iter().all(u8::is_ascii_alphanumeric) {
        return b.iter().any(u8::is_ascii_alphabetic);
    }
    b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
}

/// Splits a trailing `/n`, `//m` or `/n//m` off `a`/`mx` arguments, leaving the digits
/// unchecked so the domain before them is validated (and reported) first.
fn split_dual_cidr(args: &str) -> (&str, Option<&str>, Option<&str>) {
    let Some((before, digits)) = trailing_length(args) else {
        return (args, None, None);
    };
    let Some(before_v6) = before.strip_suffix('/') else {
        return (before, Some(digits), None);
    };
    match trailing_length(before_v6) {
        Some((head, v4)) => (head, Some(v4), Some(digits)),
        None => (before_v6, None, Some(digits)),
    }
}

/// `(before, digits)` when `s` ends in `/` followed by digits (possibly none).
fn trailing_length(s: &str) -> Option<(&str, &str)> {
    let slash = s.rfind('/')?;
    let digits = &s[slash + 1..];
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some((&s[..slash], digits))
}

/// `addr ["/" length]` for ip4/ip6, after the required `:`; the length is left unchecked
/// so the address before it is validated (and reported) first.
fn network<'a>(
    cx: &TermCx<'a>,
    args: &'a str,
    missing: ParseErrorKind,
) -> Result<(&'a str, Option<&'a str>), ParseError> {
    let Some(net) = args.strip_prefix(':') else {
        return Err(cx.err(missing, cx.pos(args), args.len()));
    };
    Ok(match net.split_once('/') {
        Some((addr, digits)) => (addr, Some(digits)),
        None => (net, None),
    })
}

/// `"0" / %x31-39 *DIGIT`, at most `max`.
fn cidr_length(cx: &TermCx<'_>, digits: &str, max: u8) -> Result<u8, ParseError> {
    let at = cx.pos(digits);
    let b = digits.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return Err(cx.err(ParseErrorKind::InvalidCidr, at, digits.len()));
    }
    let length = b.iter().fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    if length > u32::from(max) {
        return Err(cx.err(
            ParseErrorKind::CidrTooLong { length, max },
            at,
            digits.len(),
        ));
    }
    Ok(length as u8)
}

/// A dotted quad of `dec-octet`s (no leading zeros).
fn ip4_address(s: &str) -> Option<Ipv4Addr> {
    let (rest, (a, _, b, _, c, _, d)) = (
        dec_octet,
        char('.'),
        dec_octet,
        char('.'),
        dec_octet,
        char('.'),
        dec_octet,
    )
        .parse(s)
        .ok()?;
    rest.is_empty().then(|| Ipv4Addr::new(a, b, c, d))
}

/// `dec-octet`: 0–255 in decimal, without leading zeros.
fn dec_octet(input: &str) -> Res<'_, u8> {
    let (rest, digits) = take_while1(|c: char| c.is_ascii_digit()).parse(input)?;
    let b = digits.as_bytes();
    if b.len() > 3 || (b.len() > 1 && b[0] == b'0') {
        return Err(nom::Err::Error(()));
    }
    let n = b.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    u8::try_from(n)
        .map(|n| (rest, n))
        .map_err(|_| nom::Err::Error(()))
}
