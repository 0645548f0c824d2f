//! The RFC 7208 §12 grammar in plain byte code.
//!
//! Terms are split on spaces (a word at a time) and each is parsed on its own, so an
//! error points at the term and byte it is in. The character set (printable ASCII) is
//! not checked in a pass of its own: names, addresses and lengths admit only their own
//! characters, and macro-strings are checked a word at a time, which also tells a
//! literal domain (no `%`) from one that needs the macro grammar. When a term fails,
//! a bad byte from it on is reported instead, as if the character set had been checked
//! first. Well-formed terms take straight-line paths (a mechanism name matched as one
//! word, hand loops for the dotted quad and for IPv6 addresses); every error is built
//! out of line, so the `Ok` path moves small values only. Every step looks at each byte
//! a bounded number of times, so parsing is linear in the record length whatever the
//! input.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};

use super::error::excerpt;
use super::ipv6::parse_ipv6;
use super::{
    Directive, DualCidr, Mechanism, Modifier, ParseError, ParseErrorKind, Qualifier, Record, Term,
};
use crate::macros::MacroString;

/// Length of `v=spf1`.
pub(super) const VERSION_LEN: usize = 6;

/// A term parser's result. The error is boxed: `ParseError` is large, and every `Ok`
/// return would otherwise move a value its size.
type TermResult<T> = Result<T, Box<ParseError>>;

/// One term being parsed: its text, and where it starts in the record.
struct TermCx<'a> {
    text: &'a str,
    offset: usize,
    /// The whole record, for word loads that may run past the term.
    record: &'a [u8],
}

impl TermCx<'_> {
    /// An error at `at..at+len` within this term; out of line, as errors are rare.
    #[cold]
    #[inline(never)]
    fn err(&self, kind: ParseErrorKind, at: usize, len: usize) -> Box<ParseError> {
        Box::new(ParseError::new(kind, self.offset + at, len, self.text))
    }

    /// Position of a sub-slice of the term's text.
    fn pos(&self, sub: &str) -> usize {
        sub.as_ptr() as usize - self.text.as_ptr() as usize
    }
}

pub(super) fn parse_record(text: &str) -> Result<Record<'_>, ParseError> {
    let mut terms = Vec::with_capacity(max_terms(text.as_bytes()));
    visit_terms(text, |term| terms.push(term)).map_err(|e| *e)?;
    Ok(Record::from_parts(terms, text))
}

pub(super) fn parse_record_bytes(bytes: &[u8]) -> Result<Record<'_>, ParseError> {
    let mut terms = Vec::with_capacity(max_terms(bytes));
    visit_terms_bytes(bytes, |term| terms.push(term)).map_err(|e| *e)?;
    // The visit admitted printable ASCII only, which is always UTF-8.
    let text = std::str::from_utf8(bytes).map_err(|e| character_error(bytes, e.valid_up_to()))?;
    Ok(Record::from_parts(terms, text))
}

/// Parses `text` as [`Record::parse`] does and hands each term to `f` in order, without
/// collecting them. On `Err`, `f` may already have seen earlier terms; callers discard
/// them, since the error is the same one [`Record::parse`] returns. The error stays
/// boxed as the term parser made it, for callers that keep it.
pub(crate) fn visit_terms<'a>(
    text: &'a str,
    mut f: impl FnMut(Term<'a>),
) -> Result<(), Box<ParseError>> {
    let b = text.as_bytes();
    check_version(b).map_err(Box::new)?;
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let mut start = VERSION_LEN;
    loop {
        while b.get(start) == Some(&b' ') {
            start += 1;
        }
        if start >= b.len() {
            return Ok(());
        }
        let end = find_space(b, start);
        let cx = TermCx {
            text: &text[start..end],
            offset: start,
            record: b,
        };
        let term = parse_term(&cx).and_then(|term| {
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
            Ok(term)
        });
        match term {
            Ok(term) => f(term),
            Err(e) => return Err(term_error(b, start, e)),
        }
        start = end;
    }
}

