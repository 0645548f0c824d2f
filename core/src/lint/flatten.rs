//! The flattening suggestion: the same authorization with resolved networks.
//!
//! Each term is replaced by what it matches, in place, so the first-match order (and
//! with it every qualifier) is kept:
//!
//! - `a` and `mx` become the `ip4`/`ip6` networks of their A and AAAA records (with the
//!   term's CIDR lengths and qualifier).
//! - `include:x` matches when `x` passes, so it becomes the `+`-qualified networks of
//!   `x`'s flattened record carrying the include's own qualifier (`~include:x` gives
//!   `~ip4:…`). `x`'s `-`/`~`/`?` terms only make the include not match and are dropped.
//!   The include is kept verbatim when that is not exact: `x` has terms that cannot be
//!   flattened, ends in `+all`, or has a non-`+` network overlapping a later `+` one.
//! - `redirect=y`, when reached, is replaced by `y`'s flattened terms (all qualifiers)
//!   and `y`'s ending, unless `y` has terms that cannot be flattened or its own `exp=`.
//! - `exists`, `ptr`, targets with macros, and terms whose lookups failed are kept
//!   verbatim: they cannot be resolved ahead of time.
//!
//! Consecutive networks with one qualifier are merged (their order does not matter),
//! and networks covered by an earlier one are dropped (they can never decide).

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::findings::MAX_STRING;
use super::gather::{Dns, Fetched, literal, target};
use super::report::{AnalysisOptions, Flattening};
use super::walk::Walk;
use crate::dns::{Answer, QueryType, Rdata};
use crate::record::{Directive, Mechanism, Modifier, Qualifier, Record, Term};

/// Records walked before flattening gives up (the tree analysis bounds the data, this
/// bounds the work on diamond-shaped trees).
const MAX_RECORDS: u32 = 1_000;

/// One term of a flattened record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Net(Qualifier, IpNet),
    Keep(String),
}

/// How a flattened record ends when nothing matched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    All(Qualifier),
    Redirect(String),
    Neutral,
}

struct Flat {
    items: Vec<Item>,
    end: End,
    /// The record has its own `exp=`.
    exp: bool,
}

impl Flat {
    /// Only networks: can be inlined into another record.
    fn pure(&self) -> bool {
        !matches!(self.end, End::Redirect(_))
            && self.items.iter().all(|i| matches!(i, Item::Net(..)))
    }
}

struct Flattener<'a> {
    dns: &'a Dns,
    options: &'a AnalysisOptions,
    stack: Vec<String>,
    records: u32,
}

/// Builds the suggestion for the record of `domain` (or `root_text` in its place).
pub(super) fn flatten(
    dns: &Dns,
    options: &AnalysisOptions,
    domain: &str,
    root_text: Option<&str>,
    dns_terms_before: u32,
) -> Option<Flattening> {
    let text = match root_text {
        Some(t) => t,
        None => match dns.record(domain) {
            Fetched::Found(t) => t,
            _ => return None,
        },
    };
    let record = Record::parse(text).ok()?;
    let mut flattener = Flattener {
        dns,
        options,
        stack: Vec::new(),
        records: 0,
    };
    let flat = flattener.record(domain, &record);
    let items = merge(flat.items);
    let mut terms: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for item in items {
        match item {
            Item::Net(q, net) => terms.push(net_term(q, net)),
            Item::Keep(t) => {
                kept.push(t.clone());
                terms.push(t);
            }
        }
    }
    match flat.end {
        End::All(q) => terms.push(
            Directive {
                qualifier: q,
                mechanism: Mechanism::All,
            }
            .to_string(),
        ),
        End::Redirect(r) => {
            kept.push(r.clone());
            terms.push(r);
        }
        End::Neutral => {}
    }
    // exp= and unknown modifiers of the record itself stay.
    for term in record.terms() {
        if let Term::Modifier(m @ (Modifier::Explanation(_) | Modifier::Unknown { .. })) = term {
            terms.push(m.to_string());
        }
    }
    let mut out = String::from("v=spf1");
    for t in &terms {
        out.push(' ');
        out.push_str(t);
    }
    let mut walk = Walk::new(dns, options);
    walk.root(domain, Some(&out));
    Some(Flattening {
        strings: split_strings(&out),
        dns_terms_after: walk.dns_terms,
        record: out,
        dns_terms_before,
        kept,
    })
}

