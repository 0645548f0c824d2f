//! `spfgate_evaluator`: the check_host() state machine.

use spfgate_core::eval::{Config, Evaluator, Outcome, SpfResult};

use crate::answer::spfgate_answer;
use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, arg_mut, ffi, ffi_value, free_handle, json, spfgate_str};
use crate::lookups::{Driven, spfgate_lookup, spfgate_step};
use crate::request::{spfgate_config, spfgate_request};

/// One SPF evaluation (RFC 7208 `check_host()`), driven by the caller:
/// `spfgate_evaluator_poll()` says what to look up, the `_answer_*`
/// functions take the answers, and once the poll says `SPFGATE_STEP_DONE`
/// the result functions read the outcome. `spfgate_evaluator_restart()`
/// starts the next message's evaluation on the same handle, keeping its
/// buffers: a server keeps one evaluator per worker.
///
/// The library does no I/O and reads no clock: every lookup goes through the
/// caller, in any order, in parallel or not.
///
/// Thread-safety: an evaluator may move between threads but must be used by
/// one thread at a time (no internal locking).
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_evaluator {
    driven: Driven<Evaluator>,
}

/// An SPF result (RFC 7208 §2.6).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_result {
    /// No record, or no checkable domain.
    SPFGATE_RESULT_NONE = 0,
    /// The record makes no assertion about the client.
    SPFGATE_RESULT_NEUTRAL = 1,
    /// The client is authorized.
    SPFGATE_RESULT_PASS = 2,
    /// The client is not authorized.
    SPFGATE_RESULT_FAIL = 3,
    /// Probably not authorized.
    SPFGATE_RESULT_SOFTFAIL = 4,
    /// A transient DNS error; the sender should retry later.
    SPFGATE_RESULT_TEMPERROR = 5,
    /// The domain's records are broken.
    SPFGATE_RESULT_PERMERROR = 6,
}

impl From<SpfResult> for spfgate_result {
    fn from(r: SpfResult) -> Self {
        use spfgate_result::*;
        match r {
            SpfResult::None => SPFGATE_RESULT_NONE,
            SpfResult::Neutral => SPFGATE_RESULT_NEUTRAL,
            SpfResult::Pass => SPFGATE_RESULT_PASS,
            SpfResult::Fail => SPFGATE_RESULT_FAIL,
            SpfResult::SoftFail => SPFGATE_RESULT_SOFTFAIL,
            SpfResult::TempError => SPFGATE_RESULT_TEMPERROR,
            SpfResult::PermError => SPFGATE_RESULT_PERMERROR,
        }
    }
}

/// The counters of a finished evaluation.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_counts {
    /// DNS-querying terms counted against the limit (RFC 7208 §4.6.4).
    pub dns_terms: u32,
    /// Void lookups counted against the limit.
    pub void_lookups: u32,
    /// Queries handed out, prefetches included.
    pub queries: u32,
    /// Batches of lookups handed out: the evaluation's round trips.
    pub round_trips: u32,
}

/// The lower-case name of a result, as in headers and logs (`"pass"`,
/// `"softfail"`, ...): a static NUL-terminated string, or NULL for a number
/// that is no `spfgate_result`.
///
/// Memory: static, never freed. Thread-safety: callable from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn spfgate_result_name(result: u32) -> *const std::ffi::c_char {
    let name: &'static str = match result {
        0 => "none\0",
        1 => "neutral\0",
        2 => "pass\0",
        3 => "fail\0",
        4 => "softfail\0",
        5 => "temperror\0",
        6 => "permerror\0",
        _ => return std::ptr::null(),
    };
    name.as_ptr().cast()
}

