//! The record grammar of RFC 7208 §12, production by production: what is accepted,
//! its canonical form, and for what is rejected, the error kind, byte offset and message.

use std::net::{Ipv4Addr, Ipv6Addr};

use spfgate::macros::{MacroLetter, Piece};
use spfgate::record::{
    Directive, DualCidr, Mechanism, Modifier, ParseErrorKind, Qualifier, Record, Span, Term,
};

fn parse(text: &str) -> Record<'_> {
    Record::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

/// Parses `text`, checks the canonical form round-trips, and returns it.
fn canonical(text: &str) -> String {
    let record = parse(text);
    let canon = record.to_string();
    let again = Record::parse(&canon).unwrap_or_else(|e| panic!("{canon:?}: {e}"));
    assert_eq!(again, record, "{text:?} round trip");
    assert_eq!(again.to_string(), canon, "{text:?} fixed point");
    canon
}

fn only_term(text: &str) -> Term<'_> {
    let record = parse(text);
    assert_eq!(record.terms().len(), 1, "{text:?}");
    record.terms()[0].clone()
}

fn mechanism(text: &str) -> Mechanism<'_> {
    match only_term(text) {
        Term::Directive(d) => d.mechanism,
        Term::Modifier(m) => panic!("{text:?}: expected a directive, got {m:?}"),
    }
}

/// The error's kind and byte offset.
fn rejects(text: &str) -> (ParseErrorKind, usize) {
    match Record::parse(text) {
        Ok(r) => panic!("{text:?} should be rejected, parsed as {r}"),
        Err(e) => (e.kind().clone(), e.offset()),
    }
}

fn message(text: &str) -> String {
    Record::parse(text).map_or_else(|e| e.to_string(), |r| panic!("{text:?} parsed as {r}"))
}

fn ip4(text: &str) -> (Ipv4Addr, u8) {
    match mechanism(text) {
        Mechanism::Ip4(net) => (net.addr(), net.prefix_len()),
        other => panic!("{text:?}: {other:?}"),
    }
}

fn ip6(text: &str) -> (Ipv6Addr, u8) {
    match mechanism(text) {
        Mechanism::Ip6(net) => (net.addr(), net.prefix_len()),
        other => panic!("{text:?}: {other:?}"),
    }
}

fn dual(text: &str) -> (Option<String>, DualCidr) {
    match mechanism(text) {
        Mechanism::A { domain, cidr } | Mechanism::Mx { domain, cidr } => {
            (domain.map(|d| d.to_string()), cidr)
        }
        other => panic!("{text:?}: {other:?}"),
    }
}

// version = "v=spf1"

#[test]
fn version_alone_and_in_any_case() {
    assert!(parse("v=spf1").terms().is_empty());
    assert!(parse("v=spf1 ").terms().is_empty());
    assert_eq!(canonical("V=SPF1 -ALL"), "v=spf1 -all");
    assert_eq!(canonical("v=Spf1 -all"), "v=spf1 -all");
}

#[test]
fn version_must_be_followed_by_a_space_or_the_end() {
    assert_eq!(rejects("v=spf10"), (ParseErrorKind::NotSpf, 0));
    assert_eq!(rejects("v=spf10 -all"), (ParseErrorKind::NotSpf, 0));
    assert_eq!(rejects("v=spf1-all"), (ParseErrorKind::NotSpf, 0));
    assert_eq!(rejects(""), (ParseErrorKind::NotSpf, 0));
    assert_eq!(rejects("v=spf"), (ParseErrorKind::NotSpf, 0));
    assert_eq!(rejects(" v=spf1 -all"), (ParseErrorKind::NotSpf, 0));
    assert_eq!(rejects("spf2.0/pra -all"), (ParseErrorKind::NotSpf, 0));
    assert_eq!(
        message("v=spf10 -all"),
        "v=spf10 — not an SPF record: expected `v=spf1` followed by a space (byte 0)"
    );
    assert_eq!(
        message("hello"),
        "not an SPF record: expected `v=spf1` followed by a space (byte 0)"
    );
}

// terms = *( 1*SP ( directive / modifier ) ), record = version terms *SP

