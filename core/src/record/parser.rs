//! The record grammar of RFC 7208 §12 as nom parsers over bytes, one function per rule
//! and named after it, so the code reads beside the ABNF:
//!
//! ```text
//! record           = version terms *SP
//! version          = "v=spf1"
//! terms            = *( 1*SP ( directive / modifier ) )
//! directive        = [ qualifier ] mechanism
//! qualifier        = "+" / "-" / "?" / "~"
//! mechanism        = ( all / include / a / mx / ptr / ip4 / ip6 / exists )
//! modifier         = redirect / explanation / unknown-modifier
//! unknown-modifier = name "=" macro-string
//! name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
//! domain-spec      = macro-string domain-end
//! domain-end       = ( "." toplabel [ "." ] ) / macro-expand
//! toplabel         = ( *alphanum ALPHA *alphanum ) /
//!                    ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
//! dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
//! ```
//!
//! The macro-string rules are in [`super::macros`], the address rules (`ip4-network`,
//! `ip6-network`) in the crate's one IP text reader, shared with the whitelist field.
//!
//! Records are printable ASCII (RFC 7208 §3): that is checked in one pass right after
//! the version, so a bad byte is reported before any rule, and the rules see only
//! printable characters. Terms are then cut at spaces and parsed one at a time, so an
//! error points at the term and byte it is in. Once a mechanism's name has matched, its
//! arguments are parsed under `cut`: what follows must be that mechanism's. Every
//! parser looks at each byte a bounded number of times, so parsing is linear in the
//! record length whatever the input; failures are small `Copy` values until the
//! one public [`ParseError`] is built at the top.

use std::borrow::Cow;

use ipnet::{Ipv4Net, Ipv6Net};
use nom::Parser;
use nom::bytes::complete::take_while;
use nom::combinator::cut;

use super::error::{Fault, FaultKind, PResult, fail, fail_for_good, fault_of};
use super::macros::{MacroString, Source, macro_string};
use super::{
    Directive, DualCidr, Mechanism, Modifier, ParseError, ParseErrorKind, Qualifier, Record, Term,
};
use crate::addr::{ip4_network, ip6_network};

/// Length of `v=spf1`.
pub(super) const VERSION_LEN: usize = 6;

/// The text being parsed, to turn the byte slices the parsers return back into `str`s
/// of the record (zero-copy) and faults into positions.
#[derive(Clone, Copy)]
struct Cx<'a> {
    text: &'a str,
}

impl<'a> Cx<'a> {
    /// Where `part`, a sub-slice of the text, starts.
    fn offset(&self, part: &[u8]) -> usize {
        part.as_ptr() as usize - self.text.as_ptr() as usize
    }

    /// `part`, a sub-slice of the text, as the `str` it is (ASCII: every byte is a
    /// character boundary).
    fn str(&self, part: &'a [u8]) -> &'a str {
        let start = self.offset(part);
        self.text.get(start..start + part.len()).unwrap_or_default()
    }

    /// The public error for `fault` in `term`.
    #[cold]
    #[inline(never)]
    fn error(&self, fault: Fault<'a>, term: &'a [u8]) -> Box<ParseError> {
        let kind = fault.kind();
        Box::new(ParseError::new(
            kind,
            self.offset(fault.at),
            fault.at.len(),
            self.str(term),
        ))
    }
}

pub(super) fn parse_record(text: &str) -> Result<Record<'_>, ParseError> {
    let mut terms = Vec::with_capacity(check(text.as_bytes()).map_err(|e| *e)?);
    self::terms(text, |term| terms.push(term)).map_err(|e| *e)?;
    Ok(Record::from_parts(terms, text))
}

pub(super) fn parse_record_bytes(bytes: &[u8]) -> Result<Record<'_>, ParseError> {
    let (text, spaces) = checked_text(bytes).map_err(|e| *e)?;
    let mut terms = Vec::with_capacity(spaces);
    self::terms(text, |term| terms.push(term)).map_err(|e| *e)?;
    Ok(Record::from_parts(terms, text))
}

