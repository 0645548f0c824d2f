//! Text to entries: the whitelist field's grammar as nom parsers over bytes, one
//! function per rule and named after it. The field is a list of entries:
//!
//! ```text
//! whitelist = *( separator / comment / entry )
//! separator = white-space / "," / ";"      ; any Unicode white space, LF included
//! comment   = "#" *( any but LF )
//! entry     = word *( blanks word )        ; only around a range's dash: the word after
//!                                          ; the blanks starts with "-", or the entry
//!                                          ; so far ends with one
//! word      = 1*( any but separator / "#" )
//! blanks    = 1*( white-space but LF )
//! ```
//!
//! Each entry is then read on its own, once it has passed the checks on the whole
//! entry (at most [`MAX_ENTRY_LEN`] bytes, no `%` zone id):
//!
//! ```text
//! value     = range / network              ; a range when the entry holds a "-"
//! range     = range-end "-" range-end
//! range-end = [ blanks ] address [ blanks ] ; an address, not a network
//! network   = address [ "/" prefix ]
//! prefix    = 1*DIGIT                      ; no leading zero, at most 32 or 128
//! address   = ip6-address / ip4-address    ; IPv6 when it holds a ":"
//! ```
//!
//! Addresses are read by the crate's one IP text reader; this module words what it
//! finds wrong. Every rule looks at each byte a bounded number of times, so the text is
//! read in linear time; line and column are counted once, as the entries are found.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while1};
use nom::character::complete::digit1;
use nom::combinator::recognize;
use nom::error::{Error, ErrorKind};
use nom::multi::{many0_count, many1_count};
use nom::sequence::{preceded, separated_pair};
use nom::{IResult, Parser};

use super::cover::cidr_cover;
use super::{MAX_ENTRY_LEN, MAX_QUOTED_CHARS, WhitelistErrorKind};
use crate::addr::{AddrError, AddrRule, ipv4_text, ipv6_text};

/// A result of the field rules, which never fail in a way a user sees: a rule that
/// does not match only ends a repetition.
type FieldResult<'a, T> = IResult<&'a [u8], T>;

// ---------------------------------------------------------------------------
// The field: entries, separators and comments

/// One entry as cut out of the text, before it is parsed.
pub(super) struct Token<'a> {
    pub(super) text: &'a str,
    pub(super) span: Range<usize>,
    pub(super) line: usize,
    pub(super) column: usize,
}

/// The entries of a text, in order: the `whitelist` rule, one entry at a time.
pub(super) struct Entries<'a> {
    text: &'a str,
    /// What is left to read.
    rest: &'a [u8],
    /// Where the last entry started.
    at: Position,
}

impl<'a> Entries<'a> {
    /// The entries of `text`; with `fixed_line`, every entry is on that line (for
    /// [`super::parse_whitelist_lines`]) and a line feed is just a character.
    pub(super) fn new(text: &'a str, fixed_line: Option<usize>) -> Self {
        Entries {
            text,
            rest: text.as_bytes(),
            at: Position {
                offset: 0,
                line: fixed_line.unwrap_or(1),
                column: 1,
                count_lines: fixed_line.is_none(),
            },
        }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let (rest, _) = many0_count(alt((separator, comment)))
            .parse(self.rest)
            .ok()?;
        // `entry` fails only at the end of the text.
        let (rest, entry) = entry(rest).ok()?;
        self.rest = rest;
        let start = self.text.len() - rest.len() - entry.len();
        let span = start..start + entry.len();
        self.at.advance(self.text.as_bytes(), start);
        Some(Token {
            text: self.text.get(span.clone()).unwrap_or_default(),
            span,
            line: self.at.line,
            column: self.at.column,
        })
    }
}

/// A byte offset in the text with its 1-based line and column (in characters).
struct Position {
    offset: usize,
    line: usize,
    column: usize,
    /// `false` for [`super::parse_whitelist_lines`]: the line number stays fixed.
    count_lines: bool,
}

impl Position {
    /// Moves forward to `offset`, a character boundary at or after this one.
    fn advance(&mut self, text: &[u8], offset: usize) {
        for &byte in text.get(self.offset..offset).unwrap_or_default() {
            if byte == b'\n' && self.count_lines {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else if !is_utf8_continuation(byte) {
                self.column = self.column.saturating_add(1);
            }
        }
        self.offset = offset;
    }
}

/// `separator = white-space / "," / ";"`: a run of ASCII ones at once, or one other
/// white-space character.
fn separator(input: &[u8]) -> FieldResult<'_, &[u8]> {
    alt((
        take_while1(|b: u8| b.is_ascii() && is_separator(char::from(b))),
        recognize(character(is_separator)),
    ))
    .parse(input)
}

/// `comment = "#" *( any but LF )`; the line feed is a separator.
fn comment(input: &[u8]) -> FieldResult<'_, &[u8]> {
    recognize(preceded(tag("#"), take_till(|b| b == b'\n'))).parse(input)
}

