//! Ranges to CIDR blocks.

/// The minimal list of CIDR blocks `(network, prefix)` covering `start..=end`
/// in a `bits`-wide address space: at most `2 × bits` blocks.
///
/// Each step takes the largest block that starts at the current address
/// (limited by its alignment) and does not pass `end`.
pub(super) fn cidr_cover(start: u128, end: u128, bits: u8) -> impl Iterator<Item = (u128, u8)> {
    let mut next = Some(start);
    std::iter::from_fn(move || {
        let cur = next.filter(|&c| c <= end)?;
        let align = if cur == 0 {
            bits
        } else {
            cur.trailing_zeros().min(u32::from(bits)) as u8
        };
        // floor(log2(remaining)), where remaining = end - cur + 1 may be 2^128.
        let fits = match (end - cur).checked_add(1) {
            Some(remaining) => (127 - remaining.leading_zeros()) as u8,
            None => 128,
        };
        let size_log = align.min(fits);
        let last = cur
            | 1u128
                .checked_shl(u32::from(size_log))
                .map_or(u128::MAX, |s| s - 1);
        next = last.checked_add(1);
        Some((cur, bits - size_log))
    })
}
