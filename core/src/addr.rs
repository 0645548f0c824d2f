//! IP addresses in text: the one reader behind the record grammar's `ip4-network` and
//! `ip6-network` (RFC 7208 §12) and the whitelist field.
//!
//! IPv4 is the dotted quad of `qnum`s: four decimal octets 0–255 without leading zeros.
//! IPv6 is RFC 4291 §2.2, read exactly as `Ipv6Addr::from_str` reads it (a property
//! test holds `ip6:` to std): groups of one to four hex digits in either case, at most
//! one `::` standing for at least one zero group, and optionally a dotted quad as the
//! last 32 bits, which must end the address. No zone ids, no brackets.
//!
//! Both readers are nom parsers over bytes that stop where the address ends and leave
//! what follows to the caller (the record parser wants a `/` or the end of the term).
//! A failure says which rule broke ([`AddrRule`]) and where; each caller words it its
//! own way.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::IResult;
use nom::error::{ErrorKind, ParseError};

/// What broke in an address, and the text it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrError<'a> {
    /// Which rule.
    pub(crate) rule: AddrRule,
    /// The offending text: the octet for [`AddrRule::Octet`] and
    /// [`AddrRule::LeadingZero`], else where the address stopped making sense.
    pub(crate) at: &'a [u8],
}

/// The rules an address can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrRule {
    /// A dotted quad with this many dot-separated parts instead of four.
    OctetCount(usize),
    /// An octet that is empty, not decimal, or above 255.
    Octet,
    /// An octet with a leading zero.
    LeadingZero,
    /// A second `::`.
    SecondGap,
    /// Fewer than eight groups and no `::`.
    TooFewGroups,
    /// More than eight groups (a dotted quad counts two).
    TooManyGroups,
    /// A `::` among eight groups, so it stands for none.
    EmptyGap,
    /// A group of more than four hex digits.
    LongGroup,
    /// A group with no digit: a single `:` at an end, or `:::`.
    EmptyGroup,
    /// A dotted quad that is not the end of the address.
    Ipv4NotLast,
    /// Anything else (no address at all).
    Syntax,
}

impl<'a> ParseError<&'a [u8]> for AddrError<'a> {
    fn from_error_kind(at: &'a [u8], _: ErrorKind) -> Self {
        AddrError {
            rule: AddrRule::Syntax,
            at,
        }
    }

    fn append(_: &'a [u8], _: ErrorKind, other: Self) -> Self {
        other
    }
}

/// A reader's result.
pub(crate) type AddrResult<'a, T> = IResult<&'a [u8], T, AddrError<'a>>;

#[cold]
fn fail<'a, T>(rule: AddrRule, at: &'a [u8]) -> AddrResult<'a, T> {
    Err(nom::Err::Error(AddrError { rule, at }))
}

/// `ip4-network = qnum "." qnum "." qnum "." qnum`, stopping after the last `qnum`.
#[inline(always)]
pub(crate) fn ip4_network(input: &[u8]) -> AddrResult<'_, Ipv4Addr> {
    let Ok((rest, a)) = qnum(input) else {
        return Err(nom::Err::Error(ipv4_fault(input)));
    };
    let Ok((rest, b)) = preceded_by_dot(rest) else {
        return Err(nom::Err::Error(ipv4_fault(input)));
    };
    let Ok((rest, c)) = preceded_by_dot(rest) else {
        return Err(nom::Err::Error(ipv4_fault(input)));
    };
    let Ok((rest, d)) = preceded_by_dot(rest) else {
        return Err(nom::Err::Error(ipv4_fault(input)));
    };
    Ok((rest, Ipv4Addr::new(a, b, c, d)))
}

/// `"." qnum`.
#[inline(always)]
fn preceded_by_dot(input: &[u8]) -> AddrResult<'_, u8> {
    match input.split_first() {
        Some((b'.', rest)) => qnum(rest),
        _ => fail(AddrRule::Syntax, input),
    }
}

