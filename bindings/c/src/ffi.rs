//! What every entry point shares: the status enum, borrowed strings, the panic
//! boundary and the argument checks.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// What a fallible function says. Every number is fixed for good: a status is
/// never renumbered and a retired one is never reused (see the README's ABI
/// policy). `spfgate_status_message()` describes any of them.
///
/// A function that returns anything but `SPFGATE_OK` has written none of its
/// outputs (the one documented exception: `*written` of a caller buffer that
/// is too small receives the size needed).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_status {
    /// Success; the outputs are written.
    SPFGATE_OK = 0,
    /// A pointer argument that must not be NULL was NULL (or a NULL `data`
    /// came with a non-zero length).
    SPFGATE_NULL_PARAMETER = 1,
    /// The library panicked: an internal bug. The handle involved is in an
    /// unspecified but memory-safe state; free it.
    SPFGATE_PANIC = 2,
    /// A text argument is not valid UTF-8.
    SPFGATE_INVALID_UTF8 = 3,
    /// A text argument that must not contain NUL bytes (an address, a host
    /// name) contains one.
    SPFGATE_EMBEDDED_NUL = 4,
    /// An IP address does not parse (text) or has a length other than 4 or
    /// 16 (bytes).
    SPFGATE_INVALID_IP = 5,
    /// An argument is out of its range: an unknown enum value, an index past
    /// the end, a request without an IP address.
    SPFGATE_INVALID_ARGUMENT = 6,
    /// The caller's buffer is too small; `*written` holds the size needed.
    SPFGATE_BUFFER_TOO_SMALL = 7,
    /// The evaluation or decision is not finished: poll and answer first.
    SPFGATE_NOT_DONE = 8,
    /// The value asked for does not exist here (no explanation, no
    /// deciding mechanism, no SPF run, ...). Not an error of the caller.
    SPFGATE_ABSENT = 9,
    /// The lookup id was never handed out by this handle (or belongs to an
    /// evaluation before a restart).
    SPFGATE_UNKNOWN_ID = 10,
    /// The lookup was already answered.
    SPFGATE_ALREADY_ANSWERED = 11,
    /// The DNS response has the TC bit set: resend the query over TCP and
    /// answer again. The lookup stays open.
    SPFGATE_TRUNCATED = 12,
    /// The SPF record does not parse; the `spfgate_error` says where and why.
    SPFGATE_INVALID_RECORD = 13,
    /// The policy document does not load; the `spfgate_error` says where and why.
    SPFGATE_INVALID_POLICY = 14,
}

use spfgate_status::*;

impl spfgate_status {
    /// The text `spfgate_status_message()` renders.
    pub(crate) fn message(self) -> &'static str {
        match self {
            SPFGATE_OK => "success",
            SPFGATE_NULL_PARAMETER => "a required pointer argument was NULL",
            SPFGATE_PANIC => "internal error: the library panicked",
            SPFGATE_INVALID_UTF8 => "a text argument is not valid UTF-8",
            SPFGATE_EMBEDDED_NUL => "a text argument contains a NUL byte",
            SPFGATE_INVALID_IP => "not an IPv4 or IPv6 address",
            SPFGATE_INVALID_ARGUMENT => "an argument is out of range",
            SPFGATE_BUFFER_TOO_SMALL => "the output buffer is too small",
            SPFGATE_NOT_DONE => "not finished yet: poll and answer the lookups first",
            SPFGATE_ABSENT => "no such value here",
            SPFGATE_UNKNOWN_ID => "the lookup id was never handed out",
            SPFGATE_ALREADY_ANSWERED => "the lookup was already answered",
            SPFGATE_TRUNCATED => "the DNS response is truncated; retry over TCP",
            SPFGATE_INVALID_RECORD => "the SPF record does not parse",
            SPFGATE_INVALID_POLICY => "the policy document does not load",
        }
    }

    fn from_u32(n: u32) -> Option<Self> {
        const ALL: [spfgate_status; 15] = [
            SPFGATE_OK,
            SPFGATE_NULL_PARAMETER,
            SPFGATE_PANIC,
            SPFGATE_INVALID_UTF8,
            SPFGATE_EMBEDDED_NUL,
            SPFGATE_INVALID_IP,
            SPFGATE_INVALID_ARGUMENT,
            SPFGATE_BUFFER_TOO_SMALL,
            SPFGATE_NOT_DONE,
            SPFGATE_ABSENT,
            SPFGATE_UNKNOWN_ID,
            SPFGATE_ALREADY_ANSWERED,
            SPFGATE_TRUNCATED,
            SPFGATE_INVALID_RECORD,
            SPFGATE_INVALID_POLICY,
        ];
        ALL.into_iter().find(|s| *s as u32 == n)
    }
}

/// A borrowed byte string: `len` bytes at `data`, not NUL-terminated unless a
/// function says so. Who owns the bytes and how long they stay valid is stated
/// by the function that hands it out; the caller never frees it. An empty
/// string may have any `data`, including NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_str {
    /// The first byte.
    pub data: *const u8,
    /// The number of bytes.
    pub len: usize,
}

impl spfgate_str {
    pub(crate) fn of(s: &str) -> Self {
        spfgate_str {
            data: s.as_ptr(),
            len: s.len(),
        }
    }
}

/// Runs an entry point's body behind the panic boundary: a panic becomes
/// `SPFGATE_PANIC` instead of unwinding into C. The body returns
/// `Result<(), spfgate_status>`; `Err(status)` is returned as is.
macro_rules! ffi {
    ($($body:tt)*) => {
        $crate::ffi::boundary(move || -> Result<(), $crate::ffi::spfgate_status> { $($body)* })
    };
}
pub(crate) use ffi;

