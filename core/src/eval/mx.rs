//! `mx`: the MX lookup, then every host's addresses at once (RFC 7208 §5.4).

use super::compiled::Str;
use super::digest::Digest;
use super::slots::{Got, Purpose};
use super::terms::{TermStep, in_network, matched};
use super::{Evaluator, Problem, SpfResult, VoidCounting};
use crate::dns::QueryType;

impl Evaluator {
    pub(super) fn eval_mx(&mut self, target: Str, prefix: u8) -> TermStep {
        let answer = match self.need_first(QueryType::Mx, target, Purpose::Need) {
            Err(p) => return TermStep::Error(SpfResult::PermError, p),
            Ok(Got::Waiting(_)) => return TermStep::Blocked,
            Ok(Got::Ready(slot)) => self.answer_at(slot),
        };
        match answer {
            Digest::TempFail(reason) => return self.temp_error(target, QueryType::Mx, reason),
            a if a.is_void() => return self.void_no_match(),
            _ => {}
        }
        let hosts = self.answers.count(answer);
        let limit = self.config.limits.mx_names;
        if hosts > limit as usize {
            let name = self.owned(target);
            return TermStep::Error(
                SpfResult::PermError,
                Problem::TooManyMxNames { name, limit },
            );
        }
        let qtype = self.address_type();
        // Ask for every host's addresses at once, and decide once all are in. Every
        // host counts whatever the others hold, so the order of the MX records (which
        // DNS does not keep) cannot change the result: a failed lookup is a
        // temperror, void ones count (each, or once for the term when no host has an
        // address), and then any address may match.
        let mut ready = true;
        for k in 0..hosts {
            match self.need(qtype, self.answers.name(answer, k)) {
                Ok(Got::Ready(_)) => {}
                Ok(Got::Waiting(_)) => ready = false,
                Err(p) => return TermStep::Error(SpfResult::PermError, p),
            }
        }
        if !ready {
            return TermStep::Blocked;
        }
        let per_lookup = self.config.limits.void_counting == VoidCounting::PerLookup;
        let (mut matches, mut voids, mut addressed) = (false, 0, false);
        for k in 0..hosts {
            let host = self.answers.name(answer, k);
            let slot = match self.need(qtype, host) {
                Ok(Got::Ready(slot)) => slot,
                Ok(Got::Waiting(_)) => unreachable!("every host was answered"),
                Err(p) => return TermStep::Error(SpfResult::PermError, p),
            };
            match self.answer_at(slot) {
                Digest::TempFail(reason) => return self.temp_error(host, qtype, reason),
                a if a.is_void() => {
                    voids += 1;
                    if per_lookup && let Err(p) = self.count_voids(1) {
                        return TermStep::Error(SpfResult::PermError, p);
                    }
                }
                Digest::Unqueryable => {}
                a => {
                    addressed = true;
                    matches |= self
                        .answers
                        .addrs(a)
                        .any(|addr| in_network(self.ip, addr, prefix));
                }
            }
        }
        // Per term: once for the term when no host had an address lookup that found
        // anything (names not asked are no lookups).
        if !per_lookup
            && voids > 0
            && !addressed
            && let Err(p) = self.count_voids(1)
        {
            return TermStep::Error(SpfResult::PermError, p);
        }
        matched(matches)
    }
}