/// Parses `bytes` as [`Record::parse_bytes`] does and hands each term to `f` in order,
/// without collecting them. On `Err`, `f` may already have seen earlier terms; callers
/// discard them, since the error is the same one [`Record::parse_bytes`] returns. The
/// error stays boxed, for callers that keep it.
pub(crate) fn visit_terms_bytes<'a>(
    bytes: &'a [u8],
    f: impl FnMut(Term<'a>),
) -> Result<(), Box<ParseError>> {
    terms(checked_text(bytes)?.0, f)
}

/// The record as text once [`check`] has passed it, and its number of spaces.
fn checked_text(record: &[u8]) -> Result<(&str, usize), Box<ParseError>> {
    let spaces = check(record)?;
    // Printable ASCII is UTF-8: this cannot fail.
    match std::str::from_utf8(record) {
        Ok(text) => Ok((text, spaces)),
        Err(e) => Err(Box::new(character_error(record, e.valid_up_to()))),
    }
}

/// The `version`, then the character set: printable ASCII and spaces only. Returns the
/// number of spaces, at least the number of terms (every term follows one), so the term
/// vector is allocated once, the only allocation of a parse.
fn check(record: &[u8]) -> Result<usize, Box<ParseError>> {
    let rest = version(record).map_err(Box::new)?;
    let mut spaces = 0;
    // One pass, folded per chunk without an early exit and counted in a byte, which
    // the compiler turns into wide compares.
    for chunk in rest.chunks(255) {
        let (bad, n) = chunk.iter().fold((0u8, 0u8), |(bad, n), &c| {
            let unprintable = c.wrapping_sub(b' ') > b'~' - b' ';
            (bad | u8::from(unprintable), n + u8::from(c == b' '))
        });
        if bad != 0 {
            return Err(Box::new(character_error(record, first_bad(record))));
        }
        spaces += usize::from(n);
    }
    Ok(spaces)
}

/// `record = version terms *SP` after the version: each term, handed to `f`.
fn terms<'a>(text: &'a str, mut f: impl FnMut(Term<'a>)) -> Result<(), Box<ParseError>> {
    let cx = Cx { text };
    let mut modifiers = Once::default();
    for term in term_slices(text, VERSION_LEN) {
        match self::term(cx, term) {
            Ok((_, parsed)) => {
                if let Err(fault) = modifiers.check(&parsed, term) {
                    return Err(cx.error(fault, term));
                }
                f(parsed);
            }
            Err(e) => return Err(cx.error(fault_of(e, term), term)),
        }
    }
    Ok(())
}

/// `version = "v=spf1"`, followed by a space or the end (RFC 7208 §4.5); in any case.
/// Returns the text after it.
fn version(record: &[u8]) -> Result<&[u8], ParseError> {
    match record.split_first_chunk::<VERSION_LEN>() {
        Some((tag, rest)) if tag.eq_ignore_ascii_case(b"v=spf1") => match rest {
            [] | [b' ', ..] => Ok(rest),
            _ => Err(version_run_on(record)),
        },
        _ => Err(not_spf(record)),
    }
}

/// The index of the first byte outside printable ASCII and space (`b.len()` if none).
fn first_bad(b: &[u8]) -> usize {
    b.iter()
        .position(|c| !(b' '..=b'~').contains(c))
        .unwrap_or(b.len())
}

/// The error for a record that does not start with `v=spf1`.
#[cold]
fn not_spf(b: &[u8]) -> ParseError {
    // Point at whole characters: the sixth byte may sit inside one.
    let mut len = b.len().min(VERSION_LEN);
    while len > 0 && b.get(len).is_some_and(|&c| is_continuation(c)) {
        len -= 1;
    }
    ParseError::new(ParseErrorKind::NotSpf, 0, len, "")
}

/// The error for `v=spf1` followed by something other than a space; a bad byte anywhere
/// in the record is reported first.
#[cold]
fn version_run_on(b: &[u8]) -> ParseError {
    let at = first_bad(b);
    if at < b.len() {
        return character_error(b, at);
    }
    let end = memchr::memchr(b' ', b).unwrap_or(b.len());
    let shown = String::from_utf8_lossy(&b[..end]);
    ParseError::new(ParseErrorKind::NotSpf, 0, end, &shown)
}