impl Flattener<'_> {
    fn record(&mut self, domain: &str, record: &Record<'_>) -> Flat {
        self.records += 1;
        self.stack.push(domain.to_owned());
        let mut items = Vec::new();
        let mut end = End::Neutral;
        let mut saw_all = false;
        for d in record.directives() {
            if d.mechanism == Mechanism::All {
                end = End::All(d.qualifier);
                saw_all = true;
                break;
            }
            self.directive(domain, d, &mut items);
        }
        if !saw_all && let Some(spec) = record.redirect() {
            let verbatim = format!("redirect={spec}");
            end = End::Redirect(verbatim);
            if let Some(child) = self.child(spec) {
                if child.pure() && !child.exp {
                    items.extend(child.items);
                    end = child.end;
                }
            }
        }
        self.stack.pop();
        Flat {
            items,
            end,
            exp: record.explanation().is_some(),
        }
    }

    /// The flattened record of an include or redirect target, if it can be walked.
    fn child(&mut self, spec: &crate::macros::MacroString<'_>) -> Option<Flat> {
        let target = literal(spec)?;
        if self.stack.contains(&target)
            || self.stack.len() as u32 > self.options.max_depth
            || self.records >= MAX_RECORDS
        {
            return None;
        }
        let Fetched::Found(text) = self.dns.record(&target) else {
            return None;
        };
        let record = Record::parse(text).ok()?;
        Some(self.record(&target, &record))
    }

    fn directive(&mut self, domain: &str, d: &Directive<'_>, items: &mut Vec<Item>) {
        let q = d.qualifier;
        let resolved = match &d.mechanism {
            Mechanism::Ip4(n) => Some(vec![IpNet::V4(n.trunc())]),
            Mechanism::Ip6(n) => Some(vec![IpNet::V6(n.trunc())]),
            Mechanism::A { domain: spec, cidr } => {
                target(spec.as_ref(), domain).and_then(|t| self.addresses(&t, cidr.v4, cidr.v6))
            }
            Mechanism::Mx { domain: spec, cidr } => {
                target(spec.as_ref(), domain).and_then(|t| self.mx(&t, cidr.v4, cidr.v6))
            }
            Mechanism::Include(spec) => self.child(spec).and_then(include_networks),
            _ => None,
        };
        match resolved {
            Some(nets) => items.extend(nets.into_iter().map(|n| Item::Net(q, n))),
            None => items.push(Item::Keep(d.to_string())),
        }
    }

    /// All A and AAAA networks of a name; `None` when a lookup is missing or failed.
    fn addresses(&self, name: &str, v4: u8, v6: u8) -> Option<Vec<IpNet>> {
        let mut nets = Vec::new();
        for qtype in [QueryType::A, QueryType::Aaaa] {
            match self.dns.get(name, qtype)? {
                Answer::Records(rs) => {
                    nets.extend(rs.iter().filter_map(|r| address_network(r, qtype, v4, v6)));
                }
                Answer::NxDomain => {}
                Answer::TempFail(_) => return None,
            }
        }
        Some(nets)
    }

    fn mx(&self, name: &str, v4: u8, v6: u8) -> Option<Vec<IpNet>> {
        let hosts: Vec<&str> = match self.dns.get(name, QueryType::Mx)? {
            Answer::Records(rs) => rs
                .iter()
                .filter_map(|r| match r {
                    Rdata::Mx { exchange, .. } => Some(exchange.as_str()),
                    _ => None,
                })
                .collect(),
            Answer::NxDomain => Vec::new(),
            Answer::TempFail(_) => return None,
        };
        if hosts.len() > self.options.limits.mx_names as usize {
            return None;
        }
        let mut nets = Vec::new();
        for host in hosts {
            nets.extend(self.addresses(host, v4, v6)?);
        }
        Some(nets)
    }
}

