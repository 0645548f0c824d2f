//! The linter on fuzzer-built records, and the tree analysis over a fuzzer-built zone.
//! Invariants: findings point inside the text they are about and come sorted; the
//! analysis finishes within its query bound and reports the same whatever the answer
//! order; a flattening suggestion is a valid record split into publishable strings,
//! and when the analysis calls itself exact and kept nothing, evaluating the suggestion
//! gives the same SPF result as evaluating the original.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spfgate::dns::{Answer, Lookup, LookupId, QueryType, Rdata};
use spfgate::eval::{Config, Evaluator, Limits, Request};
use spfgate::lint::{Analysis, AnalysisOptions, AnalysisStep, Finding, Report, lint_record};
use spfgate::record::Record;
use spfgate_fuzz::{
    AnswerIn, ClientIn, EntryIn, NAMES, Render, Schedule, TxtIn, Zone, check_lookup, pick,
};

#[derive(Arbitrary, Debug)]
struct Input {
    domain: u8,
    /// A draft record analysed in place of the published one.
    draft: Option<TxtIn>,
    client: ClientIn,
    zone: Vec<EntryIn>,
    unlisted: AnswerIn,
    /// `max_depth`, `max_queries`; `None` for the defaults.
    bounds: Option<(u8, u8)>,
    schedule: Vec<u8>,
}

/// Findings sorted by position, each span inside `text` on character boundaries.
fn check_findings(findings: &[Finding], text: &str) {
    for finding in findings {
        let span = finding.span;
        assert!(
            text.get(span.start..span.end()).is_some(),
            "{finding} outside {text:?}"
        );
    }
    assert!(
        findings.is_sorted_by_key(|f| (f.span.start, f.span.len)),
        "findings out of order"
    );
}

/// The zone, with the checked domain's TXT answered by `root` when given.
fn resolve(zone: &Zone, domain: &str, root: Option<&str>, lookup: &Lookup) -> Answer {
    match root {
        Some(text)
            if lookup.qtype == QueryType::Txt && lookup.name.eq_ignore_ascii_case(domain) =>
        {
            Answer::Records(vec![Rdata::Txt(text.as_bytes().to_vec())])
        }
        _ => zone.resolve(lookup),
    }
}

/// Drives an analysis: the schedule picks the answer order and when to poll.
fn drive(mut analysis: Analysis, answer: impl Fn(&Lookup) -> Answer, schedule: &[u8]) -> Report {
    let mut schedule = Schedule::new(schedule);
    let mut outstanding: Vec<Lookup> = Vec::new();
    let mut asked = HashSet::new();
    loop {
        while let Some(lookup) = schedule.next_answer(&mut outstanding) {
            analysis
                .answer(lookup.id, answer(&lookup))
                .expect("a handed-out lookup takes its answer");
        }
        schedule.polled();
        match analysis.poll() {
            AnalysisStep::Done(report) => return report.clone(),
            AnalysisStep::Lookups(batch) => {
                for lookup in batch {
                    check_lookup(&lookup);
                    assert!(
                        asked.insert((lookup.name.clone(), lookup.qtype)),
                        "{lookup} asked twice"
                    );
                    outstanding.push(lookup);
                }
            }
            AnalysisStep::Pending => {
                assert!(!outstanding.is_empty(), "pending with nothing outstanding")
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let domain = pick(NAMES, input.domain);
    let client = input.client.ip();
    let render = Render::for_client(client);
    let zone = render.zone(&input.zone, &input.unlisted);
    let draft = input
        .draft
        .as_ref()
        .map(|t| String::from_utf8_lossy(&render.txt(t)).into_owned());
    if let Some(text) = &draft {
        check_findings(&lint_record(text), text);
    }

    let options = match input.bounds {
        None => AnalysisOptions::default(),
        Some((depth, queries)) => AnalysisOptions {
            limits: Limits::default(),
            max_depth: u32::from(depth % 20),
            max_queries: u32::from(queries),
        },
    };
    let start = || match &draft {
        Some(text) => Analysis::with_record(domain, text, options),
        None => Analysis::new(domain, options),
    };
    let answer = |lookup: &Lookup| resolve(&zone, domain, draft.as_deref(), lookup);
    let mut reference = start().run_with(answer);
    let mut scheduled = drive(start(), answer, &input.schedule);
    assert!(
        reference.queries <= options.max_queries,
        "{} queries",
        reference.queries
    );
    reference.round_trips = 0;
    scheduled.round_trips = 0;
    assert_eq!(
        scheduled, reference,
        "the report depends on the answer order"
    );

    for record in &reference.records {
        check_findings(&lint_record(&record.text), &record.text);
    }
    // A finding's span is in a record of its domain: one walked, or (for records that
    // do not parse, which are not walked) one the zone or the draft holds.
    for finding in &reference.findings {
        let span = finding.span;
        if span.len == 0 {
            continue;
        }
        let lookup = Lookup {
            id: LookupId(0),
            name: finding.domain.clone(),
            qtype: QueryType::Txt,
        };
        let published = match resolve(&zone, domain, draft.as_deref(), &lookup) {
            Answer::Records(rs) => rs,
            _ => Vec::new(),
        };
        let mut texts = reference
            .records
            .iter()
            .filter(|r| r.domain == finding.domain)
            .map(|r| r.text.clone())
            .chain(published.iter().filter_map(|r| match r {
                Rdata::Txt(t) => Some(String::from_utf8_lossy(t).into_owned()),
                _ => None,
            }));
        assert!(
            texts.any(|t| t.get(span.start..span.end()).is_some()),
            "{finding} points outside the records of {}",
            finding.domain
        );
    }

    let Some(flat) = &reference.flattening else {
        return;
    };
    assert!(
        flat.strings.iter().all(|s| s.len() <= 255),
        "{:?}",
        flat.strings
    );
    assert_eq!(flat.strings.concat(), flat.record);
    if let Err(e) = Record::parse(&flat.record) {
        panic!("flattened record {:?} does not parse: {e}", flat.record);
    }
    if reference.exact && flat.kept.is_empty() {
        let check = |root: Option<&str>| {
            let request = Request::new(client, &format!("postmaster@{domain}"), "helo.example");
            Evaluator::new(request, Config::default())
                .run_with(|lookup| resolve(&zone, domain, root, lookup))
                .result
        };
        let original = check(draft.as_deref());
        let flattened = check(Some(&flat.record));
        assert_eq!(
            original, flattened,
            "flattened record {:?} decides differently for {client}",
            flat.record
        );
    }
});
