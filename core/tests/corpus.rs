//! Every record of the shared real-world corpus parses and round-trips through `Display`.
//!
//! The corpus lives beside the repository (`shared/corpus/records.txt`); a missing file
//! fails the test, so a broken checkout can never pass by testing nothing.

use spfgate::record::Record;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/records.txt"
);

/// Number of records in the corpus; a different count means the file is not the one
/// these tests were written against.
const RECORDS: usize = 1011;

fn corpus() -> String {
    std::fs::read_to_string(CORPUS)
        .unwrap_or_else(|e| panic!("cannot read the record corpus at {CORPUS}: {e}"))
}

#[test]
fn corpus_has_the_expected_size() {
    assert_eq!(corpus().lines().count(), RECORDS, "records in {CORPUS}");
}

#[test]
fn every_corpus_record_parses_and_round_trips() {
    let text = corpus();
    let mut failures = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let record = match Record::parse(line) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("line {}: {e}\n  {line}", n + 1));
                continue;
            }
        };
        let canonical = record.to_string();
        let reparsed = Record::parse(&canonical)
            .unwrap_or_else(|e| panic!("line {}: canonical form fails: {e}\n  {canonical}", n + 1));
        assert_eq!(reparsed, record, "line {}: {line}", n + 1);
        assert_eq!(
            reparsed.to_string(),
            canonical,
            "line {}: not a fixed point",
            n + 1
        );
        assert_eq!(
            record.terms().len(),
            line.split(' ').filter(|t| !t.is_empty()).count() - 1,
            "line {}: term count",
            n + 1
        );
    }
    assert!(
        failures.is_empty(),
        "{} records fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
