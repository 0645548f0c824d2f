//! `spfgate check`: run `check_host()` for one SMTP transaction.

use std::net::IpAddr;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;
use spfgate::eval::{Config, Evaluator, Identity, Outcome, Request};

use crate::dns_source::{DnsArgs, DnsSource, drive};
use crate::output::{Format, VoidCountingArg, limits};

/// Flags of `spfgate check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The connecting client's IP address.
    #[arg(long)]
    pub ip: IpAddr,
    /// The MAIL FROM address (empty for the null sender `<>`).
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub mail_from: String,
    /// The HELO/EHLO name.
    #[arg(long)]
    pub helo: String,
    /// Check the HELO identity instead of MAIL FROM.
    #[arg(long, value_enum, default_value_t = IdentityArg::MailFrom)]
    pub identity: IdentityArg,
    /// This receiver's host name, for `%{r}` in explanations.
    #[arg(long, default_value = "")]
    pub receiver: String,
    /// Explanation for `fail` when the record has no `exp=` (macros allowed).
    #[arg(long, value_name = "TEXT")]
    pub default_explanation: Option<String>,
    /// Do not ask ahead for include/redirect records.
    #[arg(long)]
    pub no_prefetch: bool,
    /// How void lookups count against the limit of two.
    #[arg(long, value_enum, default_value_t = VoidCountingArg::PerTerm)]
    pub void_counting: VoidCountingArg,
    #[command(flatten)]
    pub dns: DnsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The `--identity` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IdentityArg {
    /// The MAIL FROM identity (RFC 7208 §2.4).
    MailFrom,
    /// The HELO identity (RFC 7208 §2.3).
    Helo,
}

/// Runs the evaluation against the chosen DNS source and prints the outcome.
pub fn run(args: CheckArgs) -> ExitCode {
    let mut dns = match DnsSource::from_args(&args.dns) {
        Ok(dns) => dns,
        Err(e) => {
            eprintln!("spfgate check: {e}");
            return ExitCode::from(2);
        }
    };
    let request = Request {
        ip: args.ip,
        mail_from: args.mail_from,
        helo: args.helo,
        receiver: args.receiver,
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        identity: match args.identity {
            IdentityArg::MailFrom => Identity::MailFrom,
            IdentityArg::Helo => Identity::Helo,
        },
    };
    let config = Config {
        limits: limits(args.void_counting),
        prefetch: !args.no_prefetch,
        default_explanation: args.default_explanation.map(Into::into),
        ..Config::default()
    };
    let outcome = drive(Evaluator::new(request, config), |batch| {
        dns.resolve_batch(batch)
    });
    match args.format {
        Format::Json => println!("{}", outcome_json(&outcome)),
        Format::Text => print_text(&outcome),
    }
    ExitCode::SUCCESS
}

/// The outcome as the JSON object `check` prints.
pub fn outcome_json(outcome: &Outcome) -> serde_json::Value {
    json!({
        "result": outcome.result.as_str(),
        "explanation": outcome.explanation,
        "mechanism": outcome.mechanism,
        "domain": outcome.domain,
        "reason": outcome.reason(),
        "problem": outcome.problem.as_ref().map(ToString::to_string),
        "lookups": outcome.dns_terms,
        "void_lookups": outcome.void_lookups,
        "queries": outcome.queries,
        "round_trips": outcome.round_trips,
        "trace": outcome.trace.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn print_text(outcome: &Outcome) {
    println!("result: {}", outcome.result);
    println!("reason: {}", outcome.reason());
    if let Some(exp) = &outcome.explanation {
        println!("explanation: {exp}");
    }
    println!(
        "lookups: {} DNS-querying terms, {} void, {} queries in {} round trips",
        outcome.dns_terms, outcome.void_lookups, outcome.queries, outcome.round_trips
    );
    if !outcome.trace.is_empty() {
        println!("trace:");
        for event in &outcome.trace {
            println!("  {event}");
        }
    }
}
