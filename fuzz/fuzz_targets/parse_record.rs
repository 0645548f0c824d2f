//! Arbitrary bytes as a TXT record: the parser never panics, errors point inside the
//! input (on character boundaries when it is UTF-8), and accepted records are exactly
//! those record selection calls SPF records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spfgate::record::{Record, select_record};

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
            for (_, span) in record.spanned_terms() {
                assert!(span.start >= end && span.len > 0 && span.end() <= data.len());
                assert!(!data[span.start..span.end()].contains(&b' '));
                end = span.end();
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
            let _ = error.to_string();
        }
    }
});
