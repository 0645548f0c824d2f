//! spfgate: the sans-IO evaluator driven by `run_with`, answers lent from memory.

use spfgate::eval::{Config, Evaluator, Request};
use spfgate::record::Record;

use crate::Scenario;

/// Parses one record; true when it parsed.
pub fn parse(text: &str) -> bool {
    Record::parse(text).is_ok()
}

/// The configuration every evaluation uses: no trace, as in production.
pub fn config() -> Config {
    Config {
        trace: false,
        ..Config::default()
    }
}

/// An evaluator and a request kept across scenarios, as a server (or a C or
/// JavaScript handle) keeps them: both are refilled, not rebuilt.
pub struct Kept {
    evaluator: Evaluator,
    request: Request,
}

/// A [`Kept`] evaluator to [`evaluate_restarted`] scenarios on.
pub fn evaluator(config: &Config) -> Kept {
    let request = Request::new([192, 0, 2, 1].into(), "a@unused.example", "unused.example");
    Kept {
        evaluator: Evaluator::new(request.clone(), config.clone()),
        request,
    }
}

/// Evaluates a scenario on a kept evaluator; returns the result name.
pub fn evaluate_restarted(s: &Scenario, kept: &mut Kept) -> &'static str {
    let request = &mut kept.request;
    request.ip = s.ip;
    request.mail_from.clear();
    request.mail_from.push_str(&s.mail_from);
    request.helo.clear();
    request.helo.push_str(&s.helo);
    kept.evaluator.restart(request);
    let outcome = kept
        .evaluator
        .drive_with(|lookup| s.answers.lend(lookup.qtype, &lookup.name));
    outcome.result.as_str()
}

/// Evaluates a scenario; returns the result name.
pub fn evaluate(s: &Scenario, config: &Config) -> &'static str {
    let request = Request::new(s.ip, &s.mail_from, &s.helo);
    let outcome = Evaluator::new(request, config.clone())
        .run_with(|lookup| s.answers.lend(lookup.qtype, &lookup.name));
    outcome.result.as_str()
}
