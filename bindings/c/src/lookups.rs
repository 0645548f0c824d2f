//! What `poll` says, and the batch of lookups it hands out, shared by the
//! evaluator and the policy decision.

use spfgate_core::dns::{AnswerError, Lookup, Step};

use crate::ffi::spfgate_status::{self, *};

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
    pub(crate) fn take<T>(&mut self, step: Step<'_, T>) -> (spfgate_step, usize) {
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

    pub(crate) fn clear(&mut self) {
        self.lookups.clear();
    }

    pub(crate) fn get(&self, index: usize) -> Result<spfgate_lookup, spfgate_status> {
        let lookup = self.lookups.get(index).ok_or(SPFGATE_INVALID_ARGUMENT)?;
        Ok(spfgate_lookup {
            id: lookup.id.0,
            qtype: lookup.qtype.code(),
            name: lookup.name.as_ptr().cast(),
            name_len: lookup.name.len() - 1,
        })
    }
}

/// The status of a misused answer.
pub(crate) fn answer_status(result: Result<(), AnswerError>) -> Result<(), spfgate_status> {
    result.map_err(|e| match e {
        AnswerError::UnknownId(_) => SPFGATE_UNKNOWN_ID,
        AnswerError::AlreadyAnswered(_) => SPFGATE_ALREADY_ANSWERED,
        AnswerError::Truncated(_) => SPFGATE_TRUNCATED,
        // A misuse check added to the core later: still the caller's mistake.
        _ => SPFGATE_INVALID_ARGUMENT,
    })
}
