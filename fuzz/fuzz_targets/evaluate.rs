//! The `check_host()` state machine against a fuzzer-built zone.
//!
//! The input describes a small zone (records built from SPF terms, macro-strings, raw
//! bytes, addresses near the client, NXDOMAIN and temporary failures), a request, the
//! limits, and two schedules that decide in which order answers arrive and when the
//! evaluator is polled in between. Invariants:
//! - it finishes within a bounded number of polls, and after `Done` stays done;
//! - every lookup is a valid DNS name, handed out once, and `queries` counts them;
//! - `queries <= max_queries`; DNS-term and void-lookup counts exceed their limits only
//!   by the one increment that ends the evaluation with the matching permerror;
//! - the outcome is the same whatever the answer order and whether tracing is on.
#![no_main]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spfgate::dns::{Answer, Lookup, LookupId, QueryType, Rdata, wire};
use spfgate::eval::{
    AnswerError, Config, Evaluator, Identity, Limits, Outcome, Problem, Request, SpfResult, Step,
};
use spfgate::macros::MAX_EXPLANATION;

/// Names the zone and the records draw from.
const NAMES: &[&str] = &[
    "example.com",
    "a.example.com",
    "b.example.com",
    "mx.example.com",
    "_spf.example.net",
    "exp.example.com",
    "mail.example.org",
    "example.org",
];

/// Directives and modifiers records are built from.
const TERMS: &[&str] = &[
    "all",
    "-all",
    "~all",
    "?all",
    "+all",
    "a",
    "mx",
    "ptr",
    "-a",
    "~mx",
    "?ptr",
    "a/24",
    "a//64",
    "mx/0",
    "mx//0",
    "a/32//128",
    "ip4:192.0.2.0/24",
    "ip4:192.0.2.1",
    "-ip4:0.0.0.0/0",
    "ip4:198.51.100.0/31",
    "ip6:2001:db8::/32",
    "ip6:::/0",
    "-ip6:2001:db8::1",
    "exists:%{i}.example.com",
    "exists:%{ir}.%{v}._spf.%{d}",
    "exists:%{l}.%{o}",
    "exists:%{p}.example.com",
    "exists:%{s}.example.com",
    "exists:%{H}.example.com",
    "include:%{d}",
    "include:%{d2}",
    "include:%{o}",
    "a:%{p}",
    "a:%{h}",
    "a:%{d1r}.example.com",
    "mx:%{d}",
    "ptr:%{d}",
    "ptr:example.com",
    "redirect=%{d}",
    "redirect=%{o}",
    "exp=%{d}",
    "exp=exp.example.com",
    "exp=%{l}.exp.example.com",
    "ra=postmaster",
    "unknown=%{s}",
];

/// Explanation texts (macro-strings with the explanation-only letters).
const EXPLANATIONS: &[&str] = &[
    "%{c} is not one of %{d}'s designated mail senders.",
    "%{i} %{s} %{l} %{o} %{d} %{h} %{p} %{v}",
    "%{r} at %{t}",
    "%{C}%{c}%{c}%{c}%{c}%{c}%{c}%{c}",
    "%%%_%-",
    "%{x} is not a macro",
    "see http://%{d}/why?s=%{S}",
];

const VERSIONS: &[&str] = &[
    "v=spf1",
    "V=SPF1",
    "v=spf1 ",
    "v=spf10",
    "v=spf1\t",
    "spf2.0/pra",
];

const CLIENTS: &[&str] = &[
    "192.0.2.1",
    "192.0.2.200",
    "2001:db8::1",
    "::ffff:192.0.2.1",
    "10.0.0.1",
];

const LOCAL_PARTS: &[&str] = &["alice", "", "strong-bad", "a.b-c+d", "postmaster"];

const MECHANISMS: &[(&str, char)] = &[
    ("include", ':'),
    ("a", ':'),
    ("mx", ':'),
    ("ptr", ':'),
    ("exists", ':'),
    ("redirect", '='),
    ("exp", '='),
];

const QUALIFIERS: &[&str] = &["", "+", "-", "~", "?"];

fn pick<'s>(list: &[&'s str], i: u8) -> &'s str {
    list[usize::from(i) % list.len()]
}

