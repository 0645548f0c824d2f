//! `spfgate check`: run `check_host()` for one SMTP transaction.

use std::net::IpAddr;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use spfgate::dns::drive;
use spfgate::eval::{Config, Evaluator, Identity, Outcome, Request};

use crate::dns_source::{DnsArgs, DnsSource};
use crate::output::{Format, VoidCountingArg, json, limits, plural, print_err, print_out};

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
            print_err(&format!("spfgate check: {e}"));
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
        trace: args.dns.trace,
    };
    let mut evaluator = Evaluator::new(request, config);
    let outcome = drive(&mut evaluator, |batch| dns.resolve_batch(batch));
    print_out(&match args.format {
        Format::Json => json(outcome),
        Format::Text => outcome_text(outcome),
    });
    ExitCode::SUCCESS
}

/// The outcome as lines for a person; the trace block only when the evaluation
/// was traced (`--trace`).
pub fn outcome_text(outcome: &Outcome) -> String {
    let mut out = format!("result: {}\nreason: {}\n", outcome.result, outcome.reason());
    if let Some(exp) = &outcome.explanation {
        out.push_str(&format!("explanation: {exp}\n"));
    }
    out.push_str(&format!(
        "lookups: {}, {} void, {} in {}\n",
        plural(outcome.dns_terms, "DNS-querying term", "DNS-querying terms"),
        outcome.void_lookups,
        plural(outcome.queries, "query", "queries"),
        plural(outcome.round_trips, "round trip", "round trips"),
    ));
    if !outcome.trace.is_empty() {
        out.push_str("trace:\n");
        for event in &outcome.trace {
            out.push_str(&format!("  {event}\n"));
        }
    }
    out
}
