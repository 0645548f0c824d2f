//! Property tests: records generated from the grammar round-trip through `Display`, and
//! arbitrary input never panics; whatever parses round-trips too.

use proptest::prelude::*;
use spfgate::record::Record;

fn qualifier() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "+", "-", "~", "?"])
}

/// `%{letter [digits] [r] [delimiters]}`, domain letters only.
fn macro_expand() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!['s', 'l', 'o', 'd', 'i', 'p', 'h', 'v', 'S', 'D', 'I']),
        prop::option::of(1u32..200),
        any::<bool>(),
        "[.+,/_=-]{0,3}",
    )
        .prop_map(|(letter, digits, reverse, delims)| {
            let digits = digits.map(|d| d.to_string()).unwrap_or_default();
            let r = if reverse { "r" } else { "" };
            format!("%{{{letter}{digits}{r}{delims}}}")
        })
}

fn label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_][a-zA-Z0-9_-]{0,10}"
}

fn toplabel() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9]{0,5}",
        "[0-9]{1,3}[a-z][0-9]{0,2}",
        "[a-z0-9]{1,3}-[a-z0-9]{1,3}"
    ]
}

/// A domain-spec: labels and macros, ending in `.toplabel` (maybe a dot) or a macro.
fn domain_spec() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => label().prop_map(|l| format!("{l}.")),
        1 => macro_expand().prop_map(|m| format!("{m}.")),
        1 => prop::sample::select(vec!["%%.", "%_.", "%-."]).prop_map(String::from),
    ];
    let end = prop_oneof![
        3 => (toplabel(), any::<bool>()).prop_map(|(t, dot)| if dot { format!("{t}.") } else { t }),
        1 => macro_expand(),
    ];
    (prop::collection::vec(piece, 0..4), end).prop_map(|(pieces, end)| {
        // Every piece ends in a dot; a toplabel needs one before it, a macro does not.
        let mut s = pieces.concat();
        if end.starts_with('%') {
            s.pop();
        } else if s.is_empty() {
            s.push('.');
        }
        s + &end
    })
}

fn dual_cidr() -> impl Strategy<Value = String> {
    (prop::option::of(0u8..=32), prop::option::of(0u8..=128)).prop_map(|(v4, v6)| {
        let mut s = String::new();
        if let Some(n) = v4 {
            s += &format!("/{n}");
        }
        if let Some(n) = v6 {
            s += &format!("//{n}");
        }
        s
    })
}

fn mechanism() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("all".to_string()),
        domain_spec().prop_map(|d| format!("include:{d}")),
        domain_spec().prop_map(|d| format!("exists:{d}")),
        (
            prop::sample::select(vec!["a", "mx", "A", "MX"]),
            prop::option::of(domain_spec()),
            dual_cidr()
        )
            .prop_map(|(m, d, c)| match d {
                Some(d) => format!("{m}:{d}{c}"),
                None => format!("{m}{c}"),
            }),
        prop::option::of(domain_spec()).prop_map(|d| match d {
            Some(d) => format!("ptr:{d}"),
            None => "ptr".to_string(),
        }),
        (any::<[u8; 4]>(), prop::option::of(0u8..=32)).prop_map(|(a, p)| {
            let ip = std::net::Ipv4Addr::from(a);
            p.map_or(format!("ip4:{ip}"), |p| format!("ip4:{ip}/{p}"))
        }),
        (any::<[u8; 16]>(), prop::option::of(0u8..=128)).prop_map(|(a, p)| {
            let ip = std::net::Ipv6Addr::from(a);
            p.map_or(format!("ip6:{ip}"), |p| format!("ip6:{ip}/{p}"))
        }),
    ]
}

/// Unknown modifiers: a name and a macro-string value (without c, r and t, which only
/// explanation text may use).
fn unknown_modifier() -> impl Strategy<Value = String> {
    let value_piece = prop_oneof![
        "[!-$&-~]{1,8}",
        macro_expand(),
        prop::sample::select(vec!["%%", "%_", "%-"]).prop_map(String::from),
    ];
    (
        "[a-zA-Z][a-zA-Z0-9._-]{0,8}",
        prop::collection::vec(value_piece, 0..3),
    )
        .prop_filter("redirect and exp are not unknown", |(name, _)| {
            !name.eq_ignore_ascii_case("redirect") && !name.eq_ignore_ascii_case("exp")
        })
        .prop_map(|(name, value)| format!("{name}={}", value.concat()))
}

/// A valid record: directives and unknown modifiers, at most one redirect and one exp,
/// joined by one or more spaces.
fn record() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        4 => (qualifier(), mechanism()).prop_map(|(q, m)| format!("{q}{m}")),
        1 => unknown_modifier(),
    ];
    (
        prop::sample::select(vec!["v=spf1", "V=SPF1"]),
        prop::collection::vec((term, 1usize..3), 0..12),
        prop::option::of(domain_spec()),
        prop::option::of(domain_spec()),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(version, terms, redirect, exp, at_r, at_e)| {
            let mut terms: Vec<(String, usize)> = terms;
            if let Some(d) = redirect {
                let i = at_r.index(terms.len() + 1);
                terms.insert(i, (format!("redirect={d}"), 1));
            }
            if let Some(d) = exp {
                let i = at_e.index(terms.len() + 1);
                terms.insert(i, (format!("exp={d}"), 1));
            }
            let mut s = version.to_string();
            for (t, spaces) in terms {
                s += &" ".repeat(spaces);
                s += &t;
            }
            s
        })
}

fn assert_round_trips(record: &Record<'_>) {
    let canonical = record.to_string();
    let again = Record::parse(&canonical).unwrap_or_else(|e| panic!("{canonical:?}: {e}"));
    assert_eq!(&again, record, "{canonical}");
    assert_eq!(again.to_string(), canonical);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_records_round_trip(text in record()) {
        let record = Record::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        assert_round_trips(&record);
    }

    #[test]
    fn printable_text_never_panics(text in "v=spf1 [ -~]{0,200}") {
        if let Ok(record) = Record::parse(&text) {
            assert_round_trips(&record);
        }
    }

    #[test]
    fn grammar_shaped_text_never_panics(text in "(v|V)=(spf|SPF)1( {1,2}[-+~?]?(a|mx|ip4|ip6|ptr|all|exists|include|redirect|exp|ra)[:=/]{0,2}[%{}a-z0-9.:/=_-]{0,20}){0,6} ?") {
        if let Ok(record) = Record::parse(&text) {
            assert_round_trips(&record);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), prefixed: bool) {
        let bytes = if prefixed { [b"v=spf1 ".as_slice(), &bytes].concat() } else { bytes };
        if let Ok(record) = Record::parse_bytes(&bytes) {
            assert_round_trips(&record);
        }
        if let Err(e) = Record::parse_bytes(&bytes) {
            prop_assert!(e.offset() + e.len() <= bytes.len());
        }
    }
}
