//! Terms: evaluating one mechanism against the client, and naming its target
//! (macro expansion and truncation, RFC 7208 §4.8, §7.3).

use std::net::IpAddr;

use super::compiled::{Mech, Spec, Str};
use super::digest::Digest;
use super::slots::{Got, Purpose};
use super::{Evaluator, Problem, SpfResult};
use crate::dns::QueryType;
use crate::macros::{self, MacroVars, Target};

/// Result of evaluating one term.
pub(super) enum TermStep {
    Matched,
    NoMatch,
    Blocked,
    Include(Str),
    Error(SpfResult, Problem),
}
impl Evaluator {
    pub(super) fn eval_mech(&mut self, mech: Mech, domain: Str) -> TermStep {
        if mech.queries_dns()
            && let Err(problem) = self.count_term()
        {
            return TermStep::Error(SpfResult::PermError, problem);
        }
        match mech {
            Mech::All => TermStep::Matched,
            Mech::Ip4(net) => match self.ip {
                IpAddr::V4(ip) => matched(net.contains(&ip)),
                IpAddr::V6(_) => TermStep::NoMatch,
            },
            Mech::Ip6(net) => match self.ip {
                IpAddr::V6(ip) => matched(net.contains(&ip)),
                IpAddr::V4(_) => TermStep::NoMatch,
            },
            Mech::Include(spec) => {
                let child = self.frames.last().and_then(|f| f.child);
                match child {
                    Some(SpfResult::Pass) => TermStep::Matched,
                    Some(_) => TermStep::NoMatch,
                    None => match self.target(Some(spec), domain) {
                        Ok(target) => TermStep::Include(target),
                        Err(step) => step,
                    },
                }
            }
            Mech::A(spec, cidr) => {
                let target = match self.target(spec, domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                let qtype = self.address_type();
                let prefix = self.prefix(cidr.v4, cidr.v6);
                match self.need_first(qtype, target, Purpose::Need) {
                    Err(p) => TermStep::Error(SpfResult::PermError, p),
                    Ok(Got::Waiting(_)) => TermStep::Blocked,
                    Ok(Got::Ready(slot)) => self.match_addresses(slot, target, qtype, prefix),
                }
            }
            Mech::Mx(spec, cidr) => {
                let target = match self.target(spec, domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                let prefix = self.prefix(cidr.v4, cidr.v6);
                self.eval_mx(target, prefix)
            }
            Mech::Exists(spec) => {
                let target = match self.target(Some(spec), domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                match self.need_first(QueryType::A, target, Purpose::Need) {
                    Err(p) => TermStep::Error(SpfResult::PermError, p),
                    Ok(Got::Waiting(_)) => TermStep::Blocked,
                    Ok(Got::Ready(slot)) => match self.answer_at(slot) {
                        Digest::TempFail(reason) => self.temp_error(target, QueryType::A, reason),
                        a if a.is_void() => self.void_no_match(),
                        // Any A record, whatever the client's family (RFC 7208 §5.7).
                        a => matched(self.answers.count(a) > 0),
                    },
                }
            }
            Mech::Ptr(spec) => {
                let target = match self.target(spec, domain) {
                    Ok(target) => target,
                    Err(step) => return step,
                };
                self.eval_ptr(target)
            }
        }
    }

    pub(super) fn address_type(&self) -> QueryType {
        match self.ip {
            IpAddr::V4(_) => QueryType::A,
            IpAddr::V6(_) => QueryType::Aaaa,
        }
    }

    pub(super) fn prefix(&self, v4: u8, v6: u8) -> u8 {
        match self.ip {
            IpAddr::V4(_) => v4,
            IpAddr::V6(_) => v6,
        }
    }

    /// Matches the client against the addresses in an A/AAAA answer.
    pub(super) fn match_addresses(
        &mut self,
        slot: usize,
        name: Str,
        qtype: QueryType,
        prefix: u8,
    ) -> TermStep {
        match self.answer_at(slot) {
            Digest::TempFail(reason) => self.temp_error(name, qtype, reason),
            a if a.is_void() => self.void_no_match(),
            a => matched(
                self.answers
                    .addrs(a)
                    .any(|addr| in_network(self.ip, addr, prefix)),
            ),
        }
    }

    pub(super) fn temp_error(&self, name: Str, qtype: QueryType, reason: Str) -> TermStep {
        TermStep::Error(
            SpfResult::TempError,
            Problem::DnsFailure {
                name: self.owned(name),
                qtype,
                reason: self.owned(reason),
            },
        )
    }

    /// A mechanism's target (the current domain when absent); else how the term
    /// stands: blocked while `%{p}` waits for lookups, or a permerror when its void
    /// lookups pass the limit.
    pub(super) fn target(&mut self, spec: Option<Spec>, domain: Str) -> Result<Str, TermStep> {
        let Some(spec) = spec else {
            return Ok(domain);
        };
        let p = if spec.uses_p {
            match self.validated_names() {
                Ok(true) => {
                    self.count_p_voids()
                        .map_err(|p| TermStep::Error(SpfResult::PermError, p))?;
                    self.pick_validated(domain)
                }
                Ok(false) => return Err(TermStep::Blocked),
                // Over the query cap: `%{p}` degrades to `unknown`.
                Err(_) => None,
            }
        } else {
            None
        };
        Ok(self.expand_target(spec, domain, p))
    }

    /// Expands a domain-spec into the arena (a literal one is its own expansion,
    /// without its final dot); `p` is the validated name for `%{p}` (`unknown` when none).
    /// Either way the name is truncated to 253 octets (RFC 7208 §4.8, §7.3).
    pub(super) fn expand_target(&mut self, spec: Spec, domain: Str, p: Option<Str>) -> Str {
        if spec.literal {
            let name = spec.text.strip_dot(&self.text);
            return name.skip(macros::domain_truncation(name.bytes(&self.text)));
        }
        // Expanded beside the arena, as the macros read from it, in a reused buffer.
        let mut name = std::mem::take(&mut self.scratch);
        name.clear();
        let ms = spec.macro_string(&self.text);
        let vars = self.vars(domain.get(&self.text), p);
        macros::expand_into(&ms, &vars, Target::DomainName, &mut name);
        let expanded = Str::push(&mut self.text, name.strip_suffix('.').unwrap_or(&name));
        self.scratch = name;
        expanded
    }

    pub(super) fn vars<'s>(&'s self, domain: &'s str, p: Option<Str>) -> MacroVars<'s> {
        MacroVars {
            sender: &self.sender,
            local_part: &self.sender[..self.at],
            sender_domain: self.sender_domain(),
            domain,
            ip: self.ip,
            validated_name: p.map(|p| p.get(&self.text)),
            helo: &self.helo,
            receiver: &self.receiver,
            timestamp: self.now,
        }
    }
}

pub(super) fn matched(yes: bool) -> TermStep {
    if yes {
        TermStep::Matched
    } else {
        TermStep::NoMatch
    }
}

/// True when `addr` is of the client's family and within `prefix` bits of it.
pub(super) fn in_network(ip: IpAddr, addr: IpAddr, prefix: u8) -> bool {
    match (ip, addr) {
        (IpAddr::V4(ip), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(ip) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(ip) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}