/// `entry = word *( blanks word )`, where blanks join two words only around a range's
/// dash (`192.0.2.1 - 192.0.2.9`): when the next word starts with `-` or the entry so
/// far ends with one. Anything else after blanks is the next entry.
fn entry(input: &[u8]) -> FieldResult<'_, &[u8]> {
    let (mut rest, _) = word(input)?;
    loop {
        let so_far = &input[..input.len() - rest.len()];
        match preceded(blanks, word).parse(rest) {
            Ok((after, next)) if so_far.ends_with(b"-") || next.starts_with(b"-") => {
                rest = after;
            }
            _ => break,
        }
    }
    Ok((rest, &input[..input.len() - rest.len()]))
}

/// `word = 1*( any but separator / "#" )`.
fn word(input: &[u8]) -> FieldResult<'_, &[u8]> {
    recognize(many1_count(alt((
        take_while1(|b: u8| b.is_ascii() && !ends_word(char::from(b))),
        recognize(character(|c| !ends_word(c))),
    ))))
    .parse(input)
}

/// `blanks = 1*( white-space but LF )`.
fn blanks(input: &[u8]) -> FieldResult<'_, &[u8]> {
    recognize(many1_count(alt((
        take_while1(|b: u8| b.is_ascii() && is_blank(char::from(b))),
        recognize(character(is_blank)),
    ))))
    .parse(input)
}

/// One character for which `pred` holds. The input is the rest of a `str` cut at a
/// character boundary, so it starts with a whole UTF-8 character.
fn character(pred: fn(char) -> bool) -> impl Fn(&[u8]) -> FieldResult<'_, char> {
    move |input| {
        let width = match input.first() {
            Some(0x00..=0x7f) => 1,
            Some(0xc0..=0xdf) => 2,
            Some(0xe0..=0xef) => 3,
            _ => 4,
        };
        let c = input
            .get(..width)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|s| s.chars().next());
        match c {
            Some(c) if pred(c) => Ok((&input[width..], c)),
            _ => Err(nom::Err::Error(Error::new(input, ErrorKind::Satisfy))),
        }
    }
}

/// Whitespace inside a line.
fn is_blank(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == ',' || c == ';'
}

fn ends_word(c: char) -> bool {
    is_separator(c) || c == '#'
}

fn is_utf8_continuation(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

// ---------------------------------------------------------------------------
// One entry: range, network, address

/// A parsed entry before it is placed in the report.
pub(super) struct Parsed {
    pub(super) networks: Vec<IpNet>,
    /// The CIDR had bits set after its prefix.
    pub(super) host_bits_set: bool,
}

/// An entry's meaning: the checks on the whole entry, then `value = range / network`.
pub(super) fn value(text: &str) -> Result<Parsed, WhitelistErrorKind> {
    let input = text.as_bytes();
    if input.len() > MAX_ENTRY_LEN {
        return Err(WhitelistErrorKind::TooLong { max: MAX_ENTRY_LEN });
    }
    if let Ok((_, zone)) = zone_id(input) {
        return Err(WhitelistErrorKind::ZoneIdNotAllowed {
            zone: text_of(zone).trim().to_owned(),
        });
    }
    if memchr::memchr(b'-', input).is_some() {
        return range(input).map(|networks| Parsed {
            networks,
            host_bits_set: false,
        });
    }
    network(input)
}

/// A zone id (`fe80::1%eth0`), which names an interface of one host: the text from the
/// first `%` to a `/`, a `-` or the end of the entry.
fn zone_id(input: &[u8]) -> FieldResult<'_, &[u8]> {
    preceded(
        (take_till(|b| b == b'%'), tag("%")),
        take_till(|b| b == b'/' || b == b'-'),
    )
    .parse(input)
}

/// `range = range-end "-" range-end`, as the minimal CIDR cover of its addresses.
fn range(input: &[u8]) -> Result<Vec<IpNet>, WhitelistErrorKind> {
    let dash = |b| b == b'-';
    let sides: FieldResult<'_, (&[u8], &[u8])> =
        separated_pair(take_till(dash), tag("-"), take_till(dash)).parse(input);
    let Ok(([], (first, second))) = sides else {
        return Err(WhitelistErrorKind::BadRange {
            detail: "more than one `-`",
        });
    };
    let (first, second) = (range_end(first)?, range_end(second)?);
    let (start, end) = (address(first)?, address(second)?);
    match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) if s <= e => {
            Ok(
                cidr_cover(u128::from(u32::from(s)), u128::from(u32::from(e)), 32)
                    .filter_map(|(a, p)| {
                        let a = u32::try_from(a).ok()?;
                        Ipv4Net::new(Ipv4Addr::from(a), p).ok().map(IpNet::V4)
                    })
                    .collect(),
            )
        }
        (IpAddr::V6(s), IpAddr::V6(e)) if s <= e => {
            Ok(cidr_cover(u128::from(s), u128::from(e), 128)
                .filter_map(|(a, p)| Ipv6Net::new(Ipv6Addr::from(a), p).ok().map(IpNet::V6))
                .collect())
        }
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            Err(WhitelistErrorKind::RangeReversed { start, end })
        }
        _ => Err(WhitelistErrorKind::RangeMixedFamilies),
    }
}

