//! The RFC 7208 §12 grammar: plain byte code on the hot paths, nom for the dotted quad.
//!
//! One pass over the bytes, a word at a time, checks the character set and counts the
//! terms, so the term vector is allocated once at its final size (the only allocation
//! of a parse). Terms are then split on spaces and each is parsed on its own, so an
//! error points at the term and byte it is in; since every byte is known to be
//! printable ASCII by then, macro-strings in terms are checked for their macros only.
//! nom runs with the unit error type (no allocation, no backtracking bookkeeping) on
//! bytes (no UTF-8 decoding); positions are turned into our own [`ParseError`] here,
//! so no nom type leaves this module. Every step looks at each byte a bounded number
//! of times, so parsing is linear in the record length whatever the input.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::char;

use super::error::excerpt;
use super::{
    Directive, DualCidr, Mechanism, Modifier, ParseError, ParseErrorKind, Qualifier, Record, Term,
};
use crate::macros::MacroString;

type Res<'a, T> = IResult<&'a [u8], T, ()>;

/// Length of `v=spf1`.
pub(super) const VERSION_LEN: usize = 6;

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
        // Point at whole characters: the sixth byte may sit inside one.
        let mut len = b.len().min(VERSION_LEN);
        while len > 0 && b.get(len).is_some_and(|&c| is_continuation(c)) {
            len -= 1;
        }
        return Err(ParseError::new(ParseErrorKind::NotSpf, 0, len, ""));
    };
    let (bad, terms) = scan_words(rest);
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

/// `0x80` in every byte lane, the flag bit of the word-at-a-time checks below.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// `0x01` in every byte lane.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Eight bytes at a time, without branches or early exits (a byte loop costs about
/// ten instructions per byte here; this costs about two): whether any byte is outside
/// printable ASCII, and how many terms start (a non-space after a space). The byte
/// before `rest` is the `1` of `v=spf1`, not a space.
fn scan_words(rest: &[u8]) -> (bool, usize) {
    let mut bad = 0u64;
    let mut starts = 0u64;
    let mut space_carry = 0u64;
    // `counted` selects the lanes whose term starts count (all but re-read ones).
    let mut word = |w: u64, counted: u64| {
        // Per lane: the high bit set, or the low seven bits below 0x20 or all ones.
        let low = w & !HIGH;
        bad |= (w | !(low + 0x60 * ONES) | (low + ONES)) & HIGH;
        let space = zero_lanes(w ^ SPACES);
        // A lane starts a term when it is not a space and the lane before it is.
        let start = !space & ((space << 8) | space_carry) & counted;
        // Lane count by multiplication: `count_ones` is a software loop on baseline x86-64.
        starts += ((start >> 7).wrapping_mul(ONES)) >> 56;
        space_carry = space >> 56;
    };
    let mut chunks = rest.chunks_exact(8);
    for chunk in &mut chunks {
        word(load(chunk), HIGH);
    }
    let tail = chunks.remainder().len();
    if tail > 0 && rest.len() >= 8 {
        // Read the last eight bytes again, counting starts only in the new lanes (whose
        // predecessors are all in this word); checking a byte twice is harmless.
        word(load(&rest[rest.len() - 8..]), HIGH << (8 * (8 - tail)));
    } else if tail > 0 {
        // Shorter than a word: pad with spaces, valid and never a term start.
        let w = rest
            .iter()
            .rev()
            .fold(SPACES, |w, &c| (w << 8) | u64::from(c));
        word(w, HIGH);
    }
    (bad != 0, starts as usize)
}

/// Eight bytes as one little-endian word; `chunk` has exactly eight.
fn load(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().unwrap_or_default())
}

/// A space in every byte lane.
const SPACES: u64 = 0x20 * ONES;