/// `qnum = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35`:
/// 0–255 in decimal without a leading zero. The common case, a whole octet followed
/// by at least one more byte, is read as one word ([`qnum_word`]); everything else
/// goes to the alternatives themselves ([`qnum_alternatives`]), which decide the
/// same (a test holds the two together).
#[inline(always)]
fn qnum(input: &[u8]) -> AddrResult<'_, u8> {
    if let Some((value, len)) = input
        .first_chunk::<4>()
        .and_then(|word| qnum_word(u32::from_le_bytes(*word)))
    {
        return Ok((&input[len..], value));
    }
    qnum_alternatives(input)
}

/// `qnum` in the next four bytes, `word` (the first in the low byte), when they hold
/// one to three digits, no leading zero, a value of at most 255, and then a byte that
/// is no digit: the value and the number of digits. `None` otherwise. Reading all four
/// at once leaves no branch on the octet's length, which is what costs in dotted quads.
#[inline(always)]
fn qnum_word(word: u32) -> Option<(u8, usize)> {
    // Digits become their values 0–9; every other byte becomes 10 or more.
    let x = word ^ 0x3030_3030;
    // The high bit of each byte that is no digit: set in `x` itself (0x80 and up), or
    // by adding 0x76 (10–0x7f). A carry out of a byte only reaches the bytes after it,
    // and only from a byte that is no digit, so the first such byte is always marked.
    let no_digit = (x | x.wrapping_add(0x7676_7676)) & 0x8080_8080;
    let len = no_digit.trailing_zeros() / 8;
    let leading_zero = len > 1 && x & 0xff == 0;
    if len == 0 || len == 4 || leading_zero {
        return None;
    }
    // The digits, right-aligned in the low three bytes: hundreds, tens, units.
    let digits = (x << (8 * (4 - len))) >> 8;
    let value = 100 * (digits & 0xff) + 10 * ((digits >> 8) & 0xff) + (digits >> 16);
    Some((u8::try_from(value).ok()?, len as usize))
}

/// `qnum`'s alternatives tried longest first. A digit after the match (`256`, `01`)
/// then fails the `"."` or end that must follow.
#[inline(always)]
fn qnum_alternatives(input: &[u8]) -> AddrResult<'_, u8> {
    let digit = |c: u8| c - b'0';
    let (value, rest) = match *input {
        [b'2', b'5', c @ b'0'..=b'5', ref rest @ ..] => (250 + digit(c), rest),
        [b'2', b @ b'0'..=b'4', c @ b'0'..=b'9', ref rest @ ..] => {
            (200 + 10 * digit(b) + digit(c), rest)
        }
        [b'1', b @ b'0'..=b'9', c @ b'0'..=b'9', ref rest @ ..] => {
            (100 + 10 * digit(b) + digit(c), rest)
        }
        [a @ b'1'..=b'9', b @ b'0'..=b'9', ref rest @ ..] => (10 * digit(a) + digit(b), rest),
        [a @ b'0'..=b'9', ref rest @ ..] => (digit(a), rest),
        _ => return fail(AddrRule::Octet, &input[..0]),
    };
    Ok((rest, value))
}

/// Why the text from `input` is not a dotted quad, judged on the whole dotted part (up
/// to a `:` or `/`, which end it for both callers) as a person reads it: the number of
/// parts first, then each octet.
#[cold]
fn ipv4_fault(input: &[u8]) -> AddrError<'_> {
    let end = input
        .iter()
        .position(|&c| c == b':' || c == b'/')
        .unwrap_or(input.len());
    let dotted = &input[..end];
    let found = dotted.split(|&c| c == b'.').count();
    if found != 4 {
        return AddrError {
            rule: AddrRule::OctetCount(found),
            at: dotted,
        };
    }
    for octet in dotted.split(|&c| c == b'.') {
        let rule = if octet.is_empty() || !octet.iter().all(u8::is_ascii_digit) {
            AddrRule::Octet
        } else if octet.len() > 1 && octet[0] == b'0' {
            AddrRule::LeadingZero
        } else if !matches!(qnum(octet), Ok(([], _))) {
            AddrRule::Octet
        } else {
            continue;
        };
        return AddrError { rule, at: octet };
    }
    AddrError {
        rule: AddrRule::Syntax,
        at: dotted,
    }
}

