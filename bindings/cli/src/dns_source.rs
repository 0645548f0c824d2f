//! Where the CLI's answers come from: an in-memory zone file or live DNS.
//!
//! Every subcommand that evaluates drives the sans-IO engine with one of these,
//! batch by batch, and can print each query with its answer and latency.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use spfgate::dns::{Answer, AnswerError, Lookup, LookupId, Step};
use spfgate::eval::{Evaluator, Outcome};
use spfgate::lint::{Analysis, Report};
use spfgate::policy::{Decision, Verdict};
use spfgate::zone::Zone;

use crate::resolver::{Resolver, ResolverConfig, parse_server, system_servers};

/// The DNS flags shared by `check`, `decide` and `lint`.
#[derive(Debug, Clone, Args)]
pub struct DnsArgs {
    /// Answer from a zone file (JSON or YAML, in the RFC 7208 test suite's zonedata
    /// shape) instead of live DNS.
    #[arg(long, value_name = "FILE", conflicts_with = "server")]
    pub zone: Option<std::path::PathBuf>,
    /// Nameserver to ask, `IP[:PORT]` (repeatable; default: /etc/resolv.conf).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_server)]
    pub server: Vec<std::net::SocketAddr>,
    /// Seconds to wait for each UDP or TCP attempt.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub timeout: f64,
    /// Print each query, its answer and its latency to standard error.
    #[arg(long)]
    pub trace: bool,
}

/// A source of answers plus the round-trip log for `--trace`.
pub struct DnsSource {
    backend: Backend,
    trace: bool,
    round_trip: u32,
}

enum Backend {
    Zone(Zone),
    Live(Resolver),
}

/// A sans-IO engine of the core, as the CLI drives it: poll for lookups, answer them,
/// until it concludes. The evaluator, a policy decision and a lint analysis all are.
pub trait Engine {
    /// What the engine concludes.
    type Conclusion: Clone;
    /// The engine's `poll`.
    fn poll(&mut self) -> Step<'_, Self::Conclusion>;
    /// The engine's `answer`.
    fn answer(&mut self, id: LookupId, answer: Answer) -> Result<(), AnswerError>;
}

macro_rules! engine {
    ($engine:ty => $conclusion:ty) => {
        impl Engine for $engine {
            type Conclusion = $conclusion;
            fn poll(&mut self) -> Step<'_, $conclusion> {
                <$engine>::poll(self)
            }
            fn answer(&mut self, id: LookupId, answer: Answer) -> Result<(), AnswerError> {
                <$engine>::answer(self, id, answer)
            }
        }
    };
}

engine!(Evaluator => Outcome);
engine!(Decision => Verdict);
engine!(Analysis => Report);

/// Drives `engine` to its conclusion one batch at a time: `resolve` gets each batch
/// (all of it in flight at once on live DNS) and returns answers by id. A lookup it
/// leaves unanswered gets a temporary failure, so the engine always finishes.
pub fn drive<E: Engine>(
    mut engine: E,
    mut resolve: impl FnMut(&[Lookup]) -> Vec<(LookupId, Answer)>,
) -> E::Conclusion {
    loop {
        let batch = match engine.poll() {
            Step::Done(conclusion) => return conclusion.clone(),
            Step::Lookups(batch) => batch,
            Step::Pending => unreachable!("every lookup of every batch is answered below"),
        };
        let mut open: Vec<LookupId> = batch.iter().map(|l| l.id).collect();
        for (id, answer) in resolve(&batch) {
            if let Some(i) = open.iter().position(|&o| o == id) {
                open.swap_remove(i);
                // The id comes from this batch and is answered once.
                let _ = engine.answer(id, answer);
            }
        }
        for id in open {
            let _ = engine.answer(id, Answer::temp_fail("no answer from the resolver"));
        }
    }
}

/// Reads a zone file: JSON when it parses as JSON, YAML otherwise.
pub fn load_zone(path: &Path) -> Result<Zone, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read zone file {}: {e}", path.display()))?;
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => serde_yaml_ng::from_str(&text)
            .map_err(|e| format!("zone file {} is neither JSON nor YAML: {e}", path.display()))?,
    };
    Zone::from_value(&value).map_err(|e| format!("zone file {}: {e}", path.display()))
}

impl DnsSource {
    /// Builds the source the flags ask for.
    pub fn from_args(args: &DnsArgs) -> Result<Self, String> {
        let backend = match &args.zone {
            Some(path) => Backend::Zone(load_zone(path)?),
            None => {
                if !(args.timeout.is_finite() && args.timeout > 0.0) {
                    return Err(format!(
                        "--timeout must be a positive number, got {}",
                        args.timeout
                    ));
                }
                let servers = if args.server.is_empty() {
                    system_servers()
                } else {
                    args.server.clone()
                };
                Backend::Live(Resolver::new(ResolverConfig {
                    servers,
                    timeout: Duration::from_secs_f64(args.timeout),
                    ..ResolverConfig::default()
                }))
            }
        };
        Ok(DnsSource {
            backend,
            trace: args.trace,
            round_trip: 0,
        })
    }

    /// Answers one batch; all of it is in flight at once on live DNS.
    pub fn resolve_batch(&mut self, batch: &[Lookup]) -> Vec<(LookupId, Answer)> {
        self.round_trip += 1;
        if self.trace {
            eprintln!("round trip {}: {} lookup(s)", self.round_trip, batch.len());
        }
        match &mut self.backend {
            Backend::Zone(zone) => batch
                .iter()
                .map(|lookup| {
                    let answer = zone.resolve(lookup);
                    if self.trace {
                        eprintln!("  {lookup} -> {answer} (zone)");
                    }
                    (lookup.id, answer)
                })
                .collect(),
            Backend::Live(resolver) => {
                let resolved = resolver.resolve_batch(batch);
                resolved
                    .into_iter()
                    .map(|r| {
                        if self.trace {
                            let lookup = batch.iter().find(|l| l.id == r.id);
                            let asked = lookup.map_or_else(|| r.id.to_string(), |l| l.to_string());
                            eprintln!(
                                "  {asked} -> {} ({:.1} ms, {} {})",
                                r.answer,
                                r.latency.as_secs_f64() * 1000.0,
                                r.transport,
                                r.server
                            );
                        }
                        (r.id, r.answer)
                    })
                    .collect()
            }
        }
    }
}
