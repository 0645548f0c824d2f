//! RFC 7208 `check_host()` as a sans-IO state machine.
//!
//! The [`Evaluator`] never performs I/O: [`Evaluator::poll`] returns the DNS lookups
//! it needs now (a batch that can go out in parallel) or the finished [`Outcome`];
//! the caller answers each lookup by id with [`Evaluator::answer`], in any order,
//! and polls again.
//!
//! ```
//! use spfgate::dns::{Answer, QueryType, Rdata};
//! use spfgate::eval::{Config, Evaluator, Request, SpfResult, Step};
//!
//! let req = Request::new("192.0.2.10".parse().unwrap(), "alice@example.com", "mx.example.com");
//! let mut ev = Evaluator::new(req, Config::default());
//! let outcome = loop {
//!     let batch = match ev.poll() {
//!         Step::Done(outcome) => break outcome.clone(),
//!         Step::Lookups(batch) => batch,
//!         Step::Pending => unreachable!("every lookup is answered before polling"),
//!     };
//!     for lookup in batch {
//!         let answer = match (lookup.name.as_str(), lookup.qtype) {
//!             ("example.com", QueryType::Txt) => {
//!                 Answer::Records(vec![Rdata::Txt(b"v=spf1 ip4:192.0.2.0/24 -all".to_vec())])
//!             }
//!             _ => Answer::NxDomain,
//!         };
//!         ev.answer(lookup.id, answer).unwrap();
//!     }
//! };
//! assert_eq!(outcome.result, SpfResult::Pass);
//! assert_eq!(outcome.mechanism.as_deref(), Some("ip4:192.0.2.0/24"));
//! ```

use std::borrow::{Borrow, Cow};
use std::net::IpAddr;

use self::compiled::{Header, Mech, Op, Spec, Str, compile, directive_text, write_directive};
use self::digest::{Answers, Digest};
use crate::dns::{Answer, Lookup, LookupId, QueryType};
use crate::macros::{self, MacroString, MacroVars, Target};
use crate::record::{ParseError, Qualifier, Record, Selection};

mod compiled;
mod digest;
mod outcome;
mod request;

pub use self::outcome::{Outcome, Problem, SpfResult, TraceEvent};
pub use self::request::{Config, Identity, Limits, Request, UnknownVoidCounting, VoidCounting};

/// What the caller of an [`Evaluator`] should do next.
pub type Step<'a> = crate::dns::Step<'a, Outcome>;

pub use crate::dns::AnswerError;

/// A lookup to be overwritten by `write_lookup`; its empty name allocates nothing.
const NO_LOOKUP: Lookup = Lookup {
    id: LookupId(0),
    name: String::new(),
    qtype: QueryType::Txt,
};

/// One lookup of this evaluation: the cache and the id space at once.
#[derive(Debug)]
struct Slot {
    /// As asked (any case, no final dot), in the text arena.
    name: Str,
    qtype: QueryType,
    sent: bool,
    /// Asked ahead of need.
    prefetch: bool,
    /// Needed by a term (or the record fetch): counted against the query cap.
    /// A prefetched slot is needed once a term asks for it.
    needed: bool,
    /// A prefetched record whose own targets were prefetched in turn.
    scanned: bool,
    answer: Option<Digest>,
    /// For TXT answers: which record is the SPF record, found when the answer came.
    spf: Selection,
    /// For TXT answers: the SPF record selected and compiled, once asked for.
    record: Option<Selected>,
    /// Why the selected record did not compile, until a frame reports it.
    error: Option<Box<ParseError>>,
}

/// What a TXT answer holds for SPF, compiled once however often it is used.
#[derive(Debug, Clone, Copy)]
enum Selected {
    TempFail,
    NoRecord,
    Multiple,
    /// One SPF record that does not parse.
    Invalid,
    /// One SPF record: the index of its [`Op::Record`] header.
    Record(u32),
}

/// How a frame's result is used by its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// The evaluation's own domain (or a redirect taking its place).
    Top,
    /// The target of an `include` in the frame below.
    Include,
    /// A redirect target; `none` there is a permerror.
    Redirect { top: bool },
}

/// One `check_host()` invocation on the stack.
#[derive(Debug)]
struct Frame {
    domain: Str,
    kind: FrameKind,
    depth: u32,
    /// The selected record's [`Op::Record`] header, once fetched.
    record: Option<u32>,
    /// Index of the directive being evaluated.
    next: u32,
    /// Whether the current term has been counted against the DNS-term limit.
    counted: bool,
    /// Result of the include child of the current term, once finished.
    child: Option<SpfResult>,
    /// The slot of the first lookup the current step (the record fetch, then each
    /// term) waits for: the step runs again when answers arrive and finds its slot
    /// without searching the slots by name.
    asked: Option<u32>,
    /// Whether the void lookups of the client's validation have been counted for the
    /// current term's `%{p}`: once per term, however often it runs.
    p_counted: bool,
}

/// Where a blocked step stands.
enum Flow {
    Continue,
    Blocked,
}

/// An availability check on a lookup, with its slot.
enum Got {
    Ready(usize),
    Waiting(usize),
}

/// Result of evaluating one term.
enum TermStep {
    Matched,
    NoMatch,
    Blocked,
    Include(Str),
    Error(SpfResult, Problem),
}

/// The result of the top-level `check_host()`, before explanation and counters.
struct Verdict {
    result: SpfResult,
    /// The directive that decided.
    matched: Option<(Qualifier, Mech)>,
    /// The domain whose record decided, in the text arena.
    domain: Str,
    problem: Option<Problem>,
}

/// An explanation being fetched for a top-level `fail`.
struct Explaining {
    /// Its domain is the one whose record failed, for `%{d}`.
    verdict: Verdict,
    /// That record's `exp=` domain-spec.
    spec: Spec,
}

/// The `check_host()` state machine. See the module documentation.
pub struct Evaluator {
    config: Config,
    ip: IpAddr,
    /// `local-part@domain`; `at` is the index of the `@`.
    sender: String,
    at: usize,
    helo: String,
    receiver: Cow<'static, str>,
    now: u64,
    /// Every string the evaluation keeps (domains, domain-specs, lookup names), so
    /// frames, slots and compiled records refer to text without owning it.
    text: String,
    /// The compiled records, see [`Op`].
    ops: Vec<Op>,
    slots: Vec<Slot>,
    /// What the slots' answers hold.
    answers: Answers,
    /// The id of `slots[0]`: ids keep counting across [`restart`](Evaluator::restart)s,
    /// so an answer meant for an earlier evaluation is never taken for a new lookup.
    first_id: u32,
    /// Slots from this index on were opened since the last batch was handed out.
    handed: usize,
    /// The lookup [`drive_with`](Self::drive_with) hands its resolver, refilled for
    /// each lookup so that no name is allocated.
    resolving: Lookup,
    frames: Vec<Frame>,
    /// Boxed: rare, and the evaluator moves by value.
    explaining: Option<Box<Explaining>>,
    /// The outcome once `done`; before, the previous evaluation's, whose strings
    /// and trace buffer the next one writes into.
    outcome: Outcome,
    done: bool,
    /// An explanation's buffer while the outcome has none, for the next one.
    spare_explanation: String,
    /// Where macros are expanded before their result joins the arena.
    scratch: String,
    /// The client's validated reverse names, once `validated_done`; the buffer is
    /// kept across restarts.
    validated: Vec<Str>,
    validated_done: bool,
    /// Void answers met while validating: the PTR lookup's (0 or 1), and the names'
    /// address lookups'. What each use of the validation (a `ptr` term, a term's
    /// `%{p}`) counts depends on [`Limits::void_counting`].
    reverse_void: u32,
    name_voids: u32,
    /// The client's reverse name in the arena, once its PTR lookup is asked for.
    reverse: Option<Str>,
    dns_terms: u32,
    void_lookups: u32,
    /// Slots needed, against [`Limits::max_queries`].
    needed: u32,
    /// Slots opened by prefetch, against their own bound.
    prefetched: u32,
    queries: u32,
    round_trips: u32,
    trace: Vec<TraceEvent>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("sender", &self.sender)
            .field("ip", &self.ip)
            .field("frames", &self.frames.len())
            .field("queries", &self.queries)
            .field("done", &self.done)
            .finish()
    }
}