/// The error for the byte at `at`, which is not printable ASCII; quotes the term around it.
#[cold]
fn character_error(b: &[u8], at: usize) -> ParseError {
    let byte = b.get(at).copied().unwrap_or(0);
    let kind = Fault::new(FaultKind::Character(byte), b).kind();
    let start = memchr::memrchr(b' ', &b[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b' ', &b[at..]).map_or(b.len(), |i| at + i);
    let term = String::from_utf8_lossy(&b[start..end]);
    // The whole character, so the span can slice the text it came from.
    let len = 1 + b[at + 1..]
        .iter()
        .take(3)
        .take_while(|&&c| is_continuation(c))
        .count();
    ParseError::new(kind, at, len, &term)
}

/// A UTF-8 continuation byte (`10xxxxxx`): not the start of a character.
fn is_continuation(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

/// `terms = *( 1*SP ( directive / modifier ) )`: the terms' text from `from` on, each
/// after its spaces and up to the next.
fn term_slices(record: &str, from: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = record.as_bytes().get(from..).unwrap_or_default();
    std::iter::from_fn(move || {
        let start = rest.iter().position(|&c| c != b' ')?;
        let after = &rest[start..];
        let term;
        (term, rest) = after.split_at(memchr::memchr(b' ', after).unwrap_or(after.len()));
        Some(term)
    })
}

/// The `(start, end)` byte ranges of the terms of `text` from `from` on. The parser and
/// [`Record::spanned_terms`] share the cut, so spans need no storage.
pub(super) fn term_bounds(text: &str, from: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let record = text.as_bytes();
    term_slices(text, from).map(move |term| {
        let start = term.as_ptr() as usize - record.as_ptr() as usize;
        (start, start + term.len())
    })
}

/// `redirect` and `exp` at most once each (RFC 7208 §6).
#[derive(Default)]
struct Once {
    redirect: bool,
    exp: bool,
}

impl Once {
    fn check<'a>(&mut self, term: &Term<'_>, text: &'a [u8]) -> Result<(), Fault<'a>> {
        let (seen, name) = match term {
            Term::Modifier(Modifier::Redirect(_)) => (&mut self.redirect, "redirect"),
            Term::Modifier(Modifier::Explanation(_)) => (&mut self.exp, "exp"),
            _ => return Ok(()),
        };
        if std::mem::replace(seen, true) {
            return Err(Fault::new(FaultKind::DuplicateModifier(name), text));
        }
        Ok(())
    }
}

/// `directive / modifier`, one term's text; a term that is neither fails as the
/// directive it would have to be.
#[inline(always)]
fn term<'a>(cx: Cx<'a>, input: &'a [u8]) -> PResult<'a, Term<'a>> {
    match directive(cx, input) {
        Ok((rest, d)) => return Ok((rest, Term::Directive(d))),
        Err(nom::Err::Error(_)) => {}
        Err(e) => return Err(e),
    }
    match modifier(cx, input) {
        Ok((rest, m)) => return Ok((rest, Term::Modifier(m))),
        Err(nom::Err::Error(_)) => {}
        Err(e) => return Err(e),
    }
    invalid_directive(cx, input)
}

/// `directive = [ qualifier ] mechanism`. Backtracks (for a modifier) unless a
/// mechanism's name ends where `:`, `/` or the term's end follows; from there on
/// the term must be that mechanism.
fn directive<'a>(cx: Cx<'a>, input: &'a [u8]) -> PResult<'a, Directive<'a>> {
    let (rest, qualifier) = qualifier(input)?;
    let (args, name) = mechanism_name(rest)?;
    if !matches!(args, [] | [b':' | b'/', ..]) {
        return fail(FaultKind::Syntax, rest);
    }
    let (rest, mechanism) = cut(|args| mechanism(cx, name, args)).parse(args)?;
    Ok((
        rest,
        Directive {
            qualifier,
            mechanism,
        },
    ))
}