/// Runs an entry point's body behind the panic boundary, for functions that
/// return a plain value rather than a status; `fallback` is returned when the
/// body panics.
macro_rules! ffi_value {
    ($fallback:expr, $($body:tt)*) => {
        $crate::ffi::boundary_value($fallback, move || { $($body)* })
    };
}
pub(crate) use ffi_value;

pub(crate) fn boundary(f: impl FnOnce() -> Result<(), spfgate_status>) -> spfgate_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => SPFGATE_OK,
        Ok(Err(status)) => status,
        Err(_) => SPFGATE_PANIC,
    }
}

pub(crate) fn boundary_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A shared reference from a pointer argument, or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `p` is NULL or points to a live `T` not mutated for `'a`.
pub(crate) unsafe fn arg<'a, T>(p: *const T) -> Result<&'a T, spfgate_status> {
    // SAFETY: the caller's contract.
    unsafe { p.as_ref() }.ok_or(SPFGATE_NULL_PARAMETER)
}

/// A unique reference from a pointer argument, or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `p` is NULL or points to a live `T` nobody else uses for `'a`.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T) -> Result<&'a mut T, spfgate_status> {
    // SAFETY: the caller's contract.
    unsafe { p.as_mut() }.ok_or(SPFGATE_NULL_PARAMETER)
}

/// An output pointer, checked for NULL before anything is computed, written
/// only at the end of a successful call.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub(crate) fn new(p: *mut T) -> Result<Self, spfgate_status> {
        if p.is_null() {
            Err(SPFGATE_NULL_PARAMETER)
        } else {
            Ok(Out(p))
        }
    }

    /// Writes the output.
    ///
    /// # Safety
    /// The pointer given to `new` is valid for writes of a `T`.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL (checked in `new`) and valid (the caller's contract);
        // `write` does not read or drop what the caller's memory held.
        unsafe { self.0.write(value) }
    }
}

impl<T> Out<*mut T> {
    /// Hands `value` to the caller as a new handle, which [`free_handle`] frees.
    ///
    /// # Safety
    /// As [`Out::write`].
    pub(crate) unsafe fn write_handle(self, value: T) {
        // SAFETY: the caller's contract.
        unsafe { self.write(Box::into_raw(Box::new(value))) }
    }
}

/// Frees a handle made by [`Out::write_handle`]; NULL does nothing.
///
/// # Safety
/// `handle` is NULL or came from `Out::write_handle` and is not used again.
pub(crate) unsafe fn free_handle<T>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: made by Box::into_raw in `write_handle`, freed once.
        drop(unsafe { Box::from_raw(handle) });
    }
}

/// The bytes of a `(data, len)` argument; NULL `data` is allowed for `len == 0`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that live for `'a`.
pub(crate) unsafe fn bytes<'a>(data: *const u8, len: usize) -> Result<&'a [u8], spfgate_status> {
    if data.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(SPFGATE_NULL_PARAMETER)
        };
    }
    // SAFETY: non-NULL, and the caller's contract for the length and lifetime.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// A UTF-8 text argument (NUL bytes allowed: for documents and free text).
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(data: *const u8, len: usize) -> Result<&'a str, spfgate_status> {
    // SAFETY: the caller's contract.
    let b = unsafe { bytes(data, len) }?;
    std::str::from_utf8(b).map_err(|_| SPFGATE_INVALID_UTF8)
}

/// A UTF-8 text argument that must not contain NUL (addresses, host names).
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn name<'a>(data: *const u8, len: usize) -> Result<&'a str, spfgate_status> {
    // SAFETY: the caller's contract.
    let b = unsafe { bytes(data, len) }?;
    if b.contains(&0) {
        return Err(SPFGATE_EMBEDDED_NUL);
    }
    std::str::from_utf8(b).map_err(|_| SPFGATE_INVALID_UTF8)
}

/// The core's JSON of a value. Serializing the core's values cannot fail; if
/// it ever did, that is an internal error like a panic.
pub(crate) fn json(value: &impl serde::Serialize) -> Result<String, spfgate_status> {
    serde_json::to_string(value).map_err(|_| SPFGATE_PANIC)
}

/// Renders `status` as an English message into `buf`, NUL-terminated.
///
/// - `status`: any `spfgate_status` value; an unknown number gets a message
///   saying so.
/// - `buf`, `len`: the caller's buffer and its size in bytes.
/// - `written`: receives the message length without the NUL.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` (`buf` or `written` NULL),
/// or `SPFGATE_BUFFER_TOO_SMALL`: then nothing is written to `buf` and
/// `*written` receives the size needed, NUL included.
///
/// Memory: nothing is allocated. Thread-safety: callable from any thread.
///
/// # Safety
/// `buf` points to `len` writable bytes; `written` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_status_message(
    status: u32,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> spfgate_status {
    ffi! {
        let written = Out::new(written)?;
        if buf.is_null() {
            return Err(SPFGATE_NULL_PARAMETER);
        }
        let unknown;
        let message = match spfgate_status::from_u32(status) {
            Some(s) => s.message(),
            None => {
                unknown = format!("unknown status {status}");
                unknown.as_str()
            }
        };
        if message.len() + 1 > len {
            // SAFETY: checked non-NULL; the caller's contract.
            unsafe { written.write(message.len() + 1) };
            return Err(SPFGATE_BUFFER_TOO_SMALL);
        }
        // SAFETY: `buf` has room for `len` >= message + NUL bytes (the
        // caller's contract, checked length).
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf, message.len());
            buf.add(message.len()).write(0);
            written.write(message.len());
        }
        Ok(())
    }
}
