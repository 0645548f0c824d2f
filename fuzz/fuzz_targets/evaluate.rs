//! The `check_host()` state machine against a fuzzer-built zone.
//!
//! The input describes a small zone (records built from SPF terms, macro-strings, raw
//! bytes, addresses near the client, NXDOMAIN and temporary failures), a request, the
//! limits, and two schedules that decide in which order answers arrive and when the
//! evaluator is polled in between. Invariants:
//! - it finishes within a bounded number of polls, and after `Done` stays done;
//! - every lookup is a valid DNS name, handed out once, and `queries` counts them;
//! - `queries <= max_queries`, plus at most half as many prefetches; DNS-term and
//!   void-lookup counts exceed their limits only by the one increment that ends the
//!   evaluation with the matching permerror;
//! - the outcome is the same whatever the answer order, whether tracing is on and
//!   whether prefetch is.
#![no_main]

use std::collections::HashSet;
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spfgate::dns::{Answer, Lookup, LookupId, wire};
use spfgate::eval::{
    AnswerError, Config, Evaluator, Identity, Limits, Outcome, Problem, Request, SpfResult, Step,
    VoidCounting,
};
use spfgate::macros::MAX_EXPLANATION;
use spfgate_fuzz::{
    AnswerIn, ClientIn, EntryIn, ExplanationIn, NameIn, Render, Schedule, Zone, check_lookup,
    explanation, pick,
};

const LOCAL_PARTS: &[&str] = &["alice", "", "strong-bad", "a.b-c+d", "postmaster"];

#[derive(Arbitrary, Debug)]
enum LocalIn {
    Listed(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum SenderIn {
    Address { local: LocalIn, domain: NameIn },
    Bracketed { local: LocalIn, domain: NameIn },
    DomainOnly(NameIn),
    Null,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    client: ClientIn,
    sender: SenderIn,
    helo: NameIn,
    helo_identity: bool,
    receiver: Option<NameIn>,
    now: u64,
    /// `dns_terms, void_lookups, mx_names, ptr_names, max_queries`; `None` for the defaults.
    limits: Option<[u8; 5]>,
    prefetch: bool,
    trace: bool,
    /// Answer the scheduled runs with DNS messages through `answer_wire`.
    wire: bool,
    default_explanation: Option<ExplanationIn>,
    zone: Vec<EntryIn>,
    /// What lookups of names the zone does not list get.
    unlisted: AnswerIn,
    schedule_a: Vec<u8>,
    schedule_b: Vec<u8>,
}

/// The parts of an outcome that must not depend on answer order or tracing.
///
/// Not `queries`: a caller that polls before answering a whole batch lets prefetches
/// go out (or not) depending on which answers came first, so the number of queries
/// depends on timing; the counts the RFC limits apply to do not.
fn essentials(o: &Outcome) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        o.result,
        o.mechanism.clone(),
        o.domain.clone(),
        o.problem.clone(),
        o.explanation.clone(),
        o.dns_terms,
        o.void_lookups,
    )
}

/// Hands the zone's answer to the evaluator, as a DNS message when `wire` is set and
/// the answer can be encoded (names from raw input may not be).
fn answer(ev: &mut Evaluator, zone: &Zone, lookup: &Lookup, wire: bool) {
    let answer = zone.resolve(lookup);
    let message = wire
        .then(|| wire::encode_response(lookup, lookup.id.0 as u16, &answer).ok())
        .flatten();
    let result = match message {
        Some(bytes) => ev.answer_wire(lookup.id, &bytes),
        None => ev.answer(lookup.id, answer),
    };
    result.expect("a handed-out lookup takes its answer");
}

/// Drives an evaluation: the schedule picks which outstanding lookup is answered next
/// and when to poll; once it runs out, the rest is answered newest first.
fn drive(mut ev: Evaluator, zone: &Zone, schedule: &[u8], queries: u32, wire: bool) -> Outcome {
    let mut schedule = Schedule::new(schedule);
    let mut outstanding: Vec<Lookup> = Vec::new();
    let mut handed_out = HashSet::new();
    let mut ids = HashSet::new();
    let (mut polls, mut batches) = (0u32, 0u32);
    let outcome = loop {
        while let Some(lookup) = schedule.next_answer(&mut outstanding) {
            answer(&mut ev, zone, &lookup, wire);
            assert_eq!(
                ev.answer(lookup.id, Answer::NxDomain),
                Err(AnswerError::AlreadyAnswered(lookup.id))
            );
        }
        // Each poll hands out a new lookup, finishes, or follows an answer.
        polls += 1;
        assert!(polls <= 2 * queries + 2, "no end after {polls} polls");
        schedule.polled();
        match ev.poll() {
            Step::Done(outcome) => break outcome.clone(),
            Step::Pending => assert!(!outstanding.is_empty(), "pending with nothing outstanding"),
            Step::Lookups(batch) => {
                assert!(!batch.is_empty(), "an empty batch");
                batches += 1;
                for lookup in batch {
                    check_lookup(&lookup);
                    assert!(ids.insert(lookup.id), "id {} handed out twice", lookup.id);
                    assert!(
                        handed_out.insert((lookup.name.clone(), lookup.qtype)),
                        "{lookup} asked twice"
                    );
                    outstanding.push(lookup);
                }
            }
        }
    };
    assert_eq!(outcome.queries as usize, ids.len());
    assert_eq!(outcome.round_trips, batches);
    // Late answers are accepted and ignored; misuse is an error, not a panic.
    for lookup in outstanding {
        answer(&mut ev, zone, &lookup, wire);
    }
    let unknown = LookupId(u32::MAX);
    assert_eq!(
        ev.answer(unknown, Answer::NxDomain),
        Err(AnswerError::UnknownId(unknown))
    );
    match ev.poll() {
        Step::Done(again) => assert_eq!(*again, outcome, "the outcome changed after Done"),
        other => panic!("{other:?} after Done"),
    }
    outcome
}

