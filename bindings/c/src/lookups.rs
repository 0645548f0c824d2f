//! The poll/answer loop of any core engine (the evaluator, the policy
//! decision): what `poll` says, the batch of lookups it hands out, and the
//! answers, written once for every handle.

use spfgate_core::dns::{Answer, AnswerError, Engine, Lookup, LookupId, Step};

use crate::answer::spfgate_answer;
use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, bytes};

/// What a `poll` says to do next.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_step {
    /// Finished: read the results. Every later poll says `DONE` again.
    SPFGATE_STEP_DONE = 0,
    /// Lookups handed out earlier are unanswered; nothing new to send. Wait
    /// for answers (or time out and answer with a temporary failure).
    SPFGATE_STEP_PENDING = 1,
    /// A batch of lookups to send, all at once (they are independent); read
    /// them with the `_lookup()` function and answer each by id.
    SPFGATE_STEP_LOOKUPS = 2,
}

/// One DNS question to answer, as handed out after `SPFGATE_STEP_LOOKUPS`.
///
/// `name` is NUL-terminated (so it goes straight into `res_query()`),
/// `name_len` bytes long without the NUL, lower case ASCII without the
/// trailing dot. It is owned by the handle that handed it out and valid until
/// that handle's next `poll`, `restart` or `free`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_lookup {
    /// Pass it back with the answer. Small and unique within one evaluation,
    /// so it also serves as a DNS message id or an array index.
    pub id: u32,
    /// The DNS query type code: 1 A, 28 AAAA, 15 MX, 16 TXT, 12 PTR.
    pub qtype: u16,
    /// The name to look up, NUL-terminated.
    pub name: *const std::ffi::c_char,
    /// Its length in bytes, without the NUL.
    pub name_len: usize,
}

/// The last batch handed out, with every name NUL-terminated in place.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    lookups: Vec<Lookup>,
}

impl Batch {
    /// Converts a core step, keeping its lookups; returns the step and the
    /// number of lookups.
    fn take<T>(&mut self, step: Step<'_, T>) -> (spfgate_step, usize) {
        self.lookups.clear();
        match step {
            Step::Done(_) => (spfgate_step::SPFGATE_STEP_DONE, 0),
            Step::Pending => (spfgate_step::SPFGATE_STEP_PENDING, 0),
            Step::Lookups(lookups) => {
                self.lookups = lookups;
                for lookup in &mut self.lookups {
                    lookup.name.push('\0');
                }
                (spfgate_step::SPFGATE_STEP_LOOKUPS, self.lookups.len())
            }
        }
    }

    fn clear(&mut self) {
        self.lookups.clear();
    }

    fn get(&self, index: usize) -> Result<spfgate_lookup, spfgate_status> {
        let lookup = self.lookups.get(index).ok_or(SPFGATE_INVALID_ARGUMENT)?;
        Ok(spfgate_lookup {
            id: lookup.id.0,
            qtype: lookup.qtype.code(),
            name: lookup.name.as_ptr().cast(),
            name_len: lookup.name.len() - 1,
        })
    }
}

/// A core engine as a C handle holds it: the engine, the last batch it handed
/// out, and text rendered on demand, which C borrows until the next call that
/// changes the handle.
#[derive(Debug)]
pub(crate) struct Driven<E> {
    pub(crate) engine: E,
    batch: Batch,
    pub(crate) rendered: String,
}

impl<E: Engine> Driven<E> {
    pub(crate) fn new(engine: E) -> Self {
        Driven {
            engine,
            batch: Batch::default(),
            rendered: String::new(),
        }
    }

    /// Forgets the batch handed out, for a restarted engine.
    pub(crate) fn forget_batch(&mut self) {
        self.batch.clear();
    }

    /// Polls and writes the step and the batch's size.
    ///
    /// # Safety
    /// `step` and `count` are NULL or writable.
    pub(crate) unsafe fn poll(
        &mut self,
        step: *mut spfgate_step,
        count: *mut usize,
    ) -> Result<(), spfgate_status> {
        let step = Out::new(step)?;
        let count = Out::new(count)?;
        let (s, n) = self.batch.take(self.engine.poll());
        // SAFETY: the caller's contract.
        unsafe {
            step.write(s);
            count.write(n);
        }
        Ok(())
    }

    /// Writes lookup `index` of the batch.
    ///
    /// # Safety
    /// `out` is NULL or writable.
    pub(crate) unsafe fn lookup(
        &self,
        index: usize,
        out: *mut spfgate_lookup,
    ) -> Result<(), spfgate_status> {
        let out = Out::new(out)?;
        let lookup = self.batch.get(index)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(lookup) };
        Ok(())
    }

    /// Answers with the records of a builder.
    ///
    /// # Safety
    /// `answer` is NULL or a live answer.
    pub(crate) unsafe fn answer_records(
        &mut self,
        id: u32,
        answer: *const spfgate_answer,
    ) -> Result<(), spfgate_status> {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg(answer) }?;
        answer_status(self.engine.answer(LookupId(id), &answer.answer))
    }

    pub(crate) fn answer_nxdomain(&mut self, id: u32) -> Result<(), spfgate_status> {
        answer_status(self.engine.answer(LookupId(id), Answer::NxDomain))
    }

    /// Answers with a temporary failure; the reason is lossily UTF-8.
    ///
    /// # Safety
    /// `reason` is NULL or points to `len` readable bytes.
    pub(crate) unsafe fn answer_tempfail(
        &mut self,
        id: u32,
        reason: *const u8,
        len: usize,
    ) -> Result<(), spfgate_status> {
        // SAFETY: the caller's contract.
        let reason = String::from_utf8_lossy(unsafe { bytes(reason, len) }?);
        answer_status(self.engine.answer(LookupId(id), Answer::temp_fail(reason)))
    }

    /// Answers with a DNS response message.
    ///
    /// # Safety
    /// `message` is NULL or points to `len` readable bytes.
    pub(crate) unsafe fn answer_wire(
        &mut self,
        id: u32,
        message: *const u8,
        len: usize,
    ) -> Result<(), spfgate_status> {
        // SAFETY: the caller's contract.
        let message = unsafe { bytes(message, len) }?;
        answer_status(self.engine.answer_wire(LookupId(id), message))
    }

    /// The conclusion, or `SPFGATE_NOT_DONE`.
    pub(crate) fn output(&self) -> Result<&E::Output, spfgate_status> {
        self.engine.output().ok_or(SPFGATE_NOT_DONE)
    }
}

/// The status of a misused answer.
fn answer_status(result: Result<(), AnswerError>) -> Result<(), spfgate_status> {
    result.map_err(|e| match e {
        AnswerError::UnknownId(_) => SPFGATE_UNKNOWN_ID,
        AnswerError::AlreadyAnswered(_) => SPFGATE_ALREADY_ANSWERED,
        AnswerError::Truncated(_) => SPFGATE_TRUNCATED,
        // A misuse check added to the core later: still the caller's mistake.
        _ => SPFGATE_INVALID_ARGUMENT,
    })
}
