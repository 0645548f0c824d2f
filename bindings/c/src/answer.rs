//! `spfgate_answer`: records for an answer, built by C.

use std::net::{Ipv4Addr, Ipv6Addr};

use spfgate_core::dns::{Answer, Rdata};

use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg_mut, bytes, ffi, ffi_value, free_handle, name};

/// A NOERROR answer under construction: a list of records, empty for "no
/// data" (the name exists, the type does not). Add records with the
/// `spfgate_answer_add_*` functions and hand it to
/// `spfgate_evaluator_answer_records()` or `spfgate_decision_answer_records()`,
/// which copy what they need: the builder can be cleared and reused for the
/// next lookup.
///
/// Thread-safety: no internal locking; use it from one thread at a time.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_answer {
    pub(crate) answer: Answer,
}

impl spfgate_answer {
    fn push(&mut self, rdata: Rdata) {
        if let Answer::Records(records) = &mut self.answer {
            records.push(rdata);
        }
    }
}

/// Makes an empty answer (no records: "no data").
///
/// - `out`: receives the new answer; free it with `spfgate_answer_free()`.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_new(out: *mut *mut spfgate_answer) -> spfgate_status {
    ffi! {
        let out = Out::new(out)?;
        let answer = spfgate_answer { answer: Answer::Records(Vec::new()) };
        // SAFETY: the caller's contract.
        unsafe { out.write_handle(answer) };
        Ok(())
    }
}

/// Frees an answer. NULL is allowed and does nothing.
///
/// # Safety
/// `answer` is NULL or came from `spfgate_answer_new()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_free(answer: *mut spfgate_answer) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(answer) }
    }
}

/// Removes every record, to build the next answer.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `answer` is a live answer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_clear(answer: *mut spfgate_answer) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg_mut(answer) }?;
        answer.answer = Answer::Records(Vec::new());
        Ok(())
    }
}

/// Adds an A record: `address` is 4 bytes in network order (`struct in_addr`).
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `answer` is a live answer; `address` points to 4 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_add_a(
    answer: *mut spfgate_answer,
    address: *const u8,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg_mut(answer) }?;
        if address.is_null() {
            return Err(SPFGATE_NULL_PARAMETER);
        }
        // SAFETY: non-NULL; 4 readable bytes by the caller's contract.
        let octets: [u8; 4] = unsafe { address.cast::<[u8; 4]>().read_unaligned() };
        answer.push(Rdata::A(Ipv4Addr::from(octets)));
        Ok(())
    }
}

/// Adds an AAAA record: `address` is 16 bytes in network order (`struct in6_addr`).
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `answer` is a live answer; `address` points to 16 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_add_aaaa(
    answer: *mut spfgate_answer,
    address: *const u8,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg_mut(answer) }?;
        if address.is_null() {
            return Err(SPFGATE_NULL_PARAMETER);
        }
        // SAFETY: non-NULL; 16 readable bytes by the caller's contract.
        let octets: [u8; 16] = unsafe { address.cast::<[u8; 16]>().read_unaligned() };
        answer.push(Rdata::Aaaa(Ipv6Addr::from(octets)));
        Ok(())
    }
}

/// Adds an MX record: its preference and exchange host name (a trailing dot
/// is dropped; empty for a null MX).
///
/// The name is copied. Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`,
/// `SPFGATE_INVALID_UTF8` or `SPFGATE_EMBEDDED_NUL`.
///
/// # Safety
/// `answer` is a live answer; `exchange` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_add_mx(
    answer: *mut spfgate_answer,
    preference: u16,
    exchange: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg_mut(answer) }?;
        // SAFETY: the caller's contract.
        let exchange = unsafe { name(exchange, len) }?;
        let exchange = exchange.strip_suffix('.').unwrap_or(exchange).to_owned();
        answer.push(Rdata::Mx { preference, exchange });
        Ok(())
    }
}

/// Adds a TXT record: its character-strings joined without separators, any
/// bytes (DNS promises neither ASCII nor UTF-8).
///
/// The bytes are copied. Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `answer` is a live answer; `data` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_add_txt(
    answer: *mut spfgate_answer,
    data: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg_mut(answer) }?;
        // SAFETY: the caller's contract.
        let data = unsafe { bytes(data, len) }?;
        answer.push(Rdata::Txt(data.to_vec()));
        Ok(())
    }
}

/// Adds a PTR record: the target host name (a trailing dot is dropped).
///
/// The name is copied. Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`,
/// `SPFGATE_INVALID_UTF8` or `SPFGATE_EMBEDDED_NUL`.
///
/// # Safety
/// `answer` is a live answer; `target` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_answer_add_ptr(
    answer: *mut spfgate_answer,
    target: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let answer = unsafe { arg_mut(answer) }?;
        // SAFETY: the caller's contract.
        let target = unsafe { name(target, len) }?;
        answer.push(Rdata::Ptr(target.strip_suffix('.').unwrap_or(target).to_owned()));
        Ok(())
    }
}
