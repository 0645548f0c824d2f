//! Whatever parses prints in a canonical form that parses back to an equal record,
//! and printing that again gives the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spfgate::record::Record;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = Record::parse_bytes(data) else {
        return;
    };
    let text = record.to_string();
    let again = Record::parse(&text)
        .unwrap_or_else(|e| panic!("canonical form {text:?} does not parse: {e}"));
    assert_eq!(again, record, "canonical form {text:?} parses differently");
    assert_eq!(again.to_string(), text, "Display is not a fixed point");
    assert_eq!(record.clone().into_owned(), record);
});
