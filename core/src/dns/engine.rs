//! The one loop that drives every sans-IO engine of the crate.
//!
//! [`Evaluator`](crate::eval::Evaluator) (concludes an
//! [`Outcome`](crate::eval::Outcome)), [`Decision`](crate::policy::Decision) (a
//! [`Verdict`](crate::policy::Verdict)) and [`Analysis`](crate::lint::Analysis) (a
//! lint [`Report`](crate::lint::Report)) all implement [`Engine`], so a front end
//! (the CLI, the C library, the npm package) writes its resolver loop once:
//!
//! ```
//! use spfgate::dns::{Answer, Engine, Rdata, Step};
//! use spfgate::eval::{Config, Evaluator, Request, SpfResult};
//!
//! /// Answers every lookup of every batch, then polls again, until the engine concludes.
//! fn run<E: Engine>(engine: &mut E, resolve: impl Fn(&str) -> Answer) -> &E::Output {
//!     loop {
//!         match engine.poll() {
//!             Step::Lookups(batch) => {
//!                 for lookup in batch {
//!                     engine.answer(lookup.id, resolve(&lookup.name)).unwrap();
//!                 }
//!             }
//!             Step::Done(_) | Step::Pending => break,
//!         }
//!     }
//!     engine.output().expect("every lookup was answered")
//! }
//!
//! let request = Request::new("192.0.2.10".parse().unwrap(), "alice@example.com", "mx.example.com");
//! let mut evaluator = Evaluator::new(request, Config::default());
//! let outcome = run(&mut evaluator, |name| match name {
//!     "example.com" => Answer::Records(vec![Rdata::Txt(b"v=spf1 ip4:192.0.2.0/24 -all".to_vec())]),
//!     _ => Answer::NxDomain,
//! });
//! assert_eq!(outcome.result, SpfResult::Pass);
//! ```
//!
//! [`drive`] is that loop for a resolver that answers a whole batch at a time.

use std::borrow::Borrow;

use super::{Answer, AnswerError, Lookup, LookupId, Step};

/// A sans-IO engine: it hands out DNS lookups, takes their answers by id, and
/// concludes.
///
/// The contract every implementation keeps:
/// - [`poll`](Self::poll) returns [`Step::Lookups`] with lookups that are
///   independent of each other (send them all at once; each is handed out once),
///   [`Step::Pending`] while lookups handed out earlier are unanswered, or
///   [`Step::Done`]; once `Done`, every later poll is `Done` with the same value.
/// - Answers may come in any order; the conclusion does not depend on it.
/// - `Err` from [`answer`](Self::answer) and [`answer_wire`](Self::answer_wire) is
///   caller misuse only (an id never handed out, a second answer) or
///   [`AnswerError::Truncated`]; anything DNS says becomes part of the conclusion.
///
/// Methods take `impl Trait` arguments, so the trait is used through generics
/// (`fn run<E: Engine>(engine: &mut E)`), not as `dyn Engine`; calls are static and
/// cost what the engine's own methods cost.
pub trait Engine {
    /// What the engine concludes.
    type Output;

    /// Advances as far as the answers allow and says what to do next.
    fn poll(&mut self) -> Step<'_, Self::Output>;

    /// Supplies the answer to a lookup handed out by [`poll`](Self::poll), owned
    /// (`Answer`) or lent (`&Answer`, e.g. from a cache).
    fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError>;

    /// Supplies a raw DNS response message to a lookup. Its question must match the
    /// lookup; a message that does not decode becomes a temporary failure. A
    /// truncated message is refused with [`AnswerError::Truncated`] and the lookup
    /// stays open for a retry over TCP.
    fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError>;

    /// The conclusion, once [`poll`](Self::poll) has returned [`Step::Done`].
    fn output(&self) -> Option<&Self::Output>;
}