/// The local part and domain of the sender checked (RFC 7208 §4.3, §2.3), and whether
/// the MAIL FROM string is already exactly `local@domain` (the usual case: no copy).
fn sender_parts<'a>(
    mail_from: &'a str,
    identity: Identity,
    helo: &'a str,
) -> (&'a str, &'a str, bool) {
    // Byte scans: `@`, `.`, `<` and `>` are ASCII, so their indices are character
    // boundaries; Unicode trimming runs only when an end is not plain ASCII text.
    let unusual = |b: &u8| b.is_ascii_whitespace() || !b.is_ascii();
    let bytes = mail_from.as_bytes();
    let from = if bytes.first().is_some_and(unusual) || bytes.last().is_some_and(unusual) {
        mail_from.trim()
    } else {
        mail_from
    };
    let from = from
        .strip_prefix('<')
        .and_then(|f| f.strip_suffix('>'))
        .unwrap_or(from);
    let at = from.bytes().rposition(|b| b == b'@');
    match (identity, at.map(|at| (&from[..at], &from[at + 1..]))) {
        (Identity::MailFrom, Some((local, domain))) => {
            let trimmed = strip_dot(domain);
            if local.is_empty() {
                return ("postmaster", trimmed, false);
            }
            let as_is = trimmed.len() == domain.len() && from.len() == mail_from.len();
            (local, trimmed, as_is)
        }
        // A MAIL FROM without `@` names only a domain (RFC 7208 §4.3).
        (Identity::MailFrom, None) if !from.is_empty() => ("postmaster", strip_dot(from), false),
        _ => ("postmaster", helo, false),
    }
}

