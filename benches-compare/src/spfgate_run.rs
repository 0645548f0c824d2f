//! spfgate: the sans-IO evaluator driven by `run_with`.

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

/// An evaluator to [`evaluate_restarted`] scenarios on, as a server keeps one.
pub fn evaluator(config: &Config) -> Evaluator {
    let request = Request::new([192, 0, 2, 1].into(), "a@unused.example", "unused.example");
    Evaluator::new(request, config.clone())
}

/// Evaluates a scenario on a kept evaluator; returns the result name.
pub fn evaluate_restarted(s: &Scenario, ev: &mut Evaluator) -> &'static str {
    ev.restart(&Request::new(s.ip, &s.mail_from, &s.helo));
    let outcome = ev.drive_with(|lookup| s.answers.get(lookup.qtype, &lookup.name));
    outcome.result.as_str()
}

/// Evaluates a scenario; returns the result name.
pub fn evaluate(s: &Scenario, config: &Config) -> &'static str {
    let request = Request::new(s.ip, &s.mail_from, &s.helo);
    let outcome = Evaluator::new(request, config.clone())
        .run_with(|lookup| s.answers.get(lookup.qtype, &lookup.name));
    outcome.result.as_str()
}
