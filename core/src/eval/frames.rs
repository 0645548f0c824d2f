//! Frames: one `check_host()` invocation each (the checked domain, an include's
//! target, a redirect's), fetching its record and running its directives.

use super::compiled::{self, Header, Mech, Op, Str, directive_text};
use super::digest::Digest;
use super::slots::{Got, Purpose, Selected};
use super::terms::TermStep;
use super::{Evaluator, Problem, SpfResult, TraceEvent};
use crate::dns::QueryType;
use crate::record::{Qualifier, Record, Selection};

/// How a frame's result is used by its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameKind {
    /// The evaluation's own domain (or a redirect taking its place).
    Top,
    /// The target of an `include` in the frame below.
    Include,
    /// A redirect target; `none` there is a permerror.
    Redirect { top: bool },
}

/// One `check_host()` invocation on the stack.
#[derive(Debug)]
pub(super) struct Frame {
    pub(super) domain: Str,
    pub(super) kind: FrameKind,
    pub(super) depth: u32,
    /// The selected record's [`Op::Record`] header, once fetched.
    pub(super) record: Option<u32>,
    /// Index of the directive being evaluated.
    pub(super) next: u32,
    /// Whether the current term has been counted against the DNS-term limit.
    pub(super) counted: bool,
    /// Result of the include child of the current term, once finished.
    pub(super) child: Option<SpfResult>,
    /// The slot of the first lookup the current step (the record fetch, then each
    /// term) waits for: the step runs again when answers arrive and finds its slot
    /// without searching the slots by name.
    pub(super) asked: Option<u32>,
    /// Whether the void lookups of the client's validation have been counted for the
    /// current term's `%{p}`: once per term, however often it runs.
    pub(super) p_counted: bool,
}

/// Where a blocked step stands.
pub(super) enum Flow {
    Continue,
    Blocked,
}

/// The result of the top-level `check_host()`, before explanation and counters.
pub(super) struct Verdict {
    pub(super) result: SpfResult,
    /// The directive that decided.
    pub(super) matched: Option<(Qualifier, Mech)>,
    /// The domain whose record decided, in the text arena.
    pub(super) domain: Str,
    pub(super) problem: Option<Problem>,
}
impl Evaluator {
    pub(super) fn step_fetch(&mut self) -> Flow {
        let frame = self.frames.last().unwrap_or_else(|| unreachable!());
        let (domain, depth, kind) = (frame.domain, frame.depth, frame.kind);
        // The top frame's domain is the sender's, which `begin` checked.
        let purpose = match kind {
            FrameKind::Top => Purpose::NeedValidDomain,
            _ => Purpose::Need,
        };
        let slot = match self.need_first(QueryType::Txt, domain, purpose) {
            Ok(Got::Ready(slot)) => slot,
            Ok(Got::Waiting(_)) => return Flow::Blocked,
            Err(problem) => {
                self.fail_with(SpfResult::PermError, problem);
                return Flow::Continue;
            }
        };
        let (result, problem) = match self.select(slot) {
            Selected::Record(header) => {
                if self.config.trace {
                    self.trace_record(slot, domain, depth);
                }
                let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
                frame.record = Some(header);
                frame.asked = None;
                return Flow::Continue;
            }
            Selected::TempFail => {
                let Digest::TempFail(reason) = self.answer_at(slot) else {
                    unreachable!("selected as a temporary failure")
                };
                let problem = Problem::DnsFailure {
                    name: self.owned(domain),
                    qtype: QueryType::Txt,
                    reason: self.owned(reason),
                };
                (SpfResult::TempError, problem)
            }
            Selected::Multiple => (
                SpfResult::PermError,
                Problem::MultipleRecords(self.owned(domain)),
            ),
            Selected::Invalid => {
                let error = match self.slots[slot].error.take() {
                    Some(error) => *error,
                    // Taken already; a broken record ends the evaluation, so this is
                    // defensive: parse again for the error.
                    None => {
                        let Selection::One(i) = self.slots[slot].spf else {
                            unreachable!("selected as one record")
                        };
                        Record::parse_bytes(self.answers.txt(self.answer_at(slot), i))
                            .err()
                            .unwrap_or_else(|| unreachable!("the record did not compile"))
                    }
                };
                let domain = self.owned(domain);
                (SpfResult::PermError, Problem::Syntax { domain, error })
            }
            Selected::NoRecord => {
                let name = self.owned(domain);
                let problem = match kind {
                    FrameKind::Redirect { .. } => Problem::RedirectNone(name),
                    FrameKind::Include => Problem::IncludeNone(name),
                    FrameKind::Top => Problem::NoRecord(name),
                };
                (SpfResult::None, problem)
            }
        };
        self.end_frame(result, None, Some(problem));
        Flow::Continue
    }

    pub(super) fn trace_record(&mut self, slot: usize, domain: Str, depth: u32) {
        let Selection::One(i) = self.slots[slot].spf else {
            unreachable!("selected as one record")
        };
        let text = self.answers.txt(self.answer_at(slot), i);
        let text = String::from_utf8_lossy(text).into_owned();
        self.trace.push(TraceEvent::Record {
            domain: domain.get(&self.text).to_owned(),
            text,
            depth,
        });
    }

