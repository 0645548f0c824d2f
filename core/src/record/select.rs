//! Record selection from a TXT RRset (RFC 7208 §4.5).

/// Which TXT record of an RRset is the SPF record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// No record starts with `v=spf1`: the result is `none`.
    NoRecord,
    /// Exactly one SPF record, at this index of the RRset.
    One(usize),
    /// More than one SPF record: the result is `permerror`.
    Multiple,
}

/// True when `txt` is an SPF record: `v=spf1` (any case) followed by a space or the end.
pub fn is_spf_record(txt: &[u8]) -> bool {
    txt.len() >= 6
        && txt[..6].eq_ignore_ascii_case(b"v=spf1")
        && txt.get(6).is_none_or(|&c| c == b' ')
}

/// Picks the SPF record out of TXT records whose character-strings are already joined.
///
/// ```
/// use spfgate::record::{select_record, Selection};
/// let rrset: [&[u8]; 3] = [b"google-site-verification=x", b"v=spf1 -all", b"v=spf10"];
/// assert_eq!(select_record(&rrset), Selection::One(1));
/// ```
pub fn select_record<T: AsRef<[u8]>>(txts: &[T]) -> Selection {
    let mut found = Selection::NoRecord;
    for (i, txt) in txts.iter().enumerate() {
        if is_spf_record(txt.as_ref()) {
            if found != Selection::NoRecord {
                return Selection::Multiple;
            }
            found = Selection::One(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_rules() {
        assert!(is_spf_record(b"v=spf1"));
        assert!(is_spf_record(b"V=SPF1 -all"));
        assert!(!is_spf_record(b"v=spf10"));
        assert!(!is_spf_record(b"v=spf1\t-all"));
        assert!(!is_spf_record(b" v=spf1"));
        let none: [&[u8]; 1] = [b"hello"];
        assert_eq!(select_record(&none), Selection::NoRecord);
        let two: [&[u8]; 2] = [b"v=spf1", b"v=spf1 -all"];
        assert_eq!(select_record(&two), Selection::Multiple);
        assert_eq!(select_record::<&[u8]>(&[]), Selection::NoRecord);
    }
}
