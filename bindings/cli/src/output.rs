//! Output shared by the subcommands: the format flag, printing, plurals.

use std::io::Write;

use clap::ValueEnum;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON: the core's serialization of the result (see docs/json.md).
    Json,
}

/// `--void-counting`: what counts against the limit of two void lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum VoidCountingArg {
    /// A term counts once, when its own lookup finds nothing (RFC 7208 §4.6.4).
    #[default]
    PerTerm,
    /// Every void answer counts, also MX hosts' and PTR names' (pyspf, Mail::SPF).
    PerLookup,
}

impl From<VoidCountingArg> for spfgate::eval::VoidCounting {
    fn from(arg: VoidCountingArg) -> Self {
        match arg {
            VoidCountingArg::PerTerm => spfgate::eval::VoidCounting::PerTerm,
            VoidCountingArg::PerLookup => spfgate::eval::VoidCounting::PerLookup,
        }
    }
}

/// [`spfgate::eval::Limits`] with the chosen void counting.
pub fn limits(void_counting: VoidCountingArg) -> spfgate::eval::Limits {
    spfgate::eval::Limits {
        void_counting: void_counting.into(),
        ..spfgate::eval::Limits::default()
    }
}

/// Prints `text` on stdout, ending in one newline. A closed pipe (`| head`) ends
/// the output quietly: what was not read is not an error worth a message.
pub fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end()).and_then(|()| out.flush());
}

/// Prints one line on stderr, ignoring a closed stderr.
pub fn print_err(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `value` as JSON text. Core values always serialize (no map has non-string
/// keys), so the empty fallback is never printed.
pub fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `1 query`, `2 queries`.
pub fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(1u32, "query", "queries"), "1 query");
        assert_eq!(plural(0u32, "query", "queries"), "0 queries");
        assert_eq!(
            plural(2usize as u64, "round trip", "round trips"),
            "2 round trips"
        );
    }
}
