//! Where the CLI's answers come from: an in-memory zone file or live DNS.
//!
//! Every subcommand that evaluates drives a core engine with
//! [`spfgate::dns::drive`] and one of these, batch by batch, and can print each
//! query with its answer and latency.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use spfgate::dns::{Answer, Lookup, LookupId};
use spfgate::zone::Zone;

use crate::output::print_err;

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

/// Reads a zone file: JSON when the name ends in `.json`, YAML when it ends in
/// `.yaml` or `.yml`, otherwise JSON when it parses as JSON and YAML if not.
pub fn load_zone(path: &Path) -> Result<Zone, String> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read zone file {shown}: {e}"))?;
    if text.trim().is_empty() {
        return Err(format!(
            "zone file {shown} is empty; expected a map from names to record lists"
        ));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let json = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| format!("zone file {shown} is not valid JSON: {e}"))
    };
    let yaml = |text: &str| {
        serde_yaml_ng::from_str::<serde_json::Value>(text)
            .map_err(|e| format!("zone file {shown} is not valid YAML: {e}"))
    };
    let value = match extension.as_deref() {
        Some("json") => json(&text)?,
        Some("yaml" | "yml") => yaml(&text)?,
        _ => json(&text).or_else(|_| {
            serde_yaml_ng::from_str(&text)
                .map_err(|e| format!("zone file {shown} is neither JSON nor YAML: {e}"))
        })?,
    };
    Zone::from_value(&value).map_err(|e| format!("zone file {shown}: {e}"))
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
            print_err(&format!(
                "round trip {}: {}",
                self.round_trip,
                crate::output::plural(batch.len() as u64, "lookup", "lookups")
            ));
        }
        match &mut self.backend {
            Backend::Zone(zone) => batch
                .iter()
                .map(|lookup| {
                    let answer = zone.resolve(lookup);
                    if self.trace {
                        print_err(&format!("  {lookup} -> {answer} (zone)"));
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
                            print_err(&format!(
                                "  {asked} -> {} ({:.1} ms, {} {})",
                                r.answer,
                                r.latency.as_secs_f64() * 1000.0,
                                r.transport,
                                r.server
                            ));
                        }
                        (r.id, r.answer)
                    })
                    .collect()
            }
        }
    }
}