#[test]
fn spaces_separate_terms_and_may_repeat_or_trail() {
    assert_eq!(canonical("v=spf1  -all"), "v=spf1 -all");
    assert_eq!(canonical("v=spf1   a    mx   -all   "), "v=spf1 a mx -all");
    let record = parse("v=spf1  a   -all ");
    let spans: Vec<Span> = record.spanned_terms().map(|(_, s)| s).collect();
    assert_eq!(
        spans,
        [Span { start: 8, len: 1 }, Span { start: 12, len: 4 }]
    );
    assert_eq!(spans[1].end(), 16);
}

#[test]
fn tabs_and_other_control_characters_are_rejected() {
    assert_eq!(
        rejects("v=spf1\t-all"),
        (ParseErrorKind::ControlCharacter { byte: b'\t' }, 6)
    );
    assert_eq!(
        rejects("v=spf1 a\t-all"),
        (ParseErrorKind::ControlCharacter { byte: b'\t' }, 8)
    );
    assert_eq!(
        rejects("v=spf1 -all\r\n"),
        (ParseErrorKind::ControlCharacter { byte: b'\r' }, 11)
    );
    assert_eq!(
        rejects("v=spf1 a:ex\x00ample.com"),
        (ParseErrorKind::ControlCharacter { byte: 0 }, 11)
    );
    assert_eq!(
        rejects("v=spf1 a:example.com\x7f"),
        (ParseErrorKind::ControlCharacter { byte: 0x7f }, 20)
    );
    assert_eq!(
        message("v=spf1 a\t-all"),
        "a\\t-all — TAB is not allowed; separate terms with spaces (byte 8)"
    );
    assert_eq!(
        message("v=spf1 a:x\x01.com"),
        "a:x\\u{1}.com — control character 0x01 (byte 10)"
    );
}

#[test]
fn non_ascii_is_rejected_as_text_and_as_bytes() {
    assert_eq!(
        rejects("v=spf1 a:é.com"),
        (ParseErrorKind::NonAscii { byte: 0xc3 }, 9)
    );
    // The span covers the whole character (two bytes), so it slices the text.
    let e = Record::parse_bytes("v=spf1 a:é.com -all".as_bytes()).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset(), e.len()),
        (&ParseErrorKind::NonAscii { byte: 0xc3 }, 9, 2)
    );
    assert_eq!(
        e.to_string(),
        "a:\\u{e9}.com — non-ASCII byte 0xc3; SPF records are ASCII only (byte 9)"
    );
    // Invalid UTF-8: the term around the byte is quoted, not the record before it.
    let e = Record::parse_bytes(b"v=spf1 mx a:\xff.example.com -all").unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (&ParseErrorKind::NonAscii { byte: 0xff }, 12)
    );
    assert_eq!(e.term(), "a:\u{fffd}.example.com");
    // Not starting with v=spf1 is said first, as for text.
    let e = Record::parse_bytes(b"\xff\xfe").unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::NotSpf);
    assert_eq!(
        Record::parse_bytes(b"v=spf1 -all").unwrap(),
        parse("v=spf1 -all")
    );
}

// directive = [ qualifier ] mechanism

#[test]
fn qualifiers() {
    let quals: Vec<Qualifier> = parse("v=spf1 +all -all ~all ?all all")
        .directives()
        .map(|d| d.qualifier)
        .collect();
    use Qualifier::*;
    assert_eq!(quals, [Pass, Fail, SoftFail, Neutral, Pass]);
    assert_eq!(canonical("v=spf1 +a -a ~a ?a a"), "v=spf1 a -a ~a ?a a");
    assert_eq!(Qualifier::SoftFail.as_char(), '~');
}

#[test]
fn a_qualifier_needs_a_mechanism() {
    assert_eq!(rejects("v=spf1 -"), (ParseErrorKind::MissingMechanism, 8));
    assert_eq!(
        rejects("v=spf1 a + -all"),
        (ParseErrorKind::MissingMechanism, 10)
    );
    assert_eq!(
        rejects("v=spf1 --all").0,
        ParseErrorKind::UnknownMechanism {
            name: "-all".into()
        }
    );
    assert_eq!(
        message("v=spf1 -"),
        "- — a qualifier must be followed by a mechanism (byte 8)"
    );
}

