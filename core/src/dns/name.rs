//! DNS-name rules: which names are checkable domains (RFC 7208 §4.3), which names
//! DNS can carry, and whether one name is under another.

/// A checkable domain (RFC 7208 §4.3), given without its final dot: ASCII letters,
/// digits, `-` and `_`, at least two labels of 1–63 octets, at most 253 octets.
pub(crate) fn is_valid_domain(domain: &str) -> bool {
    let d = domain.as_bytes();
    if d.is_empty() || d.len() > 253 {
        return false;
    }
    // One pass: the character set, the label lengths and the dot count. A table
    // classifies each byte with one load instead of a chain of range tests.
    let (mut label, mut dots) = (0, 0);
    for &c in d {
        match DOMAIN_BYTES[usize::from(c)] {
            DomainByte::Label => {
                label += 1;
                if label > 63 {
                    return false;
                }
            }
            DomainByte::Dot if label > 0 => {
                label = 0;
                dots += 1;
            }
            DomainByte::Dot | DomainByte::Other => return false,
        }
    }
    label > 0 && dots > 0
}

#[derive(Clone, Copy)]
enum DomainByte {
    Label,
    Dot,
    Other,
}

/// [`DomainByte`] of every byte.
static DOMAIN_BYTES: [DomainByte; 256] = {
    let mut table = [DomainByte::Other; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            table[c] = DomainByte::Label;
        } else if b == b'.' {
            table[c] = DomainByte::Dot;
        }
        c += 1;
    }
    table
};

/// A name DNS can carry and [`Lookup::name`](crate::dns::Lookup::name) promises:
/// ASCII, 1–63-octet labels, at most 253 octets. Non-ASCII (a SMTPUTF8 local part in `%{l}`, an MX exchange from
/// hostile data) is answered locally as NXDOMAIN, never handed out.
pub(crate) fn is_queryable_name(b: &[u8]) -> bool {
    // `is_ascii` runs a word at a time; the label walk then only looks for dots.
    if b.is_empty() || b.len() > 253 || !b.is_ascii() {
        return false;
    }
    b.split(|&c| c == b'.')
        .all(|label| (1..=63).contains(&label.len()))
}

/// Whether `name` is `domain` or a name under it, compared without case and without
/// final dots (the `ptr` and `%{p}` validation of RFC 7208 §5.5).
pub(crate) fn is_same_or_subdomain(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.');
    let domain = domain.trim_end_matches('.');
    if name.len() == domain.len() {
        return name.eq_ignore_ascii_case(domain);
    }
    name.len() > domain.len()
        && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
        && name[name.len() - domain.len()..].eq_ignore_ascii_case(domain)
}

#[cfg(test)]
mod tests {
    use super::{is_queryable_name, is_valid_domain};

    #[test]
    fn checkable_domains() {
        let label63 = "a".repeat(63);
        let long = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(long.len(), 253);
        for ok in ["example.com", "a.b", "ex_ample.c-m", "1.2"] {
            assert!(is_valid_domain(ok), "{ok}");
        }
        assert!(is_valid_domain(&format!("{label63}.com")));
        assert!(is_valid_domain(&long));
        let bad = [
            "",
            ".",
            "com",
            "com.",
            "a..b",
            ".a.b",
            "a.b..",
            // The final dot is stripped before the check; a second one is an empty label.
            "example.com.",
            "exa mple.com",
            "é.com",
            "a.b/c",
        ];
        for bad in bad {
            assert!(!is_valid_domain(bad), "{bad:?}");
        }
        assert!(!is_valid_domain(&format!("{label63}a.com")));
        assert!(!is_valid_domain(&format!("{long}b")));
    }

    #[test]
    fn queryable_names() {
        let label63 = "a".repeat(63);
        let long = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        for ok in [
            "com",
            "a.b",
            "_spf.example.com",
            "x y.example",
            &long,
            &label63,
        ] {
            assert!(is_queryable_name(ok.as_bytes()), "{ok:?}");
        }
        let too_long = format!("{long}b");
        let wide = format!("{label63}a");
        for bad in ["", ".", "a.", ".a", "a..b", "é.com", &too_long, &wide] {
            assert!(!is_queryable_name(bad.as_bytes()), "{bad:?}");
        }
    }
}
