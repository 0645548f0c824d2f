//! Slots: every lookup of an evaluation, at once its cache and its id space, and
//! the answers they hold; asking for a lookup counts it as its purpose says.

use super::compiled::{Str, compile};
use super::digest::Digest;
use super::{Evaluator, Problem, TraceEvent};
use crate::dns::name::is_queryable_name;
use crate::dns::{Answer, Lookup, LookupId, QueryType};
use crate::record::{ParseError, Selection};

/// A lookup to be overwritten by `write_lookup`; its empty name allocates nothing.
pub(super) const NO_LOOKUP: Lookup = Lookup {
    id: LookupId(0),
    name: String::new(),
    qtype: QueryType::Txt,
};

/// One lookup of this evaluation: the cache and the id space at once.
#[derive(Debug)]
pub(super) struct Slot {
    /// As asked (any case, no final dot), in the text arena.
    pub(super) name: Str,
    pub(super) qtype: QueryType,
    pub(super) sent: bool,
    /// Asked ahead of need.
    pub(super) prefetch: bool,
    /// Needed by a term (or the record fetch): counted against the query cap.
    /// A prefetched slot is needed once a term asks for it.
    pub(super) needed: bool,
    /// A prefetched record whose own targets were prefetched in turn.
    pub(super) scanned: bool,
    pub(super) answer: Option<Digest>,
    /// For TXT answers: which record is the SPF record, found when the answer came.
    pub(super) spf: Selection,
    /// For TXT answers: the SPF record selected and compiled, once asked for.
    pub(super) record: Option<Selected>,
    /// Why the selected record did not compile, until a frame reports it.
    pub(super) error: Option<Box<ParseError>>,
}

/// What a TXT answer holds for SPF, compiled once however often it is used.
#[derive(Debug, Clone, Copy)]
pub(super) enum Selected {
    TempFail,
    NoRecord,
    Multiple,
    /// One SPF record that does not parse.
    Invalid,
    /// One SPF record: the index of its [`Op::Record`](super::compiled::Op::Record) header.
    Record(u32),
}

/// Why a lookup is asked for, which decides what it counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// A term or a record fetch needs it now: it counts against the query cap.
    Need,
    /// As [`Need`](Self::Need), for a name that passed
    /// [`is_valid_domain`](crate::dns::name::is_valid_domain) and so is queryable.
    NeedValidDomain,
    /// Asked ahead of need: it counts against the prefetch bound only, until a term
    /// needs it.
    Prefetch,
}

/// An availability check on a lookup, with its slot.
pub(super) enum Got {
    Ready(usize),
    Waiting(usize),
}
impl Evaluator {
    /// Marks the lookups opened since the last batch as sent and counts them as one
    /// round trip; `None` when there are none. The returned slots include names
    /// answered locally, which are not sent.
    pub(super) fn hand_out(&mut self) -> Option<std::ops::Range<usize>> {
        let batch = self.handed..self.slots.len();
        self.handed = self.slots.len();
        let mut sent = 0;
        for slot in &mut self.slots[batch.clone()] {
            if slot.answer.is_none() {
                slot.sent = true;
                sent += 1;
            }
        }
        if sent == 0 {
            return None;
        }
        self.counts.round_trips += 1;
        self.counts.queries += sent;
        if self.config.trace {
            self.trace_queries(batch.clone());
        }
        Some(batch)
    }

    /// Traces the lookups of a batch as it is handed out, so that a lookup opened
    /// but never sent (a prefetch the evaluation finished without) does not show.
    /// Out of line: untraced evaluations never run it.
    #[cold]
    #[inline(never)]
    pub(super) fn trace_queries(&mut self, batch: std::ops::Range<usize>) {
        for slot in batch.filter(|&slot| self.slots[slot].sent) {
            let Lookup { id, name, qtype } = self.lookup_at(slot as u32);
            let prefetch = self.slots[slot].prefetch;
            self.trace.push(TraceEvent::Query {
                id,
                name,
                qtype,
                prefetch,
            });
        }
    }

    pub(super) fn id_of(&self, slot: u32) -> LookupId {
        LookupId(self.first_id.wrapping_add(slot))
    }

    /// The lookup of a slot, its name in lower case so that callers can key caches
    /// and zones on the name as given.
    pub(super) fn lookup_at(&self, slot: u32) -> Lookup {
        let mut lookup = NO_LOOKUP;
        self.write_lookup(slot, &mut lookup);
        lookup
    }

    /// Overwrites `lookup` with the lookup of a slot, reusing its name's buffer.
    pub(super) fn write_lookup(&self, slot: u32, lookup: &mut Lookup) {
        let s = &self.slots[slot as usize];
        lookup.id = self.id_of(slot);
        lookup.qtype = s.qtype;
        lookup.name.clear();
        lookup.name.push_str(s.name.get(&self.text));
        lookup.name.make_ascii_lowercase();
    }

    /// Stores the answer of a sent, unanswered slot.
    pub(super) fn take_answer(&mut self, slot: usize, answer: &Answer) {
        if self.config.trace && !self.done {
            self.trace.push(TraceEvent::Answer {
                id: self.id_of(slot as u32),
                answer: answer.to_string(),
            });
        }
        let slot = &mut self.slots[slot];
        let (digest, spf) = self.answers.digest(answer, slot.qtype, &mut self.text);
        slot.answer = Some(digest);
        slot.spf = spf;
    }