/// A term that is neither a directive nor a modifier: the error its directive reading
/// gives, an unknown or missing mechanism, or a known one's bad arguments
/// (`include.example`, `ip4.1`).
#[cold]
fn invalid_directive<'a, T>(cx: Cx<'a>, input: &'a [u8]) -> PResult<'a, T> {
    let (rest, _) = qualifier(input)?;
    match mechanism_name(rest) {
        Ok((args, name)) => match mechanism(cx, name, args) {
            Err(e) => Err(nom::Err::Failure(fault_of(e, args))),
            Ok(_) => fail_for_good(FaultKind::UnexpectedArgument, args),
        },
        Err(_) if rest.is_empty() => fail_for_good(FaultKind::MissingMechanism, rest),
        Err(_) => {
            // Quote what stands where the name should be: the name, or the junk.
            let (_, name) = take_while(is_alphanumeric)(rest)?;
            let shown = if name.is_empty() { rest } else { name };
            fail_for_good(FaultKind::UnknownMechanism, shown)
        }
    }
}

/// `qualifier = "+" / "-" / "?" / "~"`, optional: `+` when absent.
fn qualifier(input: &[u8]) -> PResult<'_, Qualifier> {
    let qualifier = match input.first() {
        Some(b'+') => Qualifier::Pass,
        Some(b'-') => Qualifier::Fail,
        Some(b'~') => Qualifier::SoftFail,
        Some(b'?') => Qualifier::Neutral,
        _ => return Ok((input, Qualifier::Pass)),
    };
    Ok((&input[1..], qualifier))
}

/// The mechanisms by name.
#[derive(Clone, Copy)]
enum Name {
    All,
    Include,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
    Exists,
}

impl Name {
    /// The length of the name.
    fn len(self) -> usize {
        match self {
            Name::A => 1,
            Name::Mx => 2,
            Name::All | Name::Ptr | Name::Ip4 | Name::Ip6 => 3,
            Name::Exists => 6,
            Name::Include => 7,
        }
    }
}

/// A mechanism's name, in any case, as a whole word: `"all" / "include" / "a" / "mx" /
/// "ptr" / "ip4" / "ip6" / "exists"`, not followed by a letter or digit. Chosen by the
/// first letter, then compared whole.
#[inline(always)]
fn mechanism_name(input: &[u8]) -> PResult<'_, Name> {
    let name = match input.first().map(|c| c | 0x20) {
        Some(b'a') if keyword(input, b"all") => Name::All,
        Some(b'a') => Name::A,
        Some(b'i') if keyword(input, b"ip4") => Name::Ip4,
        Some(b'i') if keyword(input, b"ip6") => Name::Ip6,
        Some(b'i') if keyword(input, b"include") => Name::Include,
        Some(b'm') if keyword(input, b"mx") => Name::Mx,
        Some(b'p') if keyword(input, b"ptr") => Name::Ptr,
        Some(b'e') if keyword(input, b"exists") => Name::Exists,
        _ => return fail(FaultKind::Syntax, input),
    };
    let rest = &input[name.len()..];
    if rest.first().is_some_and(u8::is_ascii_alphanumeric) {
        return fail(FaultKind::Syntax, input);
    }
    Ok((rest, name))
}

/// Whether `input` starts with `word` (lower-case letters and digits), in any case. On
/// printable ASCII, `| 0x20` lower-cases letters and leaves digits as they are.
#[inline(always)]
fn keyword<const N: usize>(input: &[u8], word: &[u8; N]) -> bool {
    input
        .first_chunk::<N>()
        .is_some_and(|start| start.iter().zip(word).all(|(c, w)| c | 0x20 == *w))
}

/// `alphanum = ALPHA / DIGIT`.
fn is_alphanumeric(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// `mechanism = ( all / include / a / mx / ptr / ip4 / ip6 / exists )`: the arguments
/// after the name, all of them.
#[inline(always)]
fn mechanism<'a>(cx: Cx<'a>, name: Name, args: &'a [u8]) -> PResult<'a, Mechanism<'a>> {
    match name {
        Name::All => all(args),
        Name::Include => include(cx, args),
        Name::A => a(cx, args),
        Name::Mx => mx(cx, args),
        Name::Ptr => ptr(cx, args),
        Name::Ip4 => ip4(args),
        Name::Ip6 => ip6(args),
        Name::Exists => exists(cx, args),
    }
}