#[test]
fn unknown_mechanisms() {
    assert_eq!(
        rejects("v=spf1 ~al"),
        (ParseErrorKind::UnknownMechanism { name: "al".into() }, 8)
    );
    assert_eq!(
        rejects("v=spf1 a mxx:example.com"),
        (ParseErrorKind::UnknownMechanism { name: "mxx".into() }, 9)
    );
    assert_eq!(
        rejects("v=spf1 %{d}"),
        (
            ParseErrorKind::UnknownMechanism {
                name: "%{d}".into()
            },
            7
        )
    );
    assert_eq!(
        message("v=spf1 ~al"),
        "~al — unknown mechanism `al`; expected all, include, a, mx, ptr, ip4, ip6, exists or name=value (byte 8)"
    );
}

// all = "all"

#[test]
fn all_mechanism() {
    assert_eq!(mechanism("v=spf1 all"), Mechanism::All);
    assert_eq!(mechanism("v=spf1 ALL"), Mechanism::All);
    assert_eq!(
        rejects("v=spf1 all:foo"),
        (ParseErrorKind::UnexpectedArgument, 10)
    );
    assert_eq!(
        rejects("v=spf1 all/24"),
        (ParseErrorKind::UnexpectedArgument, 10)
    );
    assert_eq!(
        message("v=spf1 all:foo"),
        "all:foo — this mechanism does not take that argument (byte 10)"
    );
}

// include = "include" ":" domain-spec

#[test]
fn include_mechanism() {
    let Mechanism::Include(d) = mechanism("v=spf1 include:_spf.example.com") else {
        panic!()
    };
    assert_eq!(d.as_str(), "_spf.example.com");
    assert_eq!(
        canonical("v=spf1 Include:_SPF.Example.COM"),
        "v=spf1 include:_SPF.Example.COM"
    );
    assert_eq!(
        rejects("v=spf1 include:"),
        (ParseErrorKind::MissingDomain, 15)
    );
    assert_eq!(
        rejects("v=spf1 include"),
        (ParseErrorKind::MissingDomain, 14)
    );
    assert_eq!(
        rejects("v=spf1 include/24"),
        (ParseErrorKind::UnexpectedArgument, 14)
    );
    assert_eq!(
        rejects("v=spf1 include:example"),
        (ParseErrorKind::InvalidDomainEnd, 15)
    );
    assert_eq!(
        message("v=spf1 include:"),
        "include: — a domain is required here (byte 15)"
    );
    assert_eq!(
        message("v=spf1 include:example"),
        "include:example — the domain must end in a top-level label with a letter (like `.com`) or in a macro (byte 15)"
    );
}

// a = "a" [ ":" domain-spec ] [ dual-cidr-length ], mx likewise

#[test]
fn a_and_mx_with_every_dual_cidr_form() {
    let d = |v4, v6| DualCidr { v4, v6 };
    assert_eq!(dual("v=spf1 a"), (None, d(32, 128)));
    assert_eq!(dual("v=spf1 a/24"), (None, d(24, 128)));
    assert_eq!(dual("v=spf1 a//64"), (None, d(32, 64)));
    assert_eq!(dual("v=spf1 a/24//64"), (None, d(24, 64)));
    assert_eq!(dual("v=spf1 a/0//0"), (None, d(0, 0)));
    assert_eq!(
        dual("v=spf1 a:example.com"),
        (Some("example.com".into()), d(32, 128))
    );
    assert_eq!(
        dual("v=spf1 mx:example.com/24"),
        (Some("example.com".into()), d(24, 128))
    );
    assert_eq!(
        dual("v=spf1 mx:%{d}/24//64"),
        (Some("%{d}".into()), d(24, 64))
    );
    assert_eq!(dual("v=spf1 mx//64"), (None, d(32, 64)));
    assert_eq!(
        dual("v=spf1 A:FOO.COM"),
        (Some("FOO.COM".into()), d(32, 128))
    );
    // A `/` that is not followed by digits belongs to the domain (macro-literal allows it).
    assert_eq!(
        dual("v=spf1 a:foo/bar.com"),
        (Some("foo/bar.com".into()), d(32, 128))
    );
    // Default lengths are left out of the canonical form.
    assert_eq!(
        canonical("v=spf1 a/32//128 mx:example.com/32"),
        "v=spf1 a mx:example.com"
    );
    assert_eq!(
        canonical("v=spf1 MX:Example.com/24//64"),
        "v=spf1 mx:Example.com/24//64"
    );
    assert_eq!(canonical("v=spf1 a:FOO.COM"), "v=spf1 a:FOO.COM");
}

