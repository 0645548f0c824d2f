//! `spfgate parse [RECORD]`: shows how the engine reads a record, or where it fails.
//!
//! `--format json` prints the core's serialization of
//! `spfgate::record::Parsed`: `{"valid": true, "record", "terms"}` or
//! `{"valid": false, "error": {"kind", "message", "offset", "length", "term"}}`;
//! see docs/json.md.
//!
//! Exit status: 0 when the record is valid, 1 when it is not, 2 on a usage error or
//! when standard input cannot be read.

use std::io::{self, Read as _};
use std::process::ExitCode;

use spfgate::record::{Mechanism, Modifier, ParseError, Parsed, Qualifier, Record, Term};

use crate::output::{Format, json, print_err, print_out};

/// Arguments of `spfgate parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The record text (`v=spf1 ...`); read from standard input when absent.
    record: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Records longer than this are not echoed under an error marker; the message still
/// says the byte offset.
const MAX_ECHO: usize = 200;

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let input = match &args.record {
        Some(text) => text.clone().into_bytes(),
        None => match read_stdin() {
            Ok(bytes) => bytes,
            Err(e) => {
                print_err(&format!("spfgate parse: cannot read standard input: {e}"));
                return ExitCode::from(2);
            }
        },
    };
    // Bytes, not text: TXT data may hold anything, and the parser reports where.
    let parsed = Parsed::from_bytes(&input);
    let valid = matches!(parsed, Parsed::Valid(_));
    match (args.format, &parsed) {
        (Format::Json, _) => print_out(&json(&parsed)),
        (Format::Text, Parsed::Valid(record)) => print_out(&record_text(record)),
        (Format::Text, Parsed::Invalid(error)) => print_error(&input, error),
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Standard input without one trailing newline (`\n` or `\r\n`), as `echo` leaves it.
fn read_stdin() -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::stdin().read_to_end(&mut bytes)?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    Ok(bytes)
}

/// What a matching directive yields.
fn qualifier_name(q: Qualifier) -> &'static str {
    match q {
        Qualifier::Pass => "pass",
        Qualifier::Fail => "fail",
        Qualifier::SoftFail => "softfail",
        Qualifier::Neutral => "neutral",
    }
}

/// One term split into the columns both formats show.
struct Row {
    /// `pass`/`fail`/… for directives, `modifier` for modifiers.
    qualifier: Option<Qualifier>,
    /// Mechanism or modifier name.
    name: String,
    /// Domain, network or modifier value; `None` means the current domain.
    target: Option<String>,
    cidr4: Option<u8>,
    cidr6: Option<u8>,
}

fn row(term: &Term<'_>) -> Row {
    match term {
        Term::Directive(d) => {
            let mut row = Row {
                qualifier: Some(d.qualifier),
                name: d.mechanism.name().to_string(),
                target: None,
                cidr4: None,
                cidr6: None,
            };
            match &d.mechanism {
                Mechanism::Include(domain) | Mechanism::Exists(domain) => {
                    row.target = Some(domain.to_string());
                }
                Mechanism::A { domain, cidr } | Mechanism::Mx { domain, cidr } => {
                    row.target = domain.as_ref().map(ToString::to_string);
                    (row.cidr4, row.cidr6) = (Some(cidr.v4), Some(cidr.v6));
                }
                Mechanism::Ptr(domain) => row.target = domain.as_ref().map(ToString::to_string),
                Mechanism::Ip4(net) => {
                    (row.target, row.cidr4) =
                        (Some(net.addr().to_string()), Some(net.prefix_len()));
                }
                Mechanism::Ip6(net) => {
                    (row.target, row.cidr6) =
                        (Some(net.addr().to_string()), Some(net.prefix_len()));
                }
                // `all`, and mechanisms a later core version may add, show their name only.
                _ => {}
            }
            row
        }
        Term::Modifier(m) => {
            let (name, value) = match m {
                Modifier::Redirect(d) => ("redirect".to_string(), d.to_string()),
                Modifier::Explanation(d) => ("exp".to_string(), d.to_string()),
                Modifier::Unknown { name, value } => (name.to_string(), value.to_string()),
            };
            Row {
                qualifier: None,
                name,
                target: Some(value),
                cidr4: None,
                cidr6: None,
            }
        }
    }
}

fn record_text(record: &Record<'_>) -> String {
    let mut out = format!("{record}\n");
    for (term, _) in record.spanned_terms() {
        let row = row(term);
        let kind = row.qualifier.map_or("modifier", qualifier_name);
        let mut line = format!("  {kind:<9}{:<9}", row.name);
        match (&row.target, row.qualifier) {
            (Some(target), _) => line.push_str(target),
            (None, Some(_)) if matches!(row.name.as_str(), "a" | "mx" | "ptr") => {
                line.push_str("(current domain)");
            }
            _ => {}
        }
        let cidr = match (row.cidr4, row.cidr6) {
            (Some(v4), Some(v6)) => format!("/{v4} //{v6}"),
            (Some(v4), None) => format!("/{v4}"),
            (None, Some(v6)) => format!("/{v6}"),
            (None, None) => String::new(),
        };
        if !cidr.is_empty() {
            line.push_str("  ");
            line.push_str(&cidr);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The message, and under a short record a marker at the offending bytes.
fn print_error(input: &[u8], error: &ParseError) {
    print_err(&format!("invalid: {error}"));
    let printable = input.iter().all(|b| (0x20..=0x7e).contains(b));
    if printable && input.len() <= MAX_ECHO {
        print_err(&format!("  {}", String::from_utf8_lossy(input)));
        print_err(&format!(
            "  {}{}",
            " ".repeat(error.offset()),
            "^".repeat(error.len().max(1))
        ));
    }
}