#[derive(Arbitrary, Debug)]
enum NameIn {
    Known(u8),
    /// The client's reverse-DNS name.
    Reverse,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum TermIn {
    Listed(u8),
    /// A mechanism or modifier naming one of the zone's names.
    Targeted {
        qualifier: u8,
        kind: u8,
        name: NameIn,
        v4: Option<u8>,
        v6: Option<u8>,
    },
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum ExplanationIn {
    Listed(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum TxtIn {
    Spf { version: u8, terms: Vec<TermIn> },
    Explanation(ExplanationIn),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum AddrIn {
    Client,
    /// The client with its last byte changed.
    Near(u8),
    V4([u8; 4]),
    V6([u8; 16]),
}

#[derive(Arbitrary, Debug)]
enum RdataIn {
    Addr(AddrIn),
    Mx(u16, NameIn),
    Txt(TxtIn),
    Ptr(NameIn),
}

#[derive(Arbitrary, Debug)]
enum AnswerIn {
    Records(Vec<RdataIn>),
    NxDomain,
    TempFail,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum QtypeIn {
    A,
    Aaaa,
    Mx,
    Txt,
    Ptr,
}

#[derive(Arbitrary, Debug)]
struct EntryIn {
    name: NameIn,
    qtype: QtypeIn,
    answer: AnswerIn,
}

#[derive(Arbitrary, Debug)]
enum ClientIn {
    Listed(u8),
    V4([u8; 4]),
    V6([u8; 16]),
}

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

/// The zone rendered to answers.
struct Zone {
    entries: Vec<(String, QueryType, Answer)>,
    unlisted: Answer,
}

impl Zone {
    fn resolve(&self, lookup: &Lookup) -> Answer {
        self.entries
            .iter()
            .find(|(name, qtype, _)| {
                *qtype == lookup.qtype && name.eq_ignore_ascii_case(&lookup.name)
            })
            .map_or_else(|| self.unlisted.clone(), |(_, _, answer)| answer.clone())
    }
}

/// Renders the structured input against one client address.
struct Render {
    client: IpAddr,
}

impl Render {
    fn name(&self, n: &NameIn) -> String {
        match n {
            NameIn::Known(i) => pick(NAMES, *i).to_owned(),
            NameIn::Reverse => reverse_name(self.client),
            NameIn::Raw(s) => s.clone(),
        }
    }

    fn term(&self, t: &TermIn) -> String {
        match t {
            TermIn::Listed(i) => pick(TERMS, *i).to_owned(),
            TermIn::Targeted {
                qualifier,
                kind,
                name,
                v4,
                v6,
            } => {
                let (mechanism, separator) = MECHANISMS[usize::from(*kind) % MECHANISMS.len()];
                let mut out = String::new();
                if separator == ':' {
                    out.push_str(pick(QUALIFIERS, *qualifier));
                }
                let _ = write!(out, "{mechanism}{separator}{}", self.name(name));
                if matches!(mechanism, "a" | "mx") {
                    if let Some(v4) = v4 {
                        let _ = write!(out, "/{}", v4 % 40);
                    }
                    if let Some(v6) = v6 {
                        let _ = write!(out, "//{}", v6 % 140);
                    }
                }
                out
            }
            TermIn::Raw(s) => s.clone(),
        }
    }

    fn txt(&self, t: &TxtIn) -> Vec<u8> {
        match t {
            TxtIn::Spf { version, terms } => {
                let mut out = pick(VERSIONS, *version).to_owned();
                for term in terms {
                    out.push(' ');
                    out.push_str(&self.term(term));
                }
                out.into_bytes()
            }
            TxtIn::Explanation(e) => explanation(e).into_bytes(),
            TxtIn::Raw(bytes) => bytes.clone(),
        }
    }

    fn addr(&self, a: &AddrIn) -> Rdata {
        match (a, self.client) {
            (AddrIn::Client, IpAddr::V4(ip)) => Rdata::A(ip),
            (AddrIn::Client, IpAddr::V6(ip)) => Rdata::Aaaa(ip),
            (AddrIn::Near(x), IpAddr::V4(ip)) => {
                let mut o = ip.octets();
                o[3] ^= x;
                Rdata::A(Ipv4Addr::from(o))
            }
            (AddrIn::Near(x), IpAddr::V6(ip)) => {
                let mut o = ip.octets();
                o[15] ^= x;
                Rdata::Aaaa(Ipv6Addr::from(o))
            }
            (AddrIn::V4(o), _) => Rdata::A(Ipv4Addr::from(*o)),
            (AddrIn::V6(o), _) => Rdata::Aaaa(Ipv6Addr::from(*o)),
        }
    }

    fn answer(&self, a: &AnswerIn) -> Answer {
        match a {
            AnswerIn::NxDomain => Answer::NxDomain,
            AnswerIn::TempFail => Answer::temp_fail("timeout"),
            AnswerIn::Records(rs) => Answer::Records(
                rs.iter()
                    .map(|r| match r {
                        RdataIn::Addr(a) => self.addr(a),
                        RdataIn::Mx(preference, exchange) => Rdata::Mx {
                            preference: *preference,
                            exchange: self.name(exchange),
                        },
                        RdataIn::Txt(t) => Rdata::Txt(self.txt(t)),
                        RdataIn::Ptr(n) => Rdata::Ptr(self.name(n)),
                    })
                    .collect(),
            ),
        }
    }

    fn zone(&self, entries: &[EntryIn], unlisted: &AnswerIn) -> Zone {
        let entries = entries
            .iter()
            .map(|e| {
                let name = self.name(&e.name);
                let name = name.strip_suffix('.').unwrap_or(&name).to_owned();
                let qtype = match e.qtype {
                    QtypeIn::A => QueryType::A,
                    QtypeIn::Aaaa => QueryType::Aaaa,
                    QtypeIn::Mx => QueryType::Mx,
                    QtypeIn::Txt => QueryType::Txt,
                    QtypeIn::Ptr => QueryType::Ptr,
                };
                (name, qtype, self.answer(&e.answer))
            })
            .collect();
        Zone {
            entries,
            unlisted: self.answer(unlisted),
        }
    }
}

fn explanation(e: &ExplanationIn) -> String {
    match e {
        ExplanationIn::Listed(i) => pick(EXPLANATIONS, *i).to_owned(),
        ExplanationIn::Raw(s) => s.clone(),
    }
}

/// `in-addr.arpa` / `ip6.arpa` name of an address.
fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut out = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                let _ = write!(out, "{:x}.{:x}.", byte & 0xf, byte >> 4);
            }
            out.push_str("ip6.arpa");
            out
        }
    }
}

/// The parts of an outcome that must not depend on answer order or tracing.
fn essentials(o: &Outcome) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        o.result,
        o.mechanism.clone(),
        o.domain.clone(),
        o.problem.clone(),
        o.explanation.clone(),
        o.dns_terms,
        o.void_lookups,
        o.queries,
    )
}

