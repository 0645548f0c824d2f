//! Account security policy: which clients an email gateway account accepts.
//!
//! An account's security settings hold a hand-typed list of the IP addresses
//! allowed to send (the whitelist). [`whitelist`] turns that text into checked,
//! normalized networks with diagnostics a settings page can show next to the
//! field; [`matcher`] compiles the networks into a lookup table the gateway
//! queries for every client connection. [`document`] loads the gateway's
//! accounts into an immutable [`Policy`], and [`decision`]
//! decides one SMTP transaction against it: accept, reject or defer, asking
//! for DNS only when SPF has to be checked.

pub mod decision;
pub mod document;
pub mod matcher;
mod verdict;
pub mod whitelist;

pub use self::decision::{
    Action, Decision, DecisionRequest, DecisionStep, Rule, SmtpReply, TraceHeaders, Verdict,
};
pub use self::document::{Mode, Policy, PolicyDocument, PolicyError};
