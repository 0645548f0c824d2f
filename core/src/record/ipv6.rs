//! IPv6 addresses in text, read exactly as `Ipv6Addr::from_str` reads them.
//!
//! std's parser tries each alternative a character at a time and backs out of the ones
//! that fail, which made the address most of an `ip6:` term's cost. This one reads each
//! group once and accepts the same strings (a differential test holds it to that):
//! groups of one to four hex digits in either case, at most one `::` standing for at
//! least one zero group, and optionally a dotted quad (decimal octets, no leading zeros)
//! as the last 32 bits, which must end the address. No zone ids, no brackets.

use std::net::Ipv6Addr;

use super::parser::dotted_quad;

/// Not a hex digit, in [`HEX`].
const NOT_HEX: u8 = 0xff;

/// The value of each hex digit, [`NOT_HEX`] for other bytes: one load per byte.
static HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => NOT_HEX,
        };
        c += 1;
    }
    t
};

/// The IPv6 address at the start of `s`, ended by the end of `s` or a `/` (which no
/// address holds), and where it ends; `None` where `Ipv6Addr::from_str` would fail on the
/// text before the first `/`. Ending at a `/` spares `ip6:` terms a search for the prefix
/// length. Kept out of line so the term parser's other paths stay as compact as they were.
#[inline(never)]
pub(super) fn parse_ipv6(s: &[u8]) -> Option<(Ipv6Addr, usize)> {
    let at_end = |i: usize| matches!(s.get(i), None | Some(b'/'));
    // The groups read so far, the last in the low 16 bits (shifting in place is cheaper
    // than storing groups and moving them), and the groups before a `::` apart from
    // them. Too many groups shift the first ones out; the count, checked once at the
    // end, rejects them.
    let (mut bits, mut head) = (0u128, 0u128);
    let mut n = 0;
    // How many groups stand before the `::`, once seen.
    let mut gap = None;
    let mut i = 0;
    if s.starts_with(b"::") {
        if at_end(2) {
            return Some((Ipv6Addr::UNSPECIFIED, 2));
        }
        gap = Some(0);
        i = 2;
    }
    let end = loop {
        let (group, end) = hex_group(s, i)?;
        let next = s.get(end);
        if next == Some(&b'.') {
            // The digits start a dotted quad instead, which takes two groups and must end
            // the address.
            let (v4, len) = dotted_quad(&s[i..]).filter(|&(_, len)| at_end(i + len))?;
            bits = (bits << 32) | u128::from(v4.to_bits());
            n += 2;
            break i + len;
        }
        bits = (bits << 16) | u128::from(group);
        n += 1;
        match next {
            None | Some(b'/') => break end,
            Some(b':') => {
                i = end + 1;
                if s.get(i) == Some(&b':') {
                    if gap.is_some() {
                        return None;
                    }
                    gap = Some(n);
                    (head, bits) = (bits, 0);
                    i += 1;
                    if at_end(i) {
                        break i;
                    }
                }
            }
            Some(_) => return None,
        }
    };
    let bits = match gap {
        None if n == 8 => bits,
        // `::` stands for at least one zero group; the groups before it go to the top.
        // With none before it the shift would be 128, which `checked_shl` refuses.
        Some(before) if n < 8 => head.checked_shl(128 - 16 * before).unwrap_or(0) | bits,
        _ => return None,
    };
    Some((Ipv6Addr::from_bits(bits), end))
}

/// The group of one to four hex digits at `s[i..]` and where it ends; `None` for no
/// digit or a fifth.
fn hex_group(s: &[u8], i: usize) -> Option<(u16, usize)> {
    let mut value = 0u32;
    let mut end = i;
    while let Some(&c) = s.get(end) {
        let digit = HEX[usize::from(c)];
        if digit == NOT_HEX {
            break;
        }
        if end - i == 4 {
            return None;
        }
        value = (value << 4) | u32::from(digit);
        end += 1;
    }
    // At most four digits: the value fits.
    (end > i).then_some((value as u16, end))
}
