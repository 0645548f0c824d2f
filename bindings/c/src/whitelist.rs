//! `spfgate_whitelist`: an IP whitelist text field, parsed, and IP matching.

use std::net::IpAddr;

use spfgate_core::policy::matcher::IpMatcher;
use spfgate_core::policy::whitelist::{WhitelistReport, parse_whitelist};

use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, bytes, ffi, ffi_value, free_handle, json, name, spfgate_str, text};

/// A parsed whitelist field: the accepted entries, the rejected ones (errors)
/// and the warnings, each with its line and column, plus a compiled matcher
/// over the accepted entries. Made by `spfgate_whitelist_parse()`.
///
/// Thread-safety: immutable; may be read and matched against from several
/// threads at once.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_whitelist {
    report: WhitelistReport,
    /// The core's JSON of the report.
    json: String,
    /// Each error's and warning's message, rendered once.
    error_messages: Vec<String>,
    warning_messages: Vec<String>,
    /// Finds the index of the accepted entry holding an address.
    matcher: IpMatcher,
}

/// Which list of a whitelist an item belongs to.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_whitelist_list {
    /// Accepted entries (addresses, networks, ranges).
    SPFGATE_WHITELIST_ENTRIES = 0,
    /// Rejected entries.
    SPFGATE_WHITELIST_ERRORS = 1,
    /// Accepted entries worth a second look (host bits set, overlaps, ...).
    SPFGATE_WHITELIST_WARNINGS = 2,
}

use spfgate_whitelist_list::*;

fn list_of(n: u32) -> Result<spfgate_whitelist_list, spfgate_status> {
    [
        SPFGATE_WHITELIST_ENTRIES,
        SPFGATE_WHITELIST_ERRORS,
        SPFGATE_WHITELIST_WARNINGS,
    ]
    .into_iter()
    .find(|l| *l as u32 == n)
    .ok_or(SPFGATE_INVALID_ARGUMENT)
}

/// One entry, error or warning of a whitelist. The strings are owned by the
/// whitelist and valid until it is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_whitelist_item {
    /// The entry as typed (cut after 64 characters for errors and warnings).
    pub text: spfgate_str,
    /// For errors and warnings, the message for people
    /// (`line 1, column 1: ... — prefix length 33 is above 32`); empty for entries.
    pub message: spfgate_str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// 0-based byte offset of the entry in the text.
    pub offset: usize,
    /// Its length in bytes.
    pub length: usize,
}

/// Parses a whitelist text field leniently: entries are separated by any mix
/// of newlines, blanks, commas and semicolons, `#` starts a comment; valid
/// entries are kept, problems collected as errors and warnings. Never fails on
/// content: check `spfgate_whitelist_count(..., SPFGATE_WHITELIST_ERRORS, ...)`.
///
/// - `data`, `len`: the text, UTF-8, not NUL-terminated; not kept.
/// - `out`: receives the whitelist; free it with `spfgate_whitelist_free()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_UTF8`.
///
/// # Safety
/// `data` points to `len` readable bytes; `out` is writable for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_parse(
    data: *const u8,
    len: usize,
    out: *mut *mut spfgate_whitelist,
) -> spfgate_status {
    ffi! {
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        let text = unsafe { text(data, len) }?;
        let report = parse_whitelist(text);
        let whitelist = spfgate_whitelist {
            json: json(&report)?,
            error_messages: report.errors.iter().map(ToString::to_string).collect(),
            warning_messages: report.warnings.iter().map(ToString::to_string).collect(),
            matcher: IpMatcher::from(&report),
            report,
        };
        // SAFETY: the caller's contract.
        unsafe { out.write_handle(whitelist) };
        Ok(())
    }
}

/// Frees a whitelist. NULL is allowed and does nothing.
///
/// # Safety
/// `whitelist` is NULL or came from `spfgate_whitelist_parse()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_free(whitelist: *mut spfgate_whitelist) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(whitelist) }
    }
}

/// Reads how many items one list holds (`list` is an `spfgate_whitelist_list`).
/// Errors and warnings beyond the first 1 000 are counted by the JSON's
/// `errors_omitted`/`warnings_omitted` only.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_ARGUMENT`
/// (an unknown list).
///
/// # Safety
/// `whitelist` is a live whitelist; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_count(
    whitelist: *const spfgate_whitelist,
    list: u32,
    out: *mut usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let w = unsafe { arg(whitelist) }?;
        let out = Out::new(out)?;
        let n = match list_of(list)? {
            SPFGATE_WHITELIST_ENTRIES => w.report.entries.len(),
            SPFGATE_WHITELIST_ERRORS => w.report.errors.len(),
            SPFGATE_WHITELIST_WARNINGS => w.report.warnings.len(),
        };
        // SAFETY: the caller's contract.
        unsafe { out.write(n) };
        Ok(())
    }
}