/// `h16 = 1*4HEXDIG`, one group of an IPv6 address.
#[inline(always)]
fn h16(input: &[u8]) -> AddrResult<'_, u16> {
    let mut value = 0;
    let mut len = 0;
    while let Some(digit) = input.get(len).and_then(|&c| hexdig(c)) {
        if len == 4 {
            return fail(AddrRule::LongGroup, input);
        }
        (value, len) = ((value << 4) | digit, len + 1);
    }
    if len == 0 {
        return fail(AddrRule::EmptyGroup, input);
    }
    Ok((&input[len..], value))
}

/// `HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"`, in either case: its value.
#[inline(always)]
fn hexdig(c: u8) -> Option<u16> {
    match HEXDIG[usize::from(c)] {
        NOT_HEX => None,
        value => Some(u16::from(value)),
    }
}

/// The value of each byte as a hex digit, [`NOT_HEX`] for the others.
static HEXDIG: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Marks a byte that is no hex digit in [`HEXDIG`].
const NOT_HEX: u8 = 0xff;

/// `ip6-network`, the text forms of RFC 4291 §2.2: `h16` groups joined by `:`, at most
/// one `::`, and an optional `ls32` dotted quad that ends the address. Stops where the
/// address ends (the end of the input or a byte that cannot continue it).
pub(crate) fn ip6_network(input: &[u8]) -> AddrResult<'_, Ipv6Addr> {
    // The groups read so far, the last in the low bits, and apart from them the groups
    // before a `::`, once one is seen (`gap` says how many).
    let (mut bits, mut head) = (0u128, 0u128);
    let mut groups = 0;
    let mut gap = None;
    let mut rest = input;
    // Whether a group follows: after `::`, the address may end instead.
    let mut group_follows = true;
    if let Some(after) = rest.strip_prefix(b"::") {
        gap = Some(0);
        rest = after;
        group_follows = after_gap(rest)?;
    }
    while group_follows {
        let (after, group) = h16(rest)?;
        if after.first() == Some(&b'.') {
            // The digits start an `ls32` dotted quad instead: two groups, and the end.
            let (after, v4) = ip4_network(rest)?;
            match after.first() {
                Some(b':') => return fail(AddrRule::Ipv4NotLast, rest),
                Some(c) if *c == b'.' || c.is_ascii_digit() => {
                    return Err(nom::Err::Error(ipv4_fault(rest)));
                }
                _ => {}
            }
            (bits, groups, rest) = ((bits << 32) | u128::from(v4.to_bits()), groups + 2, after);
            break;
        }
        (bits, groups, rest) = ((bits << 16) | u128::from(group), groups + 1, after);
        if groups > 8 {
            return fail(AddrRule::TooManyGroups, input);
        }
        match rest {
            [b':', b':', after @ ..] => {
                if gap.is_some() {
                    return fail(AddrRule::SecondGap, rest);
                }
                (gap, head, bits, rest) = (Some(groups), bits, 0, after);
                group_follows = after_gap(rest)?;
            }
            [b':', after @ ..] => rest = after,
            _ => group_follows = false,
        }
    }
    let bits = match gap {
        _ if groups > 8 => return fail(AddrRule::TooManyGroups, input),
        None if groups == 8 => bits,
        None => return fail(AddrRule::TooFewGroups, input),
        // `::` stands for at least one zero group; the groups before it go to the top.
        // With none before it the shift would be 128, which `checked_shl` refuses.
        Some(before) if groups < 8 => head.checked_shl(128 - 16 * before).unwrap_or(0) | bits,
        Some(_) => return fail(AddrRule::EmptyGap, input),
    };
    Ok((rest, Ipv6Addr::from_bits(bits)))
}

