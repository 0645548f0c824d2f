//! The RFC 7208 §12 grammar, with nom for the lexical pieces.
//!
//! Terms are split on spaces, then each term is parsed on its own, so an error
//! points at the term and byte it is in. nom runs with the unit error type (no
//! allocation, no backtracking bookkeeping); positions are turned into our own
//! [`ParseError`] here, so no nom type leaves this module.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag_no_case, take_till1, take_while, take_while1};
use nom::character::complete::{char, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::terminated;

use super::{
    Directive, DualCidr, Mechanism, Modifier, ParseError, ParseErrorKind, Qualifier, Record, Span,
    Term,
};
use crate::macros::{MacroString, Piece};

type Res<'a, T> = IResult<&'a str, T, ()>;

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
    let Ok((rest, _)) = tag_no_case::<_, _, ()>("v=spf1").parse(text) else {
        let len = text.len().min(6);
        return Err(ParseError::new(ParseErrorKind::NotSpf, 0, len, ""));
    };
    check_characters(text)?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        let end = rest.find(' ').map_or(text.len(), |i| i + 6);
        return Err(ParseError::new(
            ParseErrorKind::NotSpf,
            0,
            end,
            &text[..end],
        ));
    }

    let mut terms = Vec::with_capacity(8);
    let mut spans = Vec::with_capacity(8);
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let mut rest = rest;
    loop {
        let (after_spaces, _) = spaces(rest);
        let Ok((after_term, token)) = term_token(after_spaces) else {
            break;
        };
        let offset = text.len() - after_spaces.len();
        let cx = TermCx {
            text: token,
            offset,
        };
        let term = parse_term(&cx)?;
        if let Term::Modifier(m) = &term {
            let (seen, name) = match m {
                Modifier::Redirect(_) => (&mut seen_redirect, "redirect"),
                Modifier::Explanation(_) => (&mut seen_exp, "exp"),
                Modifier::Unknown { .. } => (&mut false, ""),
            };
            if *seen {
                return Err(cx.err(ParseErrorKind::DuplicateModifier { name }, 0, token.len()));
            }
            *seen = true;
        }
        terms.push(term);
        spans.push(Span {
            start: offset,
            len: token.len(),
        });
        rest = after_term;
    }
    Ok(Record::from_parts(terms, spans))
}

/// Records are printable ASCII and spaces; point at the first byte that is not.
fn check_characters(text: &str) -> Result<(), ParseError> {
    let Some(at) = text.bytes().position(|b| !(0x20..=0x7e).contains(&b)) else {
        return Ok(());
    };
    let byte = text.as_bytes()[at];
    let kind = if byte.is_ascii() {
        ParseErrorKind::ControlCharacter { byte }
    } else {
        ParseErrorKind::NonAscii { byte }
    };
    // Quote the term around the byte, cut at a character boundary.
    let start = text[..at].rfind(' ').map_or(0, |i| i + 1);
    let end = text[at..]
        .find(' ')
        .map_or(text.len(), |i| at + i)
        .max(at + 1);
    let term = String::from_utf8_lossy(&text.as_bytes()[start..end.min(text.len())]);
    Err(ParseError::new(kind, at, 1, &term))
}

fn spaces(input: &str) -> (&str, &str) {
    take_while::<_, _, ()>(|c| c == ' ')
        .parse(input)
        .unwrap_or((input, ""))
}

fn term_token(input: &str) -> Res<'_, &str> {
    take_till1(|c| c == ' ').parse(input)
}

fn parse_term<'a>(cx: &TermCx<'a>) -> Result<Term<'a>, ParseError> {
    if let Ok((value, name)) = modifier_name(cx.text) {
        return parse_modifier(cx, name, value).map(Term::Modifier);
    }
    parse_directive(cx).map(Term::Directive)
}

/// `name "="` with `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`.
fn modifier_name(input: &str) -> Res<'_, &str> {
    terminated(
        recognize((
            satisfy(|c| c.is_ascii_alphabetic()),
            take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        )),
        char('='),
    )
    .parse(input)
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
    let value = MacroString::parse(value, true).map_err(|(kind, at, len)| {
        let kind = match kind {
            ParseErrorKind::ControlCharacter { .. } => ParseErrorKind::InvalidModifierValue,
            other => other,
        };
        cx.err(kind, cx.pos(value) + at, len)
    })?;
    Ok(Modifier::Unknown {
        name: Cow::Borrowed(name),
        value,
    })
}

fn qualifier(input: &str) -> Res<'_, Qualifier> {
    opt(one_of("+-~?"))
        .map(|q| match q {
            Some('-') => Qualifier::Fail,
            Some('~') => Qualifier::SoftFail,
            Some('?') => Qualifier::Neutral,
            _ => Qualifier::Pass,
        })
        .parse(input)
}

fn mechanism_name(input: &str) -> Res<'_, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric()).parse(input)
}

