//! `ip6:` addresses are read exactly as `Ipv6Addr::from_str` reads them: every address
//! written in any of the ways std accepts parses to the same value, and text std
//! rejects, however close to an address, is rejected with the same error as always (an
//! `InvalidIp6` spanning the address).
//!
//! Cases per property: `PROPTEST_CASES` when set (for a long run), else [`CASES`].

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use spfgate::record::{Directive, Mechanism, ParseErrorKind, Qualifier, Record, Term};

const CASES: u32 = 4096;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CASES;
    }
    config
}

/// Parses `v=spf1 ip6:{arg}` and holds it to std's verdict on the address, the text
/// before the first `/`: the same address, or where std fails, an `InvalidIp6` error
/// spanning the address. A length after the `/` is checked as always.
fn agrees_with_std(arg: &str) -> Result<(), TestCaseError> {
    let text = format!("v=spf1 ip6:{arg}");
    let (addr, length) = match arg.split_once('/') {
        Some((addr, length)) => (addr, Some(length)),
        None => (arg, None),
    };
    let ours = Record::parse(&text);
    if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        // A byte outside printable ASCII is reported as such, before anything else.
        let kind = ours.as_ref().map_err(|e| e.kind().clone());
        prop_assert!(
            matches!(
                kind,
                Err(ParseErrorKind::ControlCharacter { .. } | ParseErrorKind::NonAscii { .. })
            ),
            "{:?}: {:?}",
            text,
            ours
        );
        return Ok(());
    }
    let want = match addr.parse::<Ipv6Addr>() {
        Err(_) => {
            let e = ours.as_ref().err();
            let got = e.map(|e| (e.kind().clone(), e.offset(), e.len()));
            let want = (ParseErrorKind::InvalidIp6, 11, addr.len());
            prop_assert_eq!(got, Some(want), "{:?}", text);
            return Ok(());
        }
        Ok(want) => want,
    };
    // RFC 7208's ip6-cidr-length: no leading zeros, at most 128.
    let prefix = match length {
        None => Some(128),
        Some(d) if !d.bytes().all(|b| b.is_ascii_digit()) || (d.starts_with('0') && d != "0") => {
            None
        }
        Some(d) => d.parse::<u8>().ok().filter(|&p| p <= 128),
    };
    match (prefix, &ours) {
        (Some(prefix), Ok(record)) => {
            let [
                Term::Directive(Directive {
                    qualifier: Qualifier::Pass,
                    mechanism: Mechanism::Ip6(net),
                }),
            ] = record.terms()
            else {
                return Err(TestCaseError::fail(format!("{text:?}: {record:?}")));
            };
            prop_assert_eq!((net.addr(), net.prefix_len()), (want, prefix), "{:?}", text);
        }
        (None, Err(e)) => {
            prop_assert!(
                matches!(
                    e.kind(),
                    ParseErrorKind::InvalidCidr | ParseErrorKind::CidrTooLong { .. }
                ),
                "{:?}: {:?}",
                text,
                e
            );
            prop_assert_eq!(e.offset(), 12 + addr.len(), "{:?}", text);
        }
        _ => {
            return Err(TestCaseError::fail(format!(
                "{text:?}: std reads {want}, spfgate {ours:?}"
            )));
        }
    }
    Ok(())
}

/// An address and a way to write it: which run of zero groups `::` stands for, whether
/// the last 32 bits are a dotted quad, each group's leading zeros, each digit's case.
#[derive(Debug, Clone)]
struct Written {
    groups: [u16; 8],
    quad: bool,
    gap: Option<(usize, usize)>,
    pads: [usize; 8],
    upper: u32,
}

impl Written {
    /// The address, with the groups under `::` zeroed so the text means it.
    fn addr(&self) -> Ipv6Addr {
        let mut groups = self.groups;
        if let Some((start, len)) = self.gap {
            groups[start..start + len].fill(0);
        }
        Ipv6Addr::from(groups)
    }

    fn text(&self) -> String {
        let groups = self.addr().segments();
        let hex_groups = if self.quad { 6 } else { 8 };
        let mut out = String::new();
        let mut digit = 0;
        let mut i = 0;
        while i < hex_groups {
            if let Some((start, len)) = self.gap.filter(|&(start, _)| start == i) {
                out.push_str(if start == 0 { "::" } else { ":" });
                i += len;
                continue;
            }
            let width = (format!("{:x}", groups[i]).len() + self.pads[i]).min(4);
            for c in format!("{:0width$x}", groups[i]).chars() {
                let upper = self.upper >> (digit % 32) & 1 == 1;
                out.push(if upper { c.to_ascii_uppercase() } else { c });
                digit += 1;
            }
            i += 1;
            if i < hex_groups || self.quad {
                out.push(':');
            }
        }
        if self.quad {
            let [a, b] = groups[6].to_be_bytes();
            let [c, d] = groups[7].to_be_bytes();
            write!(out, "{}", Ipv4Addr::new(a, b, c, d)).unwrap();
        }
        out
    }
}

