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

use self::compiled::{Op, Str, write_directive};
use self::digest::Answers;
use self::exp::Explaining;
use self::frames::{Flow, Frame, FrameKind, Verdict};
use self::limits::Counters;
use self::request::{client_ip, sender_parts, strip_dot, write_sender};
use self::slots::{NO_LOOKUP, Slot};
use self::validation::Validation;
use crate::dns::name::is_valid_domain;
use crate::dns::{Answer, Engine, Lookup, LookupId};

mod compiled;
mod digest;
mod exp;
mod frames;
mod limits;
mod mx;
mod outcome;
mod prefetch;
mod request;
mod slots;
mod terms;
mod validation;

pub use self::outcome::{Outcome, Problem, SpfResult, TraceEvent};
pub use self::request::{Config, Identity, Limits, Request, UnknownVoidCounting, VoidCounting};

/// What the caller of an [`Evaluator`] should do next.
pub type Step<'a> = crate::dns::Step<'a, Outcome>;

pub use crate::dns::AnswerError;

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
    /// The client's validated names, for `ptr` and `%{p}`.
    validation: Validation,
    counts: Counters,
    trace: Vec<TraceEvent>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("sender", &self.sender)
            .field("ip", &self.ip)
            .field("frames", &self.frames.len())
            .field("queries", &self.counts.queries)
            .field("done", &self.done)
            .finish()
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
            validation: Validation::default(),
            counts: Counters::default(),
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
        self.validation.restart();
        self.counts = Counters::default();
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
        outcome.dns_terms = self.counts.dns_terms;
        outcome.void_lookups = self.counts.void_lookups;
        outcome.queries = self.counts.queries;
        outcome.round_trips = self.counts.round_trips;
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

    /// A string of the arena, owned.
    fn owned(&self, s: Str) -> String {
        s.get(&self.text).to_owned()
    }
}

impl Engine for Evaluator {
    type Output = Outcome;

    fn poll(&mut self) -> Step<'_> {
        Evaluator::poll(self)
    }

    fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError> {
        Evaluator::answer(self, id, answer)
    }

    fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError> {
        Evaluator::answer_wire(self, id, message)
    }

    fn output(&self) -> Option<&Outcome> {
        self.outcome()
    }
}
