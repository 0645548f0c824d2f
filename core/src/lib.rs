//! spfgate: a sans-IO SPF (RFC 7208) engine.
//!
//! The crate parses SPF records, evaluates `check_host()` as a state machine that
//! asks its caller for DNS answers, and turns results into account-policy
//! decisions. It never opens a socket, reads a clock or draws a random number.
//!
//! The evaluator ([`eval::Evaluator`]), a policy decision ([`policy::Decision`]) and a
//! lint analysis ([`lint::Analysis`]) are driven the same way, through
//! [`dns::Engine`]: poll for lookups, answer them by id, read what the engine concludes.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | `serde` | yes | `Serialize` for every value a front end shows: the JSON vocabulary (`docs/json.md`) |
//! | `policy-json` | yes | [`policy::Policy::from_json`] (implies `serde`) |
//! | `policy-toml` | yes | [`policy::Policy::from_toml`] (implies `serde`) |
//! | `zone` | yes | the `zone` module: in-memory zones in the RFC 7208 suite's zonedata shape |
//!
//! Without default features the crate is the SPF engine, DNS wire decoding, the
//! policy decision (policies built in code with [`policy::Policy::compile`]) and the
//! linter, on thiserror, ipnet and hickory-proto alone.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod addr;
pub mod dns;
pub mod eval;
pub mod headers;
pub mod lint;
pub mod policy;
pub mod record;
#[cfg(feature = "serde")]
mod serialize;
#[cfg(feature = "zone")]
pub mod zone;

pub use record::macros;

/// The README's code, compiled and run as doctests.
#[cfg(all(doctest, feature = "serde"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