/// [`visit_terms`] for a record given as bytes, as [`Record::parse_bytes`] parses it.
pub(crate) fn visit_terms_bytes<'a>(
    bytes: &'a [u8],
    f: impl FnMut(Term<'a>),
) -> Result<(), Box<ParseError>> {
    check_version(bytes).map_err(Box::new)?;
    // Not UTF-8 means some byte is not ASCII: an error, reported at the first bad byte.
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Box::new(character_error(
            bytes,
            first_bad(bytes).unwrap_or(e.valid_up_to()),
        ))
    })?;
    visit_terms(text, f)
}

/// At least the number of terms: every term follows a space. Counting spaces a word at
/// a time lets the vector be allocated once, the only allocation of a parse.
fn max_terms(b: &[u8]) -> usize {
    let mut chunks = b.chunks_exact(8);
    let mut count = 0;
    for chunk in &mut chunks {
        let spaces = zero_lanes(load(chunk) ^ SPACES);
        // Lane count by multiplication: `count_ones` is a software loop on baseline x86-64.
        count += ((spaces >> 7).wrapping_mul(ONES)) >> 56;
    }
    count as usize + chunks.remainder().iter().filter(|&&c| c == b' ').count()
}

/// Checks the `v=spf1` prefix and the space after it.
fn check_version(b: &[u8]) -> Result<(), ParseError> {
    // The prefix in one comparison, letters lower-cased (see [`fold_case`]).
    const VERSION: u64 = name_word("v=spf1");
    let prefix = b.get(..VERSION_LEN).map(|v| {
        let word = v.iter().rev().fold(0u64, |w, &c| (w << 8) | u64::from(c));
        fold_case(word)
    });
    if prefix != Some(VERSION) {
        return Err(not_spf(b));
    }
    if b.get(VERSION_LEN).is_some_and(|&c| c != b' ') {
        return Err(version_run_on(b));
    }
    Ok(())
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
    if let Some(at) = first_bad(b) {
        return character_error(b, at);
    }
    // All ASCII: byte indices are character boundaries.
    let end = b[VERSION_LEN..]
        .iter()
        .position(|&c| c == b' ')
        .map_or(b.len(), |i| VERSION_LEN + i);
    let shown = String::from_utf8_lossy(&b[..end]);
    ParseError::new(ParseErrorKind::NotSpf, 0, end, &shown)
}

/// The error for the term that starts at `start`: a bad byte from there on wins, as if
/// the character set were checked before any term (the terms before passed, so their
/// bytes are good).
#[cold]
fn term_error(b: &[u8], start: usize, e: Box<ParseError>) -> Box<ParseError> {
    match first_bad(&b[start..]) {
        Some(at) => Box::new(character_error(b, start + at)),
        None => e,
    }
}

/// The index of the first byte outside printable ASCII and space.
fn first_bad(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| !(0x20..=0x7e).contains(c))
}

/// `0x80` in every byte lane, the flag bit of the word-at-a-time checks below.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// `0x01` in every byte lane.
const ONES: u64 = 0x0101_0101_0101_0101;
/// A space in every byte lane; also the lower-case bit of ASCII letters.
const SPACES: u64 = 0x20 * ONES;
const PERCENTS: u64 = b'%' as u64 * ONES;
const COLONS: u64 = b':' as u64 * ONES;
const SLASHES: u64 = b'/' as u64 * ONES;

/// The eight bytes from `i` as a little-endian word, spaces past the end of `b`.
fn word_at(b: &[u8], i: usize) -> u64 {
    if let Some(chunk) = b.get(i..i + 8) {
        return load(chunk);
    }
    match b.len().checked_sub(8) {
        // Read the last eight bytes and shift the ones before `i` out.
        Some(last) if i < b.len() => {
            let shift = 8 * (i - last);
            (load(&b[last..]) >> shift) | (SPACES << (64 - shift))
        }
        _ => b
            .get(i..)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(SPACES, |w, &c| (w << 8) | u64::from(c)),
    }
}

