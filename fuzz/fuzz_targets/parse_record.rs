//! Arbitrary bytes as a TXT record: the parser never panics, errors point inside the
//! input (on character boundaries when it is UTF-8), accepted records are exactly
//! those record selection calls SPF records, and `ip6:` addresses are read as
//! `Ipv6Addr::from_str` reads them.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use spfgate::record::{Directive, Mechanism, ParseErrorKind, Record, Term, select_record};

fuzz_target!(|data: &[u8]| {
    match Record::parse_bytes(data) {
        Ok(record) => {
            assert!(data.is_ascii(), "accepted a non-ASCII record");
            assert_eq!(
                select_record(&[data]),
                spfgate::record::Selection::One(0),
                "parsed text that selection would not pick"
            );
            // Spans are in order, inside the text, and cover non-empty terms.
            let mut end = 0;
            for (term, span) in record.spanned_terms() {
                assert!(span.start >= end && span.len > 0 && span.end() <= data.len());
                assert!(!data[span.start..span.end()].contains(&b' '));
                end = span.end();
                if let Term::Directive(Directive {
                    mechanism: Mechanism::Ip6(net),
                    ..
                }) = term
                {
                    // `[qualifier]ip6:` then the address up to the first `/`.
                    let text = std::str::from_utf8(&data[span.start..span.end()]).unwrap();
                    let (_, net_text) = text.split_once(':').unwrap();
                    let addr = net_text.split('/').next().unwrap();
                    assert_eq!(addr.parse::<Ipv6Addr>(), Ok(net.addr()), "{addr:?}");
                }
            }
        }
        Err(error) => {
            assert!(
                error.offset() + error.len() <= data.len(),
                "error span {}+{} outside {} bytes: {error}",
                error.offset(),
                error.len(),
                data.len()
            );
            if let Ok(text) = std::str::from_utf8(data) {
                let span = error.offset()..error.offset() + error.len();
                assert!(
                    text.get(span).is_some(),
                    "error span not on character boundaries: {error}"
                );
            }
            assert!(error.term().chars().count() <= 64);
            if matches!(error.kind(), ParseErrorKind::InvalidIp6) {
                let span = &data[error.offset()..error.offset() + error.len()];
                let addr = std::str::from_utf8(span).unwrap();
                assert!(addr.parse::<Ipv6Addr>().is_err(), "rejected {addr:?}");
            }
            let _ = error.to_string();
        }
    }
});