/// After a `::`: whether a group follows (a hex digit), or the address ends; a third
/// `:` is an empty group.
fn after_gap(rest: &[u8]) -> Result<bool, nom::Err<AddrError<'_>>> {
    match rest.first() {
        Some(b':') => Err(nom::Err::Error(AddrError {
            rule: AddrRule::EmptyGroup,
            at: rest,
        })),
        Some(c) => Ok(c.is_ascii_hexdigit()),
        None => Ok(false),
    }
}

/// A whole text as one IPv4 address.
pub(crate) fn ipv4_text(text: &[u8]) -> Result<Ipv4Addr, AddrError<'_>> {
    match ip4_network(text) {
        Ok(([], addr)) => Ok(addr),
        Ok(_) => Err(ipv4_fault(text)),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(AddrError::from_error_kind(text, ErrorKind::Eof)),
    }
}

/// A whole text as one IPv6 address.
pub(crate) fn ipv6_text(text: &[u8]) -> Result<Ipv6Addr, AddrError<'_>> {
    match ip6_network(text) {
        Ok(([], addr)) => Ok(addr),
        Ok((rest, _)) if rest.first() == Some(&b'.') => Err(ipv4_fault(rest)),
        Ok((rest, _)) => Err(AddrError::from_error_kind(rest, ErrorKind::Eof)),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(AddrError::from_error_kind(text, ErrorKind::Eof)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_stop_where_the_address_ends() {
        assert_eq!(
            ip4_network(b"192.0.2.1/24"),
            Ok((&b"/24"[..], Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(
            ip6_network(b"2001:db8::/32"),
            Ok((&b"/32"[..], "2001:db8::".parse().unwrap()))
        );
        assert_eq!(
            ip6_network(b"::ffff:192.0.2.1"),
            Ok((&b""[..], "::ffff:192.0.2.1".parse().unwrap()))
        );
    }

    #[test]
    fn qnum_reads_as_its_alternatives() {
        // Every byte class around a digit run: digits, the bytes just outside them
        // and those whose offset by 0x76 or the xor wraps, and bytes past ASCII.
        let bytes = [
            b'0', b'1', b'2', b'4', b'5', b'6', b'9', b'.', b'/', b':', b'a', 0x00, 0x29, 0x3a,
            0x7f, 0x80, 0x89, 0x8a, 0xb0, 0xff,
        ];
        for a in bytes {
            for b in bytes {
                for c in bytes {
                    for d in bytes {
                        let input = [a, b, c, d, b'.'];
                        for len in 0..=input.len() {
                            let input = &input[..len];
                            assert_eq!(qnum(input), qnum_alternatives(input), "{input:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn failures_name_the_rule() {
        let rule = |text: &str| ipv6_text(text.as_bytes()).unwrap_err().rule;
        assert_eq!(rule("1::2::3"), AddrRule::SecondGap);
        assert_eq!(rule("1:2:3:4:5:6:7"), AddrRule::TooFewGroups);
        assert_eq!(rule("1:2:3:4:5:6:7:8:9"), AddrRule::TooManyGroups);
        assert_eq!(rule("1:2:3:4::5:6:7:8"), AddrRule::EmptyGap);
        assert_eq!(rule("12345::1"), AddrRule::LongGroup);
        assert_eq!(rule(":1:2:3:4:5:6:7"), AddrRule::EmptyGroup);
        assert_eq!(rule("1:::2"), AddrRule::EmptyGroup);
        assert_eq!(rule("::1.2.3.4:1"), AddrRule::Ipv4NotLast);
        assert_eq!(rule("::1.2.3"), AddrRule::OctetCount(3));
        fn v4(text: &str) -> AddrError<'_> {
            ipv4_text(text.as_bytes()).unwrap_err()
        }
        assert_eq!(v4("1.2.3.4.5").rule, AddrRule::OctetCount(5));
        assert_eq!(
            v4("1.2.3.256"),
            AddrError {
                rule: AddrRule::Octet,
                at: b"256"
            }
        );
        assert_eq!(v4("1.02.3.4").rule, AddrRule::LeadingZero);
    }
}