    /// The slot already asked for `name` (any case).
    pub(super) fn find(&self, qtype: QueryType, name: &[u8]) -> Option<Got> {
        let i = self.slots.iter().position(|s| {
            // Type and length first, which rule out most slots without reading text.
            // Names mostly come back in the case they were first asked in: compare
            // bytes, and fold case only when that fails.
            s.qtype == qtype && s.name.len() == name.len() && {
                let asked = s.name.bytes(&self.text);
                asked == name || asked.eq_ignore_ascii_case(name)
            }
        })?;
        Some(self.got(i))
    }

    pub(super) fn got(&self, slot: usize) -> Got {
        match self.slots[slot].answer {
            Some(_) => Got::Ready(slot),
            None => Got::Waiting(slot),
        }
    }

    /// [`find_or_ask`](Self::find_or_ask) for the first lookup of the current frame's
    /// step, remembered in [`Frame::asked`](super::frames::Frame::asked) while it is
    /// waited for.
    pub(super) fn need_first(
        &mut self,
        qtype: QueryType,
        name: Str,
        purpose: Purpose,
    ) -> Result<Got, Problem> {
        if let Some(slot) = self.frames.last().and_then(|frame| frame.asked) {
            return Ok(self.got(slot as usize));
        }
        let got = self.find_or_ask(qtype, name, purpose)?;
        if let (Got::Waiting(slot), Some(frame)) = (&got, self.frames.last_mut()) {
            frame.asked = Some(*slot as u32);
        }
        Ok(got)
    }

    /// Finds or requests a lookup a term needs now, of a name in the arena. Names DNS
    /// cannot carry are answered locally with NXDOMAIN.
    pub(super) fn need(&mut self, qtype: QueryType, name: Str) -> Result<Got, Problem> {
        self.find_or_ask(qtype, name, Purpose::Need)
    }

    /// Finds or requests a lookup of a name in the arena, counted as `purpose` says.
    pub(super) fn find_or_ask(
        &mut self,
        qtype: QueryType,
        name: Str,
        purpose: Purpose,
    ) -> Result<Got, Problem> {
        let name = name.strip_dot(&self.text);
        match self.find(qtype, name.bytes(&self.text)) {
            Some(got) => {
                if purpose != Purpose::Prefetch {
                    let (Got::Ready(slot) | Got::Waiting(slot)) = got;
                    self.claim(slot)?;
                }
                Ok(got)
            }
            None => self.ask(qtype, name, purpose),
        }
    }

    /// Opens a slot for a name not asked before (already without its final dot).
    pub(super) fn ask(
        &mut self,
        qtype: QueryType,
        name: Str,
        purpose: Purpose,
    ) -> Result<Got, Problem> {
        let index = self.slots.len();
        let checked = purpose == Purpose::NeedValidDomain;
        debug_assert!(!checked || is_queryable_name(name.bytes(&self.text)));
        let queryable = checked || is_queryable_name(name.bytes(&self.text));
        if purpose == Purpose::Prefetch {
            // Bounded by `prefetch_target`, and by nothing a term needs.
            self.counts.prefetched += 1;
        } else {
            if queryable {
                self.check_cap()?;
            }
            self.counts.needed += 1;
        }
        if !queryable {
            self.slots
                .push(Slot::new(name, qtype, purpose, Some(Digest::Unqueryable)));
            return Ok(Got::Ready(index));
        }
        self.slots.push(Slot::new(name, qtype, purpose, None));
        Ok(Got::Waiting(index))
    }

    pub(super) fn answer_at(&self, slot: usize) -> Digest {
        self.slots[slot]
            .answer
            .unwrap_or_else(|| unreachable!("Got::Ready only for answered slots"))
    }

    /// What an answered TXT lookup holds for SPF, compiling the record the first time.
    pub(super) fn select(&mut self, slot: usize) -> Selected {
        let Slot {
            answer,
            spf,
            record,
            error,
            ..
        } = &mut self.slots[slot];
        if let Some(selected) = *record {
            return selected;
        }
        let answer =
            answer.unwrap_or_else(|| unreachable!("only answered slots are selected from"));
        let selected = match answer {
            Digest::TempFail(_) => Selected::TempFail,
            answer => match *spf {
                Selection::NoRecord => Selected::NoRecord,
                Selection::Multiple => Selected::Multiple,
                Selection::One(i) => {
                    let text = self.answers.txt(answer, i);
                    match compile(text, &mut self.ops, &mut self.text) {
                        Ok(header) => Selected::Record(header),
                        Err(e) => {
                            *error = Some(e);
                            Selected::Invalid
                        }
                    }
                }
            },
        };
        *record = Some(selected);
        selected
    }
}

impl Slot {
    pub(super) fn new(
        name: Str,
        qtype: QueryType,
        purpose: Purpose,
        answer: Option<Digest>,
    ) -> Self {
        let prefetch = purpose == Purpose::Prefetch;
        Slot {
            name,
            qtype,
            sent: false,
            prefetch,
            needed: !prefetch,
            scanned: false,
            answer,
            spf: Selection::NoRecord,
            record: None,
            error: None,
        }
    }
}
