//! Output formats shared by the subcommands.

use clap::ValueEnum;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON object.
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
