//! `spfgate`: parse, check, lint and decide SPF from the command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use spfgate_cli::{cmd_check, cmd_decide, cmd_demo, cmd_lint, cmd_parse, cmd_whitelist};

/// spfgate: an embeddable SPF (RFC 7208) engine, from the command line.
#[derive(Debug, Parser)]
#[command(name = "spfgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse one SPF record and show its canonical form and terms.
    Parse(cmd_parse::Args),
    /// Evaluate SPF (check_host) for a client IP, MAIL FROM and HELO.
    Check(cmd_check::CheckArgs),
    /// Decide one SMTP transaction against an account policy: accept, reject or defer.
    Decide(cmd_decide::DecideArgs),
    /// Check a whitelist text (stdin when no FILE) and report errors and warnings.
    Whitelist(cmd_whitelist::WhitelistArgs),
    /// Lint a record, or analyse the record tree of a domain (lookups, flattening).
    Lint(cmd_lint::LintArgs),
    /// Run the example policy and zone (embedded from examples/) offline.
    Demo(cmd_demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse(args) => cmd_parse::run(&args),
        Command::Check(args) => cmd_check::run(args),
        Command::Decide(args) => cmd_decide::run(&args),
        Command::Whitelist(args) => cmd_whitelist::run(&args),
        Command::Demo(args) => cmd_demo::run(&args),
        Command::Lint(args) => cmd_lint::run(&args).unwrap_or_else(|e| {
            eprintln!("spfgate lint: {e}");
            ExitCode::from(2)
        }),
    }
}
