//! Hostile sizes: 1 MB records of many terms, of one huge term and of spaces all parse
//! (or fail) promptly. There is no timing assertion; a quadratic step would turn these
//! into minutes and be noticed, and debug builds keep them honest.

use spfgate::record::{ParseError, ParseErrorKind, Record};

const MB: usize = 1 << 20;

/// The error for `text`, without printing a megabyte when there is none.
fn error(text: &str) -> ParseError {
    match Record::parse(text) {
        Ok(r) => panic!(
            "a {}-byte record with {} terms parsed",
            text.len(),
            r.terms().len()
        ),
        Err(e) => e,
    }
}

/// Appends `term` (with a leading space) until `text` reaches 1 MB.
fn fill(mut text: String, term: &str) -> String {
    while text.len() < MB {
        text.push(' ');
        text.push_str(term);
    }
    text
}

#[test]
fn a_megabyte_of_terms() {
    let text = fill(
        "v=spf1".into(),
        "ip4:192.0.2.0/24 a:mail.example.com/24//64 exists:%{ir}.%{l1r+-}._spf.%{d} ra=x",
    );
    let record = Record::parse(&text).expect("valid terms");
    assert_eq!(record.terms().len() % 4, 0);
    assert!(record.terms().len() > 40_000);
    let canonical = record.to_string();
    assert_eq!(Record::parse(&canonical).expect("canonical form"), record);
}

#[test]
fn a_megabyte_single_term() {
    let garbage = format!("v=spf1 {}", "x/:".repeat(MB / 3));
    let e = error(&garbage);
    assert_eq!(
        e.kind(),
        &ParseErrorKind::UnknownMechanism { name: "x".into() }
    );

    let domain = format!("v=spf1 a:{}example.com/24", "label.".repeat(MB / 6));
    assert!(Record::parse(&domain).is_ok());

    let slashes = format!("v=spf1 a:{}", "/".repeat(MB));
    let e = error(&slashes);
    assert_eq!(
        (e.kind(), e.offset()),
        (&ParseErrorKind::InvalidDomainEnd, 9)
    );
    let lengths = format!("v=spf1 a{}", "/1".repeat(MB / 2));
    error(&lengths);

    let bad_end = format!("v=spf1 include:{}", "1.".repeat(MB / 2));
    let e = error(&bad_end);
    assert_eq!(
        (e.kind(), e.offset()),
        (&ParseErrorKind::InvalidDomainEnd, 15)
    );
}

#[test]
fn a_megabyte_of_percent_escapes() {
    let escapes = format!("v=spf1 exists:{}", "%%".repeat(MB / 2));
    assert!(Record::parse(&escapes).is_ok());
    let macros = format!("v=spf1 exists:{}", "%{d}".repeat(MB / 4));
    assert!(Record::parse(&macros).is_ok());
    let modifier = format!("v=spf1 x={}", "%%".repeat(MB / 2));
    assert!(Record::parse(&modifier).is_ok());
    let bare = format!("v=spf1 {}", "%%".repeat(MB / 2));
    error(&bare);
}

#[test]
fn a_megabyte_of_spaces() {
    let spaces = format!("v=spf1{}", " ".repeat(MB));
    assert!(
        Record::parse(&spaces)
            .expect("spaces only")
            .terms()
            .is_empty()
    );
    let around = format!("v=spf1{}-all{}", " ".repeat(MB / 2), " ".repeat(MB / 2));
    assert_eq!(Record::parse(&around).expect("one term").terms().len(), 1);
    let tab_at_end = format!("v=spf1{}\t", " ".repeat(MB));
    let e = error(&tab_at_end);
    assert_eq!(e.offset(), MB + 6);
}
