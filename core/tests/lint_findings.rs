//! Static findings of `lint_record`: one test per code, each asserting the span.

use spfgate::lint::{Finding, Severity, codes, lint_record};

/// The findings with `code`, as (severity, spanned text, span start).
fn with_code<'t>(text: &'t str, code: &str) -> Vec<(Severity, &'t str, usize)> {
    lint_record(text)
        .into_iter()
        .filter(|f| f.code == code)
        .map(|f| (f.severity, &text[f.span.start..f.span.end()], f.span.start))
        .collect()
}

fn codes_of(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

#[test]
fn clean_record_has_no_findings() {
    let text = "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/48 include:_spf.example.net mx -all";
    assert_eq!(lint_record(text), vec![]);
}

#[test]
fn syntax_error_span_is_the_parser_offset() {
    let text = "v=spf1 ip4:192.0.2.0/33 -all";
    let f = lint_record(text);
    assert_eq!(codes_of(&f), [codes::SYNTAX_ERROR]);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(&text[f[0].span.start..f[0].span.end()], "33");
    assert!(
        f[0].message.contains("CIDR length 33 is above 32"),
        "{}",
        f[0].message
    );

    let text = "v=spf1 foo -all";
    let f = with_code(text, codes::SYNTAX_ERROR);
    assert_eq!(f, [(Severity::Error, "foo", 7)]);

    let f = with_code("spf1 -all", codes::SYNTAX_ERROR);
    assert_eq!(f[0].2, 0);
}

#[test]
fn plus_all_and_neutral_all() {
    assert_eq!(
        with_code("v=spf1 mx +all", codes::PLUS_ALL),
        [(Severity::Error, "+all", 10)]
    );
    assert_eq!(
        with_code("v=spf1 mx all", codes::PLUS_ALL),
        [(Severity::Error, "all", 10)]
    );
    assert_eq!(
        with_code("v=spf1 mx ?all", codes::NEUTRAL_ALL),
        [(Severity::Warning, "?all", 10)]
    );
    assert!(with_code("v=spf1 mx ~all", codes::PLUS_ALL).is_empty());
}

#[test]
fn ptr_is_deprecated() {
    assert_eq!(
        with_code("v=spf1 ptr:example.com -all", codes::PTR_DEPRECATED),
        [(Severity::Warning, "ptr:example.com", 7)]
    );
}

#[test]
fn missing_all_points_at_the_end() {
    let text = "v=spf1 mx a  ";
    let f: Vec<_> = lint_record(text)
        .into_iter()
        .filter(|f| f.code == codes::NO_ALL)
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].span.start, f[0].span.len), (11, 0));
    assert!(with_code("v=spf1 mx redirect=_spf.example.com", codes::NO_ALL).is_empty());
}

#[test]
fn terms_after_all() {
    let text = "v=spf1 -all mx ip4:192.0.2.1 exp=explain.example.com";
    assert_eq!(
        with_code(text, codes::AFTER_ALL),
        [
            (Severity::Warning, "mx", 12),
            (Severity::Warning, "ip4:192.0.2.1", 15)
        ]
    );
}

#[test]
fn redirect_with_all_is_ignored() {
    assert_eq!(
        with_code(
            "v=spf1 redirect=_spf.example.com ~all",
            codes::REDIRECT_IGNORED
        ),
        [(Severity::Warning, "redirect=_spf.example.com", 7)]
    );
}

#[test]
fn duplicate_terms_and_networks() {
    let text = "v=spf1 include:a.example.com mx include:A.example.com. -all";
    // The parser keeps names as written; equality is textual, so the trailing-dot form differs.
    assert!(with_code(text, codes::DUPLICATE_TERM).is_empty());
    let text = "v=spf1 include:a.example.com mx include:a.example.com -all";
    assert_eq!(
        with_code(text, codes::DUPLICATE_TERM),
        [(Severity::Warning, "include:a.example.com", 32)]
    );
    let text = "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.7 -ip4:192.0.2.0/25 ip4:192.0.2.0/24 -all";
    assert_eq!(
        with_code(text, codes::DUPLICATE_NETWORK),
        [
            (Severity::Warning, "ip4:192.0.2.7", 24),
            (Severity::Warning, "-ip4:192.0.2.0/25", 38),
            (Severity::Warning, "ip4:192.0.2.0/24", 56),
        ]
    );
    // A narrower exception before a wider network is a common, valid pattern.
    assert!(
        with_code(
            "v=spf1 -ip4:192.0.2.7 ip4:192.0.2.0/24 -all",
            codes::DUPLICATE_NETWORK
        )
        .is_empty()
    );
    let text = "v=spf1 ip6:2001:db8::/32 ip6:2001:db8:1::/48 -all";
    assert_eq!(
        with_code(text, codes::DUPLICATE_NETWORK)[0].1,
        "ip6:2001:db8:1::/48"
    );
}