/// `name` without its final dot, the empty label of the root. Only one: a second
/// would be an empty label not at the end, which makes a domain malformed (RFC 7208
/// §4.3), so it stays for [`is_valid_domain`] to refuse.
fn strip_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// Writes `local@domain` into `out`; returns the index of the `@`.
fn write_sender(out: &mut String, local: &str, domain: &str) -> usize {
    out.clear();
    out.reserve(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    out.push_str(domain);
    local.len()
}

/// The client address checked: IPv4-mapped IPv6 addresses are IPv4 (RFC 7208 §5).
fn client_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Evaluator {
    /// Starts an evaluation. Nothing happens until the first [`poll`](Self::poll).
    pub fn new(request: Request, config: Config) -> Self {
        let mut helo = request.helo;
        helo.truncate(strip_dot(&helo).len());
        let (local, domain, as_is) = sender_parts(&request.mail_from, request.identity, &helo);
        let (sender, at) = if as_is {
            let at = local.len();
            (request.mail_from, at)
        } else {
            let mut sender = String::new();
            let at = write_sender(&mut sender, local, domain);
            (sender, at)
        };
        let receiver = if request.receiver.is_empty() {
            Cow::Borrowed("unknown")
        } else {
            Cow::Owned(request.receiver)
        };
        let mut ev = Evaluator {
            config,
            ip: client_ip(request.ip),
            sender,
            at,
            helo,
            receiver,
            now: request.now,
            text: String::new(),
            ops: Vec::new(),
            slots: Vec::new(),
            answers: Answers::default(),
            first_id: 0,
            handed: 0,
            resolving: NO_LOOKUP,
            frames: Vec::new(),
            explaining: None,
            outcome: Outcome {
                result: SpfResult::None,
                mechanism: None,
                domain: String::new(),
                problem: None,
                explanation: None,
                dns_terms: 0,
                void_lookups: 0,
                queries: 0,
                round_trips: 0,
                trace: Vec::new(),
            },
            done: false,
            spare_explanation: String::new(),
            scratch: String::new(),
            validated: Vec::new(),
            validated_done: false,
            reverse_void: 0,
            name_voids: 0,
            reverse: None,
            dns_terms: 0,
            void_lookups: 0,
            needed: 0,
            prefetched: 0,
            queries: 0,
            round_trips: 0,
            trace: Vec::new(),
        };
        ev.begin();
        ev
    }

    /// Starts another evaluation with the same configuration, keeping this evaluator's
    /// buffers: for a server that checks message after message, or a C or JavaScript
    /// handle kept across messages. Lookups of the previous evaluation are forgotten;
    /// answering them is [`AnswerError::UnknownId`], since new lookups get new ids.
    ///
    /// ```
    /// use spfgate::dns::{Answer, Rdata};
    /// use spfgate::eval::{Config, Evaluator, Request, SpfResult};
    ///
    /// let zone = |_: &spfgate::dns::Lookup| {
    ///     Answer::Records(vec![Rdata::Txt(b"v=spf1 ip4:192.0.2.0/24 -all".to_vec())])
    /// };
    /// let first = Request::new("192.0.2.10".parse().unwrap(), "a@example.com", "mx.example.com");
    /// let mut ev = Evaluator::new(first, Config::default());
    /// assert_eq!(ev.drive_with(zone).result, SpfResult::Pass);
    ///
    /// let second = Request::new("198.51.100.1".parse().unwrap(), "b@example.com", "mx.example.net");
    /// ev.restart(&second);
    /// assert_eq!(ev.drive_with(zone).result, SpfResult::Fail);
    /// ```
    pub fn restart(&mut self, request: &Request) {
        self.first_id = self.first_id.wrapping_add(self.slots.len() as u32);
        self.text.clear();
        self.ops.clear();
        self.slots.clear();
        self.answers.clear();
        self.handed = 0;
        self.frames.clear();
        self.explaining = None;
        self.done = false;
        self.validated_done = false;
        self.reverse = None;
        self.dns_terms = 0;
        self.void_lookups = 0;
        self.needed = 0;
        self.prefetched = 0;
        self.queries = 0;
        self.round_trips = 0;
        self.trace.clear();
        self.ip = client_ip(request.ip);
        self.now = request.now;
        self.helo.clear();
        self.helo.push_str(strip_dot(&request.helo));
        let (local, domain, _) = sender_parts(&request.mail_from, request.identity, &self.helo);
        self.at = write_sender(&mut self.sender, local, domain);
        self.receiver = match (
            std::mem::take(&mut self.receiver),
            request.receiver.as_str(),
        ) {
            (_, "") => Cow::Borrowed("unknown"),
            (Cow::Owned(mut kept), receiver) => {
                kept.clear();
                kept.push_str(receiver);
                Cow::Owned(kept)
            }
            (Cow::Borrowed(_), receiver) => Cow::Owned(receiver.to_owned()),
        };
        self.begin();
    }

    /// Opens the frame of the sender's domain, or ends at once when that domain is
    /// not checkable.
    fn begin(&mut self) {
        let sender_domain = &self.sender[self.at + 1..];
        if is_valid_domain(sender_domain) {
            // Room for a typical evaluation, so that buffers rarely grow (no-ops on
            // a restarted evaluator, whose buffers are already this large).
            self.text.reserve(256);
            self.ops.reserve(16);
            self.slots.reserve(8);
            self.frames.reserve(4);
            self.answers.reserve(8, 256);
            let domain = Str::push(&mut self.text, sender_domain);
            self.frames.push(Frame::new(domain, FrameKind::Top, 0));
        } else {
            let problem = Problem::InvalidDomain(sender_domain.to_owned());
            let domain = Str::push(&mut self.text, sender_domain);
            self.finish(Verdict::error(SpfResult::None, domain, problem), None);
        }
    }

    fn sender_domain(&self) -> &str {
        &self.sender[self.at + 1..]
    }

    /// Advances as far as the answers allow and says what is needed next.
    pub fn poll(&mut self) -> Step<'_> {
        if !self.done {
            self.advance();
        }
        if self.done {
            return Step::Done(&self.outcome);
        }
        match self.hand_out() {
            Some(batch) => Step::Lookups(
                batch
                    .filter(|&slot| self.slots[slot].sent)
                    .map(|slot| self.lookup_at(slot as u32))
                    .collect(),
            ),
            None => Step::Pending,
        }
    }

    /// Marks the lookups opened since the last batch as sent and counts them as one
    /// round trip; `None` when there are none. The returned slots include names
    /// answered locally, which are not sent.
    fn hand_out(&mut self) -> Option<std::ops::Range<usize>> {
        let batch = self.handed..self.slots.len();
        self.handed = self.slots.len();
        let mut sent = 0;
        for slot in &mut self.slots[batch.clone()] {
            if slot.answer.is_none() {
                slot.sent = true;
                sent += 1;
            }
        }
        if sent == 0 {
            return None;
        }
        self.round_trips += 1;
        self.queries += sent;
        if self.config.trace {
            // Traced when handed out: a lookup opened but never sent (a prefetch the
            // evaluation finished without) does not show.
            for slot in batch.clone().filter(|&slot| self.slots[slot].sent) {
                let Lookup { id, name, qtype } = self.lookup_at(slot as u32);
                let prefetch = self.slots[slot].prefetch;
                self.trace.push(TraceEvent::Query {
                    id,
                    name,
                    qtype,
                    prefetch,
                });
            }
        }
        Some(batch)
    }

    fn id_of(&self, slot: u32) -> LookupId {
        LookupId(self.first_id.wrapping_add(slot))
    }

    /// The lookup of a slot, its name in lower case so that callers can key caches
    /// and zones on the name as given.
    fn lookup_at(&self, slot: u32) -> Lookup {
        let mut lookup = NO_LOOKUP;
        self.write_lookup(slot, &mut lookup);
        lookup
    }

    /// Overwrites `lookup` with the lookup of a slot, reusing its name's buffer.
    fn write_lookup(&self, slot: u32, lookup: &mut Lookup) {
        let s = &self.slots[slot as usize];
        lookup.id = self.id_of(slot);
        lookup.qtype = s.qtype;
        lookup.name.clear();
        lookup.name.push_str(s.name.get(&self.text));
        lookup.name.make_ascii_lowercase();
    }

    /// Supplies the answer to a lookup handed out by [`poll`](Self::poll), owned or
    /// lent: the evaluator copies what it needs, so an answer held in a cache can be
    /// passed by reference.
    ///
    /// Answers may come in any order, also after the evaluation finished (they are
    /// then ignored). Anything DNS says is accepted; only misuse is an `Err`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use spfgate::dns::{Answer, QueryType, Rdata};
    /// use spfgate::eval::{Config, Evaluator, Request, Step};
    ///
    /// let record = Answer::Records(vec![Rdata::Txt(b"v=spf1 -all".to_vec())]);
    /// let cache = HashMap::from([(("example.com", QueryType::Txt), record)]);
    /// let req = Request::new("192.0.2.10".parse().unwrap(), "a@example.com", "mx.example.com");
    /// let mut ev = Evaluator::new(req, Config::default());
    /// let Step::Lookups(batch) = ev.poll() else { unreachable!() };
    /// let cached = &cache[&(batch[0].name.as_str(), batch[0].qtype)];
    /// ev.answer(batch[0].id, cached).unwrap(); // lent: the cache keeps its answer
    /// # let Step::Done(outcome) = ev.poll() else { unreachable!() };
    /// # assert_eq!(outcome.result, spfgate::eval::SpfResult::Fail);
    /// ```
    pub fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError> {
        let index = id.0.wrapping_sub(self.first_id) as usize;
        let slot = self
            .slots
            .get(index)
            .filter(|s| s.sent)
            .ok_or(AnswerError::UnknownId(id))?;
        if slot.answer.is_some() {
            return Err(AnswerError::AlreadyAnswered(id));
        }
        self.take_answer(index, answer.borrow());
        Ok(())
    }

    /// Stores the answer of a sent, unanswered slot.
    fn take_answer(&mut self, slot: usize, answer: &Answer) {
        if self.config.trace && !self.done {
            self.trace.push(TraceEvent::Answer {
                id: self.id_of(slot as u32),
                answer: answer.to_string(),
            });
        }
        let slot = &mut self.slots[slot];
        let (digest, spf) = self.answers.digest(answer, slot.qtype, &mut self.text);
        slot.answer = Some(digest);
        slot.spf = spf;
    }

    /// Supplies a raw DNS response message to a lookup.
    ///
    /// The response's question must match the lookup; a message that does not decode
    /// becomes a temporary failure. A truncated response is refused with
    /// [`AnswerError::Truncated`] and the lookup stays open for a retry over TCP.
    pub fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError> {
        let lookup = self.lookup(id).ok_or(AnswerError::UnknownId(id))?;
        let answer = match crate::dns::wire::decode_response(&lookup, None, message) {
            Ok(answer) => answer,
            Err(crate::dns::wire::WireError::Truncated) => return Err(AnswerError::Truncated(id)),
            Err(e) => e.into_answer(),
        };
        self.answer(id, answer)
    }

    /// The lookup handed out under `id`, if any.
    pub fn lookup(&self, id: LookupId) -> Option<Lookup> {
        let slot = id.0.wrapping_sub(self.first_id);
        self.slots
            .get(slot as usize)
            .filter(|s| s.sent)
            .map(|_| self.lookup_at(slot))
    }

    /// The outcome, once finished.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.done.then_some(&self.outcome)
    }

    /// Drives the evaluation to the end with a synchronous resolver; convenient for
    /// tests and in-process zones. Callers with real I/O use `poll`/`answer`.
    ///
    /// The resolver returns each answer owned or lent (`Answer` or `&Answer`).
    ///
    /// # Panics
    ///
    /// If lookups handed out by [`poll`](Self::poll) are still unanswered: the
    /// evaluation could not go on.
    pub fn run_with<A: Borrow<Answer>>(mut self, resolve: impl FnMut(&Lookup) -> A) -> Outcome {
        self.drive_with(resolve);
        self.outcome
    }

    /// [`run_with`](Self::run_with) keeping the evaluator, to
    /// [`restart`](Self::restart) it afterwards.
    ///
    /// # Panics
    ///
    /// As [`run_with`](Self::run_with).
    pub fn drive_with<A: Borrow<Answer>>(
        &mut self,
        mut resolve: impl FnMut(&Lookup) -> A,
    ) -> &Outcome {
        loop {
            if !self.done {
                self.advance();
            }
            if self.done {
                break;
            }
            let batch = self
                .hand_out()
                .expect("lookups handed out by poll were answered first");
            for slot in batch {
                if !self.slots[slot].sent {
                    continue;
                }
                let mut resolving = std::mem::replace(&mut self.resolving, NO_LOOKUP);
                self.write_lookup(slot as u32, &mut resolving);
                let answer = resolve(&resolving);
                self.take_answer(slot, answer.borrow());
                self.resolving = resolving;
            }
        }
        &self.outcome
    }

    // ----- driving -------------------------------------------------------------

    fn advance(&mut self) {
        while !self.done {
            let flow = if self.explaining.is_some() {
                self.step_explanation()
            } else {
                match self.frames.last() {
                    Some(frame) if frame.record.is_none() => self.step_fetch(),
                    Some(_) => self.step_run(),
                    None => return,
                }
            };
            if let Flow::Blocked = flow {
                if self.config.prefetch {
                    self.prefetch_from_answers();
                }
                return;
            }
        }
    }

    /// The slot already asked for `name` (any case).
    fn find(&self, qtype: QueryType, name: &[u8]) -> Option<Got> {
        let i = self.slots.iter().position(|s| {
            // Type and length first, which rule out most slots without reading text.
            // Names mostly come back in the case they were first asked in: compare
            // bytes, and fold case only when that fails.
            s.qtype == qtype && s.name.len() == name.len() && {
                let asked = s.name.bytes(&self.text);
                asked == name || asked.eq_ignore_ascii_case(name)
            }
        })?;
        Some(self.got(i))
    }

    fn got(&self, slot: usize) -> Got {
        match self.slots[slot].answer {
            Some(_) => Got::Ready(slot),
            None => Got::Waiting(slot),
        }
    }

    /// [`find_or_ask`](Self::find_or_ask) for the first lookup of the current frame's
    /// step, remembered in [`Frame::asked`] while it is waited for.
    fn need_first(&mut self, qtype: QueryType, name: Str, checked: bool) -> Result<Got, Problem> {
        if let Some(slot) = self.frames.last().and_then(|frame| frame.asked) {
            return Ok(self.got(slot as usize));
        }
        let got = self.find_or_ask(qtype, name, false, checked)?;
        if let (Got::Waiting(slot), Some(frame)) = (&got, self.frames.last_mut()) {
            frame.asked = Some(*slot as u32);
        }
        Ok(got)
    }

    /// Finds or requests a lookup of a name in the arena. Invalid names are answered
    /// locally with NXDOMAIN.
    fn need(&mut self, qtype: QueryType, name: Str, prefetch: bool) -> Result<Got, Problem> {
        self.find_or_ask(qtype, name, prefetch, false)
    }

    /// [`need`](Self::need) with `checked` when the name passed [`is_valid_domain`],
    /// which admits only queryable names.
    fn find_or_ask(
        &mut self,
        qtype: QueryType,
        name: Str,
        prefetch: bool,
        checked: bool,
    ) -> Result<Got, Problem> {
        let name = name.strip_dot(&self.text);
        match self.find(qtype, name.bytes(&self.text)) {
            Some(got) => {
                if !prefetch {
                    let (Got::Ready(slot) | Got::Waiting(slot)) = got;
                    self.claim(slot)?;
                }
                Ok(got)
            }
            None => self.ask(qtype, name, prefetch, checked),
        }
    }

    /// Counts a slot against the query cap the first time something needs it: a
    /// prefetched lookup counts only from then on, as if it were asked then, so
    /// prefetch never changes when the cap is reached.
    fn claim(&mut self, slot: usize) -> Result<(), Problem> {
        let s = &self.slots[slot];
        if s.needed {
            return Ok(());
        }
        // Names answered locally are not queries (and never reach the cap).
        if !matches!(s.answer, Some(Digest::Unqueryable)) {
            self.check_cap()?;
        }
        self.slots[slot].needed = true;
        self.needed += 1;
        Ok(())
    }

    fn check_cap(&self) -> Result<(), Problem> {
        if self.needed >= self.config.limits.max_queries {
            return Err(Problem::QueryCap(self.config.limits.max_queries));
        }
        Ok(())
    }

    /// Opens a slot for a name not asked before (already without its final dot).
    fn ask(
        &mut self,
        qtype: QueryType,
        name: Str,
        prefetch: bool,
        checked: bool,
    ) -> Result<Got, Problem> {
        let index = self.slots.len();
        debug_assert!(!checked || is_queryable_name(name.bytes(&self.text)));
        let queryable = checked || is_queryable_name(name.bytes(&self.text));
        if prefetch {
            // Bounded by `prefetch_target`, and by nothing a term needs.
            self.prefetched += 1;
        } else {
            if queryable {
                self.check_cap()?;
            }
            self.needed += 1;
        }
        if !queryable {
            self.slots
                .push(Slot::new(name, qtype, prefetch, Some(Digest::Unqueryable)));
            return Ok(Got::Ready(index));
        }
        self.slots.push(Slot::new(name, qtype, prefetch, None));
        Ok(Got::Waiting(index))
    }

    fn answer_at(&self, slot: usize) -> Digest {
        self.slots[slot]
            .answer
            .unwrap_or_else(|| unreachable!("Got::Ready only for answered slots"))
    }

    /// What an answered TXT lookup holds for SPF, compiling the record the first time.
    fn select(&mut self, slot: usize) -> Selected {
        let Slot {
            answer,
            spf,
            record,
            error,
            ..
        } = &mut self.slots[slot];
        if let Some(selected) = *record {
            return selected;
        }
        let answer =
            answer.unwrap_or_else(|| unreachable!("only answered slots are selected from"));
        let selected = match answer {
            Digest::TempFail(_) => Selected::TempFail,
            answer => match *spf {
                Selection::NoRecord => Selected::NoRecord,
                Selection::Multiple => Selected::Multiple,
                Selection::One(i) => {
                    let text = self.answers.txt(answer, i);
                    match compile(text, &mut self.ops, &mut self.text) {
                        Ok(header) => Selected::Record(header),
                        Err(e) => {
                            *error = Some(e);
                            Selected::Invalid
                        }
                    }
                }
            },
        };
        *record = Some(selected);
        selected
    }

    /// Writes the outcome over the previous evaluation's, reusing its strings.
    fn finish(&mut self, verdict: Verdict, explanation: Option<String>) {
        self.frames.clear();
        self.explaining = None;
        let outcome = &mut self.outcome;
        outcome.result = verdict.result;
        outcome.domain.clear();
        outcome.domain.push_str(verdict.domain.get(&self.text));
        match verdict.matched {
            Some((qualifier, mech)) => {
                let text = outcome.mechanism.get_or_insert_default();
                write_directive(text, qualifier, mech, &self.text);
            }
            None => outcome.mechanism = None,
        }
        outcome.problem = verdict.problem;
        match explanation {
            Some(text) => outcome.explanation = Some(text),
            // Kept for the next evaluation's explanation.
            None => {
                if let Some(previous) = outcome.explanation.take() {
                    self.spare_explanation = previous;
                }
            }
        }
        outcome.dns_terms = self.dns_terms;
        outcome.void_lookups = self.void_lookups;
        outcome.queries = self.queries;
        outcome.round_trips = self.round_trips;
        // The trace moves into the outcome; the next evaluation records into the
        // previous outcome's buffer.
        std::mem::swap(&mut outcome.trace, &mut self.trace);
        self.trace.clear();
        self.done = true;
    }

    /// Ends the whole evaluation with an error found in the current frame.
    fn fail_with(&mut self, result: SpfResult, problem: Problem) {
        let domain = match self.frames.last() {
            Some(frame) => frame.domain,
            None => {
                let sender_domain = &self.sender[self.at + 1..];
                Str::push(&mut self.text, sender_domain)
            }
        };
        self.finish(Verdict::error(result, domain, problem), None);
    }

    // ----- fetching a record ---------------------------------------------------

    fn step_fetch(&mut self) -> Flow {
        let frame = self.frames.last().unwrap_or_else(|| unreachable!());
        let (domain, depth, kind) = (frame.domain, frame.depth, frame.kind);
        // The top frame's domain is the sender's, which `begin` checked.
        let checked = kind == FrameKind::Top;
        let slot = match self.need_first(QueryType::Txt, domain, checked) {
            Ok(Got::Ready(slot)) => slot,
            Ok(Got::Waiting(_)) => return Flow::Blocked,
            Err(problem) => {
                self.fail_with(SpfResult::PermError, problem);
                return Flow::Continue;
            }
        };
        let (result, problem) = match self.select(slot) {
            Selected::Record(header) => {
                if self.config.trace {
                    self.trace_record(slot, domain, depth);
                }
                let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
                frame.record = Some(header);
                frame.asked = None;
                return Flow::Continue;
            }
            Selected::TempFail => {
                let Digest::TempFail(reason) = self.answer_at(slot) else {
                    unreachable!("selected as a temporary failure")
                };
                let problem = Problem::DnsFailure {
                    name: self.owned(domain),
                    qtype: QueryType::Txt,
                    reason: self.owned(reason),
                };
                (SpfResult::TempError, problem)
            }
            Selected::Multiple => (
                SpfResult::PermError,
                Problem::MultipleRecords(self.owned(domain)),
            ),
            Selected::Invalid => {
                let error = match self.slots[slot].error.take() {
                    Some(error) => *error,
                    // Taken already; a broken record ends the evaluation, so this is
                    // defensive: parse again for the error.
                    None => {
                        let Selection::One(i) = self.slots[slot].spf else {
                            unreachable!("selected as one record")
                        };
                        Record::parse_bytes(self.answers.txt(self.answer_at(slot), i))
                            .err()
                            .unwrap_or_else(|| unreachable!("the record did not compile"))
                    }
                };
                let domain = self.owned(domain);
                (SpfResult::PermError, Problem::Syntax { domain, error })
            }
            Selected::NoRecord => {
                let name = self.owned(domain);
                let problem = match kind {
                    FrameKind::Redirect { .. } => Problem::RedirectNone(name),
                    FrameKind::Include => Problem::IncludeNone(name),
                    FrameKind::Top => Problem::NoRecord(name),
                };
                (SpfResult::None, problem)
            }
        };
        self.end_frame(result, None, Some(problem));
        Flow::Continue
    }

    fn trace_record(&mut self, slot: usize, domain: Str, depth: u32) {
        let Selection::One(i) = self.slots[slot].spf else {
            unreachable!("selected as one record")
        };
        let text = self.answers.txt(self.answer_at(slot), i);
        let text = String::from_utf8_lossy(text).into_owned();
        self.trace.push(TraceEvent::Record {
            domain: domain.get(&self.text).to_owned(),
            text,
            depth,
        });
    }

    /// Asks early for the records of a record's `include`/`redirect` targets that need
    /// no DNS data to name, within their own bound of half the query cap.
    fn prefetch(&mut self, header: u32, domain: Str) {
        let Header {
            directives,
            redirect,
            ..
        } = compiled::header(&self.ops, header);
        for i in 1..=directives {
            if let Op::Directive(_, Mech::Include(spec)) = self.ops[(header + i) as usize]
                && !self.prefetch_target(spec, domain)
            {
                return;
            }
        }
        if let Some(spec) = redirect {
            self.prefetch_target(spec, domain);
        }
    }

    /// Asks early for one target's record, unless it needs `%{p}`; false once
    /// prefetch has opened half as many slots as the query cap allows. Prefetches
    /// count against that bound only, never against the cap a term reaches.
    fn prefetch_target(&mut self, spec: Spec, domain: Str) -> bool {
        if spec.uses_p {
            return true;
        }
        if self.prefetched >= self.config.limits.max_queries / 2 {
            return false;
        }
        let name = self.expand_target(spec, domain, None);
        // A prefetch meets no cap.
        let _ = self.need(QueryType::Txt, name, true);
        true
    }

    /// Prefetches one level further: the targets named by prefetched records that
    /// have arrived, so a chain of includes costs fewer round trips.
    fn prefetch_from_answers(&mut self) {
        let mut i = 0;
        while i < self.slots.len() {
            let slot = &mut self.slots[i];
            i += 1;
            if !slot.prefetch || slot.scanned || slot.answer.is_none() {
                continue;
            }
            slot.scanned = true;
            let domain = slot.name;
            if let Selected::Record(header) = self.select(i - 1) {
                self.prefetch(header, domain);
            }
        }
    }

    // ----- running a record ----------------------------------------------------

    fn step_run(&mut self) -> Flow {
        let frame = self.frames.last().unwrap_or_else(|| unreachable!());
        let header = frame.record.unwrap_or_else(|| unreachable!());
        let (domain, depth) = (frame.domain, frame.depth);
        let first_visit = frame.next == 0 && !frame.counted;
        let Header {
            directives,
            redirect,
            ..
        } = compiled::header(&self.ops, header);
        if first_visit && self.config.prefetch {
            self.prefetch(header, domain);
        }
        loop {
            let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
            if frame.next >= directives {
                break;
            }
            let Op::Directive(qualifier, mech) = self.ops[(header + 1 + frame.next) as usize]
            else {
                unreachable!("a record's directives follow its header")
            };
            match self.eval_mech(mech, domain) {
                TermStep::Blocked => return Flow::Blocked,
                TermStep::Error(result, problem) => {
                    self.fail_with(result, problem);
                    return Flow::Continue;
                }
                TermStep::Include(target) => {
                    let child = Frame::new(target, FrameKind::Include, depth + 1);
                    self.frames.push(child);
                    return Flow::Continue;
                }
                TermStep::Matched => {
                    if self.config.trace {
                        self.trace_term(domain, qualifier, mech, true, depth);
                    }
                    let result = qualifier_result(qualifier);
                    self.end_frame(result, Some((qualifier, mech)), None);
                    return Flow::Continue;
                }
                TermStep::NoMatch => {
                    if self.config.trace {
                        self.trace_term(domain, qualifier, mech, false, depth);
                    }
                    let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
                    frame.next += 1;
                    frame.counted = false;
                    frame.child = None;
                    frame.asked = None;
                    frame.p_counted = false;
                }
            }
        }
        // No directive matched: follow redirect, else neutral.
        if let Some(spec) = redirect {
            if let Err(problem) = self.count_term() {
                self.fail_with(SpfResult::PermError, problem);
                return Flow::Continue;
            }
            let target = match self.target(Some(spec), domain) {
                Ok(target) => target,
                Err(TermStep::Error(result, problem)) => {
                    self.fail_with(result, problem);
                    return Flow::Continue;
                }
                Err(_) => return Flow::Blocked,
            };
            let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
            let top = match frame.kind {
                FrameKind::Top => true,
                FrameKind::Redirect { top } => top,
                FrameKind::Include => false,
            };
            *frame = Frame::new(target, FrameKind::Redirect { top }, depth);
            return Flow::Continue;
        }
        self.end_frame(SpfResult::Neutral, None, None);
        Flow::Continue
    }

    fn trace_term(
        &mut self,
        domain: Str,
        qualifier: Qualifier,
        mech: Mech,
        matched: bool,
        depth: u32,
    ) {
        self.trace.push(TraceEvent::Term {
            domain: domain.get(&self.text).to_owned(),
            term: directive_text(qualifier, mech, &self.text),
            matched,
            depth,
        });
    }

    /// Counts the current term against the DNS-term limit, once per term.
    fn count_term(&mut self) -> Result<(), Problem> {
        let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
        if frame.counted {
            return Ok(());
        }
        frame.counted = true;
        self.dns_terms += 1;
        if self.dns_terms > self.config.limits.dns_terms {
            return Err(Problem::TooManyDnsTerms(self.config.limits.dns_terms));
        }
        Ok(())
    }

    /// Counts void answers (NXDOMAIN, or no records) that a term consumed; over the
    /// limit is a permerror (RFC 7208 §4.6.4). Callers pass what
    /// [`Limits::void_counting`] counts.
    fn count_voids(&mut self, voids: u32) -> Result<(), Problem> {
        let limit = self.config.limits.void_lookups;
        // The evaluation stops at the void lookup that goes over, so no more count.
        self.void_lookups = (self.void_lookups + voids).min(limit.saturating_add(1));
        if self.void_lookups > limit {
            return Err(Problem::TooManyVoidLookups(limit));
        }
        Ok(())
    }

    /// A void answer that ends a term without a match.
    fn void_no_match(&mut self) -> TermStep {
        match self.count_voids(1) {
            Ok(()) => TermStep::NoMatch,
            Err(problem) => TermStep::Error(SpfResult::PermError, problem),
        }
    }

    /// Ends the top frame with `result`, handing it to the parent or finishing.
    /// `matched` is the directive that decided, shown in the outcome.
    fn end_frame(
        &mut self,
        result: SpfResult,
        matched: Option<(Qualifier, Mech)>,
        problem: Option<Problem>,
    ) {
        let frame = self.frames.pop().unwrap_or_else(|| unreachable!());
        let is_top = match frame.kind {
            FrameKind::Top => true,
            FrameKind::Redirect { top } => top,
            FrameKind::Include => false,
        };
        if is_top {
            // `none` after a redirect is a permerror (RFC 7208 §6.1).
            let result = match (frame.kind, result) {
                (FrameKind::Redirect { .. }, SpfResult::None) => SpfResult::PermError,
                _ => result,
            };
            let verdict = Verdict {
                result,
                matched,
                domain: frame.domain,
                problem,
            };
            match (result, frame.record) {
                (SpfResult::Fail, Some(header)) => self.start_explanation(header, verdict),
                _ => self.finish(verdict, None),
            }
            return;
        }
        // Include (or a redirect inside an include): map the result (RFC 7208 §5.2).
        match result {
            SpfResult::Pass | SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => {
                if let Some(parent) = self.frames.last_mut() {
                    parent.child = Some(result);
                }
            }
            SpfResult::TempError | SpfResult::PermError | SpfResult::None => {
                // step_fetch already named the include or redirect that found no record.
                let problem =
                    problem.unwrap_or_else(|| Problem::IncludeNone(self.owned(frame.domain)));
                let result = match result {
                    SpfResult::TempError => SpfResult::TempError,
                    _ => SpfResult::PermError,
                };
                self.finish(Verdict::error(result, frame.domain, problem), None);
            }
        }
    }

    // ----- mechanisms ----------------------------------------------------------

    fn eval_mech(&mut self, mech: Mech, domain: Str) -> TermStep {
        if mech.queries_dns()
            && let Err(problem) = self.count_term()
        {
            return TermStep::Error(SpfResult::PermError, problem);
        }
        match mech {
            Mech::All => TermStep::Matched,
            Mech::Ip4(net) => match self.ip {
                IpAddr::V4(ip) => matched(net.contains(&ip)),
                IpAddr::V6(_) => TermStep::NoMatch,
            },
            Mech::Ip6(net) => match self.ip {
                IpAddr::V6(ip) => matched(net.contains(&ip)),
                IpAddr::V4(_) => TermStep::NoMatch,
            },
            Mech::Include(spec) => {
                let child = self.frames.last().and_then(|f| f.child);
                match child {
                    Some(SpfResult::Pass) => TermStep::Matched,
                    Some(_) => TermStep::NoMatch,
                    None => match self.target(Some(spec), domain) {
                        Ok(target) => TermStep::Include(target),
                        Err(step) => step,
                    },
                }
            }
            Mech::A(spec, cidr) => {
                let target = match self.target(spec, domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                let qtype = self.address_type();
                let prefix = self.prefix(cidr.v4, cidr.v6);
                match self.need_first(qtype, target, false) {
                    Err(p) => TermStep::Error(SpfResult::PermError, p),
                    Ok(Got::Waiting(_)) => TermStep::Blocked,
                    Ok(Got::Ready(slot)) => self.match_addresses(slot, target, qtype, prefix),
                }
            }
            Mech::Mx(spec, cidr) => {
                let target = match self.target(spec, domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                let prefix = self.prefix(cidr.v4, cidr.v6);
                self.eval_mx(target, prefix)
            }
            Mech::Exists(spec) => {
                let target = match self.target(Some(spec), domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                match self.need_first(QueryType::A, target, false) {
                    Err(p) => TermStep::Error(SpfResult::PermError, p),
                    Ok(Got::Waiting(_)) => TermStep::Blocked,
                    Ok(Got::Ready(slot)) => match self.answer_at(slot) {
                        Digest::TempFail(reason) => self.temp_error(target, QueryType::A, reason),
                        a if a.is_void() => self.void_no_match(),
                        // Any A record, whatever the client's family (RFC 7208 §5.7).
                        a => matched(self.answers.count(a) > 0),
                    },
                }
            }
            Mech::Ptr(spec) => {
                let target = match self.target(spec, domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                match self.validated_names() {
                    Ok(true) => {}
                    Ok(false) => return TermStep::Blocked,
                    Err(p) => return TermStep::Error(SpfResult::PermError, p),
                }
                // The PTR lookup is the term's own; the names validating the client
                // are chosen by the client's reverse zone and count per lookup only.
                let voids = match self.config.limits.void_counting {
                    VoidCounting::PerLookup => self.reverse_void + self.name_voids,
                    _ => self.reverse_void,
                };
                if let Err(p) = self.count_voids(voids) {
                    return TermStep::Error(SpfResult::PermError, p);
                }
                let target = target.get(&self.text);
                matched(
                    self.validated
                        .iter()
                        .any(|n| is_same_or_subdomain(n.get(&self.text), target)),
                )
            }
        }
    }

    fn address_type(&self) -> QueryType {
        match self.ip {
            IpAddr::V4(_) => QueryType::A,
            IpAddr::V6(_) => QueryType::Aaaa,
        }
    }

    fn prefix(&self, v4: u8, v6: u8) -> u8 {
        match self.ip {
            IpAddr::V4(_) => v4,
            IpAddr::V6(_) => v6,
        }
    }

    /// Matches the client against the addresses in an A/AAAA answer.
    fn match_addresses(
        &mut self,
        slot: usize,
        name: Str,
        qtype: QueryType,
        prefix: u8,
    ) -> TermStep {
        match self.answer_at(slot) {
            Digest::TempFail(reason) => self.temp_error(name, qtype, reason),
            a if a.is_void() => self.void_no_match(),
            a => matched(
                self.answers
                    .addrs(a)
                    .any(|addr| in_network(self.ip, addr, prefix)),
            ),
        }
    }

    fn eval_mx(&mut self, target: Str, prefix: u8) -> TermStep {
        let answer = match self.need_first(QueryType::Mx, target, false) {
            Err(p) => return TermStep::Error(SpfResult::PermError, p),
            Ok(Got::Waiting(_)) => return TermStep::Blocked,
            Ok(Got::Ready(slot)) => self.answer_at(slot),
        };
        match answer {
            Digest::TempFail(reason) => return self.temp_error(target, QueryType::Mx, reason),
            a if a.is_void() => return self.void_no_match(),
            _ => {}
        }
        let hosts = self.answers.count(answer);
        let limit = self.config.limits.mx_names;
        if hosts > limit as usize {
            let name = self.owned(target);
            return TermStep::Error(
                SpfResult::PermError,
                Problem::TooManyMxNames { name, limit },
            );
        }
        let qtype = self.address_type();
        // Ask for every host's addresses at once, and decide once all are in. Every
        // host counts whatever the others hold, so the order of the MX records (which
        // DNS does not keep) cannot change the result: a failed lookup is a
        // temperror, void ones count (each, or once for the term when no host has an
        // address), and then any address may match.
        let mut ready = true;
        for k in 0..hosts {
            match self.need(qtype, self.answers.name(answer, k), false) {
                Ok(Got::Ready(_)) => {}
                Ok(Got::Waiting(_)) => ready = false,
                Err(p) => return TermStep::Error(SpfResult::PermError, p),
            }
        }
        if !ready {
            return TermStep::Blocked;
        }
        let per_lookup = self.config.limits.void_counting == VoidCounting::PerLookup;
        let (mut matches, mut voids, mut addressed) = (false, 0, false);
        for k in 0..hosts {
            let host = self.answers.name(answer, k);
            let slot = match self.need(qtype, host, false) {
                Ok(Got::Ready(slot)) => slot,
                Ok(Got::Waiting(_)) => unreachable!("every host was answered"),
                Err(p) => return TermStep::Error(SpfResult::PermError, p),
            };
            match self.answer_at(slot) {
                Digest::TempFail(reason) => return self.temp_error(host, qtype, reason),
                a if a.is_void() => {
                    voids += 1;
                    if per_lookup && let Err(p) = self.count_voids(1) {
                        return TermStep::Error(SpfResult::PermError, p);
                    }
                }
                Digest::Unqueryable => {}
                a => {
                    addressed = true;
                    matches |= self
                        .answers
                        .addrs(a)
                        .any(|addr| in_network(self.ip, addr, prefix));
                }
            }
        }
        // Per term: once for the term when no host had an address lookup that found
        // anything (names not asked are no lookups).
        if !per_lookup
            && voids > 0
            && !addressed
            && let Err(p) = self.count_voids(1)
        {
            return TermStep::Error(SpfResult::PermError, p);
        }
        matched(matches)
    }

    /// Computes the client's validated reverse names (RFC 7208 §5.5) once into
    /// `self.validated`; false while lookups are outstanding.
    fn validated_names(&mut self) -> Result<bool, Problem> {
        if self.validated_done {
            return Ok(true);
        }
        let reverse = match self.reverse {
            Some(reverse) => reverse,
            None => *self
                .reverse
                .insert(push_reverse_name(self.ip, &mut self.text)),
        };
        let answer = match self.need(QueryType::Ptr, reverse, false)? {
            Got::Waiting(_) => return Ok(false),
            Got::Ready(slot) => self.answer_at(slot),
        };
        let reverse_void = u32::from(answer.is_void());
        let mut voids = 0;
        // DNS errors make the PTR list empty rather than temperror (RFC 7208 §5.5).
        let names = self
            .answers
            .count(answer)
            .min(self.config.limits.ptr_names as usize);
        let qtype = self.address_type();
        for k in 0..names {
            self.need(qtype, self.answers.name(answer, k), false)?;
        }
        self.validated.clear();
        for k in 0..names {
            let name = self.answers.name(answer, k);
            let Got::Ready(slot) = self.need(qtype, name, false)? else {
                return Ok(false);
            };
            let addresses = self.answer_at(slot);
            voids += u32::from(addresses.is_void());
            if self
                .answers
                .addrs(addresses)
                .any(|a| in_network(self.ip, a, 128))
            {
                self.validated.push(name);
            }
        }
        self.validated_done = true;
        self.reverse_void = reverse_void;
        self.name_voids = voids;
        Ok(true)
    }

    fn temp_error(&self, name: Str, qtype: QueryType, reason: Str) -> TermStep {
        TermStep::Error(
            SpfResult::TempError,
            Problem::DnsFailure {
                name: self.owned(name),
                qtype,
                reason: self.owned(reason),
            },
        )
    }

    // ----- macros --------------------------------------------------------------

    /// A string of the arena, owned.
    fn owned(&self, s: Str) -> String {
        s.get(&self.text).to_owned()
    }

    /// A mechanism's target (the current domain when absent); else how the term
    /// stands: blocked while `%{p}` waits for lookups, or a permerror when its void
    /// lookups pass the limit.
    fn target(&mut self, spec: Option<Spec>, domain: Str) -> Result<Str, TermStep> {
        let Some(spec) = spec else {
            return Ok(domain);
        };
        let p = if spec.uses_p {
            match self.validated_names() {
                Ok(true) => {
                    self.count_p_voids()
                        .map_err(|p| TermStep::Error(SpfResult::PermError, p))?;
                    self.pick_validated(domain)
                }
                Ok(false) => return Err(TermStep::Blocked),
                // Over the query cap: `%{p}` degrades to `unknown`.
                Err(_) => None,
            }
        } else {
            None
        };
        Ok(self.expand_target(spec, domain, p))
    }

    /// Counts the validation's void lookups for the current term's `%{p}`, once per
    /// term, when counting per lookup; per term they are not the term's own lookups.
    /// An explanation's `%{p}` (no frame is left then) counts nothing.
    fn count_p_voids(&mut self) -> Result<(), Problem> {
        if self.config.limits.void_counting != VoidCounting::PerLookup {
            return Ok(());
        }
        let voids = self.reverse_void + self.name_voids;
        match self.frames.last_mut() {
            Some(frame) if !frame.p_counted => {
                frame.p_counted = true;
                self.count_voids(voids)
            }
            _ => Ok(()),
        }
    }

    /// Expands a domain-spec into the arena (a literal one is its own expansion,
    /// without its final dot); `p` is the validated name for `%{p}` (`unknown` when none).
    /// Either way the name is truncated to 253 octets (RFC 7208 §4.8, §7.3).
    fn expand_target(&mut self, spec: Spec, domain: Str, p: Option<Str>) -> Str {
        if spec.literal {
            let name = spec.text.strip_dot(&self.text);
            return name.skip(macros::domain_truncation(name.bytes(&self.text)));
        }
        // Expanded beside the arena, as the macros read from it, in a reused buffer.
        let mut name = std::mem::take(&mut self.scratch);
        name.clear();
        let ms = spec.macro_string(&self.text);
        let vars = self.vars(domain.get(&self.text), p);
        macros::expand_into(&ms, &vars, Target::DomainName, &mut name);
        let expanded = Str::push(&mut self.text, name.strip_suffix('.').unwrap_or(&name));
        self.scratch = name;
        expanded
    }

    fn vars<'s>(&'s self, domain: &'s str, p: Option<Str>) -> MacroVars<'s> {
        MacroVars {
            sender: &self.sender,
            local_part: &self.sender[..self.at],
            sender_domain: self.sender_domain(),
            domain,
            ip: self.ip,
            validated_name: p.map(|p| p.get(&self.text)),
            helo: &self.helo,
            receiver: &self.receiver,
            timestamp: self.now,
        }
    }

    // ----- explanation ---------------------------------------------------------

    /// After a top-level `fail`: fetch the record's `exp=` text, or use the default.
    fn start_explanation(&mut self, header: u32, verdict: Verdict) {
        match compiled::header(&self.ops, header).exp {
            Some(spec) => self.explaining = Some(Box::new(Explaining { verdict, spec })),
            None => {
                let explanation = self.default_explanation(verdict.domain);
                self.finish(verdict, explanation);
            }
        }
    }

    fn step_explanation(&mut self) -> Flow {
        let Some(exp) = self.explaining.take() else {
            return Flow::Continue;
        };
        let name = match self.target(Some(exp.spec), exp.verdict.domain) {
            Ok(name) => Some(name),
            Err(TermStep::Blocked) => {
                self.explaining = Some(exp);
                return Flow::Blocked;
            }
            // Naming the explanation failed: as if there were no `exp=` (RFC 7208 §6.2).
            Err(_) => None,
        };
        let text = match name.map(|name| self.need(QueryType::Txt, name, false)) {
            Some(Ok(Got::Waiting(_))) => {
                self.explaining = Some(exp);
                return Flow::Blocked;
            }
            Some(Ok(Got::Ready(slot))) => match self.answer_at(slot) {
                // Exactly one TXT record, or the explanation is ignored (RFC 7208 §6.2).
                a @ Digest::Records {
                    total: 1, items: 1, ..
                } => std::str::from_utf8(self.answers.txt(a, 0))
                    .ok()
                    .map(str::to_owned),
                _ => None,
            },
            Some(Err(_)) | None => None,
        };
        let domain = exp.verdict.domain;
        let explanation = text
            .as_deref()
            .and_then(|t| MacroString::parse(t, true).ok());
        if let Some(ms) = &explanation
            && ms.uses(macros::MacroLetter::ValidatedName)
            && let Ok(false) = self.validated_names()
        {
            self.explaining = Some(exp);
            return Flow::Blocked;
        }
        let explained = explanation.map(|ms| {
            let mut out = self.explanation_buffer();
            self.expand_explanation(&ms, domain, &mut out);
            out
        });
        let explanation = explained.or_else(|| self.default_explanation(domain));
        self.finish(exp.verdict, explanation);
        Flow::Continue
    }

    fn expand_explanation(&self, ms: &MacroString<'_>, domain: Str, out: &mut String) {
        let p = self.pick_validated(domain);
        let vars = self.vars(domain.get(&self.text), p);
        macros::expand_into(ms, &vars, Target::Explanation, out);
    }

    /// An empty string for the explanation: the previous outcome's, so that a
    /// restarted evaluator explains without allocating.
    fn explanation_buffer(&mut self) -> String {
        let mut buffer = match self.outcome.explanation.take() {
            Some(previous) => previous,
            None => std::mem::take(&mut self.spare_explanation),
        };
        buffer.clear();
        buffer
    }

    /// `%{p}`: the target domain itself, else a subdomain of it, else any validated
    /// name; `None` (read as `unknown`) when there is none.
    fn pick_validated(&self, domain: Str) -> Option<Str> {
        if !self.validated_done {
            return None;
        }
        let names = &self.validated;
        let domain = domain.get(&self.text);
        let name = |n: &Str| n.get(&self.text);
        names
            .iter()
            .find(|n| name(n).eq_ignore_ascii_case(domain))
            .or_else(|| names.iter().find(|n| is_same_or_subdomain(name(n), domain)))
            .or_else(|| names.first())
            .copied()
    }

    fn default_explanation(&mut self, domain: Str) -> Option<String> {
        self.config.default_explanation.as_ref()?;
        let mut out = self.explanation_buffer();
        let text = self
            .config
            .default_explanation
            .as_deref()
            .unwrap_or_default();
        if text.len() <= macros::MAX_EXPLANATION && !text.contains('%') {
            // Without macros the text is its own expansion, valid or not.
            out.push_str(text);
            return Some(out);
        }
        match MacroString::parse(text, true) {
            Ok(ms) => self.expand_explanation(&ms, domain, &mut out),
            Err(_) => out.push_str(text),
        }
        Some(out)
    }
}

impl Verdict {
    fn error(result: SpfResult, domain: Str, problem: Problem) -> Self {
        Verdict {
            result,
            matched: None,
            domain,
            problem: Some(problem),
        }
    }
}

impl Frame {
    fn new(domain: Str, kind: FrameKind, depth: u32) -> Self {
        Frame {
            domain,
            kind,
            depth,
            record: None,
            next: 0,
            counted: false,
            child: None,
            asked: None,
            p_counted: false,
        }
    }
}

impl Slot {
    fn new(name: Str, qtype: QueryType, prefetch: bool, answer: Option<Digest>) -> Self {
        Slot {
            name,
            qtype,
            sent: false,
            prefetch,
            needed: !prefetch,
            scanned: false,
            answer,
            spf: Selection::NoRecord,
            record: None,
            error: None,
        }
    }
}

fn matched(yes: bool) -> TermStep {
    if yes {
        TermStep::Matched
    } else {
        TermStep::NoMatch
    }
}

fn qualifier_result(q: Qualifier) -> SpfResult {
    match q {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

/// True when `addr` is of the client's family and within `prefix` bits of it.
fn in_network(ip: IpAddr, addr: IpAddr, prefix: u8) -> bool {
    match (ip, addr) {
        (IpAddr::V4(ip), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(ip) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(ip) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Appends the `in-addr.arpa` / `ip6.arpa` name of the client to the arena, written
/// directly in reverse order (lower-case nibbles) rather than formatted forwards and
/// turned around.
fn push_reverse_name(ip: IpAddr, arena: &mut String) -> Str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let start = arena.len();
    match ip {
        IpAddr::V4(v4) => {
            for &octet in v4.octets().iter().rev() {
                macros::push_decimal(octet, arena);
                arena.push('.');
            }
            arena.push_str("in-addr.arpa");
        }
        IpAddr::V6(v6) => {
            for &byte in v6.octets().iter().rev() {
                arena.push(HEX[usize::from(byte & 0xf)] as char);
                arena.push('.');
                arena.push(HEX[usize::from(byte >> 4)] as char);
                arena.push('.');
            }
            arena.push_str("ip6.arpa");
        }
    }
    Str::since(arena, start)
}

fn is_same_or_subdomain(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.');
    let domain = domain.trim_end_matches('.');
    if name.len() == domain.len() {
        return name.eq_ignore_ascii_case(domain);
    }
    name.len() > domain.len()
        && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
        && name[name.len() - domain.len()..].eq_ignore_ascii_case(domain)
}

/// A checkable domain (RFC 7208 §4.3), given without its final dot: ASCII letters,
/// digits, `-` and `_`, at least two labels of 1–63 octets, at most 253 octets.
fn is_valid_domain(domain: &str) -> bool {
    let d = domain.as_bytes();
    if d.is_empty() || d.len() > 253 {
        return false;
    }
    // One pass: the character set, the label lengths and the dot count. A table
    // classifies each byte with one load instead of a chain of range tests.
    let (mut label, mut dots) = (0, 0);
    for &c in d {
        match DOMAIN_BYTES[usize::from(c)] {
            DomainByte::Label => {
                label += 1;
                if label > 63 {
                    return false;
                }
            }
            DomainByte::Dot if label > 0 => {
                label = 0;
                dots += 1;
            }
            DomainByte::Dot | DomainByte::Other => return false,
        }
    }
    label > 0 && dots > 0
}

#[derive(Clone, Copy)]
enum DomainByte {
    Label,
    Dot,
    Other,
}

/// [`DomainByte`] of every byte.
static DOMAIN_BYTES: [DomainByte; 256] = {
    let mut table = [DomainByte::Other; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            table[c] = DomainByte::Label;
        } else if b == b'.' {
            table[c] = DomainByte::Dot;
        }
        c += 1;
    }
    table
};

/// A name DNS can carry and [`Lookup::name`] promises: ASCII, 1–63-octet labels, at
/// most 253 octets. Non-ASCII (a SMTPUTF8 local part in `%{l}`, an MX exchange from
/// hostile data) is answered locally as NXDOMAIN, never handed out.
pub(crate) fn is_queryable_name(b: &[u8]) -> bool {
    // `is_ascii` runs a word at a time; the label walk then only looks for dots.
    if b.is_empty() || b.len() > 253 || !b.is_ascii() {
        return false;
    }
    b.split(|&c| c == b'.')
        .all(|label| (1..=63).contains(&label.len()))
}

#[cfg(test)]
mod tests {
    use super::{is_queryable_name, is_valid_domain};

    #[test]
    fn checkable_domains() {
        let label63 = "a".repeat(63);
        let long = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(long.len(), 253);
        for ok in ["example.com", "a.b", "ex_ample.c-m", "1.2"] {
            assert!(is_valid_domain(ok), "{ok}");
        }
        assert!(is_valid_domain(&format!("{label63}.com")));
        assert!(is_valid_domain(&long));
        let bad = [
            "",
            ".",
            "com",
            "com.",
            "a..b",
            ".a.b",
            "a.b..",
            // The final dot is stripped before the check; a second one is an empty label.
            "example.com.",
            "exa mple.com",
            "é.com",
            "a.b/c",
        ];
        for bad in bad {
            assert!(!is_valid_domain(bad), "{bad:?}");
        }
        assert!(!is_valid_domain(&format!("{label63}a.com")));
        assert!(!is_valid_domain(&format!("{long}b")));
    }

    #[test]
    fn queryable_names() {
        let label63 = "a".repeat(63);
        let long = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        for ok in [
            "com",
            "a.b",
            "_spf.example.com",
            "x y.example",
            &long,
            &label63,
        ] {
            assert!(is_queryable_name(ok.as_bytes()), "{ok:?}");
        }
        let too_long = format!("{long}b");
        let wide = format!("{label63}a");
        for bad in ["", ".", "a.", ".a", "a..b", "é.com", &too_long, &wide] {
            assert!(!is_queryable_name(bad.as_bytes()), "{bad:?}");
        }
    }
}
