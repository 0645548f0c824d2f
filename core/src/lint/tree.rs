//! The lookup analysis: fetch a domain's record tree, count what receivers count.
//!
//! [`Analysis`] first gathers DNS data in rounds (the record, then every
//! `include`/`redirect` target and the `a`/`mx`/`exists` names of each record, all
//! targets of one round in one batch), then walks the gathered records the way
//! [`crate::eval::Evaluator`] evaluates them for a client that no address-based
//! mechanism matches: the worst case, where a receiver reaches the end of the record.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use ipnet::IpNet;

use super::findings::{lint_record, syntax_finding};
use super::flatten::{self, Flattening};
use super::{Finding, Severity, codes};
use crate::dns::name::is_queryable_name;
use crate::dns::{Answer, AnswerError, Lookup, LookupId, QueryType, Rdata, normalize};
use crate::eval::{Limits, VoidCounting};
use crate::macros::MacroString;
use crate::record::{
    Mechanism, Modifier, ParseError, Qualifier, Record, Selection, Span, Term, select_record,
};

/// Walk steps (terms visited) before the analysis gives up; includes reached along
/// several paths are walked each time, so hostile trees could otherwise grow exponentially.
const MAX_STEPS: u32 = 10_000;

/// Bounds and limits of an [`Analysis`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// The receiver limits to check against (RFC 7208 defaults).
    pub limits: Limits,
    /// Deepest `include`/`redirect` nesting fetched (the checked domain is depth 0).
    pub max_depth: u32,
    /// Most lookups the analysis asks for; beyond it, parts stay unexplored.
    pub max_queries: u32,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            limits: Limits::default(),
            // A receiver stops after 10 DNS-querying terms, so a valid tree is at most 11 deep.
            max_depth: 16,
            max_queries: 400,
        }
    }
}

/// What the caller of an [`Analysis`] should do next.
pub type AnalysisStep<'a> = crate::dns::Step<'a, Report>;

/// Void lookups per client address family: `a` terms and the hosts of `mx` terms are
/// looked up as A records for IPv4 clients and AAAA records for IPv6 clients, so a name
/// with only A records costs IPv6 clients a void lookup. The MX lookup itself and
/// `exists` count for both. Counted as [`Limits::void_counting`] says, as the
/// evaluator counts them: an `mx` term's hosts count once for the term (per term) or
/// each (per lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VoidLookups {
    /// Counted when the client is IPv4.
    pub ipv4: u32,
    /// Counted when the client is IPv6.
    pub ipv6: u32,
}

/// The MX host count behind one `mx` term.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MxHosts {
    /// The chain to the record holding the term.
    pub chain: Vec<String>,
    /// The record holding the term.
    pub domain: String,
    /// The term's span in that record.
    pub span: Span,
    /// The name whose MX records were counted.
    pub target: String,
    /// MX hosts found (a receiver looks up at most 10).
    pub hosts: u32,
}

/// One record on the evaluation path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TreeRecord {
    /// How it was reached: the domain, then `include:`/`redirect=` steps.
    pub chain: Vec<String>,
    /// Its domain.
    pub domain: String,
    /// Nesting depth (0 for the checked domain).
    pub depth: u32,
    /// The record text.
    pub text: String,
}

/// The result of an [`Analysis`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The checked domain.
    pub domain: String,
    /// Every finding: static findings of each record on the path (with their chain),
    /// then limit, lookup and structure findings, in path order.
    pub findings: Vec<Finding>,
    /// DNS-querying terms along the whole path for a client nothing matches. Counting
    /// goes on past the limit and past errors, so every problem shows; a receiver stops
    /// at the first error.
    pub dns_terms: u32,
    /// Void lookups along the same path.
    pub void_lookups: VoidLookups,
    /// MX host counts, one per `mx` term on the path.
    pub mx_hosts: Vec<MxHosts>,
    /// Deepest include/redirect nesting on the path.
    pub depth: u32,
    /// The records walked, in evaluation order.
    pub records: Vec<TreeRecord>,
    /// True when the counts are exactly what every receiver counts for such a client:
    /// no errors, no DNS failures, no macros or `ptr` whose lookups depend on the
    /// client, and nothing beyond the analysis bounds.
    pub exact: bool,
    /// An equivalent record with resolved networks, when the domain's record parses.
    pub flattening: Option<Flattening>,
    /// Lookups handed out.
    pub queries: u32,
    /// Batches handed out.
    pub round_trips: u32,
}