#[test]
fn dual_cidr_rejections() {
    use ParseErrorKind::*;
    assert_eq!(
        rejects("v=spf1 a/33"),
        (
            CidrTooLong {
                length: 33,
                max: 32
            },
            9
        )
    );
    assert_eq!(
        rejects("v=spf1 a//129"),
        (
            CidrTooLong {
                length: 129,
                max: 128
            },
            10
        )
    );
    assert_eq!(rejects("v=spf1 a:foo.com/"), (InvalidCidr, 17));
    assert_eq!(rejects("v=spf1 a/033"), (InvalidCidr, 9));
    assert_eq!(rejects("v=spf1 mx:foo.com/24//"), (InvalidCidr, 22));
    assert_eq!(rejects("v=spf1 a///64"), (InvalidCidr, 9));
    assert_eq!(rejects("v=spf1 a:foo.com/-1"), (InvalidDomainEnd, 9));
    // The leftmost problem is reported: the domain before the length.
    assert_eq!(rejects("v=spf1 a:example/33"), (InvalidDomainEnd, 9));
    assert_eq!(
        message("v=spf1 a/033"),
        "a/033 — expected a CIDR length: decimal digits without a leading zero (byte 9)"
    );
    assert_eq!(
        message("v=spf1 a//129"),
        "a//129 — CIDR length 129 is above 128 (byte 10)"
    );
}

// ptr = "ptr" [ ":" domain-spec ]

#[test]
fn ptr_mechanism() {
    assert_eq!(mechanism("v=spf1 ptr"), Mechanism::Ptr(None));
    assert_eq!(
        canonical("v=spf1 PTR:Example.com"),
        "v=spf1 ptr:Example.com"
    );
    assert_eq!(
        rejects("v=spf1 ptr/24"),
        (ParseErrorKind::UnexpectedArgument, 10)
    );
    assert_eq!(rejects("v=spf1 ptr:"), (ParseErrorKind::MissingDomain, 11));
}

// exists = "exists" ":" domain-spec

#[test]
fn exists_with_macros() {
    let Mechanism::Exists(d) = mechanism("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}") else {
        panic!()
    };
    let macros: Vec<_> = d
        .pieces()
        .filter_map(|p| match p {
            Piece::Macro(m) => Some((m.letter, m.digits, m.reverse, m.delimiters)),
            _ => None,
        })
        .collect();
    assert_eq!(
        macros,
        [
            (MacroLetter::Ip, None, true, ""),
            (MacroLetter::LocalPart, Some(1), true, "+-"),
            (MacroLetter::Domain, None, false, ""),
        ]
    );
    assert_eq!(
        canonical("v=spf1 EXISTS:%{ir}.%{l1r+-}._spf.%{d}"),
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}"
    );
    assert_eq!(
        rejects("v=spf1 exists"),
        (ParseErrorKind::MissingDomain, 13)
    );
}

// ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]

