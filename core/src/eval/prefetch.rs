//! Prefetch: asking early for the records of `include`/`redirect` targets whose names
//! need no DNS data, so chains cost fewer round trips. Prefetches count against their
//! own bound only, never against a limit a term reaches, so they never change a result.

use super::Evaluator;
use super::compiled::{self, Header, Mech, Op, Spec, Str};
use super::slots::{Purpose, Selected};
use crate::dns::QueryType;

impl Evaluator {
    /// Asks early for the records of a record's `include`/`redirect` targets that need
    /// no DNS data to name, within their own bound of half the query cap.
    pub(super) fn prefetch(&mut self, header: u32, domain: Str) {
        let Header {
            directives,
            redirect,
            ..
        } = compiled::header(&self.ops, header);
        for i in 1..=directives {
            if let Op::Directive(_, Mech::Include(spec)) = self.ops[(header + i) as usize]
                && !self.prefetch_target(spec, domain)
            {
                return;
            }
        }
        if let Some(spec) = redirect {
            self.prefetch_target(spec, domain);
        }
    }

    /// Asks early for one target's record, unless it needs `%{p}`; false once
    /// prefetch has opened half as many slots as the query cap allows. Prefetches
    /// count against that bound only, never against the cap a term reaches.
    pub(super) fn prefetch_target(&mut self, spec: Spec, domain: Str) -> bool {
        if spec.uses_p {
            return true;
        }
        if self.counts.prefetched >= self.config.limits.max_queries / 2 {
            return false;
        }
        let name = self.expand_target(spec, domain, None);
        // A prefetch meets no cap.
        let _ = self.find_or_ask(QueryType::Txt, name, Purpose::Prefetch);
        true
    }

    /// Prefetches one level further: the targets named by prefetched records that
    /// have arrived, so a chain of includes costs fewer round trips.
    pub(super) fn prefetch_from_answers(&mut self) {
        let mut i = 0;
        while i < self.slots.len() {
            let slot = &mut self.slots[i];
            i += 1;
            if !slot.prefetch || slot.scanned || slot.answer.is_none() {
                continue;
            }
            slot.scanned = true;
            let domain = slot.name;
            if let Selected::Record(header) = self.select(i - 1) {
                self.prefetch(header, domain);
            }
        }
    }
}