impl Report {
    /// The most serious severity among the findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}

/// One lookup: the cache and the id space at once.
#[derive(Debug)]
struct Slot {
    name: String,
    qtype: QueryType,
    sent: bool,
    answer: Option<Answer>,
    /// Nesting depth of the record that needs it (TXT: of the record itself).
    depth: u32,
    /// Whether the answer's follow-up lookups were requested.
    processed: bool,
}

/// The DNS data gathered so far.
#[derive(Debug, Default)]
pub(super) struct Dns {
    slots: Vec<Slot>,
    index: HashMap<(String, QueryType), usize>,
}

/// A name's SPF record as gathered.
pub(super) enum Fetched<'a> {
    Found(&'a str),
    NoRecord,
    Multiple,
    Syntax(ParseError),
    TempFail(&'a str),
    Unfetched,
}

impl Dns {
    /// The answer for a lookup, if it was asked and answered.
    pub(super) fn get(&self, name: &str, qtype: QueryType) -> Option<&Answer> {
        let i = self.index.get(&(normalize(name), qtype))?;
        self.slots[*i].answer.as_ref()
    }

    /// The SPF record at `name`, selected like the evaluator does.
    pub(super) fn record(&self, name: &str) -> Fetched<'_> {
        let Some(answer) = self.get(name, QueryType::Txt) else {
            return Fetched::Unfetched;
        };
        let records = match answer {
            Answer::TempFail(reason) => return Fetched::TempFail(reason),
            Answer::NxDomain => return Fetched::NoRecord,
            Answer::Records(records) => records,
        };
        let txts: Vec<&[u8]> = records
            .iter()
            .filter_map(|r| match r {
                Rdata::Txt(t) => Some(t.as_slice()),
                _ => None,
            })
            .collect();
        match select_record(&txts) {
            Selection::NoRecord => Fetched::NoRecord,
            Selection::Multiple => Fetched::Multiple,
            Selection::One(i) => match Record::parse_bytes(txts[i]) {
                Err(e) => Fetched::Syntax(e),
                Ok(_) => match std::str::from_utf8(txts[i]) {
                    Ok(text) => Fetched::Found(text),
                    // Parsed records are ASCII; kept total rather than asserted.
                    Err(_) => Fetched::Unfetched,
                },
            },
        }
    }
}

/// The lookup analysis state machine.
///
/// ```
/// use spfgate::lint::{Analysis, AnalysisOptions};
/// use spfgate::zone::Zone;
/// let zone = Zone::from_json(r#"{
///     "example.com": [{"TXT": "v=spf1 include:_spf.example.net mx -all"}, {"MX": [10, "mx.example.com"]}],
///     "mx.example.com": [{"A": "192.0.2.25"}],
///     "_spf.example.net": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}]
/// }"#)?;
/// let report = Analysis::new("example.com", AnalysisOptions::default())
///     .run_with(|lookup| zone.resolve(lookup));
/// assert_eq!(report.dns_terms, 2);
/// assert_eq!(report.void_lookups.ipv4, 0);
/// assert_eq!(report.mx_hosts[0].hosts, 1);
/// let flat = report.flattening.unwrap();
/// assert_eq!(flat.record, "v=spf1 ip4:192.0.2.25 ip4:198.51.100.0/24 -all");
/// assert_eq!((flat.dns_terms_before, flat.dns_terms_after), (2, 0));
/// # Ok::<(), spfgate::zone::ZoneError>(())
/// ```
#[derive(Debug)]
pub struct Analysis {
    options: AnalysisOptions,
    domain: String,
    /// A record supplied by the caller instead of the published one.
    root_text: Option<String>,
    dns: Dns,
    fresh: Vec<Lookup>,
    capped: bool,
    queries: u32,
    round_trips: u32,
    report: Option<Report>,
}

impl Analysis {
    /// Starts analysing the record published at `domain`.
    pub fn new(domain: &str, options: AnalysisOptions) -> Self {
        let mut analysis = Self::start(domain, None, options);
        let root = analysis.domain.clone();
        analysis.need(&root, QueryType::Txt, 0);
        analysis
    }