/// Drives `engine` to its conclusion one batch at a time.
///
/// `resolve` gets each batch (send all of it at once) and returns answers by id,
/// owned or lent, in any order. A lookup of the batch it leaves unanswered gets a
/// temporary failure, and answers for ids outside the batch are ignored, so the
/// engine always finishes.
///
/// ```
/// # #[cfg(feature = "policy-json")]
/// # fn main() {
/// use spfgate::dns::{Answer, Rdata, drive};
/// use spfgate::policy::{Action, DecisionRequest, Policy};
///
/// let policy = Policy::from_json(r#"{"authserv_id": "mx.gateway.example", "accounts": [
///     {"id": "acme", "senders": ["alice@acme.example"], "security": {"mode": "spf"}}]}"#).unwrap();
/// let mut decision = policy.decide(DecisionRequest::new(
///     "192.0.2.7".parse().unwrap(), "alice@acme.example", "mail.acme.example"));
/// let record = Answer::Records(vec![Rdata::Txt(b"v=spf1 ip4:192.0.2.0/24 -all".to_vec())]);
/// let verdict = drive(&mut decision, |batch| {
///     // One batch in flight at once; here every name gets the same record.
///     batch.iter().map(|lookup| (lookup.id, &record)).collect::<Vec<_>>()
/// });
/// assert_eq!(verdict.action, Action::Accept);
/// # }
/// # #[cfg(not(feature = "policy-json"))]
/// # fn main() {}
/// ```
///
/// # Panics
///
/// If the engine breaks the [`Engine`] contract by staying [`Step::Pending`] once
/// every lookup it handed out is answered. No engine of this crate does.
pub fn drive<E, A, I>(engine: &mut E, mut resolve: impl FnMut(&[Lookup]) -> I) -> &E::Output
where
    E: Engine + ?Sized,
    A: Borrow<Answer>,
    I: IntoIterator<Item = (LookupId, A)>,
{
    let mut open: Vec<LookupId> = Vec::new();
    while let Step::Lookups(batch) = engine.poll() {
        open.clear();
        open.extend(batch.iter().map(|l| l.id));
        for (id, answer) in resolve(&batch) {
            if let Some(i) = open.iter().position(|&o| o == id) {
                open.swap_remove(i);
                // The id is from this batch and not answered yet: this cannot fail.
                let _ = engine.answer(id, answer);
            }
        }
        for &id in &open {
            let _ = engine.answer(id, Answer::temp_fail("no answer from the resolver"));
        }
    }
    match engine.output() {
        Some(output) => output,
        None => panic!("the engine is pending although every lookup it handed out is answered"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{QueryType, Rdata};
    use crate::eval::{Config, Evaluator, Request, SpfResult};
    use crate::lint::{Analysis, AnalysisOptions};

    fn txt(text: &str) -> Answer {
        Answer::Records(vec![Rdata::Txt(text.as_bytes().to_vec())])
    }

    #[test]
    fn drive_gives_unanswered_lookups_a_temporary_failure() {
        let request = Request::new([192, 0, 2, 1].into(), "a@example.com", "h.example.com");
        let mut evaluator = Evaluator::new(request, Config::default());
        let outcome = drive(&mut evaluator, |_| Vec::<(LookupId, Answer)>::new());
        assert_eq!(outcome.result, SpfResult::TempError);
        assert!(outcome.reason().contains("no answer from the resolver"));
    }

    #[test]
    fn drive_ignores_ids_outside_the_batch() {
        let request = Request::new([192, 0, 2, 1].into(), "a@example.com", "h.example.com");
        let mut evaluator = Evaluator::new(request, Config::default());
        let record = txt("v=spf1 ip4:192.0.2.0/24 -all");
        let outcome = drive(&mut evaluator, |batch| {
            let mut answers = vec![(LookupId(9999), &record)];
            answers.extend(batch.iter().map(|l| (l.id, &record)));
            // A second answer for the same id is dropped too.
            answers.extend(batch.iter().map(|l| (l.id, &record)));
            answers
        });
        assert_eq!(outcome.result, SpfResult::Pass);
        assert_eq!(evaluator.output().map(|o| o.result), Some(SpfResult::Pass));
    }

    #[test]
    fn the_analysis_takes_lent_and_wire_answers() {
        let mut analysis = Analysis::new("example.com", AnalysisOptions::default());
        let Step::Lookups(batch) = Engine::poll(&mut analysis) else {
            panic!("the analysis asks for the record first")
        };
        assert_eq!(batch.len(), 1);
        let lookup = &batch[0];
        assert_eq!(lookup.qtype, QueryType::Txt);
        let record = txt("v=spf1 -all");
        let message =
            crate::dns::wire::encode_response(lookup, 7, &record).expect("encodable answer");
        let mut truncated = message.clone();
        truncated[2] |= 0x02;
        assert_eq!(
            Engine::answer_wire(&mut analysis, lookup.id, &truncated),
            Err(AnswerError::Truncated(lookup.id))
        );
        assert_eq!(
            Engine::answer_wire(&mut analysis, lookup.id, &message),
            Ok(())
        );
        assert_eq!(
            Engine::answer(&mut analysis, lookup.id, &record),
            Err(AnswerError::AlreadyAnswered(lookup.id))
        );
        assert_eq!(
            Engine::answer_wire(&mut analysis, LookupId(99), &message),
            Err(AnswerError::UnknownId(LookupId(99)))
        );
        let Step::Done(report) = Engine::poll(&mut analysis) else {
            panic!("nothing more to ask")
        };
        assert_eq!(report.records[0].text, "v=spf1 -all");
        assert!(analysis.output().is_some());
    }
}
