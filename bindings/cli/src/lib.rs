//! Library side of the `spfgate` CLI: the pieces that do I/O for the
//! engine, kept out of `main.rs` so integration tests can drive them.

pub mod cmd_check;
pub mod cmd_decide;
pub mod cmd_demo;
pub mod cmd_lint;
pub mod cmd_parse;
pub mod cmd_whitelist;
pub mod dns_source;
pub mod output;
pub mod resolver;
pub mod zonefile;