/// `range-end = [ blanks ] address [ blanks ]`: the address text without its blanks,
/// once it is clear that neither end is a network (checked for both before either
/// address is read).
fn range_end(input: &[u8]) -> Result<&[u8], WhitelistErrorKind> {
    let trimmed = text_of(input).trim().as_bytes();
    if memchr::memchr(b'/', trimmed).is_some() {
        return Err(WhitelistErrorKind::BadRange {
            detail: "its ends must be addresses, not networks",
        });
    }
    Ok(trimmed)
}

/// `network = address [ "/" prefix ]`, host bits cleared.
fn network(input: &[u8]) -> Result<Parsed, WhitelistErrorKind> {
    let split: FieldResult<'_, &[u8]> = take_till(|b| b == b'/').parse(input);
    let (prefix_text, addr_text) = split.unwrap_or((&[], input));
    let addr = address(addr_text)?;
    let max = match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let prefix = match prefix_text.split_first() {
        Some((b'/', digits)) => prefix(digits, max)?,
        _ => max,
    };
    let net = IpNet::new(addr, prefix).map_err(|_| WhitelistErrorKind::PrefixTooLong {
        prefix: u32::from(prefix),
        max,
    })?;
    let normalized = net.trunc();
    Ok(Parsed {
        networks: vec![normalized],
        host_bits_set: normalized != net,
    })
}

/// `prefix = 1*DIGIT`, without a leading zero and at most `max`.
fn prefix(input: &[u8], max: u8) -> Result<u8, WhitelistErrorKind> {
    let Ok(([], digits)) = digit1::<_, Error<&[u8]>>(input) else {
        return Err(WhitelistErrorKind::BadPrefix {
            prefix: quote(text_of(input)),
        });
    };
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(WhitelistErrorKind::LeadingZero {
            part: text_of(digits).to_owned(),
        });
    }
    let value = digits.iter().fold(0u32, |acc, b| {
        acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    });
    match u8::try_from(value) {
        Ok(p) if p <= max => Ok(p),
        _ => Err(WhitelistErrorKind::PrefixTooLong { prefix: value, max }),
    }
}

/// `address = ip6-address / ip4-address`: an address holding a `:` is IPv6, one of
/// digits and dots IPv4; anything else (a host name, a wildcard) is no address.
fn address(input: &[u8]) -> Result<IpAddr, WhitelistErrorKind> {
    if input.is_empty() {
        Err(WhitelistErrorKind::Empty)
    } else if memchr::memchr(b':', input).is_some() {
        ip6_address(input).map(IpAddr::V6)
    } else if memchr::memchr(b'.', input).is_some()
        && input.iter().all(|b| b.is_ascii_digit() || *b == b'.')
    {
        ip4_address(input).map(IpAddr::V4)
    } else {
        Err(WhitelistErrorKind::UnknownToken)
    }
}

/// `ip4-address`: four decimal octets 0–255 without leading zeros.
pub(super) fn ip4_address(input: &[u8]) -> Result<Ipv4Addr, WhitelistErrorKind> {
    ipv4_text(input).map_err(addr_error)
}

/// `ip6-address`, RFC 4291 section 2.2: eight groups of 1–4 hex digits, one `::`
/// standing for one or more zero groups, and optionally a dotted quad as the last 32
/// bits.
pub(super) fn ip6_address(input: &[u8]) -> Result<Ipv6Addr, WhitelistErrorKind> {
    if !input
        .iter()
        .all(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.')
    {
        return Err(WhitelistErrorKind::Ipv6Syntax {
            detail: "only hex digits, `:` and a final dotted IPv4 part are allowed",
        });
    }
    ipv6_text(input).map_err(addr_error)
}

/// The whitelist's wording of what the address reader found wrong.
fn addr_error(e: AddrError<'_>) -> WhitelistErrorKind {
    let part = || quote(&String::from_utf8_lossy(e.at));
    let detail = match e.rule {
        AddrRule::OctetCount(found) => return WhitelistErrorKind::OctetCount { found },
        AddrRule::Octet => return WhitelistErrorKind::BadOctet { octet: part() },
        AddrRule::LeadingZero => return WhitelistErrorKind::LeadingZero { part: part() },
        AddrRule::SecondGap => "`::` may appear only once",
        AddrRule::TooFewGroups => "fewer than 8 groups and no `::`",
        AddrRule::TooManyGroups => "more than 8 groups",
        AddrRule::EmptyGap => "`::` must stand for at least one group",
        AddrRule::LongGroup => "a group has more than 4 hex digits",
        AddrRule::EmptyGroup => "empty group (a single `:` at an end, or `:::`)",
        AddrRule::Ipv4NotLast => "the IPv4 part must come last",
        AddrRule::Syntax => "only hex digits, `:` and a final dotted IPv4 part are allowed",
    };
    WhitelistErrorKind::Ipv6Syntax { detail }
}

/// A part of an entry as text. Every rule cuts the entry at ASCII bytes or whole
/// characters, so a part is always valid UTF-8.
fn text_of(part: &[u8]) -> &str {
    std::str::from_utf8(part).unwrap_or_default()
}

/// The text for a diagnostic, cut so hostile input cannot make it large.
pub(super) fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}