/// `all = "all"`: nothing after the name.
fn all(args: &[u8]) -> PResult<'_, Mechanism<'_>> {
    match args {
        [] => Ok((args, Mechanism::All)),
        _ => fail(FaultKind::UnexpectedArgument, args),
    }
}

/// `include = "include" ":" domain-spec`.
fn include<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, Mechanism<'a>> {
    let (rest, domain) = colon_domain_spec(cx, args)?;
    Ok((rest, Mechanism::Include(domain)))
}

/// `exists = "exists" ":" domain-spec`.
fn exists<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, Mechanism<'a>> {
    let (rest, domain) = colon_domain_spec(cx, args)?;
    Ok((rest, Mechanism::Exists(domain)))
}

/// `a = "a" [ ":" domain-spec ] [ dual-cidr-length ]`.
fn a<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, Mechanism<'a>> {
    let (rest, (domain, cidr)) = domain_and_cidr(cx, args)?;
    Ok((rest, Mechanism::A { domain, cidr }))
}

/// `mx = "mx" [ ":" domain-spec ] [ dual-cidr-length ]`.
fn mx<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, Mechanism<'a>> {
    let (rest, (domain, cidr)) = domain_and_cidr(cx, args)?;
    Ok((rest, Mechanism::Mx { domain, cidr }))
}

/// `ptr = "ptr" [ ":" domain-spec ]`.
fn ptr<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, Mechanism<'a>> {
    let (rest, domain) = optional_domain_spec(cx, args)?;
    Ok((rest, Mechanism::Ptr(domain)))
}

/// `ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]`; host bits are kept as written.
fn ip4(args: &[u8]) -> PResult<'_, Mechanism<'_>> {
    let (net, ()) = colon(FaultKind::InvalidIp4, args)?;
    let (after, addr) = match ip4_network(net) {
        Ok((after @ ([] | [b'/', ..]), addr)) => (after, addr),
        _ => return fail(FaultKind::InvalidIp4, address_text(net)),
    };
    let (rest, prefix) = cidr_suffix(after, 32)?;
    Ok((rest, Mechanism::Ip4(Ipv4Net::new_assert(addr, prefix))))
}

/// `ip6 = "ip6" ":" ip6-network [ ip6-cidr-length ]`; host bits are kept as written.
fn ip6(args: &[u8]) -> PResult<'_, Mechanism<'_>> {
    let (net, ()) = colon(FaultKind::InvalidIp6, args)?;
    let (after, addr) = match ip6_network(net) {
        Ok((after @ ([] | [b'/', ..]), addr)) => (after, addr),
        _ => return fail(FaultKind::InvalidIp6, address_text(net)),
    };
    let (rest, prefix) = cidr_suffix(after, 128)?;
    Ok((rest, Mechanism::Ip6(Ipv6Net::new_assert(addr, prefix))))
}

/// The `":"` before an `ip4`/`ip6` network; without it the arguments are no network.
fn colon(invalid: FaultKind, args: &[u8]) -> PResult<'_, ()> {
    match args.split_first() {
        Some((b':', net)) => Ok((net, ())),
        _ => fail(invalid, args),
    }
}

/// `[ ip4-cidr-length ]` or `[ ip6-cidr-length ]` after a network's address, which
/// ended at the end or a `/`: the length, `max` when absent.
fn cidr_suffix(after: &[u8], max: u8) -> PResult<'_, u8> {
    match after.split_first() {
        Some((b'/', digits)) => cidr_length(digits, max),
        _ => Ok((after, max)),
    }
}

/// An address as the error quotes it: the text before the first `/`.
fn address_text(net: &[u8]) -> &[u8] {
    let end = net.iter().position(|&c| c == b'/').unwrap_or(net.len());
    &net[..end]
}

/// `":" domain-spec`, required.
fn colon_domain_spec<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, MacroString<'a>> {
    match args.split_first() {
        Some((b':', spec)) => domain_spec(cx, spec),
        None => fail(FaultKind::MissingDomain, args),
        Some(_) => fail(FaultKind::UnexpectedArgument, args),
    }
}

