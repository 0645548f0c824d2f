//! The client's validated names (RFC 7208 §5.5), for `ptr` and `%{p}`: the PTR
//! lookup, then each name's addresses, at most `ptr_names` of them.

use std::net::IpAddr;

use super::compiled::Str;
use super::slots::Got;
use super::terms::{TermStep, in_network, matched};
use super::{Evaluator, Problem, SpfResult, VoidCounting};
use crate::dns::QueryType;
use crate::dns::name::is_same_or_subdomain;
use crate::macros;

/// The client's validated names and what finding them cost.
#[derive(Debug, Default)]
pub(super) struct Validation {
    /// The validated names, once `done`; the buffer is kept across restarts.
    pub(super) names: Vec<Str>,
    pub(super) done: bool,
    /// Void answers met while validating: the PTR lookup's (0 or 1), and the names'
    /// address lookups'. What each use of the validation (a `ptr` term, a term's
    /// `%{p}`) counts depends on [`Limits::void_counting`](super::Limits::void_counting).
    pub(super) reverse_void: u32,
    pub(super) name_voids: u32,
    /// The client's reverse name in the arena, once its PTR lookup is asked for.
    pub(super) reverse: Option<Str>,
}

impl Validation {
    /// Forgets the previous evaluation's client, keeping the names' buffer.
    pub(super) fn restart(&mut self) {
        self.done = false;
        self.reverse = None;
    }
}

impl Evaluator {
    /// `ptr`: whether a validated name of the client is `target` or a subdomain of it
    /// (RFC 7208 §5.5).
    pub(super) fn eval_ptr(&mut self, target: Str) -> TermStep {
        match self.validated_names() {
            Ok(true) => {}
            Ok(false) => return TermStep::Blocked,
            Err(p) => return TermStep::Error(SpfResult::PermError, p),
        }
        // The PTR lookup is the term's own; the names validating the client
        // are chosen by the client's reverse zone and count per lookup only.
        let voids = match self.config.limits.void_counting {
            VoidCounting::PerLookup => self.validation.reverse_void + self.validation.name_voids,
            _ => self.validation.reverse_void,
        };
        if let Err(p) = self.count_voids(voids) {
            return TermStep::Error(SpfResult::PermError, p);
        }
        let target = target.get(&self.text);
        matched(
            self.validation
                .names
                .iter()
                .any(|n| is_same_or_subdomain(n.get(&self.text), target)),
        )
    }

    /// Computes the client's validated reverse names (RFC 7208 §5.5) once into
    /// [`Validation::names`]; false while lookups are outstanding.
    pub(super) fn validated_names(&mut self) -> Result<bool, Problem> {
        if self.validation.done {
            return Ok(true);
        }
        let reverse = match self.validation.reverse {
            Some(reverse) => reverse,
            None => *self
                .validation
                .reverse
                .insert(push_reverse_name(self.ip, &mut self.text)),
        };
        let answer = match self.need(QueryType::Ptr, reverse)? {
            Got::Waiting(_) => return Ok(false),
            Got::Ready(slot) => self.answer_at(slot),
        };
        let reverse_void = u32::from(answer.is_void());
        let mut voids = 0;
        // DNS errors make the PTR list empty rather than temperror (RFC 7208 §5.5).
        let names = self
            .answers
            .count(answer)
            .min(self.config.limits.ptr_names as usize);
        let qtype = self.address_type();
        for k in 0..names {
            self.need(qtype, self.answers.name(answer, k))?;
        }
        self.validation.names.clear();
        for k in 0..names {
            let name = self.answers.name(answer, k);
            let Got::Ready(slot) = self.need(qtype, name)? else {
                return Ok(false);
            };
            let addresses = self.answer_at(slot);
            voids += u32::from(addresses.is_void());
            if self
                .answers
                .addrs(addresses)
                .any(|a| in_network(self.ip, a, 128))
            {
                self.validation.names.push(name);
            }
        }
        self.validation.done = true;
        self.validation.reverse_void = reverse_void;
        self.validation.name_voids = voids;
        Ok(true)
    }

    /// Counts the validation's void lookups for the current term's `%{p}`, once per
    /// term, when counting per lookup; per term they are not the term's own lookups.
    /// An explanation's `%{p}` (no frame is left then) counts nothing.
    pub(super) fn count_p_voids(&mut self) -> Result<(), Problem> {
        if self.config.limits.void_counting != VoidCounting::PerLookup {
            return Ok(());
        }
        let voids = self.validation.reverse_void + self.validation.name_voids;
        match self.frames.last_mut() {
            Some(frame) if !frame.p_counted => {
                frame.p_counted = true;
                self.count_voids(voids)
            }
            _ => Ok(()),
        }
    }

    /// `%{p}`: the target domain itself, else a subdomain of it, else any validated
    /// name; `None` (read as `unknown`) when there is none.
    pub(super) fn pick_validated(&self, domain: Str) -> Option<Str> {
        if !self.validation.done {
            return None;
        }
        let names = &self.validation.names;
        let domain = domain.get(&self.text);
        let name = |n: &Str| n.get(&self.text);
        names
            .iter()
            .find(|n| name(n).eq_ignore_ascii_case(domain))
            .or_else(|| names.iter().find(|n| is_same_or_subdomain(name(n), domain)))
            .or_else(|| names.first())
            .copied()
    }
}

/// Appends the `in-addr.arpa` / `ip6.arpa` name of the client to the arena, written
/// directly in reverse order (lower-case nibbles) rather than formatted forwards and
/// turned around.
pub(super) fn push_reverse_name(ip: IpAddr, arena: &mut String) -> Str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let start = arena.len();
    match ip {
        IpAddr::V4(v4) => {
            for &octet in v4.octets().iter().rev() {
                macros::push_decimal(octet, arena);
                arena.push('.');
            }
            arena.push_str("in-addr.arpa");
        }
        IpAddr::V6(v6) => {
            for &byte in v6.octets().iter().rev() {
                arena.push(HEX[usize::from(byte & 0xf)] as char);
                arena.push('.');
                arena.push(HEX[usize::from(byte >> 4)] as char);
                arena.push('.');
            }
            arena.push_str("ip6.arpa");
        }
    }
    Str::since(arena, start)
}
