//! `spfgate_request` (one SMTP transaction's facts) and `spfgate_config` (how
//! an evaluation runs).

use std::net::IpAddr;
use std::sync::Arc;

use spfgate_core::eval::{Config, Identity, Limits, Request, VoidCounting};
use spfgate_core::policy::DecisionRequest;

use crate::ffi::spfgate_status::{self, *};
use crate::ffi::{Out, arg, arg_mut, bytes, ffi, ffi_value, free_handle, name, text};

/// One SMTP transaction's facts: client IP, MAIL FROM, HELO, receiver, time,
/// identity. Made by `spfgate_request_new()`, filled by the setters, read by
/// `spfgate_evaluator_new()`, `spfgate_evaluator_restart()` and
/// `spfgate_policy_decide()` (which copy what they need: the request may be
/// changed or freed afterwards). One request may be reused for the next message.
///
/// Thread-safety: no internal locking; use it from one thread at a time.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_request {
    pub(crate) ip: Option<IpAddr>,
    pub(crate) mail_from: String,
    pub(crate) helo: String,
    pub(crate) receiver: String,
    pub(crate) now: u64,
    pub(crate) identity: Identity,
}

impl spfgate_request {
    /// The evaluator's request; `SPFGATE_INVALID_ARGUMENT` without an IP.
    pub(crate) fn to_core(&self) -> Result<Request, spfgate_status> {
        Ok(Request {
            ip: self.ip.ok_or(SPFGATE_INVALID_ARGUMENT)?,
            mail_from: self.mail_from.clone(),
            helo: self.helo.clone(),
            receiver: self.receiver.clone(),
            now: self.now,
            identity: self.identity,
        })
    }

    /// The policy decision's request; `SPFGATE_INVALID_ARGUMENT` without an IP.
    pub(crate) fn to_decision(&self) -> Result<DecisionRequest, spfgate_status> {
        Ok(DecisionRequest {
            ip: self.ip.ok_or(SPFGATE_INVALID_ARGUMENT)?,
            mail_from: self.mail_from.clone(),
            helo: self.helo.clone(),
            receiver: self.receiver.clone(),
            now: self.now,
        })
    }
}

/// Which identity an evaluation checks (RFC 7208 §2.3, §2.4).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_identity {
    /// The MAIL FROM domain; for the null sender, `postmaster@` the HELO name.
    SPFGATE_IDENTITY_MAIL_FROM = 0,
    /// The HELO/EHLO name, with sender `postmaster@<helo>`.
    SPFGATE_IDENTITY_HELO = 1,
}

/// Makes an empty request: no IP yet (one of the `spfgate_request_set_ip_*`
/// setters is required before use), empty MAIL FROM (the null sender) and
/// HELO, no receiver name (`%{r}` expands to `unknown`), time 0, identity
/// MAIL FROM.
///
/// - `out`: receives the new request; free it with `spfgate_request_free()`.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_new(out: *mut *mut spfgate_request) -> spfgate_status {
    ffi! {
        let out = Out::new(out)?;
        let request = spfgate_request {
            ip: None,
            mail_from: String::new(),
            helo: String::new(),
            receiver: String::new(),
            now: 0,
            identity: Identity::MailFrom,
        };
        // SAFETY: the caller's contract.
        unsafe { out.write_handle(request) };
        Ok(())
    }
}

/// Frees a request. NULL is allowed and does nothing.
///
/// # Safety
/// `request` is NULL or came from `spfgate_request_new()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_free(request: *mut spfgate_request) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(request) }
    }
}

/// Sets the client IP from text: dotted IPv4 (`192.0.2.1`) or IPv6
/// (`2001:db8::1`, `::ffff:192.0.2.1`; IPv4-mapped addresses are checked as
/// IPv4).
///
/// - `ip`, `len`: the address text, `len` bytes, no NUL needed.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`, `SPFGATE_INVALID_UTF8` or
/// `SPFGATE_INVALID_IP` (the request is then unchanged).
///
/// # Safety
/// `request` is a live request; `ip` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_ip_text(
    request: *mut spfgate_request,
    ip: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let request = unsafe { arg_mut(request) }?;
        // SAFETY: the caller's contract.
        let text = unsafe { name(ip, len) }.map_err(|e| match e {
            SPFGATE_EMBEDDED_NUL => SPFGATE_INVALID_IP,
            other => other,
        })?;
        request.ip = Some(text.parse().map_err(|_| SPFGATE_INVALID_IP)?);
        Ok(())
    }
}

/// Sets the client IP from bytes in network order: 4 bytes for IPv4 (as in
/// `struct in_addr`), 16 for IPv6 (as in `struct in6_addr`).
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or `SPFGATE_INVALID_IP`
/// (another length; the request is then unchanged).
///
/// # Safety
/// `request` is a live request; `ip` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_ip_bytes(
    request: *mut spfgate_request,
    ip: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let request = unsafe { arg_mut(request) }?;
        // SAFETY: the caller's contract.
        let b = unsafe { bytes(ip, len) }?;
        let ip = if let Ok(v4) = <[u8; 4]>::try_from(b) {
            IpAddr::from(v4)
        } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
            IpAddr::from(v6)
        } else {
            return Err(SPFGATE_INVALID_IP);
        };
        request.ip = Some(ip);
        Ok(())
    }
}