/// The networks for which an include of `flat` matches, when that set is exactly the
/// union of its `+` networks.
fn include_networks(flat: Flat) -> Option<Vec<IpNet>> {
    if !flat.pure() || flat.end == End::All(Qualifier::Pass) {
        return None;
    }
    let mut blockers: Vec<IpNet> = Vec::new();
    let mut nets = Vec::new();
    for item in flat.items {
        let Item::Net(q, net) = item else {
            return None;
        };
        if q != Qualifier::Pass {
            blockers.push(net);
            continue;
        }
        if blockers.iter().any(|b| b.contains(&net)) {
            continue; // never decides
        }
        if blockers.iter().any(|b| net.contains(b)) {
            return None; // `+` network with an exception carved out
        }
        nets.push(net);
    }
    Some(nets)
}

/// Merges runs of same-qualifier networks and drops networks an earlier one covers.
fn merge(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let mut earlier: Vec<IpNet> = Vec::new();
    let mut run: Vec<IpNet> = Vec::new();
    let mut run_q = Qualifier::Pass;
    let flush =
        |run: &mut Vec<IpNet>, q: Qualifier, out: &mut Vec<Item>, earlier: &mut Vec<IpNet>| {
            let v4: Vec<Ipv4Net> = run
                .iter()
                .filter_map(|n| match n {
                    IpNet::V4(n) => Some(*n),
                    IpNet::V6(_) => None,
                })
                .collect();
            let v6: Vec<Ipv6Net> = run
                .iter()
                .filter_map(|n| match n {
                    IpNet::V6(n) => Some(*n),
                    IpNet::V4(_) => None,
                })
                .collect();
            let merged = Ipv4Net::aggregate(&v4)
                .into_iter()
                .map(IpNet::V4)
                .chain(Ipv6Net::aggregate(&v6).into_iter().map(IpNet::V6));
            let mut added = Vec::new();
            for net in merged {
                if !earlier.iter().any(|e| e.contains(&net)) {
                    out.push(Item::Net(q, net));
                    added.push(net);
                }
            }
            earlier.extend(added);
            run.clear();
        };
    for item in items {
        match item {
            Item::Net(q, net) => {
                if q != run_q && !run.is_empty() {
                    flush(&mut run, run_q, &mut out, &mut earlier);
                }
                run_q = q;
                run.push(net);
            }
            Item::Keep(t) => {
                flush(&mut run, run_q, &mut out, &mut earlier);
                if !out.iter().any(|o| *o == Item::Keep(t.clone())) {
                    out.push(Item::Keep(t));
                }
            }
        }
    }
    flush(&mut run, run_q, &mut out, &mut earlier);
    out
}

fn net_term(q: Qualifier, net: IpNet) -> String {
    let mechanism = match net {
        IpNet::V4(n) => Mechanism::Ip4(n),
        IpNet::V6(n) => Mechanism::Ip6(n),
    };
    Directive {
        qualifier: q,
        mechanism,
    }
    .to_string()
}

/// Splits a record into character-strings of at most 255 octets, breaking before a
/// space where possible (the strings are joined without separators).
fn split_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while rest.len() > MAX_STRING {
        let cut = match rest[..=MAX_STRING].iter().rposition(|&b| b == b' ') {
            Some(i) if i > 0 => i,
            _ => MAX_STRING,
        };
        out.push(String::from_utf8_lossy(&rest[..cut]).into_owned());
        rest = &rest[cut..];
    }
    out.push(String::from_utf8_lossy(rest).into_owned());
    out
}

/// A network of an address answer to a `qtype` query, at a prefix length, without
/// host bits. Records of the other family in the answer are ignored, as the
/// evaluator ignores them: an `a` term only ever asks for the client's family.
fn address_network(r: &Rdata, qtype: QueryType, v4: u8, v6: u8) -> Option<IpNet> {
    match (r, qtype) {
        (Rdata::A(a), QueryType::A) => ipnet::Ipv4Net::new(*a, v4)
            .ok()
            .map(|n| IpNet::V4(n.trunc())),
        (Rdata::Aaaa(a), QueryType::Aaaa) => ipnet::Ipv6Net::new(*a, v6)
            .ok()
            .map(|n| IpNet::V6(n.trunc())),
        _ => None,
    }
}
