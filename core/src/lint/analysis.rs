//! The lookup analysis: fetch a domain's record tree, count what receivers count.
//!
//! [`Analysis`] first gathers DNS data in rounds (the record, then every
//! `include`/`redirect` target and the `a`/`mx`/`exists` names of each record, all
//! targets of one round in one batch), then walks the gathered records the way
//! [`crate::eval::Evaluator`] evaluates them for a client that no address-based
//! mechanism matches: the worst case, where a receiver reaches the end of the record.

use std::borrow::Borrow;

use super::flatten;
use super::gather::{Dns, Fetched, Slot, literal, mx_exchanges, target};
use super::report::{AnalysisOptions, Report};
use super::walk::Walk;
use crate::dns::name::is_queryable_name;
use crate::dns::{Answer, AnswerError, Engine, Lookup, LookupId, QueryType, normalize};
use crate::record::{Mechanism, Record};

/// What the caller of an [`Analysis`] should do next.
pub type AnalysisStep<'a> = crate::dns::Step<'a, Report>;

/// The lookup analysis state machine.
///
/// ```
/// # #[cfg(feature = "zone")]
/// # fn main() -> Result<(), spfgate::zone::ZoneError> {
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
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "zone"))]
/// # fn main() {}
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

impl Engine for Analysis {
    type Output = Report;

    fn poll(&mut self) -> AnalysisStep<'_> {
        Analysis::poll(self)
    }

    fn answer(&mut self, id: LookupId, answer: impl Borrow<Answer>) -> Result<(), AnswerError> {
        Analysis::answer(self, id, answer)
    }

    fn answer_wire(&mut self, id: LookupId, message: &[u8]) -> Result<(), AnswerError> {
        Analysis::answer_wire(self, id, message)
    }

    fn output(&self) -> Option<&Report> {
        self.report()
    }
}
