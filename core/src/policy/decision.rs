//! Deciding one SMTP transaction against a [`Policy`]: accept, reject or
//! defer, with the rule that decided, the SMTP reply and trace headers.
//!
//! The decision is sans-IO like the evaluator: [`Decision::poll`] either says
//! it is done or hands out DNS lookups, which the caller answers by id with
//! [`Decision::answer`] or [`Decision::answer_wire`]. Lookups are only asked
//! for when the sender's account needs SPF; an unknown sender, an `open`
//! account or a whitelisted client is decided at once.
//!
//! | situation | action | reply |
//! |-----------|--------|-------|
//! | null sender `<>`, unknown sender | reject | `550 5.7.1` |
//! | `open` account, whitelisted client, SPF `pass` | accept | `250 2.1.0` |
//! | client not in an `ip-whitelist` (or its list is empty) | reject | `550 5.7.1` |
//! | SPF `fail` | reject | `550 5.7.23` (RFC 7372) |
//! | SPF `softfail`, `neutral`, `none` | reject | `550 5.7.1` |
//! | SPF `permerror` | reject | `550 5.7.24` |
//! | SPF `temperror` | defer | `451 4.7.24` |
//!
//! ```
//! # #[cfg(feature = "policy-json")]
//! # fn main() {
//! use spfgate::dns::{Answer, Rdata};
//! use spfgate::policy::{Action, DecisionRequest, DecisionStep, Policy};
//!
//! let policy = Policy::from_json(r#"{"authserv_id": "mx.gateway.example", "accounts": [
//!     {"id": "acme", "senders": ["alice@acme.example"], "security": {"mode": "spf"}}]}"#).unwrap();
//! let mut decision = policy.decide(DecisionRequest::new(
//!     "192.0.2.7".parse().unwrap(), "alice@acme.example", "mail.acme.example"));
//! let verdict = loop {
//!     let batch = match decision.poll() {
//!         DecisionStep::Done(verdict) => break verdict.clone(),
//!         DecisionStep::Lookups(batch) => batch,
//!         DecisionStep::Pending => unreachable!("every lookup is answered before polling"),
//!     };
//!     for lookup in batch {
//!         let answer = match lookup.name.as_str() {
//!             "acme.example" => Answer::Records(vec![Rdata::Txt(b"v=spf1 ip4:192.0.2.0/24 -all".to_vec())]),
//!             _ => Answer::NxDomain,
//!         };
//!         decision.answer(lookup.id, answer).unwrap();
//!     }
//! };
//! assert_eq!(verdict.action, Action::Accept);
//! assert_eq!(verdict.rule.to_string(), "SPF pass: ip4:192.0.2.0/24 in the record of acme.example");
//! # }
//! # #[cfg(not(feature = "policy-json"))]
//! # fn main() {}
//! ```

use std::borrow::Borrow;
use std::net::IpAddr;

use crate::dns::{Answer, Engine, Lookup, LookupId};
use crate::eval::{
    AnswerError, Config, Evaluator, Identity, Outcome, Problem, Request, SpfResult, Step,
};
use crate::headers::{CheckFacts, authentication_results, received_spf};

use super::document::{Check, Mode, Policy, strip_brackets};
use super::verdict::reply;
pub use super::verdict::{Action, MAX_REPLY_TEXT, Rule, SmtpReply, TraceHeaders, Verdict};

/// One SMTP transaction's facts, as the gateway sees them at MAIL FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    /// The connecting client.
    pub ip: IpAddr,
    /// The MAIL FROM address, with or without angle brackets; empty or `<>`
    /// for the null sender.
    pub mail_from: String,
    /// The HELO/EHLO name.
    pub helo: String,
    /// This gateway's host name, for `Received-SPF` and SPF's `%{r}`.
    pub receiver: String,
    /// Seconds since the Unix epoch, for SPF's `%{t}`.
    pub now: u64,
}

impl DecisionRequest {
    /// A request with no receiver name and time 0.
    pub fn new(ip: IpAddr, mail_from: &str, helo: &str) -> Self {
        DecisionRequest {
            ip,
            mail_from: mail_from.to_owned(),
            helo: helo.to_owned(),
            receiver: String::new(),
            now: 0,
        }
    }
}

/// What the caller of a [`Decision`] should do next.
pub type DecisionStep<'a> = crate::dns::Step<'a, Verdict>;

/// One decision in progress. See the module documentation.
#[derive(Debug)]
pub struct Decision {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Decided(Box<Verdict>),
    Spf {
        evaluator: Box<Evaluator>,
        context: Box<Context>,
        verdict: Option<Box<Verdict>>,
    },
}

/// What building the verdict needs besides the SPF outcome.
#[derive(Debug)]
struct Context {
    authserv_id: String,
    account: String,
    mode: Mode,
    ip: IpAddr,
    mail_from: String,
    helo: String,
    receiver: String,
}

impl Policy {
    /// Starts deciding a transaction. No DNS is needed unless the sender's
    /// account requires SPF; the SPF evaluation runs with the default
    /// limits and no trace.
    pub fn decide(&self, request: DecisionRequest) -> Decision {
        let config = Config {
            trace: false,
            ..Config::default()
        };
        self.decide_with(request, config)
    }