/// Copies a text argument that must not contain NUL into a field of the request.
///
/// # Safety
/// As the public setters.
unsafe fn set_text(
    request: *mut spfgate_request,
    data: *const u8,
    len: usize,
    field: fn(&mut spfgate_request) -> &mut String,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let request = unsafe { arg_mut(request) }?;
        // SAFETY: the caller's contract.
        let value = unsafe { name(data, len) }?;
        let field = field(request);
        field.clear();
        field.push_str(value);
        Ok(())
    }
}

/// Sets the MAIL FROM address, with or without angle brackets; empty (or
/// `<>`) for the null sender.
///
/// The text is copied. Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`,
/// `SPFGATE_INVALID_UTF8` or `SPFGATE_EMBEDDED_NUL` (the request is then
/// unchanged).
///
/// # Safety
/// `request` is a live request; `data` points to `len` readable bytes
/// (NULL is allowed when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_mail_from(
    request: *mut spfgate_request,
    data: *const u8,
    len: usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { set_text(request, data, len, |r| &mut r.mail_from) }
}

/// Sets the HELO/EHLO name.
///
/// The text is copied. Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`,
/// `SPFGATE_INVALID_UTF8` or `SPFGATE_EMBEDDED_NUL` (the request is then
/// unchanged).
///
/// # Safety
/// `request` is a live request; `data` points to `len` readable bytes
/// (NULL is allowed when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_helo(
    request: *mut spfgate_request,
    data: *const u8,
    len: usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { set_text(request, data, len, |r| &mut r.helo) }
}

/// Sets this receiver's host name, for `%{r}` and `Received-SPF`; empty
/// means unknown.
///
/// The text is copied. Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER`,
/// `SPFGATE_INVALID_UTF8` or `SPFGATE_EMBEDDED_NUL` (the request is then
/// unchanged).
///
/// # Safety
/// `request` is a live request; `data` points to `len` readable bytes
/// (NULL is allowed when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_receiver(
    request: *mut spfgate_request,
    data: *const u8,
    len: usize,
) -> spfgate_status {
    // SAFETY: the caller's contract.
    unsafe { set_text(request, data, len, |r| &mut r.receiver) }
}

/// Sets the time for `%{t}`, in seconds since the Unix epoch: the library
/// never reads a clock.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `request` is a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_now(
    request: *mut spfgate_request,
    now: u64,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        unsafe { arg_mut(request) }?.now = now;
        Ok(())
    }
}

/// Sets which identity an evaluation checks: an `spfgate_identity` value.
/// A policy decision always checks MAIL FROM and ignores this.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_ARGUMENT` (an unknown value).
///
/// # Safety
/// `request` is a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_request_set_identity(
    request: *mut spfgate_request,
    identity: u32,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let request = unsafe { arg_mut(request) }?;
        request.identity = match identity {
            x if x == spfgate_identity::SPFGATE_IDENTITY_MAIL_FROM as u32 => Identity::MailFrom,
            x if x == spfgate_identity::SPFGATE_IDENTITY_HELO as u32 => Identity::Helo,
            _ => return Err(SPFGATE_INVALID_ARGUMENT),
        };
        Ok(())
    }
}

/// How an evaluation runs: limits, prefetch, default explanation, trace.
/// Made by `spfgate_config_new()` with the RFC 7208 defaults; read (copied)
/// by `spfgate_evaluator_new()` and `spfgate_policy_decide()`.
///
/// Thread-safety: no internal locking; use it from one thread at a time.
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_config {
    pub(crate) inner: Config,
}

/// The processing limits of RFC 7208 §4.6.4, counted across every include
/// and redirect.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub struct spfgate_limits {
    /// DNS-querying terms (include, a, mx, ptr, exists, redirect); RFC default 10.
    pub dns_terms: u32,
    /// Lookups answered NXDOMAIN or with no records; RFC default 2.
    pub void_lookups: u32,
    /// MX names one `mx` may look up; more is a permerror. RFC default 10.
    pub mx_names: u32,
    /// PTR names `ptr` and `%{p}` validate; extra ones are ignored. RFC default 10.
    pub ptr_names: u32,
    /// Hard cap on the queries of one evaluation, prefetches included
    /// (default 160); reaching it is a permerror.
    pub max_queries: u32,
}

/// Makes a configuration with the defaults: RFC limits, prefetch on, no
/// default explanation, trace on.
///
/// - `out`: receives the new configuration; free it with `spfgate_config_free()`.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_new(out: *mut *mut spfgate_config) -> spfgate_status {
    ffi! {
        let out = Out::new(out)?;
        let config = spfgate_config { inner: Config::default() };
        // SAFETY: the caller's contract.
        unsafe { out.write_handle(config) };
        Ok(())
    }
}