    fn start(domain: &str, root_text: Option<String>, options: AnalysisOptions) -> Self {
        Analysis {
            options,
            domain: normalize(domain),
            root_text,
            dns: Dns::default(),
            fresh: Vec::new(),
            capped: false,
            queries: 0,
            round_trips: 0,
            report: None,
        }
    }

    /// Starts analysing `text` as if it were published at `domain` (a draft record);
    /// its targets are fetched as usual.
    pub fn with_record(domain: &str, text: &str, options: AnalysisOptions) -> Self {
        let mut analysis = Self::start(domain, Some(text.to_owned()), options);
        let root = analysis.domain.clone();
        analysis.request_targets(text, &root, 0);
        analysis
    }

    /// Advances as far as the answers allow and says what is needed next.
    pub fn poll(&mut self) -> AnalysisStep<'_> {
        // Follow-ups are requested once every lookup handed out is answered, in slot
        // order: the order answers come in then cannot change which lookups fit under
        // the query bound, nor the report.
        let answered = self.dns.slots.iter().all(|s| !s.sent || s.answer.is_some());
        if self.report.is_none() && answered {
            self.process();
            if self.fresh.is_empty() && self.dns.slots.iter().all(|s| s.answer.is_some()) {
                self.report = Some(self.build_report());
            }
        }
        if let Some(report) = &self.report {
            return AnalysisStep::Done(report);
        }
        if self.fresh.is_empty() {
            return AnalysisStep::Pending;
        }
        self.round_trips += 1;
        self.queries += self.fresh.len() as u32;
        for lookup in &self.fresh {
            self.dns.slots[lookup.id.0 as usize].sent = true;
        }
        AnalysisStep::Lookups(std::mem::take(&mut self.fresh))
    }

    /// Supplies the answer to a lookup handed out by [`poll`](Self::poll), in any
    /// order, owned or lent (a lent answer is copied).
    pub fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError> {
        self.store(id, answer.borrow().clone())
    }

    fn store(&mut self, id: LookupId, answer: Answer) -> Result<(), AnswerError> {
        let slot = self
            .dns
            .slots
            .get_mut(id.0 as usize)
            .filter(|s| s.sent)
            .ok_or(AnswerError::UnknownId(id))?;
        if slot.answer.is_some() {
            return Err(AnswerError::AlreadyAnswered(id));
        }
        slot.answer = Some(answer);
        Ok(())
    }

    /// Supplies a raw DNS response message to a lookup; see
    /// [`Evaluator::answer_wire`](crate::eval::Evaluator::answer_wire).
    pub fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError> {
        let slot = self
            .dns
            .slots
            .get(id.0 as usize)
            .filter(|s| s.sent)
            .ok_or(AnswerError::UnknownId(id))?;
        let lookup = Lookup {
            id,
            name: slot.name.clone(),
            qtype: slot.qtype,
        };
        let answer = match crate::dns::wire::decode_response(&lookup, None, message) {
            Ok(answer) => answer,
            Err(crate::dns::wire::WireError::Truncated) => return Err(AnswerError::Truncated(id)),
            Err(e) => e.into_answer(),
        };
        self.store(id, answer)
    }

    /// The report, once finished.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Drives the analysis to the end with a synchronous resolver (zones, tests).
    pub fn run_with(mut self, mut resolve: impl FnMut(&Lookup) -> Answer) -> Report {
        while let AnalysisStep::Lookups(batch) = self.poll() {
            for lookup in batch {
                let answer = resolve(&lookup);
                // Ids come straight from this batch, so answering cannot fail.
                let _ = self.store(lookup.id, answer);
            }
        }
        match self.report {
            Some(report) => report,
            // Unreachable: every lookup of every batch was answered above.
            None => self.build_report(),
        }
    }

    // ----- gathering ------------------------------------------------------------

