//! `spfgate_record`: parsing and validating SPF records.

use spfgate_core::record::{ParseError, Record};

use crate::error::spfgate_error;
use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, bytes, ffi, ffi_value, free_handle, json, spfgate_str};

/// A parsed SPF record. Made by `spfgate_record_parse()`, freed by
/// `spfgate_record_free()`.
///
/// Thread-safety: immutable; may be read from several threads at once.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_record {
    /// The canonical text (`Display`, which parses back to the same record).
    text: String,
    /// The core's JSON of the record.
    json: String,
}

fn error_of(e: &ParseError) -> spfgate_error {
    spfgate_error {
        message: e.to_string(),
        offset: Some(e.offset()),
        length: Some(e.len()),
        line: None,
        column: None,
    }
}

/// Parses `data` as one SPF record (`v=spf1 ...`): any bytes are accepted as
/// input; non-ASCII bytes, NULs and grammar violations are parse errors.
///
/// - `data`, `len`: the record text, not NUL-terminated; not kept.
/// - `out`: receives the record on success; free it with `spfgate_record_free()`.
/// - `error`: NULL, or receives an `spfgate_error` (message, byte offset and
///   length) on `SPFGATE_INVALID_RECORD`; free it with `spfgate_error_free()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_RECORD`.
///
/// # Safety
/// `data` points to `len` readable bytes; `out` (and `error`, if not NULL) to
/// writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_record_parse(
    data: *const u8,
    len: usize,
    out: *mut *mut spfgate_record,
    error: *mut *mut spfgate_error,
) -> spfgate_status {
    ffi! {
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        let data = unsafe { bytes(data, len) }?;
        match Record::parse_bytes(data) {
            Ok(record) => {
                let record = spfgate_record {
                    text: record.to_string(),
                    json: json(&record)?,
                };
                // SAFETY: the caller's contract.
                unsafe { out.write_handle(record) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: the caller's contract.
                unsafe { error_of(&e).give(error) };
                Err(SPFGATE_INVALID_RECORD)
            }
        }
    }
}

/// Checks whether `data` is a valid SPF record, as `spfgate_record_parse()`
/// without keeping the record.
///
/// - `error`: NULL, or receives an `spfgate_error` on `SPFGATE_INVALID_RECORD`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_RECORD`.
///
/// # Safety
/// `data` points to `len` readable bytes; `error` is NULL or writable for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_record_validate(
    data: *const u8,
    len: usize,
    error: *mut *mut spfgate_error,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let data = unsafe { bytes(data, len) }?;
        match Record::parse_bytes(data) {
            Ok(_) => Ok(()),
            Err(e) => {
                // SAFETY: the caller's contract.
                unsafe { error_of(&e).give(error) };
                Err(SPFGATE_INVALID_RECORD)
            }
        }
    }
}

/// Frees a record. NULL is allowed and does nothing.
///
/// # Safety
/// `record` is NULL or came from `spfgate_record_parse()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_record_free(record: *mut spfgate_record) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(record) }
    }
}

/// Reads the record's canonical text (lower-case names, default qualifiers
/// and CIDR lengths dropped), which parses back to the same record.
///
/// The string is ASCII, not NUL-terminated, owned by the record and valid
/// until it is freed. Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `record` is a live record; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_record_text(
    record: *const spfgate_record,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let record = unsafe { arg(record) }?;
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&record.text)) };
        Ok(())
    }
}

/// Reads the record as the core's JSON (`docs/json.md`, "Record"): its terms
/// with qualifiers, mechanisms, modifiers and byte spans.
///
/// The string is UTF-8 JSON, not NUL-terminated, owned by the record and
/// valid until it is freed. Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `record` is a live record; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_record_json(
    record: *const spfgate_record,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let record = unsafe { arg(record) }?;
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&record.json)) };
        Ok(())
    }
}
