//! spfgate: a sans-IO SPF (RFC 7208) engine.
//!
//! The crate parses SPF records, evaluates `check_host()` as a state machine that
//! asks its caller for DNS answers, and turns results into account-policy
//! decisions. It never opens a socket, reads a clock or draws a random number.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod addr;
pub mod dns;
pub mod eval;
pub mod headers;
pub mod lint;
pub mod policy;
pub mod record;
pub mod zone;

pub use record::macros;