/// Starts an evaluation of `request` (which must have an IP) under `config`.
/// Nothing is looked up until the first poll.
///
/// - `request`: copied; may be changed or freed afterwards.
/// - `config`: copied; NULL means the defaults of `spfgate_config_new()`.
/// - `out`: receives the evaluator; free it with `spfgate_evaluator_free()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_ARGUMENT` (the request has no IP).
///
/// # Safety
/// `request` is a live request, `config` NULL or a live configuration, `out`
/// points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_new(
    request: *const spfgate_request,
    config: *const spfgate_config,
    out: *mut *mut spfgate_evaluator,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let request = unsafe { arg(request) }?.to_core()?;
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        let config = match unsafe { config.as_ref() } {
            Some(c) => c.inner.clone(),
            None => Config::default(),
        };
        let evaluator = spfgate_evaluator {
            driven: Driven::new(Evaluator::new(request, config)),
        };
        // SAFETY: the caller's contract.
        unsafe { out.write_handle(evaluator) };
        Ok(())
    }
}

/// Frees an evaluator, with every lookup name and string it handed out.
/// NULL is allowed and does nothing.
///
/// # Safety
/// `evaluator` is NULL or came from `spfgate_evaluator_new()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_free(evaluator: *mut spfgate_evaluator) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(evaluator) }
    }
}

/// Starts the evaluation of another request with the same configuration,
/// keeping the evaluator's buffers. Lookups of the previous evaluation are
/// forgotten: answering one gives `SPFGATE_UNKNOWN_ID` (ids keep counting).
/// Strings and lookups handed out before become invalid.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_ARGUMENT` (the request has no IP; the evaluator is then
/// unchanged).
///
/// # Safety
/// `evaluator` and `request` are live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_restart(
    evaluator: *mut spfgate_evaluator,
    request: *const spfgate_request,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        // SAFETY: the caller's contract.
        let request = unsafe { arg(request) }?.to_core()?;
        evaluator.driven.forget_batch();
        evaluator.driven.engine.restart(&request);
        Ok(())
    }
}

/// Advances the evaluation as far as the answers allow and says what to do.
///
/// - `step`: receives `SPFGATE_STEP_DONE`, `_PENDING` or `_LOOKUPS`.
/// - `count`: receives the number of lookups in the batch (0 unless
///   `SPFGATE_STEP_LOOKUPS`); read them with `spfgate_evaluator_lookup()`.
///
/// After `SPFGATE_STEP_DONE` every later poll says `DONE` again with the
/// same outcome. Lookups and strings handed out before become invalid.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `evaluator` is a live evaluator; `step` and `count` point to writable memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_poll(
    evaluator: *mut spfgate_evaluator,
    step: *mut spfgate_step,
    count: *mut usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        // SAFETY: the caller's contract.
        unsafe { evaluator.driven.poll(step, count) }
    }
}

/// Reads lookup number `index` (from 0) of the batch the last poll handed out.
/// Its name stays valid until the evaluator's next poll, restart or free.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_ARGUMENT` (`index` is not below the poll's count).
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_lookup`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_lookup(
    evaluator: *const spfgate_evaluator,
    index: usize,
    out: *mut spfgate_lookup,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg(evaluator) }?;
        // SAFETY: the caller's contract.
        unsafe { evaluator.driven.lookup(index, out) }
    }
}

/// Answers lookup `id` with the records in `answer` (NOERROR; no records is
/// "no data"). Records of other types than asked are ignored. The answer is
/// copied as needed: it may be cleared, reused or freed afterwards.
///
/// Answers may come in any order, also after the evaluation is done (they are
/// then ignored).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_UNKNOWN_ID` or
/// `SPFGATE_ALREADY_ANSWERED`.
///
/// # Safety
/// `evaluator` and `answer` are live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_answer_records(
    evaluator: *mut spfgate_evaluator,
    id: u32,
    answer: *const spfgate_answer,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        // SAFETY: the caller's contract.
        unsafe { evaluator.driven.answer_records(id, answer) }
    }
}

/// Answers lookup `id` with NXDOMAIN: the name does not exist.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_UNKNOWN_ID` or
/// `SPFGATE_ALREADY_ANSWERED`.
///
/// # Safety
/// `evaluator` is a live evaluator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_answer_nxdomain(
    evaluator: *mut spfgate_evaluator,
    id: u32,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        evaluator.driven.answer_nxdomain(id)
    }
}

