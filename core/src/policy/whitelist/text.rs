//! Text to entries: the tokenizer (separators, comments, ranges with blanks around
//! the dash) and the entry grammar (address, CIDR, range), addresses read by the
//! crate's one IP text reader.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::cover::cidr_cover;
use super::{MAX_ENTRY_LEN, MAX_QUOTED_CHARS, WhitelistErrorKind};
use crate::addr::{AddrError, AddrRule, ipv4_text, ipv6_text};

// ---------------------------------------------------------------------------
// Tokenizer

/// One entry as cut out of the text, before it is parsed.
pub(super) struct Token<'a> {
    pub(super) text: &'a str,
    pub(super) span: Range<usize>,
    pub(super) line: usize,
    pub(super) column: usize,
}

/// A position in the text; `Copy` so that lookahead is a cheap clone.
#[derive(Clone, Copy)]
pub(super) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    column: usize,
    /// `false` for [`parse_whitelist_lines`]: the line number stays fixed.
    count_lines: bool,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str, fixed_line: Option<usize>) -> Self {
        Cursor {
            text,
            pos: 0,
            line: fixed_line.unwrap_or(1),
            column: 1,
            count_lines: fixed_line.is_none(),
        }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    pub(super) fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos = self.pos.saturating_add(c.len_utf8());
            if c == '\n' && self.count_lines {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else {
                self.column = self.column.saturating_add(1);
            }
        }
    }

    pub(super) fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.bump();
        }
    }

    /// The next entry, skipping separators and comments.
    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        loop {
            match self.peek()? {
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                c if is_separator(c) => self.bump(),
                _ => break,
            }
        }
        let start = *self;
        let mut end = self.pos;
        loop {
            while self.peek().is_some_and(|c| !ends_token(c)) {
                self.bump();
                end = self.pos;
            }
            // `a - b`: blanks around a range's dash do not split the entry.
            let dangling_dash = self
                .text
                .get(start.pos..end)
                .is_some_and(|t| t.ends_with('-'));
            let mut ahead = *self;
            ahead.skip_blanks();
            match ahead.peek() {
                Some(c)
                    if !ends_token(c) && (dangling_dash || c == '-') && ahead.pos > self.pos =>
                {
                    *self = ahead;
                }
                _ => break,
            }
        }
        Some(Token {
            text: self.text.get(start.pos..end).unwrap_or_default(),
            span: start.pos..end,
            line: start.line,
            column: start.column,
        })
    }
}

/// Whitespace inside a line.
pub(super) fn is_blank(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

pub(super) fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == ',' || c == ';'
}

pub(super) fn ends_token(c: char) -> bool {
    is_separator(c) || c == '#'
}

// ---------------------------------------------------------------------------
// Entry grammar

/// A parsed entry before it is placed in the report.
pub(super) struct Parsed {
    pub(super) networks: Vec<IpNet>,
    /// The CIDR had bits set after its prefix.
    pub(super) host_bits_set: bool,
}

pub(super) fn parse_entry(text: &str) -> Result<Parsed, WhitelistErrorKind> {
    if text.len() > MAX_ENTRY_LEN {
        return Err(WhitelistErrorKind::TooLong { max: MAX_ENTRY_LEN });
    }
    if let Some((_, after)) = text.split_once('%') {
        let zone = after.split(['/', '-']).next().unwrap_or_default().trim();
        return Err(WhitelistErrorKind::ZoneIdNotAllowed {
            zone: zone.to_owned(),
        });
    }
    if text.contains('-') {
        return parse_range(text).map(|networks| Parsed {
            networks,
            host_bits_set: false,
        });
    }
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr = parse_addr(addr_text)?;
    let max = match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let prefix = match prefix_text {
        Some(p) => parse_prefix(p, max)?,
        None => max,
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

pub(super) fn parse_range(text: &str) -> Result<Vec<IpNet>, WhitelistErrorKind> {
    let mut sides = text.split('-');
    let (Some(first), Some(second), None) = (sides.next(), sides.next(), sides.next()) else {
        return Err(WhitelistErrorKind::BadRange {
            detail: "more than one `-`",
        });
    };
    let (first, second) = (first.trim(), second.trim());
    if first.contains('/') || second.contains('/') {
        return Err(WhitelistErrorKind::BadRange {
            detail: "its ends must be addresses, not networks",
        });
    }
    let (start, end) = (parse_addr(first)?, parse_addr(second)?);
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

pub(super) fn parse_prefix(text: &str, max: u8) -> Result<u8, WhitelistErrorKind> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WhitelistErrorKind::BadPrefix {
            prefix: quote(text),
        });
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(WhitelistErrorKind::LeadingZero {
            part: text.to_owned(),
        });
    }
    let value = text.bytes().fold(0u32, |acc, b| {
        acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    });
    match u8::try_from(value) {
        Ok(p) if p <= max => Ok(p),
        _ => Err(WhitelistErrorKind::PrefixTooLong { prefix: value, max }),
    }
}

pub(super) fn parse_addr(text: &str) -> Result<IpAddr, WhitelistErrorKind> {
    if text.is_empty() {
        Err(WhitelistErrorKind::Empty)
    } else if text.contains(':') {
        parse_ipv6(text).map(IpAddr::V6)
    } else if text.contains('.') && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        parse_ipv4(text).map(IpAddr::V4)
    } else {
        Err(WhitelistErrorKind::UnknownToken)
    }
}

/// Dotted quad: four decimal octets 0–255 without leading zeros.
pub(super) fn parse_ipv4(text: &str) -> Result<Ipv4Addr, WhitelistErrorKind> {
    ipv4_text(text.as_bytes()).map_err(addr_error)
}

/// RFC 4291 section 2.2: eight groups of 1–4 hex digits, one `::` standing for
/// one or more zero groups, and optionally a dotted quad as the last 32 bits.
pub(super) fn parse_ipv6(text: &str) -> Result<Ipv6Addr, WhitelistErrorKind> {
    if !text
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return Err(WhitelistErrorKind::Ipv6Syntax {
            detail: "only hex digits, `:` and a final dotted IPv4 part are allowed",
        });
    }
    ipv6_text(text.as_bytes()).map_err(addr_error)
}

/// The whitelist's wording of what the address reader found wrong.
pub(super) fn addr_error(e: AddrError<'_>) -> WhitelistErrorKind {
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

/// The text for a diagnostic, cut so hostile input cannot make it large.
pub(super) fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}
