//! `spfgate whitelist [FILE]`: checks a whitelist text the way the account
//! settings page would, reading stdin when no file is given.
//!
//! Prints the accepted entries with their networks, then errors and warnings
//! with line and column; `--format json` prints the core's serialization of
//! the report (`entries`, `errors`, `warnings`, `errors_omitted`,
//! `warnings_omitted`, `ok`; see docs/json.md). Exits 0 when every entry is
//! accepted (warnings allowed), 1 when any entry is rejected, 2 when the input
//! cannot be read.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use spfgate::policy::whitelist::{WhitelistReport, parse_whitelist};

use crate::output::{Format, json, plural, print_err, print_out};

/// Arguments of `spfgate whitelist`.
#[derive(Debug, Clone, clap::Args)]
pub struct WhitelistArgs {
    /// The whitelist text; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `spfgate whitelist`.
pub fn run(args: &WhitelistArgs) -> ExitCode {
    let text = match &args.file {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map(|_| text)
                .map_err(|e| format!("cannot read stdin: {e}"))
        }
    };
    let text = match text {
        Ok(text) => text,
        Err(message) => {
            print_err(&format!("spfgate whitelist: {message}"));
            return ExitCode::from(2);
        }
    };
    let report = parse_whitelist(&text);
    let out = match args.format {
        Format::Json => json(&report),
        Format::Text => report_text(&report),
    };
    print_out(&out);
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The report as lines for a person.
pub fn report_text(report: &WhitelistReport) -> String {
    let mut out = String::new();
    for entry in &report.entries {
        let nets: Vec<String> = entry.networks.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "line {}, column {}: `{}` -> {}\n",
            entry.line,
            entry.column,
            entry.text,
            nets.join(" ")
        ));
    }
    for error in &report.errors {
        out.push_str(&format!("error: {error}\n"));
    }
    if report.errors_omitted > 0 {
        out.push_str(&format!(
            "error: {} more not shown\n",
            report.errors_omitted
        ));
    }
    for warning in &report.warnings {
        out.push_str(&format!("warning: {warning}\n"));
    }
    if report.warnings_omitted > 0 {
        out.push_str(&format!(
            "warning: {} more not shown\n",
            report.warnings_omitted
        ));
    }
    let errors = report.errors.len() + report.errors_omitted;
    let warnings = report.warnings.len() + report.warnings_omitted;
    let verdict = if report.is_ok() { "ok" } else { "rejected" };
    out.push_str(&format!(
        "{verdict}: {}, {}, {}, {}\n",
        plural(report.entries.len() as u64, "entry", "entries"),
        plural(report.networks().count() as u64, "network", "networks"),
        plural(errors as u64, "error", "errors"),
        plural(warnings as u64, "warning", "warnings"),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_report_lists_entries_errors_and_warnings() {
        let report = parse_whitelist("192.0.2.0/24\n10.0.0.1 - 10.0.0.2, 01.2.3.4\n192.0.2.5");
        let text = report_text(&report);
        assert_eq!(
            text,
            "line 1, column 1: `192.0.2.0/24` -> 192.0.2.0/24\n\
             line 2, column 1: `10.0.0.1 - 10.0.0.2` -> 10.0.0.1/32 10.0.0.2/32\n\
             line 3, column 1: `192.0.2.5` -> 192.0.2.5/32\n\
             error: line 2, column 22: `01.2.3.4` — leading zero in `01` (some software reads it as octal)\n\
             warning: line 1, column 1: `192.0.2.0/24` — reserved for documentation (192.0.2.0/24)\n\
             warning: line 2, column 1: `10.0.0.1 - 10.0.0.2` — private network (10.0.0.0/8)\n\
             warning: line 3, column 1: `192.0.2.5` — reserved for documentation (192.0.2.0/24)\n\
             warning: line 3, column 1: `192.0.2.5` — already covered by 192.0.2.0/24 (line 1, column 1)\n\
             rejected: 3 entries, 4 networks, 1 error, 4 warnings\n"
        );
    }

    #[test]
    fn json_report_says_ok() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&parse_whitelist("198.51.100.7"))).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["entries"][0]["networks"][0], "198.51.100.7/32");
        let v: serde_json::Value =
            serde_json::from_str(&json(&parse_whitelist("nonsense"))).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["errors"][0]["kind"]["code"], "unknown_token");
        assert_eq!(v["errors"][0]["line"], 1);
    }
}
