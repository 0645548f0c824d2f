//! Account security policy: which clients an email gateway account accepts.
//!
//! An account's security settings hold a hand-typed list of the IP addresses
//! allowed to send (the whitelist). [`whitelist`] turns that text into checked,
//! normalized networks with diagnostics a settings page can show next to the
//! field; [`matcher`] compiles the networks into a lookup table the gateway
//! queries for every client connection.

pub mod matcher;
pub mod whitelist;