#[test]
fn host_bits() {
    let text = "v=spf1 ip4:192.0.2.1/24 ip6:2001:db8::1/64 -all";
    assert_eq!(
        with_code(text, codes::HOST_BITS),
        [
            (Severity::Warning, "ip4:192.0.2.1/24", 7),
            (Severity::Warning, "ip6:2001:db8::1/64", 24)
        ]
    );
    let f = lint_record(text);
    assert_eq!(f[0].hint, "write 192.0.2.0/24");
}

#[test]
fn broad_networks() {
    let text =
        "v=spf1 ip4:10.0.0.0/8 ip4:0.0.0.0/0 -ip6:::/0 ip6:2001:db8::/32 ip4:10.0.0.0/9 -all";
    assert_eq!(
        with_code(text, codes::BROAD_NETWORK),
        [
            (Severity::Warning, "ip4:10.0.0.0/8", 7),
            (Severity::Error, "ip4:0.0.0.0/0", 22),
            (Severity::Warning, "-ip6:::/0", 36),
            (Severity::Warning, "ip6:2001:db8::/32", 46),
        ]
    );
}

#[test]
fn macro_targets_and_p() {
    let text =
        "v=spf1 include:%{l}._spf.example.com exists:%{p}.x.example.com redirect=%{d}.example.net";
    assert_eq!(
        with_code(text, codes::MACRO_TARGET),
        [
            (Severity::Warning, "include:%{l}._spf.example.com", 7),
            (Severity::Warning, "redirect=%{d}.example.net", 63),
        ]
    );
    assert_eq!(
        with_code(text, codes::MACRO_P),
        [(Severity::Warning, "exists:%{p}.x.example.com", 37)]
    );
    // exists with %{i} is the intended per-client use of macros: no finding.
    assert!(lint_record("v=spf1 exists:%{i}._spf.example.com -all").is_empty());
}

#[test]
fn exp_without_fail() {
    assert_eq!(
        with_code("v=spf1 mx ~all exp=why.example.com", codes::EXP_UNUSED),
        [(Severity::Info, "exp=why.example.com", 15)]
    );
    assert!(with_code("v=spf1 mx -all exp=why.example.com", codes::EXP_UNUSED).is_empty());
}

#[test]
fn more_than_ten_dns_terms() {
    let text = "v=spf1 a mx a:a.example.com a:b.example.com a:c.example.com a:d.example.com \
                a:e.example.com a:f.example.com a:g.example.com a:h.example.com exists:i.example.com -all";
    let f = with_code(text, codes::TOO_MANY_DNS_TERMS);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].0, f[0].1), (Severity::Error, "exists:i.example.com"));
    let text = "v=spf1 a mx a:a.example.com a:b.example.com a:c.example.com a:d.example.com \
                a:e.example.com a:f.example.com a:g.example.com a:h.example.com redirect=x.example.com";
    assert_eq!(
        with_code(text, codes::TOO_MANY_DNS_TERMS)[0].1,
        "redirect=x.example.com"
    );
}

#[test]
fn long_records() {
    let mut text = String::from("v=spf1");
    for i in 0..40 {
        text.push_str(&format!(" ip4:198.51.100.{i}"));
    }
    text.push_str(" -all");
    assert!(text.len() > 450);
    let f = lint_record(&text);
    let long = f.iter().find(|f| f.code == codes::LONG_RECORD).unwrap();
    assert_eq!(
        (long.severity, long.span.start, long.span.end()),
        (Severity::Info, 255, text.len())
    );
    let udp = f.iter().find(|f| f.code == codes::UDP_SIZE).unwrap();
    assert_eq!(
        (udp.severity, udp.span.start, udp.span.end()),
        (Severity::Warning, 450, text.len())
    );
    // Length checks run even when the record does not parse.
    let broken = format!("{text} ip4:1");
    assert!(codes_of(&lint_record(&broken)).contains(&codes::UDP_SIZE));
}

#[test]
fn unknown_and_extension_modifiers() {
    let text = "v=spf1 -all ra=postmaster rp=10 rr=all foo=bar";
    assert_eq!(
        with_code(text, codes::EXTENSION_MODIFIER),
        [
            (Severity::Info, "ra=postmaster", 12),
            (Severity::Info, "rp=10", 26),
            (Severity::Info, "rr=all", 32)
        ]
    );
    assert_eq!(
        with_code(text, codes::UNKNOWN_MODIFIER),
        [(Severity::Info, "foo=bar", 39)]
    );
    assert!(
        lint_record(text)
            .iter()
            .all(|f| f.severity == Severity::Info)
    );
}

#[test]
fn findings_are_sorted_and_display() {
    let f = lint_record("v=spf1 ptr +all");
    assert_eq!(codes_of(&f), [codes::PTR_DEPRECATED, codes::PLUS_ALL]);
    let shown = f[1].to_string();
    assert!(
        shown.starts_with("error plus-all (bytes 11–15): "),
        "{shown}"
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "v=spf1",
        "v=spf1 ",
        "v=spf1 \u{e9}",
        "v=spf1 ip4:",
        "v=spf1 %{",
        "v=spf1 -all\t",
        "\0",
    ] {
        let _ = lint_record(text);
    }
}