/// The most queries an evaluation may hand out: the cap on those it needs, and
/// prefetches a term did not need, which have their own bound of half the cap.
fn query_bound(config: &Config) -> u32 {
    let cap = config.limits.max_queries;
    match config.prefetch {
        true => cap + cap / 2,
        false => cap,
    }
}

fn check_outcome(o: &Outcome, config: &Config, default_explanation: Option<&str>) {
    let limits = &config.limits;
    assert!(o.queries <= query_bound(config), "{} queries", o.queries);
    if o.dns_terms > limits.dns_terms {
        assert_eq!(o.dns_terms, limits.dns_terms + 1);
        assert_eq!(o.problem, Some(Problem::TooManyDnsTerms(limits.dns_terms)));
    }
    if o.void_lookups > limits.void_lookups {
        assert_eq!(o.void_lookups, limits.void_lookups + 1);
        assert_eq!(
            o.problem,
            Some(Problem::TooManyVoidLookups(limits.void_lookups))
        );
    }
    let is_error = matches!(
        o.result,
        SpfResult::None | SpfResult::TempError | SpfResult::PermError
    );
    assert_eq!(
        o.problem.is_some(),
        is_error,
        "problem {:?} with {}",
        o.problem,
        o.result
    );
    assert!(o.mechanism.is_none() || !is_error);
    if let Some(text) = &o.explanation {
        assert_eq!(o.result, SpfResult::Fail, "an explanation for {}", o.result);
        let bound = MAX_EXPLANATION.max(default_explanation.map_or(0, str::len));
        assert!(text.len() <= bound, "explanation of {} bytes", text.len());
    }
}

fuzz_target!(|input: Input| {
    let client = input.client.ip();
    let render = Render::for_client(client);
    let local = |l: &LocalIn| match l {
        LocalIn::Listed(i) => pick(LOCAL_PARTS, *i).to_owned(),
        LocalIn::Raw(s) => s.clone(),
    };
    let mail_from = match &input.sender {
        SenderIn::Address { local: l, domain } => format!("{}@{}", local(l), render.name(domain)),
        SenderIn::Bracketed { local: l, domain } => {
            format!("<{}@{}>", local(l), render.name(domain))
        }
        SenderIn::DomainOnly(domain) => render.name(domain),
        SenderIn::Null => String::new(),
        SenderIn::Raw(s) => s.clone(),
    };
    let request = Request {
        ip: client,
        mail_from,
        helo: render.name(&input.helo),
        receiver: input
            .receiver
            .as_ref()
            .map(|r| render.name(r))
            .unwrap_or_default(),
        now: input.now,
        identity: if input.helo_identity {
            Identity::Helo
        } else {
            Identity::MailFrom
        },
    };
    let limits = match input.limits {
        None => Limits::default(),
        Some([terms, void, mx, ptr, queries]) => Limits {
            dns_terms: u32::from(terms % 21),
            void_lookups: u32::from(void % 6),
            void_counting: if void & 0x80 == 0 {
                VoidCounting::PerTerm
            } else {
                VoidCounting::PerLookup
            },
            mx_names: u32::from(mx % 13),
            ptr_names: u32::from(ptr % 13),
            max_queries: u32::from(queries),
        },
    };
    let default_explanation = input.default_explanation.as_ref().map(explanation);
    let config = Config {
        limits,
        prefetch: input.prefetch,
        default_explanation: default_explanation.as_deref().map(Arc::from),
        trace: input.trace,
    };
    let zone = render.zone(&input.zone, &input.unlisted);

    let reference = Evaluator::new(request.clone(), config.clone()).run_with(|l| zone.resolve(l));
    check_outcome(&reference, &config, default_explanation.as_deref());
    // Prefetch only saves round trips: it never changes the outcome.
    let other_prefetch = Config {
        prefetch: !config.prefetch,
        ..config.clone()
    };
    let prefetch_flipped =
        Evaluator::new(request.clone(), other_prefetch.clone()).run_with(|l| zone.resolve(l));
    check_outcome(
        &prefetch_flipped,
        &other_prefetch,
        default_explanation.as_deref(),
    );
    assert_eq!(
        essentials(&prefetch_flipped),
        essentials(&reference),
        "prefetch changed the outcome"
    );
    // An evaluator restarted after another evaluation (here of the null sender) carries
    // nothing over.
    let null_sender = Request {
        mail_from: String::new(),
        ..request.clone()
    };
    let mut reused = Evaluator::new(null_sender, config.clone());
    reused.drive_with(|l| zone.resolve(l));
    reused.restart(&request);
    let restarted = reused.drive_with(|l| zone.resolve(l));
    assert_eq!(
        essentials(restarted),
        essentials(&reference),
        "a restarted evaluator differs from a new one"
    );
    let untraced = Config {
        trace: !config.trace,
        ..config.clone()
    };
    // Through the wire, names and texts may change (escapes, split strings): the two
    // wire runs are compared with each other, typed runs with the reference too.
    let runs =
        [(&input.schedule_a, config), (&input.schedule_b, untraced)].map(|(schedule, config)| {
            let ev = Evaluator::new(request.clone(), config.clone());
            let outcome = drive(ev, &zone, schedule, query_bound(&config), input.wire);
            check_outcome(&outcome, &config, default_explanation.as_deref());
            essentials(&outcome)
        });
    assert_eq!(runs[0], runs[1], "the outcome depends on the answer order");
    if !input.wire {
        assert_eq!(
            runs[0],
            essentials(&reference),
            "the outcome differs from run_with"
        );
    }
});