/// `[ ":" domain-spec ]`.
fn optional_domain_spec<'a>(cx: Cx<'a>, args: &'a [u8]) -> PResult<'a, Option<MacroString<'a>>> {
    if args.is_empty() {
        return Ok((args, None));
    }
    let (rest, domain) = colon_domain_spec(cx, args)?;
    Ok((rest, Some(domain)))
}

/// `[ ":" domain-spec ] [ dual-cidr-length ]` of `a` and `mx`. A domain-spec may hold
/// `/` itself, so the `dual-cidr-length` is what [`dual_cidr_split`] finds at the end;
/// the domain before it is checked (and reported) first.
fn domain_and_cidr<'a>(
    cx: Cx<'a>,
    args: &'a [u8],
) -> PResult<'a, (Option<MacroString<'a>>, DualCidr)> {
    let (head, v4, v6) = dual_cidr_split(args);
    let (_, domain) = optional_domain_spec(cx, head)?;
    let cidr = DualCidr {
        v4: v4.map_or(Ok(32), |d| cidr_length(d, 32).map(|(_, n)| n))?,
        v6: v6.map_or(Ok(128), |d| cidr_length(d, 128).map(|(_, n)| n))?,
    };
    Ok((&args[args.len()..], (domain, cidr)))
}

/// `dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]` at the end of `a`
/// or `mx` arguments: `/n`, `//m` or `/n//m`. Splits it off, the digits (possibly none)
/// not yet checked.
fn dual_cidr_split(args: &[u8]) -> (&[u8], Option<&[u8]>, Option<&[u8]>) {
    let Some((before, digits)) = trailing_length(args) else {
        return (args, None, None);
    };
    let Some(before_v6) = before.strip_suffix(b"/") else {
        return (before, Some(digits), None);
    };
    match trailing_length(before_v6) {
        Some((head, v4)) => (head, Some(v4), Some(digits)),
        None => (before_v6, None, Some(digits)),
    }
}

/// `(before, digits)` when `s` ends in `/` followed by digits (possibly none).
fn trailing_length(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let slash = s.iter().rposition(|&c| c == b'/')?;
    let digits = &s[slash + 1..];
    digits
        .iter()
        .all(u8::is_ascii_digit)
        .then_some((&s[..slash], digits))
}

/// The digits of `ip4-cidr-length = "/" ( "0" / %x31-39 0*1DIGIT )` and
/// `ip6-cidr-length = "/" ( "0" / %x31-39 0*2DIGIT )`, all of `digits`: decimal
/// without a leading zero, at most `max` (32 or 128).
fn cidr_length(digits: &[u8], max: u8) -> PResult<'_, u8> {
    let leading_zero = digits.len() > 1 && digits[0] == b'0';
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || leading_zero {
        return fail(FaultKind::InvalidCidr, digits);
    }
    let length = digits.iter().fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    match u8::try_from(length) {
        Ok(length) if length <= max => Ok((&digits[digits.len()..], length)),
        _ => fail(FaultKind::CidrTooLong { length, max }, digits),
    }
}

/// `modifier = redirect / explanation / unknown-modifier`, all `name "=" value`.
/// Backtracks unless the term starts with `name "="`.
fn modifier<'a>(cx: Cx<'a>, input: &'a [u8]) -> PResult<'a, Modifier<'a>> {
    let (value, name) = self::name(input)?;
    let Some((b'=', value)) = value.split_first() else {
        return fail(FaultKind::Syntax, input);
    };
    let (rest, modifier) = cut(|value| {
        if name.eq_ignore_ascii_case(b"redirect") {
            redirect(cx, value)
        } else if name.eq_ignore_ascii_case(b"exp") {
            explanation(cx, value)
        } else {
            unknown_modifier(cx, name, value)
        }
    })
    .parse(value)?;
    Ok((rest, modifier))
}

/// `redirect = "redirect" "=" domain-spec`.
fn redirect<'a>(cx: Cx<'a>, value: &'a [u8]) -> PResult<'a, Modifier<'a>> {
    let (rest, domain) = domain_spec(cx, value)?;
    Ok((rest, Modifier::Redirect(domain)))
}