fn group() -> impl Strategy<Value = u16> {
    prop_oneof![4 => Just(0u16), 1 => Just(0xffff), 2 => 0u16..0x100, 4 => any::<u16>()]
}

/// An address and one of the many ways std reads it.
fn written() -> impl Strategy<Value = Written> {
    let parts = (
        proptest::array::uniform8(group()),
        any::<bool>(),
        proptest::option::weighted(0.7, (0usize..8, 1usize..=8)),
        proptest::array::uniform8(0usize..4),
        any::<u32>(),
    );
    parts.prop_map(|(groups, quad, gap, pads, upper)| {
        let hex_groups = if quad { 6 } else { 8 };
        let gap = gap
            .filter(|&(start, _)| start < hex_groups)
            .map(|(start, len)| (start, len.min(hex_groups - start)));
        Written {
            groups,
            quad,
            gap,
            pads,
            upper,
        }
    })
}

/// Pieces of addresses and near-misses: long groups, leading zeros in octets, stray
/// colons and dots, zone ids, brackets, other letters.
const TOKENS: &[&str] = &[
    "0", "1", "9", "a", "F", "ff", "fFfF", "0000", "12345", "00000", ":", ":", "::", ":::", ".",
    ".", "1.2.3.4", "255", "256", "01", "00", "1000", "0.0.0.0", "g", "x", "%", "%25", "[", "]",
    "-", "+", "_", "é", "\t", "/", "/64", "/0", "/128", "/129", "/064",
];

/// Bytes for single-byte edits: the address alphabet, weighted up, and a few others.
const BYTES: &[u8] = b"0123456789abcdefABCDEF::::....0g%[]x-/";

fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(TOKENS), 0..16).prop_map(|t| t.concat())
}

/// A written address with one to three bytes inserted, deleted or replaced.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (
        0u8..3,
        any::<prop::sample::Index>(),
        proptest::sample::select(BYTES),
    );
    (written(), proptest::collection::vec(edit, 1..4)).prop_map(|(w, edits)| {
        let mut b = w.text().into_bytes();
        for (op, at, byte) in edits {
            let i = at.index(b.len() + 1);
            match op {
                0 => b.insert(i, byte),
                1 if i < b.len() => {
                    b.remove(i);
                }
                _ if i < b.len() => b[i] = byte,
                _ => b.push(byte),
            }
        }
        String::from_utf8(b).expect("edits insert ASCII")
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn written_addresses_parse_as_std_parses_them(w in written(), length in any::<bool>()) {
        let text = w.text();
        prop_assert_eq!(text.parse::<Ipv6Addr>(), Ok(w.addr()), "{:?}", text);
        agrees_with_std(&if length { format!("{text}/64") } else { text })?;
    }

    #[test]
    fn std_display_parses_back(bits in any::<u128>()) {
        agrees_with_std(&Ipv6Addr::from_bits(bits).to_string())?;
    }

    #[test]
    fn token_soup_agrees_with_std(text in soup(), length in any::<bool>()) {
        agrees_with_std(&if length { format!("{text}/64") } else { text })?;
    }

    #[test]
    fn edited_addresses_agree_with_std(text in mutated()) {
        agrees_with_std(&text)?;
    }

    #[test]
    fn byte_soup_agrees_with_std(text in "[0-9a-fA-F:.]{0,40}|[0-3:.fFgx%]{0,24}") {
        agrees_with_std(&text)?;
    }
}

#[test]
fn edge_cases_agree_with_std() {
    let accepted = [
        "::",
        "::1",
        "1::",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8",
        "0000:0:0:0:0:0:0:FFFF",
        "::ffff:1.2.3.4",
        "::0.0.0.0",
        "::1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "::255.255.255.255",
    ];
    let rejected = [
        "",
        ":",
        "1",
        ":::",
        ":1::",
        "1:::2",
        "1::2::3",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:",
        ":1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7",
        "12345::",
        "1.2.3.4",
        "::1.02.3.4",
        "::1.2.3.04",
        "::1.2.3.00",
        "::1.2.3.256",
        "::1.2.3.1000",
        "::1.2.3",
        "::1.2.3.4.5",
        "::1.2.3.4:5",
        "::1.2.3.4::",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
        "1.2.3.4::",
        "::a.b.c.d",
        "::1234.1.1.1",
        "::ffff:1.2.3.4a",
        "[::1]",
        "::1%eth0",
        "fe80::1%25eth0",
        "::g",
    ];
    for addr in accepted {
        assert!(addr.parse::<Ipv6Addr>().is_ok(), "std rejects {addr:?}");
        agrees_with_std(addr).unwrap();
    }
    for addr in rejected {
        assert!(addr.parse::<Ipv6Addr>().is_err(), "std accepts {addr:?}");
        agrees_with_std(addr).unwrap();
    }
}
