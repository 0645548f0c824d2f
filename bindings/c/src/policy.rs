//! `spfgate_policy` (the accounts) and `spfgate_decision` (one transaction
//! decided against them).

use spfgate_core::policy::{Action, Decision, Policy, PolicyError, Verdict};

use crate::answer::spfgate_answer;
use crate::error::spfgate_error;
use crate::evaluator::spfgate_result;
use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, arg_mut, ffi, ffi_value, free_handle, json, spfgate_str, text};
use crate::lookups::{Driven, spfgate_lookup, spfgate_step};
use crate::request::{spfgate_config, spfgate_request};

/// An account policy: the accounts, the senders each lists, and how each
/// checks a client (open, IP whitelist, SPF). Loaded from JSON or TOML by
/// `spfgate_policy_from_json()` / `spfgate_policy_from_toml()`.
///
/// Thread-safety: immutable once loaded. One policy may be shared by every
/// thread of a server and used by `spfgate_policy_decide()` concurrently
/// without locking; free it only when no thread uses it any more. To reload,
/// load a new policy and swap the pointer.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_policy {
    inner: Policy,
}

/// One transaction being decided against a policy, driven like an evaluator:
/// poll, answer the lookups, poll until `SPFGATE_STEP_DONE`, then read the
/// verdict. Lookups are only asked for when the sender's account needs SPF.
///
/// A decision holds no reference to its policy: the policy may be freed
/// before the decision.
///
/// Thread-safety: a decision may move between threads but must be used by one
/// thread at a time (no internal locking).
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_decision {
    driven: Driven<Decision>,
}

/// What the gateway does with the transaction.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_action {
    /// Take the mail (2xx).
    SPFGATE_ACTION_ACCEPT = 0,
    /// Refuse it for good (5xx).
    SPFGATE_ACTION_REJECT = 1,
    /// Refuse it for now so that the sender retries (4xx): no mail is lost.
    SPFGATE_ACTION_DEFER = 2,
}

/// The lower-case name of an action (`"accept"`, `"reject"`, `"defer"`): a
/// static NUL-terminated string, or NULL for a number that is no `spfgate_action`.
///
/// Memory: static, never freed. Thread-safety: callable from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn spfgate_action_name(action: u32) -> *const std::ffi::c_char {
    let name: &'static str = match action {
        0 => "accept\0",
        1 => "reject\0",
        2 => "defer\0",
        _ => return std::ptr::null(),
    };
    name.as_ptr().cast()
}

fn error_of(e: &PolicyError) -> spfgate_error {
    spfgate_error {
        message: e.to_string(),
        offset: None,
        length: None,
        line: e.line,
        column: e.column,
    }
}

/// Loads a policy with the given parser.
///
/// # Safety
/// As the public loaders.
unsafe fn load(
    parse: fn(&str) -> Result<Policy, PolicyError>,
    data: *const u8,
    len: usize,
    out: *mut *mut spfgate_policy,
    error: *mut *mut spfgate_error,
) -> spfgate_status {
    ffi! {
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        let text = unsafe { text(data, len) }?;
        match parse(text) {
            Ok(policy) => {
                // SAFETY: the caller's contract.
                unsafe { out.write_handle(spfgate_policy { inner: policy }) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: the caller's contract.
                unsafe { error_of(&e).give(error) };
                Err(SPFGATE_INVALID_POLICY)
            }
        }
    }
}

/// Loads a policy from a JSON document (`{"authserv_id": ..., "accounts":
/// [...]}`, as `examples/policy.json`).
///
/// - `data`, `len`: the document, UTF-8, not NUL-terminated; not kept.
/// - `out`: receives the policy on success; free it with `spfgate_policy_free()`.
/// - `error`: NULL, or receives an `spfgate_error` (message, line, column) on
///   `SPFGATE_INVALID_POLICY`; free it with `spfgate_error_free()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_INVALID_UTF8` or
/// `SPFGATE_INVALID_POLICY`.
///
/// # Safety
/// `data` points to `len` readable bytes; `out` (and `error`, if not NULL) to
/// writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_policy_from_json(
    data: *const u8,
    len: usize,
    out: *mut *mut spfgate_policy,
    error: *mut *mut spfgate_error,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { load(Policy::from_json, data, len, out, error) }
}

/// Loads a policy from a TOML document, as `spfgate_policy_from_json()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_INVALID_UTF8` or
/// `SPFGATE_INVALID_POLICY`.
///
/// # Safety
/// As `spfgate_policy_from_json()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_policy_from_toml(
    data: *const u8,
    len: usize,
    out: *mut *mut spfgate_policy,
    error: *mut *mut spfgate_error,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { load(Policy::from_toml, data, len, out, error) }
}