/// The index of the first space in `b` from `from` on, or `b.len()`; a word at a time.
fn find_space(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i + 8 <= b.len() {
        let space = zero_lanes(load(&b[i..i + 8]) ^ SPACES);
        if space != 0 {
            return i + (space.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i] != b' ' {
        i += 1;
    }
    i
}

/// `0x80` in each byte lane of `w` that is zero, nothing elsewhere (exact: no carries
/// cross lanes).
fn zero_lanes(w: u64) -> u64 {
    !(((w & !HIGH) + !HIGH) | w | !HIGH)
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

/// Parses the space-separated terms after `v=spf1`; `count` sizes the vector exactly.
fn parse_terms(text: &str, count: usize) -> Result<Record<'_>, ParseError> {
    let mut terms = Vec::with_capacity(count);
    let mut seen_redirect = false;
    let mut seen_exp = false;
    for (start, end) in term_bounds(text, VERSION_LEN) {
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
    }
    Ok(Record::from_parts(terms, text))
}

/// The `(start, end)` byte ranges of the space-separated terms of `text` from `from` on.
/// The parser and [`Record::spanned_terms`] share it, so spans need no storage.
pub(super) fn term_bounds(text: &str, from: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let mut start = from;
    std::iter::from_fn(move || {
        while b.get(start) == Some(&b' ') {
            start += 1;
        }
        if start >= b.len() {
            return None;
        }
        let term_start = start;
        start = find_space(b, start);
        Some((term_start, start))
    })
}

fn parse_term<'a>(cx: &TermCx<'a>) -> Result<Term<'a>, ParseError> {
    // `name "="` with `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )` makes a
    // modifier; anything else is a directive. One scan finds the alphanumeric run a
    // mechanism name is (packing it into its lookup key on the way), and goes on over
    // `-_.` only when a modifier is possible.
    let b = cx.text.as_bytes();
    let (qualifier, name_start) = match b[0] {
        b'+' => (Qualifier::Pass, 1),
        b'-' => (Qualifier::Fail, 1),
        b'~' => (Qualifier::SoftFail, 1),
        b'?' => (Qualifier::Neutral, 1),
        _ => (Qualifier::Pass, 0),
    };
    let mut name_end = name_start;
    let mut key = 0u64;
    while name_end < b.len() && is(b[name_end], ALNUM) {
        key = (key << 8) | u64::from(b[name_end] | 0x20);
        name_end += 1;
    }
    if is(b[0], ALPHA) {
        let mut end = name_end;
        while end < b.len() && is(b[end], NAME) {
            end += 1;
        }
        if b.get(end) == Some(&b'=') {
            let (name, value) = (&cx.text[..end], &cx.text[end + 1..]);
            return parse_modifier(cx, name, value).map(Term::Modifier);
        }
    }
    let known = (name_end - name_start <= 8)
        .then(|| Name::from_key(key))
        .flatten();
    parse_directive(cx, qualifier, known, name_start, name_end).map(Term::Directive)
}

/// Character classes, as bits of [`CLASSES`].
const ALNUM: u8 = 1;
const ALPHA: u8 = 2;
const DIGIT: u8 = 4;
/// Letters, digits and `-_.`, the characters of a modifier name after the first.
const NAME: u8 = 8;

/// The classes of each byte: one load and a test instead of range comparisons.
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut bits = 0;
        if b.is_ascii_alphabetic() {
            bits |= ALNUM | ALPHA | NAME;
        }
        if b.is_ascii_digit() {
            bits |= ALNUM | DIGIT | NAME;
        }
        if matches!(b, b'-' | b'_' | b'.') {
            bits |= NAME;
        }
        t[c] = bits;
        c += 1;
    }
    t
};