/// Eight bytes as one little-endian word; `chunk` has exactly eight.
fn load(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().unwrap_or_default())
}

/// `0x80` in each byte lane of `w` that is zero, nothing elsewhere (exact: no carries
/// cross lanes).
fn zero_lanes(w: u64) -> u64 {
    !(((w & !HIGH) + !HIGH) | w | !HIGH)
}

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

/// The error for the byte at `at`, which is not printable ASCII; quotes the term around it.
#[cold]
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

fn parse_term<'a>(cx: &TermCx<'a>) -> TermResult<Term<'a>> {
    let b = cx.text.as_bytes();
    let (qualifier, name_start) = match b[0] {
        b'+' => (Qualifier::Pass, 1),
        b'-' => (Qualifier::Fail, 1),
        b'~' => (Qualifier::SoftFail, 1),
        b'?' => (Qualifier::Neutral, 1),
        _ => (Qualifier::Pass, 0),
    };
    // The common case in one step: a mechanism name ended by `:`, `/` or the term's
    // end is a directive, whatever the term holds after it.
    let word = word_at(cx.record, cx.offset + name_start);
    let stops = zero_lanes(word ^ COLONS) | zero_lanes(word ^ SLASHES) | zero_lanes(word ^ SPACES);
    let len = (stops.trailing_zeros() / 8) as usize;
    let (known, name_end) = match Name::from_word(word, len) {
        Some(known) => (Some(known), name_start + len),
        None => {
            // `name "="` with `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )` makes
            // a modifier; anything else is a directive, whose name is the alphanumeric run.
            let mut name_end = name_start;
            while name_end < b.len() && is(b[name_end], ALNUM) {
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
            (Name::from_name(&b[name_start..name_end]), name_end)
        }
    };
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

fn parse_modifier<'a>(cx: &TermCx<'a>, name: &'a str, value: &'a str) -> TermResult<Modifier<'a>> {
    if name.eq_ignore_ascii_case("redirect") {
        return domain_spec(cx, value).map(Modifier::Redirect);
    }
    if name.eq_ignore_ascii_case("exp") {
        return domain_spec(cx, value).map(Modifier::Explanation);
    }
    // Unknown modifiers are ignored, but their value must still be a macro-string of a
    // record: `c`, `r` and `t` are allowed only in explanation text (RFC 7208 §7.1).
    let (value, _) = macro_string(cx, value)?;
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

/// Lower-cases the ASCII letters in each byte lane of `w` by setting bit 5 where bit 6
/// is set: a lane then equals a lower-case letter only if it held that letter in either
/// case, and lanes without bit 6 (digits, `=`) stay as they are, whatever the bytes.
fn fold_case(w: u64) -> u64 {
    w | ((w >> 1) & SPACES)
}