/// `explanation = "exp" "=" domain-spec`.
fn explanation<'a>(cx: Cx<'a>, value: &'a [u8]) -> PResult<'a, Modifier<'a>> {
    let (rest, domain) = domain_spec(cx, value)?;
    Ok((rest, Modifier::Explanation(domain)))
}

/// `unknown-modifier = name "=" macro-string`. Ignored by evaluation, but the value must
/// still be a record's macro-string: `c`, `r` and `t` only belong in explanation text
/// (RFC 7208 §7.1).
fn unknown_modifier<'a>(cx: Cx<'a>, name: &'a [u8], value: &'a [u8]) -> PResult<'a, Modifier<'a>> {
    let (rest, _) = macro_string(value, Source::Term)?;
    Ok((
        rest,
        Modifier::Unknown {
            name: Cow::Borrowed(cx.str(name)),
            value: MacroString::from_validated(cx.str(value)),
        },
    ))
}

/// `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`.
fn name(input: &[u8]) -> PResult<'_, &[u8]> {
    if !input.first().is_some_and(u8::is_ascii_alphabetic) {
        return fail(FaultKind::Syntax, input);
    }
    let (rest, _) = take_while(|c: u8| c.is_ascii_alphanumeric() || b"-_.".contains(&c))(input)?;
    Ok((rest, &input[..input.len() - rest.len()]))
}

/// `domain-spec = macro-string domain-end`, all of `spec`.
fn domain_spec<'a>(cx: Cx<'a>, spec: &'a [u8]) -> PResult<'a, MacroString<'a>> {
    if spec.is_empty() {
        return fail(FaultKind::MissingDomain, spec);
    }
    let (rest, tail) = macro_string(spec, Source::Term)?;
    if !domain_end(tail) {
        return fail(FaultKind::InvalidDomainEnd, spec);
    }
    Ok((rest, MacroString::from_validated(cx.str(spec))))
}

/// `domain-end = ( "." toplabel [ "." ] ) / macro-expand`, given the literal text after
/// the last macro of a non-empty domain-spec (empty when it ends in a macro-expand).
fn domain_end(tail: &[u8]) -> bool {
    if tail.is_empty() {
        return true;
    }
    let literal = tail.strip_suffix(b".").unwrap_or(tail);
    literal
        .iter()
        .rposition(|&c| c == b'.')
        .is_some_and(|dot| toplabel(&literal[dot + 1..]))
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" )
/// alphanum )`, all of `label`: letters and digits with a letter, or with inner dashes.
fn toplabel(label: &[u8]) -> bool {
    let is_label_char = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-';
    match (label.first(), label.last()) {
        (Some(first), Some(last)) if label.iter().all(is_label_char) => {
            if label.contains(&b'-') {
                first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric()
            } else {
                label.iter().any(u8::is_ascii_alphabetic)
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visiting_hands_over_what_parsing_collects() {
        let records = [
            "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all",
            "V=SPF1 a:%{d}/24//64 MX ptr exists:%{ir}._spf.%{d} ra=x redirect=example.org",
            "v=spf1",
            "v=spf1  ~all ",
            "v=spf1 ip4:192.0.2.300 \t-all",
            "v=spf1 include:example -all",
            "v=spf1 redirect=a.example redirect=b.example",
            "v=spf1x -all",
            "v=spf1 all ip6:2001:db8::/129 caf\u{e9}",
            "spf1 -all",
        ];
        for text in records {
            let parsed = Record::parse(text).map(|r| r.terms().to_vec());
            let mut visited = Vec::new();
            let result = visit_terms_bytes(text.as_bytes(), |term| visited.push(term))
                .map(|()| visited)
                .map_err(|e| *e);
            assert_eq!(result, parsed, "{text}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_fail_at_the_first_bad_byte() {
        let text = b"v=spf1 a:\x01b.example \xff -all";
        let err = visit_terms_bytes(text, |_| {}).unwrap_err();
        assert_eq!(*err, Record::parse_bytes(text).unwrap_err());
        assert_eq!((err.offset(), err.len()), (9, 1));
    }
}