    pub(super) fn step_run(&mut self) -> Flow {
        let frame = self.frames.last().unwrap_or_else(|| unreachable!());
        let header = frame.record.unwrap_or_else(|| unreachable!());
        let (domain, depth) = (frame.domain, frame.depth);
        let first_visit = frame.next == 0 && !frame.counted;
        let Header {
            directives,
            redirect,
            ..
        } = compiled::header(&self.ops, header);
        if first_visit && self.config.prefetch {
            self.prefetch(header, domain);
        }
        loop {
            let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
            if frame.next >= directives {
                break;
            }
            let Op::Directive(qualifier, mech) = self.ops[(header + 1 + frame.next) as usize]
            else {
                unreachable!("a record's directives follow its header")
            };
            match self.eval_mech(mech, domain) {
                TermStep::Blocked => return Flow::Blocked,
                TermStep::Error(result, problem) => {
                    self.fail_with(result, problem);
                    return Flow::Continue;
                }
                TermStep::Include(target) => {
                    let child = Frame::new(target, FrameKind::Include, depth + 1);
                    self.frames.push(child);
                    return Flow::Continue;
                }
                TermStep::Matched => {
                    if self.config.trace {
                        self.trace_term(domain, qualifier, mech, true, depth);
                    }
                    let result = qualifier_result(qualifier);
                    self.end_frame(result, Some((qualifier, mech)), None);
                    return Flow::Continue;
                }
                TermStep::NoMatch => {
                    if self.config.trace {
                        self.trace_term(domain, qualifier, mech, false, depth);
                    }
                    let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
                    frame.next += 1;
                    frame.counted = false;
                    frame.child = None;
                    frame.asked = None;
                    frame.p_counted = false;
                }
            }
        }
        // No directive matched: follow redirect, else neutral.
        if let Some(spec) = redirect {
            if let Err(problem) = self.count_term() {
                self.fail_with(SpfResult::PermError, problem);
                return Flow::Continue;
            }
            let target = match self.target(Some(spec), domain) {
                Ok(target) => target,
                Err(TermStep::Error(result, problem)) => {
                    self.fail_with(result, problem);
                    return Flow::Continue;
                }
                Err(_) => return Flow::Blocked,
            };
            let frame = self.frames.last_mut().unwrap_or_else(|| unreachable!());
            let top = match frame.kind {
                FrameKind::Top => true,
                FrameKind::Redirect { top } => top,
                FrameKind::Include => false,
            };
            *frame = Frame::new(target, FrameKind::Redirect { top }, depth);
            return Flow::Continue;
        }
        self.end_frame(SpfResult::Neutral, None, None);
        Flow::Continue
    }

    pub(super) fn trace_term(
        &mut self,
        domain: Str,
        qualifier: Qualifier,
        mech: Mech,
        matched: bool,
        depth: u32,
    ) {
        self.trace.push(TraceEvent::Term {
            domain: domain.get(&self.text).to_owned(),
            term: directive_text(qualifier, mech, &self.text),
            matched,
            depth,
        });
    }

    /// Ends the top frame with `result`, handing it to the parent or finishing.
    /// `matched` is the directive that decided, shown in the outcome.
    pub(super) fn end_frame(
        &mut self,
        result: SpfResult,
        matched: Option<(Qualifier, Mech)>,
        problem: Option<Problem>,
    ) {
        let frame = self.frames.pop().unwrap_or_else(|| unreachable!());
        let is_top = match frame.kind {
            FrameKind::Top => true,
            FrameKind::Redirect { top } => top,
            FrameKind::Include => false,
        };
        if is_top {
            // `none` after a redirect is a permerror (RFC 7208 §6.1).
            let result = match (frame.kind, result) {
                (FrameKind::Redirect { .. }, SpfResult::None) => SpfResult::PermError,
                _ => result,
            };
            let verdict = Verdict {
                result,
                matched,
                domain: frame.domain,
                problem,
            };
            match (result, frame.record) {
                (SpfResult::Fail, Some(header)) => self.start_explanation(header, verdict),
                _ => self.finish(verdict, None),
            }
            return;
        }
        // Include (or a redirect inside an include): map the result (RFC 7208 §5.2).
        match result {
            SpfResult::Pass | SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => {
                if let Some(parent) = self.frames.last_mut() {
                    parent.child = Some(result);
                }
            }
            SpfResult::TempError | SpfResult::PermError | SpfResult::None => {
                // step_fetch already named the include or redirect that found no record.
                let problem =
                    problem.unwrap_or_else(|| Problem::IncludeNone(self.owned(frame.domain)));
                let result = match result {
                    SpfResult::TempError => SpfResult::TempError,
                    _ => SpfResult::PermError,
                };
                self.finish(Verdict::error(result, frame.domain, problem), None);
            }
        }
    }
}

impl Verdict {
    pub(super) fn error(result: SpfResult, domain: Str, problem: Problem) -> Self {
        Verdict {
            result,
            matched: None,
            domain,
            problem: Some(problem),
        }
    }
}

impl Frame {
    pub(super) fn new(domain: Str, kind: FrameKind, depth: u32) -> Self {
        Frame {
            domain,
            kind,
            depth,
            record: None,
            next: 0,
            counted: false,
            child: None,
            asked: None,
            p_counted: false,
        }
    }
}
pub(super) fn qualifier_result(q: Qualifier) -> SpfResult {
    match q {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}
