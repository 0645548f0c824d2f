//! `spfgate_error`: what is wrong with a record or a policy document, and where.

use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, ffi, ffi_value, free_handle, spfgate_str};

/// A parse or load error: a message for people and, where known, the byte
/// offset and length of the offending text and its 1-based line and column.
/// Handed out on `SPFGATE_INVALID_RECORD` or `SPFGATE_INVALID_POLICY` when the
/// caller asked for it; free it with `spfgate_error_free()`.
///
/// Thread-safety: immutable; may be read from several threads at once.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
#[derive(Debug, Default)]
pub struct spfgate_error {
    pub(crate) message: String,
    pub(crate) offset: Option<usize>,
    pub(crate) length: Option<usize>,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
}

impl spfgate_error {
    /// Hands the error to C through `out` if the caller asked for it (non-NULL).
    ///
    /// # Safety
    /// `out` is NULL or valid for writing one pointer.
    pub(crate) unsafe fn give(self, out: *mut *mut spfgate_error) {
        if let Ok(out) = Out::new(out) {
            // SAFETY: the caller's contract.
            unsafe { out.write_handle(self) };
        }
    }
}

/// Frees an error. NULL is allowed and does nothing.
///
/// # Safety
/// `error` is NULL or was handed out by this library and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_error_free(error: *mut spfgate_error) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(error) }
    }
}

/// Reads the error's message, e.g. ``ip4:192.0.2.0/33 — CIDR length 33 is
/// above 32 (byte 5)`` or `line 3, column 7: accounts[0].senders: ...`.
///
/// The string is UTF-8, not NUL-terminated, owned by the error and valid until
/// it is freed. Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `error` is a live error; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_error_message(
    error: *const spfgate_error,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let error = unsafe { arg(error) }?;
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&error.message)) };
        Ok(())
    }
}

/// Hands out one optional position of an error.
///
/// # Safety
/// As the public accessors.
unsafe fn position(
    error: *const spfgate_error,
    out: *mut usize,
    get: fn(&spfgate_error) -> Option<usize>,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let error = unsafe { arg(error) }?;
        let out = Out::new(out)?;
        let value = get(error).ok_or(SPFGATE_ABSENT)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(value) };
        Ok(())
    }
}

/// Reads the 0-based byte offset of the offending text (records: always known).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_ABSENT` (not
/// known for this error).
///
/// # Safety
/// `error` is a live error; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_error_offset(
    error: *const spfgate_error,
    out: *mut usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { position(error, out, |e| e.offset) }
}

/// Reads the length in bytes of the offending text (records: always known;
/// 0 when the text ended early).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_ABSENT` (not
/// known for this error).
///
/// # Safety
/// `error` is a live error; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_error_length(
    error: *const spfgate_error,
    out: *mut usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { position(error, out, |e| e.length) }
}

/// Reads the 1-based line of the offending text (policy documents, when known).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_ABSENT` (not
/// known for this error).
///
/// # Safety
/// `error` is a live error; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_error_line(
    error: *const spfgate_error,
    out: *mut usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { position(error, out, |e| e.line) }
}

/// Reads the 1-based column of the offending text (policy documents, when known).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_ABSENT` (not
/// known for this error).
///
/// # Safety
/// `error` is a live error; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_error_column(
    error: *const spfgate_error,
    out: *mut usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { position(error, out, |e| e.column) }
}