    /// Requests a lookup unless it is known; invalid names are answered NXDOMAIN locally,
    /// as the evaluator does.
    fn need(&mut self, name: &str, qtype: QueryType, depth: u32) {
        let name = normalize(name);
        if let Some(&i) = self.dns.index.get(&(name.clone(), qtype)) {
            let slot = &mut self.dns.slots[i];
            if depth < slot.depth {
                // Reached closer to the top than before: its targets may now be in reach.
                slot.depth = depth;
                slot.processed = false;
            }
            return;
        }
        if self.dns.slots.len() as u32 >= self.options.max_queries {
            self.capped = true;
            return;
        }
        let id = LookupId(self.dns.slots.len() as u32);
        let local = !is_queryable_name(name.as_bytes());
        if !local {
            self.fresh.push(Lookup {
                id,
                name: name.clone(),
                qtype,
            });
        }
        self.dns.index.insert((name.clone(), qtype), id.0 as usize);
        self.dns.slots.push(Slot {
            name,
            qtype,
            sent: false,
            answer: local.then_some(Answer::NxDomain),
            depth,
            processed: false,
        });
    }

    /// Requests the follow-up lookups of every answered, unprocessed slot.
    fn process(&mut self) {
        loop {
            let Some(i) = self
                .dns
                .slots
                .iter()
                .position(|s| s.answer.is_some() && !s.processed)
            else {
                return;
            };
            self.dns.slots[i].processed = true;
            let (name, qtype, depth) = {
                let s = &self.dns.slots[i];
                (s.name.clone(), s.qtype, s.depth)
            };
            match qtype {
                QueryType::Txt => {
                    if let Fetched::Found(text) = self.dns.record(&name) {
                        let text = text.to_owned();
                        self.request_targets(&text, &name, depth);
                    }
                }
                QueryType::Mx => {
                    let hosts = match self.dns.get(&name, QueryType::Mx) {
                        Some(Answer::Records(rs)) => mx_exchanges(rs),
                        _ => Vec::new(),
                    };
                    // More hosts than a receiver allows is a permerror: no addresses needed.
                    if hosts.len() <= self.options.limits.mx_names as usize {
                        for host in hosts {
                            self.need(&host, QueryType::A, depth);
                            self.need(&host, QueryType::Aaaa, depth);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Requests what the terms of the record of `domain` need.
    fn request_targets(&mut self, text: &str, domain: &str, depth: u32) {
        let Ok(record) = Record::parse(text) else {
            return;
        };
        for d in record.directives() {
            match &d.mechanism {
                Mechanism::Include(spec) => {
                    if let Some(t) = literal(spec)
                        && depth < self.options.max_depth
                    {
                        self.need(&t, QueryType::Txt, depth + 1);
                    }
                }
                Mechanism::A { domain: spec, .. } => {
                    if let Some(t) = target(spec.as_ref(), domain) {
                        self.need(&t, QueryType::A, depth);
                        self.need(&t, QueryType::Aaaa, depth);
                    }
                }
                Mechanism::Mx { domain: spec, .. } => {
                    if let Some(t) = target(spec.as_ref(), domain) {
                        self.need(&t, QueryType::Mx, depth);
                    }
                }
                Mechanism::Exists(spec) => {
                    if let Some(t) = literal(spec) {
                        self.need(&t, QueryType::A, depth);
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = record.redirect().and_then(literal)
            && depth < self.options.max_depth
        {
            self.need(&t, QueryType::Txt, depth + 1);
        }
    }

    // ----- the report -------------------------------------------------------------

    fn build_report(&self) -> Report {
        let mut walk = Walk::new(&self.dns, &self.options);
        walk.capped = self.capped;
        walk.root(&self.domain, self.root_text.as_deref());
        let flattening = flatten::flatten(
            &self.dns,
            &self.options,
            &self.domain,
            self.root_text.as_deref(),
            walk.dns_terms,
        );
        Report {
            domain: self.domain.clone(),
            findings: walk.findings,
            dns_terms: walk.dns_terms,
            void_lookups: walk.voids,
            mx_hosts: walk.mx_hosts,
            depth: walk.depth,
            records: walk.records,
            exact: walk.exact,
            flattening,
            queries: self.queries,
            round_trips: self.round_trips,
        }
    }
}

/// What the A and AAAA lookups of names found: void lookups, and lookups with records.
#[derive(Clone, Copy, Default)]
struct AddressVoids {
    v4: bool,
    v6: bool,
    v4_found: bool,
    v6_found: bool,
}

impl AddressVoids {
    /// Gathers another name's lookups.
    fn add(&mut self, other: AddressVoids) {
        self.v4 |= other.v4;
        self.v6 |= other.v6;
        self.v4_found |= other.v4_found;
        self.v6_found |= other.v6_found;
    }

    /// Void for the term when some lookup was void and none found records.
    fn per_term(self) -> AddressVoids {
        AddressVoids {
            v4: self.v4 && !self.v4_found,
            v6: self.v6 && !self.v6_found,
            ..self
        }
    }
}

/// Which client families a void lookup counts for.
#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
    Both,
}

/// The worst-case walk over gathered data.
pub(super) struct Walk<'a> {
    dns: &'a Dns,
    options: &'a AnalysisOptions,
    capped: bool,
    findings: Vec<Finding>,
    reported: HashSet<(&'static str, String, Span, Vec<String>)>,
    linted: HashSet<String>,
    pub(super) dns_terms: u32,
    voids: VoidLookups,
    mx_hosts: Vec<MxHosts>,
    depth: u32,
    records: Vec<TreeRecord>,
    exact: bool,
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
                    self.walk(domain, text, 0, false);
                }
            }
            other => self.unfetched(other, domain, domain, Span::default(), "the domain"),
        }
    }

    /// Walks one record; `Some(qualifier)` when a directive matched (the record's result).
    fn walk(
        &mut self,
        domain: &str,
        text: &str,
        depth: u32,
        via_include: bool,
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
                if f.code == codes::TOO_MANY_DNS_TERMS || (via_include && f.code == codes::NO_ALL) {
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
                    self.follow(domain, spec, span, depth, &label, true) == Some(Qualifier::Pass)
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
        self.follow(domain, spec, span, depth, &label, false)
    }

    /// Follows an include or redirect; the target record's result.
    fn follow(
        &mut self,
        domain: &str,
        spec: &MacroString<'_>,
        span: Span,
        depth: u32,
        label: &str,
        include: bool,
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
                    Ok(_) => self.walk(&target, text, depth + 1, include),
                    Err(e) => {
                        self.syntax(&target, e);
                        None
                    }
                },
                other => {
                    let what = if include {
                        "the include target"
                    } else {
                        "the redirect target"
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
        let queryable = is_queryable_name(name.as_bytes());
        Some(AddressVoids {
            v4: is_void(name, v4),
            v6: is_void(name, v6),
            v4_found: queryable && !v4.is_void(),
            v6_found: queryable && !v6.is_void(),
        })
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

/// A void lookup (RFC 7208 §4.6.4): NXDOMAIN or no records, from a name that was asked.
/// Names DNS cannot carry are answered NXDOMAIN without asking, and are not void
/// lookups, as in the evaluator.
fn is_void(name: &str, answer: &Answer) -> bool {
    answer.is_void() && is_queryable_name(name.as_bytes())
}

/// The exchange names of an MX answer.
fn mx_exchanges(records: &[Rdata]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match r {
            Rdata::Mx { exchange, .. } => Some(exchange.clone()),
            _ => None,
        })
        .collect()
}

/// A target without macros, normalized and truncated to 253 octets as the evaluator
/// truncates every domain-spec (RFC 7208 §4.8, §7.3); `None` when it needs the sender
/// or client.
pub(super) fn literal(spec: &MacroString<'_>) -> Option<String> {
    spec.is_literal().then(|| {
        let mut name = normalize(spec.as_str());
        name.drain(..crate::macros::domain_truncation(name.as_bytes()));
        name
    })
}

/// A mechanism's target: its literal domain-spec or the current domain.
pub(super) fn target(spec: Option<&MacroString<'_>>, domain: &str) -> Option<String> {
    match spec {
        None => Some(normalize(domain)),
        Some(spec) => literal(spec),
    }
}

/// A network of an address answer to a `qtype` query, at a prefix length, without
/// host bits. Records of the other family in the answer are ignored, as the
/// evaluator ignores them: an `a` term only ever asks for the client's family.
pub(super) fn address_network(r: &Rdata, qtype: QueryType, v4: u8, v6: u8) -> Option<IpNet> {
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
