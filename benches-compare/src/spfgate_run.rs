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

/// Evaluates a scenario; returns the result name.
pub fn evaluate(s: &Scenario, config: &Config) -> &'static str {
    let request = Request::new(s.ip, &s.mail_from, &s.helo);
    let outcome = Evaluator::new(request, config.clone())
        .run_with(|lookup| s.answers.get(lookup.qtype, &lookup.name));
    outcome.result.as_str()
}
