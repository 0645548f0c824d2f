//! Limits and counters (RFC 7208 §4.6.4): DNS-querying terms, void lookups, and the
//! cap on the queries an evaluation needs.

use super::digest::Digest;
use super::terms::TermStep;
use super::{Evaluator, Problem, SpfResult};

/// What an evaluation has counted so far.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counters {
    /// DNS-querying terms (RFC 7208 §4.6.4).
    pub(super) dns_terms: u32,
    /// Void lookups, as [`Limits::void_counting`](super::Limits::void_counting) counts them.
    pub(super) void_lookups: u32,
    /// Slots needed by a term or a record fetch, against the query cap.
    pub(super) needed: u32,
    /// Slots opened by prefetch, against their own bound.
    pub(super) prefetched: u32,
    /// Queries handed out, prefetches included.
    pub(super) queries: u32,
    /// Batches handed out.
    pub(super) round_trips: u32,
}

impl Evaluator {
    /// Counts the current term against the DNS-term limit, once per term.
    pub(super) fn count_term(&mut self) -> Result<(), Problem> {
        let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
        if frame.counted {
            return Ok(());
        }
        frame.counted = true;
        self.counts.dns_terms += 1;
        if self.counts.dns_terms > self.config.limits.dns_terms {
            return Err(Problem::TooManyDnsTerms(self.config.limits.dns_terms));
        }
        Ok(())
    }

    /// Counts void answers (NXDOMAIN, or no records) that a term consumed; over the
    /// limit is a permerror (RFC 7208 §4.6.4). Callers pass what
    /// [`Limits::void_counting`](super::Limits::void_counting) counts.
    pub(super) fn count_voids(&mut self, voids: u32) -> Result<(), Problem> {
        let limit = self.config.limits.void_lookups;
        // The evaluation stops at the void lookup that goes over, so no more count.
        self.counts.void_lookups = (self.counts.void_lookups + voids).min(limit.saturating_add(1));
        if self.counts.void_lookups > limit {
            return Err(Problem::TooManyVoidLookups(limit));
        }
        Ok(())
    }

    /// A void answer that ends a term without a match.
    pub(super) fn void_no_match(&mut self) -> TermStep {
        match self.count_voids(1) {
            Ok(()) => TermStep::NoMatch,
            Err(problem) => TermStep::Error(SpfResult::PermError, problem),
        }
    }

    /// Counts a slot against the query cap the first time something needs it: a
    /// prefetched lookup counts only from then on, as if it were asked then, so
    /// prefetch never changes when the cap is reached.
    pub(super) fn claim(&mut self, slot: usize) -> Result<(), Problem> {
        let s = &self.slots[slot];
        if s.needed {
            return Ok(());
        }
        // Names answered locally are not queries (and never reach the cap).
        if !matches!(s.answer, Some(Digest::Unqueryable)) {
            self.check_cap()?;
        }
        self.slots[slot].needed = true;
        self.counts.needed += 1;
        Ok(())
    }

    pub(super) fn check_cap(&self) -> Result<(), Problem> {
        if self.counts.needed >= self.config.limits.max_queries {
            return Err(Problem::QueryCap(self.config.limits.max_queries));
        }
        Ok(())
    }
}