#[test]
fn ip4_networks() {
    assert_eq!(
        ip4("v=spf1 ip4:192.0.2.1"),
        (Ipv4Addr::new(192, 0, 2, 1), 32)
    );
    assert_eq!(
        ip4("v=spf1 ip4:192.0.2.0/24"),
        (Ipv4Addr::new(192, 0, 2, 0), 24)
    );
    assert_eq!(ip4("v=spf1 IP4:0.0.0.0/0"), (Ipv4Addr::UNSPECIFIED, 0));
    assert_eq!(ip4("v=spf1 ip4:255.255.255.255"), (Ipv4Addr::BROADCAST, 32));
    // Host bits are kept as written.
    assert_eq!(
        ip4("v=spf1 ip4:192.0.2.77/24"),
        (Ipv4Addr::new(192, 0, 2, 77), 24)
    );
    assert_eq!(parse("v=spf1 ip4:1.2.3.4/32"), parse("v=spf1 ip4:1.2.3.4"));
    assert_eq!(canonical("v=spf1 ip4:1.2.3.4/32"), "v=spf1 ip4:1.2.3.4");
    assert_eq!(canonical("v=spf1 +IP4:10.0.0.0/8"), "v=spf1 ip4:10.0.0.0/8");
}

#[test]
fn ip4_rejections() {
    use ParseErrorKind::*;
    assert_eq!(
        rejects("v=spf1 ip4:1.2.3.4/33"),
        (
            CidrTooLong {
                length: 33,
                max: 32
            },
            19
        )
    );
    assert_eq!(rejects("v=spf1 ip4:01.2.3.4"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:1.2.3.04"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:256.1.1.1"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:1.2.3"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:1.2.3.4.5"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:1.2.3.4:5"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:example.com"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:::1"), (InvalidIp4, 11));
    assert_eq!(rejects("v=spf1 ip4:1.2.3.4/"), (InvalidCidr, 19));
    assert_eq!(rejects("v=spf1 ip4:1.2.3.0/024"), (InvalidCidr, 19));
    assert_eq!(rejects("v=spf1 ip4:1.2.3.0//24"), (InvalidCidr, 19));
    assert_eq!(rejects("v=spf1 ip4/24"), (InvalidIp4, 10));
    // The address is checked before the length after it.
    assert_eq!(rejects("v=spf1 ip4:01.2.3.4/33"), (InvalidIp4, 11));
    // Empty: the error points at the end of the input with length 0.
    let e = Record::parse("v=spf1 ip4:").unwrap_err();
    assert_eq!((e.kind(), e.offset(), e.len()), (&InvalidIp4, 11, 0));
    let e = Record::parse("v=spf1 ip4").unwrap_err();
    assert_eq!((e.kind(), e.offset(), e.len()), (&InvalidIp4, 10, 0));
    assert_eq!(
        message("v=spf1 ip4:192.0.2.0/33"),
        "ip4:192.0.2.0/33 — CIDR length 33 is above 32 (byte 21)"
    );
    assert_eq!(
        message("v=spf1 ip4:01.2.3.4"),
        "ip4:01.2.3.4 — expected an IPv4 address: four numbers 0–255 without leading zeros, like 192.0.2.1 (byte 11)"
    );
}

// ip6 = "ip6" ":" ip6-network [ ip6-cidr-length ]

#[test]
fn ip6_text_forms() {
    let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    assert_eq!(ip6("v=spf1 ip6:::"), (Ipv6Addr::UNSPECIFIED, 128));
    assert_eq!(ip6("v=spf1 ip6:::/0"), (Ipv6Addr::UNSPECIFIED, 0));
    assert_eq!(ip6("v=spf1 ip6:::1"), (Ipv6Addr::LOCALHOST, 128));
    assert_eq!(
        ip6("v=spf1 ip6:::ffff:192.0.2.1"),
        (v6("::ffff:c000:201"), 128)
    );
    assert_eq!(ip6("v=spf1 ip6:2001:db8::/32"), (v6("2001:db8::"), 32));
    assert_eq!(
        ip6("v=spf1 ip6:2001:0db8:0000:0000:0000:0000:0000:0001"),
        (v6("2001:db8::1"), 128)
    );
    assert_eq!(
        ip6("v=spf1 ip6:1:2:3:4:5:6:7:8/128"),
        (v6("1:2:3:4:5:6:7:8"), 128)
    );
    assert_eq!(
        ip6("v=spf1 ip6:1:2:3:4:5:6:1.2.3.4"),
        (v6("1:2:3:4:5:6:102:304"), 128)
    );
    assert_eq!(ip6("v=spf1 IP6:FE80::ABCD/64"), (v6("fe80::abcd"), 64));
    assert_eq!(ip6("v=spf1 ip6:1::"), (v6("1::"), 128));
    // The canonical form is RFC 5952 text, the default length left out.
    assert_eq!(
        canonical("v=spf1 ip6:2001:0DB8:0:0:0:0:0:0001/128 ip6:::FFFF:192.0.2.1/96"),
        "v=spf1 ip6:2001:db8::1 ip6:::ffff:192.0.2.1/96"
    );
    assert_eq!(canonical("v=spf1 ip6:::1"), "v=spf1 ip6:::1");
}

#[test]
fn ip6_rejections() {
    use ParseErrorKind::*;
    assert_eq!(rejects("v=spf1 ip6:fe80::1%eth0"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:fe80::1%25eth0"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:1:2:3:4:5:6:7:8:9"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:1::2::3"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:12345::"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:[::1]"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:192.0.2.1"), (InvalidIp6, 11));
    assert_eq!(rejects("v=spf1 ip6:"), (InvalidIp6, 11));
    assert_eq!(
        rejects("v=spf1 ip6:::1/129"),
        (
            CidrTooLong {
                length: 129,
                max: 128
            },
            15
        )
    );
    assert_eq!(rejects("v=spf1 ip6:::1/0129"), (InvalidCidr, 15));
    assert_eq!(
        message("v=spf1 ip6:fe80::1%eth0"),
        "ip6:fe80::1%eth0 — expected an IPv6 address, like 2001:db8::1 (byte 11)"
    );
}

// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand

#[test]
fn domain_end_and_toplabel() {
    for ok in [
        "example.com",
        "example.com.",
        "EXAMPLE.COM.",
        ".com",
        "a.b.c.d.e.f.example.org",
        "example.x1",
        "example.1x",
        "example.1-2",
        "example.xn--p1ai",
        "under_score.example.com",
        "%{d}",
        "%{d}.",
        "foo.%{d}",
        "example.com.%%",
        "%-",
    ] {
        let text = format!("v=spf1 include:{ok}");
        if ok == "%{d}." {
            // A trailing dot after a macro is neither `.toplabel` nor a macro-expand.
            assert_eq!(
                rejects(&text),
                (ParseErrorKind::InvalidDomainEnd, 15),
                "{ok}"
            );
            continue;
        }
        assert_eq!(canonical(&text), text, "{ok}");
    }
    for bad in [
        "example",
        "example.123",
        "example.-com",
        "example.com-",
        "example.com..",
        "example.",
        "com.",
        "example.c_m",
        "%{d}com",
        "foo.%{d}x",
    ] {
        let text = format!("v=spf1 include:{bad}");
        assert_eq!(
            rejects(&text),
            (ParseErrorKind::InvalidDomainEnd, 15),
            "{bad}"
        );
    }
}

#[test]
fn trailing_dots_are_kept() {
    assert_eq!(
        canonical("v=spf1 a:example.com. mx:example.com./24"),
        "v=spf1 a:example.com. mx:example.com./24"
    );
    assert_eq!(
        canonical("v=spf1 redirect=_spf.example.com."),
        "v=spf1 redirect=_spf.example.com."
    );
}

// macro-string = *( macro-expand / macro-literal )

#[test]
fn macro_letters_transformers_and_delimiters() {
    for letter in [
        "s", "l", "o", "d", "i", "p", "h", "v", "S", "L", "O", "D", "I", "P", "H", "V",
    ] {
        let text = format!("v=spf1 exists:%{{{letter}}}.example.com");
        assert_eq!(canonical(&text), text);
    }
    for transformer in [
        "1",
        "2r",
        "r",
        "R",
        "10",
        "128r",
        "1r.-+,/_=",
        ".-+,/_=",
        "r_",
    ] {
        let text = format!("v=spf1 exists:%{{d{transformer}}}.example.com");
        assert_eq!(canonical(&text), text);
    }
    assert_eq!(
        canonical("v=spf1 exists:%%%_%-.%{d}"),
        "v=spf1 exists:%%%_%-.%{d}"
    );
    // c, r and t only in explanation text (RFC 7208 §7.1), which an unknown
    // modifier's value in the record is not either.
    for letter in ['c', 'r', 't', 'C'] {
        let text = format!("v=spf1 exists:%{{{letter}}}.example.com");
        assert_eq!(
            rejects(&text),
            (ParseErrorKind::MacroLetterOnlyInExp { letter }, 16)
        );
        let text = format!("v=spf1 x-note=%{{{letter}}}");
        assert_eq!(
            rejects(&text),
            (ParseErrorKind::MacroLetterOnlyInExp { letter }, 16)
        );
    }
    assert_eq!(
        canonical("v=spf1 x-note=%{s}%{l}%{o}%{d}%{i}%{p}%{v}%{h}"),
        "v=spf1 x-note=%{s}%{l}%{o}%{d}%{i}%{p}%{v}%{h}"
    );
}

#[test]
fn macro_rejections() {
    use ParseErrorKind::*;
    assert_eq!(
        rejects("v=spf1 exists:%{d0}.example.com"),
        (ZeroMacroDigits, 17)
    );
    assert_eq!(
        rejects("v=spf1 exists:%{d00r}.example.com"),
        (ZeroMacroDigits, 17)
    );
    assert_eq!(
        rejects("v=spf1 exists:%{x}.example.com"),
        (InvalidMacroLetter { letter: 'x' }, 16)
    );
    assert_eq!(rejects("v=spf1 exists:%{d"), (InvalidMacro, 17));
    assert_eq!(
        rejects("v=spf1 exists:%{}.example.com"),
        (InvalidMacroLetter { letter: '}' }, 16)
    );
    assert_eq!(
        rejects("v=spf1 exists:%{d2r;}.example.com"),
        (InvalidMacro, 19)
    );
    assert_eq!(rejects("v=spf1 exists:%d.example.com"), (InvalidMacro, 14));
    assert_eq!(
        rejects("v=spf1 exists:100%.example.com"),
        (InvalidMacro, 17)
    );
    assert_eq!(rejects("v=spf1 exists:example.com%"), (InvalidMacro, 25));
    assert_eq!(
        message("v=spf1 exists:%{d0}.example.com"),
        "exists:%{d0}.example.com — a macro's digit count must not be zero (byte 17)"
    );
    assert_eq!(
        message("v=spf1 a:%{c}.example.com"),
        "a:%{c}.example.com — macro letter `c` is allowed only in explanation text (byte 11)"
    );
}

// modifier = redirect / explanation / unknown-modifier

#[test]
fn redirect_and_exp() {
    let record = parse("v=spf1 Redirect=_spf.example.com EXP=explain.%{d}");
    assert_eq!(
        record.redirect().map(|d| d.as_str()),
        Some("_spf.example.com")
    );
    assert_eq!(
        record.explanation().map(|d| d.as_str()),
        Some("explain.%{d}")
    );
    assert_eq!(
        record.to_string(),
        "v=spf1 redirect=_spf.example.com exp=explain.%{d}"
    );
    assert_eq!(
        rejects("v=spf1 redirect="),
        (ParseErrorKind::MissingDomain, 16)
    );
    assert_eq!(
        rejects("v=spf1 exp=example"),
        (ParseErrorKind::InvalidDomainEnd, 11)
    );
    assert_eq!(
        rejects("v=spf1 exp=%{c}.example.com"),
        (ParseErrorKind::MacroLetterOnlyInExp { letter: 'c' }, 13)
    );
}

#[test]
fn redirect_and_exp_at_most_once() {
    assert_eq!(
        rejects("v=spf1 redirect=a.example redirect=b.example"),
        (ParseErrorKind::DuplicateModifier { name: "redirect" }, 26)
    );
    assert_eq!(
        rejects("v=spf1 exp=a.example -all EXP=b.example"),
        (ParseErrorKind::DuplicateModifier { name: "exp" }, 26)
    );
    assert_eq!(
        message("v=spf1 redirect=a.example redirect=b.example"),
        "redirect=b.example — `redirect=` may appear only once (byte 26)"
    );
    // One of each is fine, and unknown modifiers may repeat.
    parse("v=spf1 redirect=a.example exp=b.example ra=x ra=y");
}

#[test]
fn unknown_modifiers_anywhere() {
    for text in [
        "v=spf1 ra=postmaster -all",
        "v=spf1 a rp=100 -all",
        "v=spf1 a -all rr=e:f:s:n",
        "v=spf1 foo.bar_baz-1=%{d}.x -all",
        "v=spf1 empty= -all",
        "v=spf1 A1=value",
    ] {
        assert_eq!(canonical(text), text);
    }
    let record = parse("v=spf1 ra=postmaster a rp=100 -all rr=e:f:s:n");
    let names: Vec<String> = record
        .terms()
        .iter()
        .filter_map(|t| match t {
            Term::Modifier(Modifier::Unknown { name, value }) => Some(format!("{name}={value}")),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["ra=postmaster", "rp=100", "rr=e:f:s:n"]);
    assert_eq!(record.directives().count(), 2);
    assert_eq!(rejects("v=spf1 foo=%"), (ParseErrorKind::InvalidMacro, 11));
    assert_eq!(
        rejects("v=spf1 foo=%{q}"),
        (ParseErrorKind::InvalidMacroLetter { letter: 'q' }, 13)
    );
    // A name must start with a letter; `=` alone is no modifier.
    assert_eq!(
        rejects("v=spf1 1x=y").0,
        ParseErrorKind::UnknownMechanism { name: "1x".into() }
    );
    assert_eq!(
        rejects("v=spf1 =foo").0,
        ParseErrorKind::UnknownMechanism {
            name: "=foo".into()
        }
    );
}

#[test]
fn upper_case_names() {
    assert_eq!(
        canonical(
            "V=SPF1 A:FOO.COM MX IP4:192.0.2.1 IP6:::1 PTR EXISTS:%{I}.FOO.COM INCLUDE:FOO.COM REDIRECT=FOO.COM"
        ),
        "v=spf1 a:FOO.COM mx ip4:192.0.2.1 ip6:::1 ptr exists:%{I}.FOO.COM include:FOO.COM redirect=FOO.COM"
    );
}

#[test]
fn records_longer_than_450_octets() {
    let mut text = String::from("v=spf1");
    for i in 0..40 {
        text.push_str(&format!(" ip4:192.0.{i}.0/24"));
    }
    text.push_str(" include:_spf.example.com ~all");
    assert!(text.len() > 450);
    let record = parse(&text);
    assert_eq!(record.terms().len(), 42);
    assert_eq!(canonical(&text), text);
    let (last, span) = record.spanned_terms().last().unwrap();
    assert_eq!(
        *last,
        Term::Directive(Directive {
            qualifier: Qualifier::SoftFail,
            mechanism: Mechanism::All
        })
    );
    assert_eq!(span.end(), text.len());
}

#[test]
fn owned_records_equal_borrowed_ones() {
    let text = String::from("v=spf1 a:%{d}/24 ra=x redirect=example.com");
    let record = parse(&text);
    let owned = record.clone().into_owned();
    drop(text);
    assert_eq!(
        owned.to_string(),
        "v=spf1 a:%{d}/24 ra=x redirect=example.com"
    );
    assert_eq!(owned.redirect().map(|d| d.as_str()), Some("example.com"));
}

#[test]
fn long_junk_is_quoted_briefly() {
    let text = format!("v=spf1 {}", "x".repeat(10_000));
    let e = Record::parse(&text).unwrap_err();
    assert_eq!(e.offset(), 7);
    assert_eq!(e.len(), 10_000);
    assert_eq!(e.term().len(), 64);
    assert_eq!(
        e.kind(),
        &ParseErrorKind::UnknownMechanism {
            name: "x".repeat(64)
        }
    );
    assert!(e.to_string().len() < 300);

    // 64 characters, not 64 bytes, when the term is not ASCII.
    let wide = format!("a:{}", "é".repeat(100));
    let e = Record::parse(&format!("v=spf1 {wide}")).unwrap_err();
    assert_eq!(e.term().chars().count(), 64);
    assert!(wide.starts_with(e.term()));
}