/// Frees a configuration. NULL is allowed and does nothing.
///
/// # Safety
/// `config` is NULL or came from `spfgate_config_new()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_free(config: *mut spfgate_config) {
    ffi_value! {(),
        // SAFETY: the caller's contract.
        unsafe { free_handle(config) }
    }
}

/// Reads the configuration's limits into `*out` (to change some and set them
/// back with `spfgate_config_set_limits()`).
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live configuration; `out` points to a writable `spfgate_limits`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_limits(
    config: *const spfgate_config,
    out: *mut spfgate_limits,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let config = unsafe { arg(config) }?;
        let out = Out::new(out)?;
        let l = &config.inner.limits;
        let limits = spfgate_limits {
            dns_terms: l.dns_terms,
            void_lookups: l.void_lookups,
            mx_names: l.mx_names,
            ptr_names: l.ptr_names,
            max_queries: l.max_queries,
        };
        // SAFETY: the caller's contract.
        unsafe { out.write(limits) };
        Ok(())
    }
}

/// Sets the limits (copied from `*limits`); how void lookups are counted is
/// set apart, by `spfgate_config_set_void_counting()`.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live configuration; `limits` points to a readable `spfgate_limits`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_set_limits(
    config: *mut spfgate_config,
    limits: *const spfgate_limits,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let config = unsafe { arg_mut(config) }?;
        // SAFETY: the caller's contract.
        let l = unsafe { arg(limits) }?;
        config.inner.limits = Limits {
            dns_terms: l.dns_terms,
            void_lookups: l.void_lookups,
            mx_names: l.mx_names,
            ptr_names: l.ptr_names,
            max_queries: l.max_queries,
            ..config.inner.limits
        };
        Ok(())
    }
}

/// Turns prefetching of `include`/`redirect` targets on or off (default on).
/// Prefetches cut round trips and never count against the RFC limits.
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_set_prefetch(
    config: *mut spfgate_config,
    on: bool,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        unsafe { arg_mut(config) }?.inner.prefetch = on;
        Ok(())
    }
}

/// Turns the trace (every query, answer, record and term, in the outcome's
/// JSON) on or off (default on).
///
/// Returns `SPFGATE_OK` or `SPFGATE_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_set_trace(
    config: *mut spfgate_config,
    on: bool,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        unsafe { arg_mut(config) }?.inner.trace = on;
        Ok(())
    }
}

/// Sets the explanation for `fail` when the record gives none (a macro-string,
/// expanded like `exp=` text). `data == NULL` with `len == 0` removes it.
///
/// The text is copied. Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_UTF8`.
///
/// # Safety
/// `config` is a live configuration; `data` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_set_default_explanation(
    config: *mut spfgate_config,
    data: *const u8,
    len: usize,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let config = unsafe { arg_mut(config) }?;
        let clear = data.is_null();
        // SAFETY: the caller's contract.
        let value = unsafe { text(data, len) }?;
        config.inner.default_explanation = (!clear).then(|| Arc::from(value));
        Ok(())
    }
}

/// How void lookups are counted against `spfgate_limits.void_lookups`
/// (RFC 7208 §4.6.4).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // C naming, as the header shows it.
pub enum spfgate_void_counting {
    /// A term counts at most once, when its own lookup is void (the address
    /// lookup of `a`, the A lookup of `exists`, the MX lookup of `mx` or all its
    /// hosts, the PTR lookup of `ptr`); names validating the client never
    /// count. The default.
    SPFGATE_VOID_COUNTING_PER_TERM = 0,
    /// Every void answer a term uses counts, also each `mx` host's and each
    /// name validating the client: the counting of pyspf and Mail::SPF.
    SPFGATE_VOID_COUNTING_PER_LOOKUP = 1,
}

/// Sets how void lookups are counted: an `spfgate_void_counting` value.
///
/// Returns `SPFGATE_OK`, `SPFGATE_NULL_PARAMETER` or
/// `SPFGATE_INVALID_ARGUMENT` (an unknown value).
///
/// # Safety
/// `config` is a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn spfgate_config_set_void_counting(
    config: *mut spfgate_config,
    counting: u32,
) -> spfgate_status {
    ffi! {
        // SAFETY: the caller's contract.
        let config = unsafe { arg_mut(config) }?;
        config.inner.limits.void_counting = match counting {
            x if x == spfgate_void_counting::SPFGATE_VOID_COUNTING_PER_TERM as u32 => {
                VoidCounting::PerTerm
            }
            x if x == spfgate_void_counting::SPFGATE_VOID_COUNTING_PER_LOOKUP as u32 => {
                VoidCounting::PerLookup
            }
            _ => return Err(SPFGATE_INVALID_ARGUMENT),
        };
        Ok(())
    }
}