/// A lower-case name of at most 8 bytes as a little-endian word, as [`fold_case`]
/// leaves it, so one `match` finds a mechanism.
const fn name_word(name: &str) -> u64 {
    let name = name.as_bytes();
    let mut word = 0u64;
    let mut i = 0;
    while i < name.len() {
        word |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    word
}

impl Name {
    /// The mechanism whose name is the first `len` bytes of the little-endian `word`
    /// (printable ASCII), in any case.
    fn from_word(word: u64, len: usize) -> Option<Name> {
        const ALL: u64 = name_word("all");
        const INCLUDE: u64 = name_word("include");
        const EXISTS: u64 = name_word("exists");
        const A: u64 = name_word("a");
        const MX: u64 = name_word("mx");
        const PTR: u64 = name_word("ptr");
        const IP4: u64 = name_word("ip4");
        const IP6: u64 = name_word("ip6");
        if len == 0 || len > 7 {
            return None;
        }
        let mask = (1u64 << (8 * len)) - 1;
        Some(match fold_case(word) & mask {
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

    /// The mechanism called `name` (printable ASCII), in any case.
    fn from_name(name: &[u8]) -> Option<Name> {
        let word = name
            .iter()
            .take(8)
            .rev()
            .fold(0u64, |w, &c| (w << 8) | u64::from(c));
        Name::from_word(word, name.len())
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
) -> TermResult<Directive<'a>> {
    let (name, args) = (&cx.text[name_start..name_end], &cx.text[name_end..]);
    let Some(known) = known else {
        return Err(unknown_mechanism(cx, name_start, name));
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
        Name::Ip4 => ip4_network(cx, args)?,
        Name::Ip6 => ip6_network(cx, args)?,
    };
    Ok(Directive {
        qualifier,
        mechanism,
    })
}

/// The error for a term that names no mechanism (`name`, possibly empty, from `name_start`).
#[cold]
fn unknown_mechanism(cx: &TermCx<'_>, name_start: usize, name: &str) -> Box<ParseError> {
    let rest = &cx.text[name_start..];
    if rest.is_empty() {
        return cx.err(ParseErrorKind::MissingMechanism, name_start, 0);
    }
    // Quote what stands where the name should be: the name, or the junk.
    let shown = if name.is_empty() { rest } else { name };
    let kind = ParseErrorKind::UnknownMechanism {
        name: excerpt(shown),
    };
    cx.err(kind, name_start, shown.len())
}

fn no_argument(cx: &TermCx<'_>, args: &str) -> TermResult<()> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(cx.err(ParseErrorKind::UnexpectedArgument, cx.pos(args), args.len()))
    }
}

/// `":" domain-spec`, required.
fn required_domain<'a>(cx: &TermCx<'a>, args: &'a str) -> TermResult<MacroString<'a>> {
    match args.strip_prefix(':') {
        Some(spec) => domain_spec(cx, spec),
        None if args.is_empty() => Err(cx.err(ParseErrorKind::MissingDomain, cx.text.len(), 0)),
        None => Err(cx.err(ParseErrorKind::UnexpectedArgument, cx.pos(args), args.len())),
    }
}

/// `[":" domain-spec]`.
fn optional_domain<'a>(cx: &TermCx<'a>, args: &'a str) -> TermResult<Option<MacroString<'a>>> {
    if args.is_empty() {
        return Ok(None);
    }
    required_domain(cx, args).map(Some)
}

/// `domain-spec = macro-string domain-end`.
fn domain_spec<'a>(cx: &TermCx<'a>, spec: &'a str) -> TermResult<MacroString<'a>> {
    let at = cx.pos(spec);
    if spec.is_empty() {
        return Err(cx.err(ParseErrorKind::MissingDomain, at, 0));
    }
    let (ms, tail) = macro_string(cx, spec)?;
    if !has_domain_end(tail) {
        return Err(cx.err(ParseErrorKind::InvalidDomainEnd, at, spec.len()));
    }
    Ok(ms)
}

/// Checks `text`, a part of the term, as a macro-string; returns it and the literal text
/// after its last macro. Its characters are checked here, eight at a time, and text
/// without a `%` is a literal that needs no macro walk.
fn macro_string<'a>(cx: &TermCx<'a>, text: &'a str) -> TermResult<(MacroString<'a>, &'a str)> {
    let at = cx.pos(text);
    let (mut bad, mut percent) = (0, 0);
    // `inside` selects the lanes of `w` that belong to `text`.
    let mut word = |w: u64, inside: u64| {
        // Per lane: the high bit set, or the low seven bits below 0x20 or all ones.
        let low = w & !HIGH;
        bad |= (w | !(low + 0x60 * ONES) | (low + ONES)) & HIGH & inside;
        percent |= zero_lanes(w ^ PERCENTS) & inside;
    };
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        word(load(chunk), u64::MAX);
    }
    let rest = chunks.remainder().len();
    if rest > 0 {
        let from = cx.offset + at + text.len() - rest;
        word(word_at(cx.record, from), (1u64 << (8 * rest)) - 1);
    }
    if bad != 0 {
        let first = cx.offset + at + first_bad(text.as_bytes()).unwrap_or(0);
        return Err(Box::new(character_error(cx.record, first)));
    }
    if percent == 0 {
        return Ok((MacroString::from_validated(text), text));
    }
    MacroString::parse_checked_with_tail(text).map_err(|(kind, i, len)| cx.err(kind, at + i, len))
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

/// `"0" / %x31-39 *DIGIT`, at most `max`.
fn cidr_length(cx: &TermCx<'_>, digits: &str, max: u8) -> TermResult<u8> {
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

/// `ip4:` arguments: `":" ip4-network [ip4-cidr-length]`.
fn ip4_network<'a>(cx: &TermCx<'a>, args: &'a str) -> TermResult<Mechanism<'a>> {
    let (ip, prefix) = network(cx, args, ParseErrorKind::InvalidIp4, 32, |b| {
        dotted_quad(b).filter(|&(_, end)| matches!(b.get(end), None | Some(b'/')))
    })?;
    Ok(Mechanism::Ip4(Ipv4Net::new_assert(ip, prefix)))
}

/// `ip6:` arguments: `":" ip6-network [ip6-cidr-length]`.
fn ip6_network<'a>(cx: &TermCx<'a>, args: &'a str) -> TermResult<Mechanism<'a>> {
    let (ip, prefix) = network(cx, args, ParseErrorKind::InvalidIp6, 128, parse_ipv6)?;
    Ok(Mechanism::Ip6(Ipv6Net::new_assert(ip, prefix)))
}

/// `":" address ["/" length]`, the address read by `parse`, which says where it ends:
/// at the first `/`, which no address holds, so the length needs no search of its own.
/// `invalid` is the error for a missing `:` or a bad address; `max` bounds the length.
#[inline(always)]
fn network<'a, A>(
    cx: &TermCx<'a>,
    args: &'a str,
    invalid: ParseErrorKind,
    max: u8,
    parse: impl FnOnce(&[u8]) -> Option<(A, usize)>,
) -> TermResult<(A, u8)> {
    let Some(net) = args.strip_prefix(':') else {
        return Err(cx.err(invalid, cx.pos(args), args.len()));
    };
    let Some((ip, end)) = parse(net.as_bytes()) else {
        let addr = net.split('/').next().unwrap_or(net);
        return Err(cx.err(invalid, cx.pos(addr), addr.len()));
    };
    let prefix = match net.get(end + 1..) {
        Some(digits) => cidr_length(cx, digits, max)?,
        None => max,
    };
    Ok((ip, prefix))
}

/// The dotted quad of `dec-octet`s at the start of `b`, and where it ends. Inlined into
/// both callers: `ip4:` terms are common, and a call would cost them more than the copy.
#[inline(always)]
pub(super) fn dotted_quad(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let (value, len) = dec_octet(&b[i..])?;
        *octet = value;
        i += len;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// `dec-octet` at the start of `b`: 0–255 in decimal, without leading zeros (a `0` is
/// the whole octet; a digit after it then fails the caller's next check), and its length.
fn dec_octet(b: &[u8]) -> Option<(u8, usize)> {
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u16::from(c - b'0'))
    };
    let mut value = digit(0)?;
    let mut len = 1;
    if value != 0 {
        while let Some(d) = digit(len).filter(|_| len < 3) {
            value = value * 10 + d;
            len += 1;
        }
    }
    u8::try_from(value).ok().map(|v| (v, len))
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
            let mut visited = Vec::new();
            let result = visit_terms(text, |term| visited.push(term))
                .map(|()| visited)
                .map_err(|e| *e);
            let parsed = Record::parse(text).map(|r| r.terms().to_vec());
            assert_eq!(result, parsed, "{text}");

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