fn parse_directive<'a>(cx: &TermCx<'a>) -> Result<Directive<'a>, ParseError> {
    let (rest, qualifier) = qualifier(cx.text).unwrap_or((cx.text, Qualifier::Pass));
    let Ok((args, name)) = mechanism_name(rest) else {
        let at = cx.pos(rest);
        let kind = ParseErrorKind::UnknownMechanism { name: rest.into() };
        return Err(cx.err(kind, at, rest.len()));
    };
    let is = |s: &str| name.eq_ignore_ascii_case(s);
    let mechanism = if is("all") {
        no_argument(cx, args)?;
        Mechanism::All
    } else if is("include") {
        Mechanism::Include(required_domain(cx, args)?)
    } else if is("exists") {
        Mechanism::Exists(required_domain(cx, args)?)
    } else if is("a") || is("mx") {
        let (head, cidr) = dual_cidr(cx, args)?;
        let domain = optional_domain(cx, head)?;
        if is("a") {
            Mechanism::A { domain, cidr }
        } else {
            Mechanism::Mx { domain, cidr }
        }
    } else if is("ptr") {
        Mechanism::Ptr(optional_domain(cx, args)?)
    } else if is("ip4") {
        let (addr, prefix) = network(cx, args, 32, ParseErrorKind::InvalidIp4)?;
        let ip = ip4_address(addr)
            .ok_or_else(|| cx.err(ParseErrorKind::InvalidIp4, cx.pos(addr), addr.len().max(1)))?;
        Mechanism::Ip4(Ipv4Net::new_assert(ip, prefix))
    } else if is("ip6") {
        let (addr, prefix) = network(cx, args, 128, ParseErrorKind::InvalidIp6)?;
        let ip: Ipv6Addr = addr
            .parse()
            .map_err(|_| cx.err(ParseErrorKind::InvalidIp6, cx.pos(addr), addr.len().max(1)))?;
        Mechanism::Ip6(Ipv6Net::new_assert(ip, prefix))
    } else {
        let kind = ParseErrorKind::UnknownMechanism { name: name.into() };
        return Err(cx.err(kind, cx.pos(name), name.len()));
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
    let ms = MacroString::parse(spec, false).map_err(|(kind, i, len)| cx.err(kind, at + i, len))?;
    if !has_domain_end(&ms) {
        return Err(cx.err(ParseErrorKind::InvalidDomainEnd, at, spec.len()));
    }
    Ok(ms)
}

/// `domain-end = ( "." toplabel [ "." ] ) / macro-expand`.
fn has_domain_end(ms: &MacroString<'_>) -> bool {
    match ms.pieces().last() {
        Some(Piece::Literal(lit)) => {
            let lit = lit.strip_suffix('.').unwrap_or(lit);
            lit.rfind('.')
                .is_some_and(|dot| is_toplabel(&lit[dot + 1..]))
        }
        Some(Piece::Macro(_) | Piece::Escape(_)) => true,
        None => false,
    }
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

/// Splits a trailing `/n`, `//m` or `/n//m` off `a`/`mx` arguments.
fn dual_cidr<'a>(cx: &TermCx<'a>, args: &'a str) -> Result<(&'a str, DualCidr), ParseError> {
    let mut cidr = DualCidr::default();
    let (mut head, mut v4, mut v6) = (args, None, None);
    if let Some((before, digits)) = trailing_length(head) {
        if let Some(before_v6) = before.strip_suffix('/') {
            v6 = Some(digits);
            head = before_v6;
            if let Some((before_v4, d4)) = trailing_length(head) {
                v4 = Some(d4);
                head = before_v4;
            }
        } else {
            v4 = Some(digits);
            head = before;
        }
    }
    if let Some(d) = v4 {
        cidr.v4 = cidr_length(cx, d, 32)?;
    }
    if let Some(d) = v6 {
        cidr.v6 = cidr_length(cx, d, 128)?;
    }
    Ok((head, cidr))
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

/// `addr ["/" length]` for ip4/ip6, after the required `:`.
fn network<'a>(
    cx: &TermCx<'a>,
    args: &'a str,
    max: u8,
    missing: ParseErrorKind,
) -> Result<(&'a str, u8), ParseError> {
    let Some(net) = args.strip_prefix(':') else {
        let at = cx.pos(args);
        return Err(cx.err(missing, at, args.len()));
    };
    match net.split_once('/') {
        Some((addr, digits)) => Ok((addr, cidr_length(cx, digits, max)?)),
        None => Ok((net, max)),
    }
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

fn dec_octet(input: &str) -> Res<'_, u8> {
    let (rest, digits) = take_while1(|c: char| c.is_ascii_digit()).parse(input)?;
    if digits.len() > 3 || (digits.len() > 1 && digits.starts_with('0')) {
        return Err(nom::Err::Error(()));
    }
    match digits.parse::<u8>() {
        Ok(n) => Ok((rest, n)),
        Err(_) => Err(nom::Err::Error(())),
    }
}