/// Answers lookup `id` with a temporary failure (timeout, SERVFAIL, ...):
/// SPF's temperror. `reason` is free text for traces (copied; invalid UTF-8
/// is replaced, NULL with `len` 0 is allowed).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_UNKNOWN_ID` or
/// `SPFGATE_ALREADY_ANSWERED`.
///
/// # Safety
/// `evaluator` is a live evaluator; `reason` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_answer_tempfail(
    evaluator: *mut spfgate_evaluator,
    id: u32,
    reason: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        // SAFETY: the caller's contract.
        unsafe { evaluator.driven.answer_tempfail(id, reason, len) }
    }
}

/// Answers lookup `id` with a raw DNS response message, such as the buffer
/// `res_query()`/`res_nsend()` filled or a DNS-over-HTTPS body.
///
/// The message's question must be the lookup's; anything wrong with the
/// message (garbage, another question, SERVFAIL) is a temporary failure for
/// SPF, never an error status. The message id is not checked (a resolver
/// library matches ids itself). The bytes are not kept.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_UNKNOWN_ID`,
/// `SPFGATE_ALREADY_ANSWERED`, or `SPFGATE_TRUNCATED` (the TC bit is set:
/// resend over TCP and answer again; the lookup stays open).
///
/// # Safety
/// `evaluator` is a live evaluator; `message` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_answer_wire(
    evaluator: *mut spfgate_evaluator,
    id: u32,
    message: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        // SAFETY: the caller's contract.
        unsafe { evaluator.driven.answer_wire(id, message, len) }
    }
}

/// The outcome, or `SPFGATE_NOT_DONE`.
fn outcome(evaluator: &spfgate_evaluator) -> Result<&Outcome, spfgate_status> {
    evaluator.driven.output()
}

/// Reads the SPF result of the finished evaluation.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_result`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_result(
    evaluator: *const spfgate_evaluator,
    out: *mut spfgate_result,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg(evaluator) }?;
        let out = Out::new(out)?;
        let result = outcome(evaluator)?.result.into();
        // SAFETY: the caller's contract.
        unsafe { out.write(result) };
        Ok(())
    }
}

/// Reads the counters of the finished evaluation.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_counts`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_counts(
    evaluator: *const spfgate_evaluator,
    out: *mut spfgate_counts,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg(evaluator) }?;
        let out = Out::new(out)?;
        let o = outcome(evaluator)?;
        let counts = spfgate_counts {
            dns_terms: o.dns_terms,
            void_lookups: o.void_lookups,
            queries: o.queries,
            round_trips: o.round_trips,
        };
        // SAFETY: the caller's contract.
        unsafe { out.write(counts) };
        Ok(())
    }
}

/// Hands out one string of the finished outcome.
///
/// # Safety
/// As the public accessors.
unsafe fn outcome_str(
    evaluator: *const spfgate_evaluator,
    out: *mut spfgate_str,
    get: fn(&Outcome) -> Option<&str>,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg(evaluator) }?;
        let out = Out::new(out)?;
        let value = get(outcome(evaluator)?).ok_or(SPFGATE_ABSENT)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(value)) };
        Ok(())
    }
}

/// Renders text from the finished outcome into the evaluator and hands it out.
///
/// # Safety
/// As the public accessors.
unsafe fn outcome_rendered(
    evaluator: *mut spfgate_evaluator,
    out: *mut spfgate_str,
    render: fn(&Outcome) -> Option<String>,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        let out = Out::new(out)?;
        let text = render(outcome(evaluator)?).ok_or(SPFGATE_ABSENT)?;
        evaluator.driven.rendered = text;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&evaluator.driven.rendered)) };
        Ok(())
    }
}

/// Reads the explanation of a `fail` (the record's `exp=` text, or the
/// configured default), macros expanded.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE`, or
/// `SPFGATE_ABSENT` (not a `fail`, or no explanation available).
///
/// The string is UTF-8, not NUL-terminated, owned by the evaluator and
/// valid until its next poll, restart or free.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_explanation(
    evaluator: *const spfgate_evaluator,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { outcome_str(evaluator, out, |o| o.explanation.as_deref()) }
}

