//! The worst-case walk over gathered data: the records in the order
//! [`crate::eval::Evaluator`] evaluates them for a client that no address-based
//! mechanism matches, counting DNS-querying terms and void lookups per client family
//! and collecting the findings along the way with the chain behind each.

use std::collections::HashSet;

use super::findings::{lint_record, syntax_finding};
use super::gather::{Dns, Fetched, literal, mx_exchanges, target};
use super::report::{AnalysisOptions, MxHosts, TreeRecord, VoidLookups};
use super::voids::{AddressVoids, Family, is_void};
use super::{Finding, Severity, codes};
use crate::dns::{Answer, QueryType, Rdata, normalize};
use crate::eval::VoidCounting;
use crate::macros::MacroString;
use crate::record::{Mechanism, Modifier, ParseError, Qualifier, Record, Span, Term};

/// Walk steps (terms visited) before the analysis gives up; includes reached along
/// several paths are walked each time, so hostile trees could otherwise grow exponentially.
const MAX_STEPS: u32 = 10_000;

/// How the walk reached a record other than the checked domain's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Include,
    Redirect,
}

/// The worst-case walk over gathered data.
pub(super) struct Walk<'a> {
    dns: &'a Dns,
    options: &'a AnalysisOptions,
    pub(super) capped: bool,
    pub(super) findings: Vec<Finding>,
    reported: HashSet<(&'static str, String, Span, Vec<String>)>,
    linted: HashSet<String>,
    pub(super) dns_terms: u32,
    pub(super) voids: VoidLookups,
    pub(super) mx_hosts: Vec<MxHosts>,
    pub(super) depth: u32,
    pub(super) records: Vec<TreeRecord>,
    pub(super) exact: bool,
    steps: u32,
    /// Domains on the current chain, for loop detection.
    stack: Vec<String>,
    chain: Vec<String>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(dns: &'a Dns, options: &'a AnalysisOptions) -> Self {
        Walk {
            dns,
            options,
            capped: false,
            findings: Vec::new(),
            reported: HashSet::new(),
            linted: HashSet::new(),
            dns_terms: 0,
            voids: VoidLookups::default(),
            mx_hosts: Vec::new(),
            depth: 0,
            records: Vec::new(),
            exact: true,
            steps: 0,
            stack: Vec::new(),
            chain: Vec::new(),
        }
    }

    /// Walks the record of `domain` (or `text` in its place).
    pub(super) fn root(&mut self, domain: &str, text: Option<&str>) {
        self.chain.push(domain.to_owned());
        let fetched = match text {
            Some(t) => Fetched::Found(t),
            None => self.dns.record(domain),
        };
        match fetched {
            Fetched::Found(text) => {
                if let Err(e) = Record::parse(text) {
                    self.syntax(domain, e);
                } else {
                    self.walk(domain, text, 0, None);
                }
            }
            other => self.unfetched(other, domain, domain, Span::default(), "the domain"),
        }
    }

    /// Walks one record, reached `via` an include or redirect (`None`: the checked
    /// domain's); `Some(qualifier)` when a directive matched (the record's result).
    fn walk(
        &mut self,
        domain: &str,
        text: &str,
        depth: u32,
        via: Option<Via>,
    ) -> Option<Qualifier> {
        let Ok(record) = Record::parse(text) else {
            return None;
        };
        self.depth = self.depth.max(depth);
        self.records.push(TreeRecord {
            chain: self.chain.clone(),
            domain: domain.to_owned(),
            depth,
            text: text.to_owned(),
        });
        if self.linted.insert(domain.to_owned()) {
            for f in lint_record(text) {
                // The tree counts DNS terms across records; `no-all` is harmless in an include.
                if f.code == codes::TOO_MANY_DNS_TERMS
                    || (via == Some(Via::Include) && f.code == codes::NO_ALL)
                {
                    continue;
                }
                self.push(domain, f);
            }
        }
        self.stack.push(domain.to_owned());
        let result = self.walk_terms(domain, &record, depth);
        self.stack.pop();
        result
    }

    fn walk_terms(&mut self, domain: &str, record: &Record<'_>, depth: u32) -> Option<Qualifier> {
        for (term, span) in record.spanned_terms() {
            let Term::Directive(d) = term else { continue };
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.limit(domain, span, "the tree is too large to walk completely");
                return None;
            }
            if d.mechanism.queries_dns() {
                self.count_term(domain, span, &d.to_string());
            }
            let matched = match &d.mechanism {
                Mechanism::All => true,
                Mechanism::Include(spec) => {
                    let label = format!("include:{spec}");
                    self.follow(domain, spec, span, depth, &label, Via::Include)
                        == Some(Qualifier::Pass)
                }
                Mechanism::A { domain: spec, .. } => {
                    if let Some(t) = self.resolvable(domain, spec.as_ref(), span, "a") {
                        self.addresses(domain, span, &t, &d.to_string());
                    }
                    false
                }
                Mechanism::Mx { domain: spec, .. } => {
                    if let Some(t) = self.resolvable(domain, spec.as_ref(), span, "mx") {
                        self.mx(domain, span, &t, &d.to_string());
                    }
                    false
                }
                Mechanism::Exists(spec) => {
                    match self.resolvable(domain, Some(spec), span, "exists") {
                        Some(t) => self.exists(domain, span, &t, &d.to_string()),
                        None => false,
                    }
                }
                Mechanism::Ptr(_) => {
                    self.not_counted(
                        domain,
                        span,
                        "`ptr` lookups depend on the client's reverse DNS; they are not counted here".into(),
                        "list the sending hosts with ip4/ip6 instead",
                    );
                    false
                }
                _ => false,
            };
            if matched {
                return Some(d.qualifier);
            }
        }
        let (spec, span) = record.spanned_terms().find_map(|(t, s)| match t {
            Term::Modifier(Modifier::Redirect(spec)) => Some((spec, s)),
            _ => None,
        })?;
        self.count_term(domain, span, &format!("redirect={spec}"));
        let label = format!("redirect={spec}");
        self.follow(domain, spec, span, depth, &label, Via::Redirect)
    }

    /// Follows an include or redirect; the target record's result.
    fn follow(
        &mut self,
        domain: &str,
        spec: &MacroString<'_>,
        span: Span,
        depth: u32,
        label: &str,
        via: Via,
    ) -> Option<Qualifier> {
        let Some(target) = literal(spec) else {
            self.not_followed(domain, span, label);
            return None;
        };
        self.chain.push(label.to_owned());
        let result = if self.stack.contains(&target) {
            self.exact = false;
            self.push(
                domain,
                Finding::new(
                    codes::LOOP,
                    Severity::Error,
                    span,
                    format!("`{label}` leads back to {target}, already on this chain; receivers count terms until permerror"),
                    "remove the term that closes the loop",
                ),
            );
            None
        } else if depth + 1 > self.options.max_depth {
            self.limit(domain, span, "the analysis stops at its depth bound here");
            None
        } else {
            match self.dns.record(&target) {
                Fetched::Found(text) => match Record::parse(text) {
                    Ok(_) => self.walk(&target, text, depth + 1, Some(via)),
                    Err(e) => {
                        self.syntax(&target, e);
                        None
                    }
                },
                other => {
                    let what = match via {
                        Via::Include => "the include target",
                        Via::Redirect => "the redirect target",
                    };
                    self.unfetched(other, domain, &target, span, what);
                    None
                }
            }
        };
        self.chain.pop();
        result
    }

    /// A literal target, the current domain, or `None` (with a finding) for macros.
    fn resolvable(
        &mut self,
        domain: &str,
        spec: Option<&MacroString<'_>>,
        span: Span,
        what: &str,
    ) -> Option<String> {
        let t = target(spec, domain);
        if t.is_none() {
            self.not_followed(domain, span, what);
        }
        t
    }

    fn addresses(&mut self, domain: &str, span: Span, target: &str, term: &str) {
        self.address_voids(domain, span, target, &format!("`{term}`: {target}"));
    }

    /// Counts the void A and AAAA answers for `name` (what a receiver asks depends on
    /// the client's family); `what` names the lookup in findings.
    fn address_voids(&mut self, domain: &str, span: Span, name: &str, what: &str) {
        if let Some(voids) = self.address_lookups(domain, span, name) {
            self.family_voids(domain, span, voids, what, "records");
        }
    }

    /// Whether the A and the AAAA lookup of `name` are void, once both are known;
    /// reports their DNS failures, and `None` (with a finding) beyond the query bound.
    fn address_lookups(&mut self, domain: &str, span: Span, name: &str) -> Option<AddressVoids> {
        let v4 = self.dns.get(name, QueryType::A);
        let v6 = self.dns.get(name, QueryType::Aaaa);
        for (answer, qtype) in [(v4, QueryType::A), (v6, QueryType::Aaaa)] {
            if let Some(Answer::TempFail(reason)) = answer {
                self.dns_failure(domain, span, name, qtype, reason);
            }
        }
        let (Some(v4), Some(v6)) = (v4, v6) else {
            self.limit(domain, span, "the analysis reached its query bound");
            return None;
        };
        Some(AddressVoids::of(name, v4, v6))
    }

    /// One void-lookup finding for the families whose lookups were void; `records`
    /// says what was looked for ("records", or "records for any of N MX hosts").
    fn family_voids(
        &mut self,
        domain: &str,
        span: Span,
        voids: AddressVoids,
        what: &str,
        records: &str,
    ) {
        let (v4, v6) = (voids.v4, voids.v6);
        match (v4, v6) {
            (true, true) => self.void(
                domain,
                span,
                Family::Both,
                format!("{what} has no A or AAAA {records}"),
            ),
            (true, false) => self.void(
                domain,
                span,
                Family::V4,
                format!("{what} has no A {records} (a void lookup for IPv4 clients)"),
            ),
            (false, true) => self.void(
                domain,
                span,
                Family::V6,
                format!("{what} has no AAAA {records} (a void lookup for IPv6 clients)"),
            ),
            (false, false) => {}
        }
    }

    fn mx(&mut self, domain: &str, span: Span, target: &str, term: &str) {
        match self.dns.get(target, QueryType::Mx) {
            None => self.limit(domain, span, "the analysis reached its query bound"),
            Some(Answer::TempFail(reason)) => {
                self.dns_failure(domain, span, target, QueryType::Mx, reason)
            }
            Some(a) if is_void(target, a) => self.void(
                domain,
                span,
                Family::Both,
                format!("`{term}`: {target} has no MX records"),
            ),
            Some(Answer::Records(rs)) => {
                let exchanges = mx_exchanges(rs);
                let hosts = exchanges.len() as u32;
                self.mx_hosts.push(MxHosts {
                    chain: self.chain.clone(),
                    domain: domain.to_owned(),
                    span,
                    target: target.to_owned(),
                    hosts,
                });
                let limit = self.options.limits.mx_names;
                if hosts > limit {
                    self.exact = false;
                    self.push(
                        domain,
                        Finding::new(
                            codes::TOO_MANY_MX_HOSTS,
                            Severity::Error,
                            span,
                            format!("{target} has {hosts} MX hosts; receivers allow {limit} and return permerror"),
                            "list the outbound hosts with ip4/ip6 instead of `mx`",
                        ),
                    );
                    return;
                }
                match self.options.limits.void_counting {
                    // Every host's void address lookup counts, as the evaluator counts it.
                    VoidCounting::PerLookup => {
                        for host in exchanges {
                            let what = format!("`{term}`: MX host {host} of {target}");
                            self.address_voids(domain, span, &normalize(&host), &what);
                        }
                    }
                    // Once for the term, per family, when no host's lookup found any.
                    _ => {
                        let mut all = AddressVoids::default();
                        let mut bounded = false;
                        for host in &exchanges {
                            match self.address_lookups(domain, span, &normalize(host)) {
                                Some(host) => all.add(host),
                                None => bounded = true,
                            }
                        }
                        if !bounded {
                            let voids = all.per_term();
                            let what = format!("`{term}`: {target}");
                            let records = format!("records for any of its {hosts} MX hosts");
                            self.family_voids(domain, span, voids, &what, &records);
                        }
                    }
                }
            }
            Some(_) => {}
        }
    }

    /// `exists:` with a fixed name matches every client when the name has an A record.
    fn exists(&mut self, domain: &str, span: Span, target: &str, term: &str) -> bool {
        match self.dns.get(target, QueryType::A) {
            None => {
                self.limit(domain, span, "the analysis reached its query bound");
                false
            }
            Some(Answer::TempFail(reason)) => {
                self.dns_failure(domain, span, target, QueryType::A, reason);
                false
            }
            Some(a) if is_void(target, a) => {
                self.void(
                    domain,
                    span,
                    Family::Both,
                    format!("`{term}`: {target} has no A records"),
                );
                false
            }
            Some(Answer::Records(rs)) => rs.iter().any(|r| matches!(r, Rdata::A(_))),
            Some(_) => false,
        }
    }

    fn count_term(&mut self, domain: &str, span: Span, term: &str) {
        self.dns_terms += 1;
        let limit = self.options.limits.dns_terms;
        if self.dns_terms == limit + 1 {
            self.exact = false;
            self.push(
                domain,
                Finding::new(
                    codes::TOO_MANY_DNS_TERMS,
                    Severity::Error,
                    span,
                    format!("`{term}` is DNS-querying term number {}; receivers allow {limit} and return permerror here", limit + 1),
                    "flatten includes into ip4/ip6 networks or drop unused a/mx terms",
                ),
            );
        }
    }

    fn void(&mut self, domain: &str, span: Span, family: Family, message: String) {
        let limit = self.options.limits.void_lookups;
        let mut over = Vec::new();
        let (v4, v6) = match family {
            Family::V4 => (true, false),
            Family::V6 => (false, true),
            Family::Both => (true, true),
        };
        if v4 {
            self.voids.ipv4 += 1;
            if self.voids.ipv4 == limit + 1 {
                over.push("IPv4");
            }
        }
        if v6 {
            self.voids.ipv6 += 1;
            if self.voids.ipv6 == limit + 1 {
                over.push("IPv6");
            }
        }
        let severity = if v4 && v6 {
            Severity::Warning
        } else {
            Severity::Info
        };
        self.push(
            domain,
            Finding::new(
                codes::VOID_LOOKUP,
                severity,
                span,
                message,
                "remove the term or publish the records it looks for",
            ),
        );
        if !over.is_empty() {
            self.exact = false;
            self.push(
                domain,
                Finding::new(
                    codes::TOO_MANY_VOID_LOOKUPS,
                    Severity::Error,
                    span,
                    format!(
                        "void lookup number {} for {} clients; receivers allow {limit} and return permerror here",
                        limit + 1,
                        over.join(" and ")
                    ),
                    "remove terms that point at names without records",
                ),
            );
        }
    }

    fn not_followed(&mut self, domain: &str, span: Span, what: &str) {
        self.not_counted(
            domain,
            span,
            format!("`{what}` uses macros: its lookups depend on the sender and client and are not followed"),
            "nothing to fix if intended; validators cannot check it ahead of time",
        );
    }

    /// A term whose lookups depend on the transaction: the counts are no longer exact.
    fn not_counted(&mut self, domain: &str, span: Span, message: String, hint: &'static str) {
        self.exact = false;
        self.push(
            domain,
            Finding::new(codes::NOT_FOLLOWED, Severity::Info, span, message, hint),
        );
    }

    fn dns_failure(
        &mut self,
        domain: &str,
        span: Span,
        target: &str,
        qtype: QueryType,
        reason: &str,
    ) {
        self.exact = false;
        self.push(
            domain,
            Finding::new(
                codes::DNS_FAILURE,
                Severity::Warning,
                span,
                format!("the {qtype} lookup of {target} failed ({reason}); receivers would return temperror"),
                "check the name servers of that zone, then run the analysis again",
            ),
        );
    }

    fn limit(&mut self, domain: &str, span: Span, why: &str) {
        self.exact = false;
        let why = if self.capped {
            "the analysis reached its query bound"
        } else {
            why
        };
        self.push(
            domain,
            Finding::new(
                codes::ANALYSIS_LIMIT,
                Severity::Warning,
                span,
                format!("{why}; the counts below this point are incomplete"),
                "simplify the record tree",
            ),
        );
    }

    fn syntax(&mut self, target: &str, e: ParseError) {
        self.exact = false;
        let mut f = syntax_finding(&e);
        f.message = format!(
            "the record of {target} does not parse (receivers return permerror): {}",
            f.message
        );
        self.push(target, f);
    }

    /// Findings for a target whose record could not be walked.
    fn unfetched(
        &mut self,
        fetched: Fetched<'_>,
        domain: &str,
        target: &str,
        span: Span,
        what: &str,
    ) {
        match fetched {
            Fetched::NoRecord => {
                self.exact = false;
                self.push(
                    domain,
                    Finding::new(
                        codes::NO_RECORD,
                        Severity::Error,
                        span,
                        format!("{what} {target} has no SPF record (a record starting `v=spf1`)"),
                        "publish a record there or remove the reference",
                    ),
                );
            }
            Fetched::Multiple => {
                self.exact = false;
                self.push(
                    domain,
                    Finding::new(
                        codes::MULTIPLE_RECORDS,
                        Severity::Error,
                        span,
                        format!("{what} {target} publishes more than one SPF record; receivers return permerror"),
                        "merge them into one record",
                    ),
                );
            }
            Fetched::Syntax(e) => self.syntax(target, e),
            Fetched::TempFail(reason) => {
                self.dns_failure(domain, span, target, QueryType::Txt, reason)
            }
            Fetched::Unfetched => {
                self.limit(domain, span, "the analysis stops at its depth bound here")
            }
            Fetched::Found(_) => {}
        }
    }

    fn push(&mut self, domain: &str, mut f: Finding) {
        f.domain = domain.to_owned();
        f.chain = self.chain.clone();
        if self
            .reported
            .insert((f.code, f.domain.clone(), f.span, f.chain.clone()))
        {
            self.findings.push(f);
        }
    }
}