/// Frees a policy. NULL is allowed and does nothing. No thread may use the
/// policy any more; decisions made from it stay valid.
///
/// # Safety
/// `policy` is NULL or came from a `spfgate_policy_from_*` loader and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_policy_free(policy: *mut spfgate_policy) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(policy) }
    }
}

/// Starts deciding one transaction: the request's IP, MAIL FROM, HELO,
/// receiver and time (its identity is ignored: the decision checks MAIL FROM).
///
/// - `policy`: only read; other threads may decide with it at the same time.
/// - `request`: copied; may be changed or freed afterwards.
/// - `config`: the SPF evaluation's configuration, copied; NULL means the
///   defaults with the trace off.
/// - `out`: receives the decision; free it with `spfgate_decision_free()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_ARGUMENT` (the request has no IP).
///
/// # Safety
/// `policy` and `request` are live handles, `config` NULL or a live
/// configuration, `out` writable for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_policy_decide(
    policy: *const spfgate_policy,
    request: *const spfgate_request,
    config: *const spfgate_config,
    out: *mut *mut spfgate_decision,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let policy = unsafe { arg(policy) }?;
        // SAFETY: the caller's contract.
        let request = unsafe { arg(request) }?.to_decision()?;
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        let decision = match unsafe { config.as_ref() } {
            Some(c) => policy.inner.decide_with(request, c.inner.clone()),
            None => policy.inner.decide(request),
        };
        let decision = spfgate_decision {
            driven: Driven::new(decision),
        };
        // SAFETY: the caller's contract.
        unsafe { out.write_handle(decision) };
        Ok(())
    }
}

/// Frees a decision, with every lookup name and string it handed out. NULL is
/// allowed and does nothing.
///
/// # Safety
/// `decision` is NULL or came from `spfgate_policy_decide()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_free(decision: *mut spfgate_decision) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(decision) }
    }
}

/// Advances the decision and says what to do, as `spfgate_evaluator_poll()`.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `decision` is a live decision; `step` and `count` point to writable memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_poll(
    decision: *mut spfgate_decision,
    step: *mut spfgate_step,
    count: *mut usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        // SAFETY: the caller's contract.
        unsafe { decision.driven.poll(step, count) }
    }
}

/// Reads lookup number `index` of the last batch, as `spfgate_evaluator_lookup()`.
/// Its name stays valid until the decision's next poll or free.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_ARGUMENT`.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_lookup`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_lookup(
    decision: *const spfgate_decision,
    index: usize,
    out: *mut spfgate_lookup,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg(decision) }?;
        // SAFETY: the caller's contract.
        unsafe { decision.driven.lookup(index, out) }
    }
}

/// Answers lookup `id` with records, as `spfgate_evaluator_answer_records()`.
///
/// # Safety
/// `decision` and `answer` are live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_answer_records(
    decision: *mut spfgate_decision,
    id: u32,
    answer: *const spfgate_answer,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        // SAFETY: the caller's contract.
        unsafe { decision.driven.answer_records(id, answer) }
    }
}

/// Answers lookup `id` with NXDOMAIN, as `spfgate_evaluator_answer_nxdomain()`.
///
/// # Safety
/// `decision` is a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_answer_nxdomain(
    decision: *mut spfgate_decision,
    id: u32,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        decision.driven.answer_nxdomain(id)
    }
}

/// Answers lookup `id` with a temporary failure, as
/// `spfgate_evaluator_answer_tempfail()`: the decision defers (4xx).
///
/// # Safety
/// `decision` is a live decision; `reason` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_answer_tempfail(
    decision: *mut spfgate_decision,
    id: u32,
    reason: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        // SAFETY: the caller's contract.
        unsafe { decision.driven.answer_tempfail(id, reason, len) }
    }
}

/// Answers lookup `id` with a raw DNS response message, as
/// `spfgate_evaluator_answer_wire()` (`SPFGATE_TRUNCATED`: retry over TCP).
///
/// # Safety
/// `decision` is a live decision; `message` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_answer_wire(
    decision: *mut spfgate_decision,
    id: u32,
    message: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        // SAFETY: the caller's contract.
        unsafe { decision.driven.answer_wire(id, message, len) }
    }
}

/// The verdict, or `SPFGATE_NOT_DONE`.
fn verdict(decision: &spfgate_decision) -> Result<&Verdict, spfgate_status> {
    decision.driven.output()
}

/// Reads the action of the finished decision.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_action`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_action(
    decision: *const spfgate_decision,
    out: *mut spfgate_action,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg(decision) }?;
        let out = Out::new(out)?;
        let action = match verdict(decision)?.action {
            Action::Accept => spfgate_action::SPFGATE_ACTION_ACCEPT,
            Action::Reject => spfgate_action::SPFGATE_ACTION_REJECT,
            Action::Defer => spfgate_action::SPFGATE_ACTION_DEFER,
            // An action added to the core later: the safe reading is "try later".
            _ => spfgate_action::SPFGATE_ACTION_DEFER,
        };
        // SAFETY: the caller's contract.
        unsafe { out.write(action) };
        Ok(())
    }
}