/// Reads the directive that decided, in canonical form (`-all`,
/// `include:_spf.example.com`).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE`, or
/// `SPFGATE_ABSENT` (no directive matched, or a problem ended the evaluation).
///
/// The string is UTF-8, not NUL-terminated, owned by the evaluator and
/// valid until its next poll, restart or free.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_mechanism(
    evaluator: *const spfgate_evaluator,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { outcome_str(evaluator, out, |o| o.mechanism.as_deref()) }
}

/// Reads the domain whose record held the deciding directive (or where the
/// problem was).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// The string is UTF-8, not NUL-terminated, owned by the evaluator and
/// valid until its next poll, restart or free.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_domain(
    evaluator: *const spfgate_evaluator,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { outcome_str(evaluator, out, |o| Some(o.domain.as_str())) }
}

/// Renders why the result was reached, for people: the deciding directive
/// (`matched -all in the record of example.com`) or the problem.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// The string is UTF-8, not NUL-terminated, owned by the evaluator and
/// valid until its next call of a function taking it non-const (poll,
/// answer, restart, another rendering accessor, free).
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_reason(
    evaluator: *mut spfgate_evaluator,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { outcome_rendered(evaluator, out, |o| Some(o.reason())) }
}

/// Renders the problem that ended the evaluation (no record, a syntax
/// error, a limit, a DNS failure), for people.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE`, or
/// `SPFGATE_ABSENT` (a directive decided, or no directive matched).
///
/// The string is UTF-8, not NUL-terminated, owned by the evaluator and
/// valid until its next call of a function taking it non-const (poll,
/// answer, restart, another rendering accessor, free).
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_problem(
    evaluator: *mut spfgate_evaluator,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe {
        outcome_rendered(evaluator, out, |o| {
            o.problem.as_ref().map(ToString::to_string)
        })
    }
}

/// Reads how many trace events the finished evaluation recorded (0 when the
/// configuration turned the trace off).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_trace_len(
    evaluator: *const spfgate_evaluator,
    out: *mut usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg(evaluator) }?;
        let out = Out::new(out)?;
        let n = outcome(evaluator)?.trace.len();
        // SAFETY: the caller's contract.
        unsafe { out.write(n) };
        Ok(())
    }
}

/// Renders trace event number `index` (from 0) as a line for people
/// (`query #0 example.com TXT`, `answer #0 TXT "v=spf1 -all"`, indented
/// record and term lines), as `spfgate check` prints it.
///
/// The string is UTF-8, not NUL-terminated, owned by the evaluator and valid
/// until its next call of a function taking it non-const.
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE` or
/// `SPFGATE_INVALID_ARGUMENT` (`index` is not below the trace length).
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_trace_event(
    evaluator: *mut spfgate_evaluator,
    index: usize,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        let out = Out::new(out)?;
        let event = outcome(evaluator)?.trace.get(index).ok_or(SPFGATE_INVALID_ARGUMENT)?;
        evaluator.driven.rendered = event.to_string();
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&evaluator.driven.rendered)) };
        Ok(())
    }
}

/// Renders the whole outcome as the core's JSON (`docs/json.md`, "Outcome"):
/// result, reason, explanation, mechanism, domain, problem, the counts and the
/// trace, exactly what `spfgate check --format json` prints.
///
/// The string is UTF-8 JSON, not NUL-terminated, owned by the evaluator and
/// valid until its next call of a function taking it non-const.
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `evaluator` is a live evaluator; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_evaluator_outcome_json(
    evaluator: *mut spfgate_evaluator,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let evaluator = unsafe { arg_mut(evaluator) }?;
        let out = Out::new(out)?;
        evaluator.driven.rendered = json(outcome(evaluator)?)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&evaluator.driven.rendered)) };
        Ok(())
    }
}