    /// [`decide`](Self::decide) with the evaluator's limits and trace chosen
    /// by the caller.
    pub fn decide_with(&self, request: DecisionRequest, config: Config) -> Decision {
        let mail_from = strip_brackets(&request.mail_from).to_owned();
        let context = Context {
            authserv_id: self.authserv_id().to_owned(),
            account: String::new(),
            mode: Mode::Open,
            ip: request.ip,
            mail_from,
            helo: request.helo,
            receiver: request.receiver,
        };
        if context.mail_from.is_empty() {
            return context.rejected(None, Rule::NullSender, "Null sender <> is not accepted");
        }
        let Some(account) = self.find_sender(&context.mail_from) else {
            let text = format!(
                "Sender <{}> is not registered at this gateway",
                context.mail_from
            );
            return context.rejected(None, Rule::UnknownSender, &text);
        };
        let context = Context {
            account: account.id().to_owned(),
            mode: account.mode(),
            ..context
        };
        let mode = Some(account.mode());
        let from = context.mail_from.clone();
        let ip = context.client();
        let hit = || {
            let index = account.matcher().find(request.ip)?;
            let entry = account.whitelist().entries().get(index)?;
            Some(Rule::WhitelistHit {
                entry: entry.text.clone(),
                line: entry.line,
                column: entry.column,
            })
        };
        let accept_hit = |context: Context, rule| {
            let text = format!("Sender <{from}> OK from whitelisted client {ip}");
            context.accepted(mode, rule, &text)
        };
        match account.check() {
            Check::Open => {
                let text = format!("Sender <{from}> OK");
                context.accepted(mode, Rule::Open, &text)
            }
            Check::Nobody => {
                let text = format!(
                    "Sender <{from}> accepts mail from no client: its IP whitelist is empty"
                );
                context.rejected(mode, Rule::WhitelistEmpty, &text)
            }
            Check::Whitelist => match hit() {
                Some(rule) => accept_hit(context, rule),
                None => {
                    let text =
                        format!("Client {ip} is not in the IP whitelist for sender <{from}>");
                    context.rejected(mode, Rule::WhitelistMiss, &text)
                }
            },
            Check::WhitelistOrSpf => match hit() {
                Some(rule) => accept_hit(context, rule),
                None => context.spf(request.now, config),
            },
            Check::Spf => context.spf(request.now, config),
        }
    }
}

impl Context {
    fn facts(&self) -> CheckFacts<'_> {
        CheckFacts {
            ip: self.ip,
            mail_from: &self.mail_from,
            helo: &self.helo,
            receiver: &self.receiver,
            identity: Identity::MailFrom,
        }
    }

    /// The client as SPF and the matcher see it.
    fn client(&self) -> IpAddr {
        match self.ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(self.ip, IpAddr::V4),
            v4 => v4,
        }
    }

    fn sender_domain(&self) -> &str {
        self.mail_from
            .rsplit_once('@')
            .map_or(self.mail_from.as_str(), |(_, d)| d)
    }

    /// A verdict reached without DNS to accept, with `250 2.1.0`.
    fn accepted(self, mode: Option<Mode>, rule: Rule, text: &str) -> Decision {
        self.decided(mode, rule, (Action::Accept, 250, "2.1.0"), text)
    }

    /// A verdict reached without DNS to reject, with `550 5.7.1`.
    fn rejected(self, mode: Option<Mode>, rule: Rule, text: &str) -> Decision {
        self.decided(mode, rule, (Action::Reject, 550, "5.7.1"), text)
    }

    /// A verdict reached without DNS: the action with its reply code and enhanced code.
    fn decided(
        self,
        mode: Option<Mode>,
        rule: Rule,
        (action, code, enhanced): (Action, u16, &'static str),
        text: &str,
    ) -> Decision {
        let headers = TraceHeaders {
            received_spf: None,
            authentication_results: authentication_results(
                &self.authserv_id,
                &self.facts(),
                None,
                None,
            ),
        };
        let account = (!self.account.is_empty()).then_some(self.account);
        Decision {
            inner: Inner::Decided(Box::new(Verdict {
                action,
                smtp: reply(code, enhanced, text),
                account,
                mode,
                rule,
                spf: None,
                headers,
            })),
        }
    }

    /// A decision waiting for SPF.
    fn spf(self, now: u64, config: Config) -> Decision {
        let request = Request {
            ip: self.ip,
            mail_from: self.mail_from.clone(),
            helo: self.helo.clone(),
            receiver: self.receiver.clone(),
            now,
            identity: Identity::MailFrom,
        };
        Decision {
            inner: Inner::Spf {
                evaluator: Box::new(Evaluator::new(request, config)),
                context: Box::new(self),
                verdict: None,
            },
        }
    }

    /// The verdict for a finished SPF evaluation.
    fn finish(&self, outcome: &Outcome) -> Verdict {
        let ip = self.client();
        let domain = self.sender_domain();
        let from = &self.mail_from;
        let (action, code, enhanced, text) = match outcome.result {
            SpfResult::Pass => (
                Action::Accept,
                250,
                "2.1.0",
                format!("Sender <{from}> OK: SPF pass for {ip}"),
            ),
            SpfResult::Fail => {
                let mut text =
                    format!("SPF fail: {domain} does not authorize {ip} to send for <{from}>");
                if let Some(exp) = &outcome.explanation {
                    text.push_str(": ");
                    text.push_str(exp);
                }
                (Action::Reject, 550, "5.7.23", text)
            }
            SpfResult::SoftFail | SpfResult::Neutral => (
                Action::Reject,
                550,
                "5.7.1",
                format!(
                    "SPF {}: {ip} is not authorized to send for <{from}>: the SPF record of {domain} does not permit it",
                    outcome.result
                ),
            ),
            SpfResult::None => {
                let why = match &outcome.problem {
                    Some(Problem::InvalidDomain(_)) => {
                        format!("`{domain}` is not a valid domain")
                    }
                    _ => format!("{domain} publishes no SPF record"),
                };
                (
                    Action::Reject,
                    550,
                    "5.7.1",
                    format!("SPF none: {ip} cannot be authorized to send for <{from}>: {why}"),
                )
            }
            SpfResult::PermError => (
                Action::Reject,
                550,
                "5.7.24",
                format!(
                    "SPF permerror: the SPF record of {domain} cannot be used: {}",
                    outcome.reason()
                ),
            ),
            SpfResult::TempError => (
                Action::Defer,
                451,
                "4.7.24",
                format!("SPF temperror: {}; try again later", outcome.reason()),
            ),
        };
        let facts = self.facts();
        let reason = outcome.reason();
        Verdict {
            action,
            smtp: reply(code, enhanced, &text),
            account: Some(self.account.clone()),
            mode: Some(self.mode),
            rule: Rule::Spf {
                result: outcome.result,
                directive: outcome.mechanism.clone(),
                domain: outcome.domain.clone(),
                problem: outcome.problem.clone(),
            },
            spf: Some(outcome.clone()),
            headers: TraceHeaders {
                received_spf: Some(received_spf(&facts, outcome)),
                authentication_results: authentication_results(
                    &self.authserv_id,
                    &facts,
                    Some(outcome),
                    Some(&reason),
                ),
            },
        }
    }
}