/// Reads item number `index` (from 0) of one list.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_ARGUMENT`
/// (an unknown list, or `index` not below its count).
///
/// # Safety
/// `whitelist` is a live whitelist; `out` points to a writable `spfgate_whitelist_item`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_item_at(
    whitelist: *const spfgate_whitelist,
    list: u32,
    index: usize,
    out: *mut spfgate_whitelist_item,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let w = unsafe { arg(whitelist) }?;
        let out = Out::new(out)?;
        let r = &w.report;
        let item = |text: &str, message: &str, line, column, span: &std::ops::Range<usize>| {
            spfgate_whitelist_item {
                text: spfgate_str::of(text),
                message: spfgate_str::of(message),
                line,
                column,
                offset: span.start,
                length: span.len(),
            }
        };
        let found = match list_of(list)? {
            SPFGATE_WHITELIST_ENTRIES => r.entries.get(index).map(|e| item(&e.text, "", e.line, e.column, &e.span)),
            SPFGATE_WHITELIST_ERRORS => r.errors.get(index).map(|e| {
                item(&e.text, &w.error_messages[index], e.line, e.column, &e.span)
            }),
            SPFGATE_WHITELIST_WARNINGS => r.warnings.get(index).map(|e| {
                item(&e.text, &w.warning_messages[index], e.line, e.column, &e.span)
            }),
        };
        let found = found.ok_or(SPFGATE_INVALID_ARGUMENT)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(found) };
        Ok(())
    }
}

/// Matches an IP against the accepted entries.
fn matching(w: &spfgate_whitelist, ip: IpAddr) -> Result<usize, spfgate_status> {
    w.matcher.find(ip).ok_or(SPFGATE_ABSENT)
}

/// Looks an IP given as text up in the accepted entries (IPv4-mapped IPv6
/// addresses also match IPv4 entries).
///
/// - `entry`: receives the index of the matching entry (the widest, then the
///   earliest, when several contain the IP), for `spfgate_whitelist_item_at()`.
///
/// Returns `SPFGATE_OK` (a match), `SPFGATE_ABSENT` (no entry contains the IP),
/// `SPFGATE_NULL_PARAMETER`, `SPFGATE_INVALID_UTF8` or `SPFGATE_INVALID_IP`.
///
/// # Safety
/// `whitelist` is a live whitelist; `ip` points to `len` readable bytes;
/// `entry` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_match_text(
    whitelist: *const spfgate_whitelist,
    ip: *const u8,
    len: usize,
    entry: *mut usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let w = unsafe { arg(whitelist) }?;
        let out = Out::new(entry)?;
        // SAFETY: the caller's contract.
        let text = unsafe { name(ip, len) }.map_err(|e| match e {
            SPFGATE_EMBEDDED_NUL => SPFGATE_INVALID_IP,
            other => other,
        })?;
        let ip: IpAddr = text.parse().map_err(|_| SPFGATE_INVALID_IP)?;
        let index = matching(w, ip)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(index) };
        Ok(())
    }
}

/// Looks an IP given as 4 or 16 bytes in network order up in the accepted
/// entries, as `spfgate_whitelist_match_text()`.
///
/// Returns `SPFGATE_OK`, `SPFGATE_ABSENT`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_IP` (another length).
///
/// # Safety
/// `whitelist` is a live whitelist; `ip` points to `len` readable bytes;
/// `entry` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_match_bytes(
    whitelist: *const spfgate_whitelist,
    ip: *const u8,
    len: usize,
    entry: *mut usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let w = unsafe { arg(whitelist) }?;
        let out = Out::new(entry)?;
        // SAFETY: the caller's contract.
        let b = unsafe { bytes(ip, len) }?;
        let ip = if let Ok(v4) = <[u8; 4]>::try_from(b) {
            IpAddr::from(v4)
        } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
            IpAddr::from(v6)
        } else {
            return Err(SPFGATE_INVALID_IP);
        };
        let index = matching(w, ip)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(index) };
        Ok(())
    }
}

/// Reads the whole report as the core's JSON (`docs/json.md`, "Whitelist
/// report"): `ok`, the entries with their networks, the errors and warnings
/// with line, column, span and code, and the omitted counts.
///
/// The string is UTF-8 JSON, not NUL-terminated, owned by the whitelist and
/// valid until it is freed. Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `whitelist` is a live whitelist; `out` points to a writable `spfgate_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_whitelist_json(
    whitelist: *const spfgate_whitelist,
    out: *mut spfgate_str,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let w = unsafe { arg(whitelist) }?;
        let out = Out::new(out)?;
        // SAFETY: the caller's contract.
        unsafe { out.write(spfgate_str::of(&w.json)) };
        Ok(())
    }
}