/// A lookup as `Lookup::name` documents it: lower-case ASCII, no trailing dot, at most
/// 253 octets in labels of 1 to 63.
fn check_lookup(lookup: &Lookup) {
    let name = &lookup.name;
    assert!(
        name.len() <= 253
            && name.is_ascii()
            && *name == name.to_ascii_lowercase()
            && name.split('.').all(|l| (1..=63).contains(&l.len())),
        "invalid lookup name {name:?}"
    );
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
fn drive(mut ev: Evaluator, zone: &Zone, schedule: &[u8], max_queries: u32, wire: bool) -> Outcome {
    let mut schedule = schedule.iter().copied();
    let mut outstanding: Vec<Lookup> = Vec::new();
    let mut handed_out = HashSet::new();
    let mut ids = HashSet::new();
    let mut answered_since_poll = false;
    let (mut polls, mut batches) = (0u32, 0u32);
    let outcome = loop {
        while !outstanding.is_empty() {
            let choice = schedule.next();
            if choice.is_some_and(|c| c & 1 == 0) && answered_since_poll {
                break;
            }
            let i = choice.map_or(outstanding.len() - 1, |c| {
                usize::from(c >> 1) % outstanding.len()
            });
            let lookup = outstanding.swap_remove(i);
            answer(&mut ev, zone, &lookup, wire);
            assert_eq!(
                ev.answer(lookup.id, Answer::NxDomain),
                Err(AnswerError::AlreadyAnswered(lookup.id))
            );
            answered_since_poll = true;
        }
        // Each poll hands out a new lookup, finishes, or follows an answer.
        polls += 1;
        assert!(polls <= 2 * max_queries + 2, "no end after {polls} polls");
        answered_since_poll = false;
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

fn check_outcome(o: &Outcome, limits: &Limits, default_explanation: Option<&str>) {
    assert!(o.queries <= limits.max_queries, "{} queries", o.queries);
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
    let client = match &input.client {
        ClientIn::Listed(i) => pick(CLIENTS, *i).parse().expect("listed clients parse"),
        ClientIn::V4(o) => IpAddr::from(*o),
        ClientIn::V6(o) => IpAddr::from(*o),
    };
    // The evaluator treats IPv4-mapped IPv6 clients as IPv4; the zone does too.
    let effective = match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
        v4 => v4,
    };
    let render = Render { client: effective };
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
    check_outcome(&reference, &limits, default_explanation.as_deref());
    let untraced = Config {
        trace: !config.trace,
        ..config.clone()
    };
    // Through the wire, names and texts may change (escapes, split strings): the two
    // wire runs are compared with each other, typed runs with the reference too.
    let runs =
        [(&input.schedule_a, config), (&input.schedule_b, untraced)].map(|(schedule, config)| {
            let ev = Evaluator::new(request.clone(), config);
            let outcome = drive(ev, &zone, schedule, limits.max_queries, input.wire);
            check_outcome(&outcome, &limits, default_explanation.as_deref());
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