impl Decision {
    /// Advances as far as the answers allow and says what is needed next.
    pub fn poll(&mut self) -> DecisionStep<'_> {
        match &mut self.inner {
            Inner::Decided(verdict) => DecisionStep::Done(verdict),
            Inner::Spf {
                evaluator,
                context,
                verdict,
            } => match verdict {
                Some(verdict) => DecisionStep::Done(verdict),
                None => match evaluator.poll() {
                    Step::Lookups(batch) => DecisionStep::Lookups(batch),
                    Step::Pending => DecisionStep::Pending,
                    Step::Done(outcome) => {
                        DecisionStep::Done(verdict.insert(Box::new(context.finish(outcome))))
                    }
                },
            },
        }
    }

    /// Supplies the answer to a lookup handed out by [`poll`](Self::poll), owned
    /// or lent (see [`Evaluator::answer`]). Answers may come in any order; only
    /// misuse (an id never handed out, a second answer) is an `Err`.
    pub fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError> {
        match &mut self.inner {
            Inner::Decided(_) => Err(AnswerError::UnknownId(id)),
            Inner::Spf { evaluator, .. } => evaluator.answer(id, answer),
        }
    }

    /// Supplies a raw DNS response message to a lookup; see
    /// [`Evaluator::answer_wire`].
    pub fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError> {
        match &mut self.inner {
            Inner::Decided(_) => Err(AnswerError::UnknownId(id)),
            Inner::Spf { evaluator, .. } => evaluator.answer_wire(id, message),
        }
    }

    /// The verdict, once decided.
    pub fn verdict(&self) -> Option<&Verdict> {
        match &self.inner {
            Inner::Decided(verdict) => Some(verdict),
            Inner::Spf { verdict, .. } => verdict.as_deref(),
        }
    }

    /// Decides to the end with a synchronous resolver, which returns each answer
    /// owned or lent; convenient for tests and in-process zones. Callers with real
    /// I/O use `poll`/`answer`.
    pub fn run_with<A: Borrow<Answer>>(self, resolve: impl FnMut(&Lookup) -> A) -> Verdict {
        match self.inner {
            Inner::Decided(verdict) => *verdict,
            Inner::Spf {
                verdict: Some(verdict),
                ..
            } => *verdict,
            Inner::Spf {
                evaluator,
                context,
                verdict: None,
            } => context.finish(&evaluator.run_with(resolve)),
        }
    }
}

impl Engine for Decision {
    type Output = Verdict;

    fn poll(&mut self) -> DecisionStep<'_> {
        Decision::poll(self)
    }

    fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError> {
        Decision::answer(self, id, answer)
    }

    fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError> {
        Decision::answer_wire(self, id, message)
    }

    fn output(&self) -> Option<&Verdict> {
        self.verdict()
    }
}
