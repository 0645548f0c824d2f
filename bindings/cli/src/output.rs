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
