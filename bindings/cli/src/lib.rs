//! Library side of the `spfgate` CLI: the pieces that do I/O for the
//! engine, kept out of `main.rs` so integration tests can drive them.

pub mod cmd_decide;
pub mod cmd_whitelist;
pub mod resolver;
