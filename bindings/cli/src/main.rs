//! `spfgate`: parse, check, lint and decide SPF from the command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use spfgate_cli::{cmd_check, cmd_decide, cmd_demo, cmd_lint, cmd_parse, cmd_whitelist};

/// spfgate: an embeddable SPF (RFC 7208) engine, from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "spfgate",
    version,
    about = "spfgate: SPF (RFC 7208) and account policy from the command line: parse, check, \
             decide, whitelist, lint and demo, against a zone file or live DNS",
    after_help = "Exit status: see each subcommand's --help; 2 always means unusable arguments."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse one SPF record and show its canonical form and terms.
    #[command(
        after_help = "Exit status: 0 when the record is valid, 1 when it is not, 2 on a usage \
                      error or when standard input cannot be read."
    )]
    Parse(cmd_parse::Args),
    /// Evaluate SPF (check_host) for a client IP, MAIL FROM and HELO.
    #[command(
        after_help = "Exit status: 0 whenever the evaluation finished, whatever the SPF result \
                      (fail, temperror and permerror included: read the result); 2 when the \
                      arguments or the zone file cannot be used."
    )]
    Check(cmd_check::CheckArgs),
    /// Decide one SMTP transaction against an account policy: accept, reject or defer.
    #[command(
        after_help = "Exit status: 0 for any finished decision, accept, reject or defer alike \
                      (read the action); 2 when the policy, the zone file or the arguments \
                      cannot be used."
    )]
    Decide(cmd_decide::DecideArgs),
    /// Check a whitelist text (stdin when no FILE) and report errors and warnings.
    #[command(
        after_help = "Exit status: 0 when every entry is accepted (warnings allowed), 1 when \
                      any entry is rejected, 2 when the input cannot be read."
    )]
    Whitelist(cmd_whitelist::WhitelistArgs),
    /// Lint a record, or analyse the record tree of a domain (lookups, flattening).
    #[command(
        after_help = "Exit status: 0 when no finding is an error (warnings and infos allowed), \
                      1 when any finding is an error, 2 when the arguments or the zone file \
                      cannot be used."
    )]
    Lint(cmd_lint::LintArgs),
    /// Run the example policy and zone (embedded from examples/) offline.
    #[command(
        after_help = "Exit status: 0 once every transaction is decided (whatever the actions), \
                      1 when the embedded examples cannot be loaded."
    )]
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
            spfgate_cli::output::print_err(&format!("spfgate lint: {e}"));
            ExitCode::from(2)
        }),
    }
}