/// Reads the SMTP reply code of the finished decision (250, 451, 550).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `uint16_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_smtp_code(
    decision: *const spfgate_decision,
    out: *mut u16,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg(decision) }?;
        let out = Out::new(out)?;
        let code = verdict(decision)?.smtp.code;
        // SAFETY: the caller's contract.
        unsafe { out.write(code) };
        Ok(())
    }
}

/// Reads the SPF result of the finished decision, when SPF ran.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE` or
/// `SPFGATE_ABSENT` (the decision needed no SPF: unknown sender, open
/// account, whitelist).
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_result`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_spf_result(
    decision: *const spfgate_decision,
    out: *mut spfgate_result,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg(decision) }?;
        let out = Out::new(out)?;
        let spf = verdict(decision)?.spf.as_ref().ok_or(SPFGATE_ABSENT)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spf.result.into()) };
        Ok(())
    }
}

/// Hands out one string of the finished verdict.
///
/// # Safety
/// As the public accessors.
unsafe fn verdict_str(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
    get: fn(&Verdict) -> Option<&str>,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg(decision) }?;
        let out = Out::new(out)?;
        let value = get(verdict(decision)?).ok_or(SPFGATE_ABSENT)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(value)) };
        Ok(())
    }
}

/// Reads the enhanced status code of the SMTP reply (RFC 3463, RFC 7372),
/// e.g. `5.7.23`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// The string is UTF-8 (printable ASCII for SMTP and header values), not
/// NUL-terminated, owned by the decision and valid until it is freed.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_smtp_enhanced(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { verdict_str(decision, out, |v| Some(v.smtp.enhanced)) }
}

/// Reads the text of the SMTP reply: printable ASCII, at most 400
/// characters, any sender input in it escaped.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// The string is UTF-8 (printable ASCII for SMTP and header values), not
/// NUL-terminated, owned by the decision and valid until it is freed.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_smtp_text(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { verdict_str(decision, out, |v| Some(v.smtp.text.as_str())) }
}

/// Reads the `Received-SPF` header value (without the field name).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE` or
/// `SPFGATE_ABSENT` (SPF was not checked).
///
/// The string is UTF-8 (printable ASCII for SMTP and header values), not
/// NUL-terminated, owned by the decision and valid until it is freed.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_received_spf(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { verdict_str(decision, out, |v| v.headers.received_spf.as_deref()) }
}

/// Reads the `Authentication-Results` header value (without the field
/// name): the SPF result, or `none` when SPF was not checked.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// The string is UTF-8 (printable ASCII for SMTP and header values), not
/// NUL-terminated, owned by the decision and valid until it is freed.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_authentication_results(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe {
        verdict_str(decision, out, |v| {
            Some(v.headers.authentication_results.as_str())
        })
    }
}

/// Reads the id of the sender's account.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_NOT_DONE` or
/// `SPFGATE_ABSENT` (no account lists the sender, or the null sender).
///
/// The string is UTF-8 (printable ASCII for SMTP and header values), not
/// NUL-terminated, owned by the decision and valid until it is freed.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_account(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { verdict_str(decision, out, |v| v.account.as_deref()) }
}

/// Reads the short name of the rule that decided: `null-sender`,
/// `unknown-sender`, `open`, `whitelist-hit`, `whitelist-miss`,
/// `whitelist-empty` or `spf`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// The string is UTF-8 (printable ASCII for SMTP and header values), not
/// NUL-terminated, owned by the decision and valid until it is freed.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_rule_kind(
    decision: *const spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { verdict_str(decision, out, |v| Some(v.rule.kind())) }
}

/// Renders the rule that decided, for logs (`SPF fail: -all in the record of
/// example.com`).
///
/// The string is UTF-8, not NUL-terminated, owned by the decision and valid
/// until its next call of a function taking it non-const.
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_rule(
    decision: *mut spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        let out = Out::new(out)?;
        decision.driven.rendered = verdict(decision)?.rule.to_string();
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&decision.driven.rendered)) };
        Ok(())
    }
}

/// Renders the whole verdict as the core's JSON (`docs/json.md`, "Verdict"):
/// action, SMTP reply, account, mode, rule, the SPF outcome and the headers.
///
/// The string is UTF-8 JSON, not NUL-terminated, owned by the decision and
/// valid until its next call of a function taking it non-const.
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_NOT_DONE`.
///
/// # Safety
/// `decision` is a live decision; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_decision_verdict_json(
    decision: *mut spfgate_decision,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let decision = unsafe { arg_mut(decision) }?;
        let out = Out::new(out)?;
        decision.driven.rendered = json(verdict(decision)?)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&decision.driven.rendered)) };
        Ok(())
    }
}