/// True when `c` is in any of the `classes`.
fn is(c: u8, classes: u8) -> bool {
    CLASSES[c as usize] & classes != 0
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
    let value = MacroString::parse_checked(value, true)
        .map_err(|(kind, at, len)| cx.err(kind, cx.pos(value) + at, len))?;
    Ok(Modifier::Unknown {
        name: Cow::Borrowed(name),
        value,
    })
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
/// [`parse_term`] builds the same key while it scans the name.
const fn key(name: &str) -> u64 {
    let name = name.as_bytes();
    let mut key = 0u64;
    let mut i = 0;
    while i < name.len() {
        key = (key << 8) | (name[i] | 0x20) as u64;
        i += 1;
    }
    key
}

impl Name {
    /// The mechanism whose lower-cased alphanumeric name of at most 8 bytes packs into `k`.
    fn from_key(k: u64) -> Option<Name> {
        const ALL: u64 = key("all");
        const INCLUDE: u64 = key("include");
        const EXISTS: u64 = key("exists");
        const A: u64 = key("a");
        const MX: u64 = key("mx");
        const PTR: u64 = key("ptr");
        const IP4: u64 = key("ip4");
        const IP6: u64 = key("ip6");
        Some(match k {
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

/// The directive whose qualifier is already read and whose mechanism name is
/// `cx.text[name_start..name_end]` (possibly empty), `known` when it names one.
fn parse_directive<'a>(
    cx: &TermCx<'a>,
    qualifier: Qualifier,
    known: Option<Name>,
    name_start: usize,
    name_end: usize,
) -> Result<Directive<'a>, ParseError> {
    let rest = &cx.text[name_start..];
    if rest.is_empty() {
        return Err(cx.err(ParseErrorKind::MissingMechanism, name_start, 0));
    }
    let (name, args) = (&cx.text[name_start..name_end], &cx.text[name_end..]);
    let Some(known) = known else {
        // Quote what stands where the name should be: the name, or the junk.
        let shown = if name.is_empty() { rest } else { name };
        let kind = ParseErrorKind::UnknownMechanism {
            name: excerpt(shown),
        };
        return Err(cx.err(kind, name_start, shown.len()));
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
    let (ms, tail) = MacroString::parse_checked_with_tail(spec, false)
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
    let lit = tail.strip_suffix('.').unwrap_or(tail).as_bytes();
    // A byte loop: the last label is short, too short for `memrchr` to pay off.
    lit.iter()
        .rposition(|&c| c == b'.')
        .is_some_and(|dot| is_toplabel(&lit[dot + 1..]))
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
fn is_toplabel(b: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    // One pass: which classes occur, and whether anything else does.
    let (mut any, mut dash, mut other) = (0u8, false, false);
    for &c in b {
        any |= CLASSES[c as usize];
        dash |= c == b'-';
        other |= c != b'-' && !is(c, ALNUM);
    }
    if other {
        return false;
    }
    if !dash {
        return any & ALPHA != 0;
    }
    is(first, ALNUM) && is(last, ALNUM)
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
    let slash = s.bytes().rposition(|c| c == b'/')?;
    let digits = &s[slash + 1..];
    digits
        .bytes()
        .all(|b| is(b, DIGIT))
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
    // A byte loop: these are a few bytes long, too short for `memchr` to pay off.
    Ok(match net.bytes().position(|c| c == b'/') {
        Some(slash) => (&net[..slash], Some(&net[slash + 1..])),
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
    let dot = || char('.');
    let (rest, (a, _, b, _, c, _, d)) = (
        dec_octet,
        dot(),
        dec_octet,
        dot(),
        dec_octet,
        dot(),
        dec_octet,
    )
        .parse(s.as_bytes())
        .ok()?;
    rest.is_empty().then(|| Ipv4Addr::new(a, b, c, d))
}

/// `dec-octet`: 0–255 in decimal, without leading zeros. Parsed as bytes: nom on
/// `&str` decodes every character as UTF-8 first.
fn dec_octet(input: &[u8]) -> Res<'_, u8> {
    let (rest, digits) = take_while_m_n(1, 3, |c: u8| c.is_ascii_digit()).parse(input)?;
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(nom::Err::Error(()));
    }
    let n = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    u8::try_from(n)
        .map(|n| (rest, n))
        .map_err(|_| nom::Err::Error(()))
}
