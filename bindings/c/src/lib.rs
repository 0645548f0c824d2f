//! libspfgate: the C ABI of the spfgate SPF engine.
//!
//! Conversions and the panic boundary only: every piece of SPF and policy
//! logic lives in the `spfgate` crate. The header `include/spfgate.h` is
//! generated from this crate by cbindgen; the doc comments here are the
//! header's documentation.
//!
//! Conventions (as rustls-ffi): functions are `spfgate_<noun>_<verb>`; every
//! fallible function returns an `spfgate_status` and writes its outputs only on
//! success; handles are made by `_new(..., T **out)` and released by `_free`,
//! which accepts NULL; strings passed in are `(const uint8_t *data, size_t len)`
//! and need no NUL; strings handed out are borrowed `spfgate_str`s whose
//! lifetime each function states. Every entry point runs behind a panic
//! boundary and checks its pointers for NULL.

mod answer;
mod error;
mod evaluator;
mod ffi;
mod lookups;
mod policy;
mod record;
mod request;
mod whitelist;

/// The major version of the library this header belongs to.
pub const SPFGATE_VERSION_MAJOR: u32 = 0;
/// The minor version of the library this header belongs to.
pub const SPFGATE_VERSION_MINOR: u32 = 1;
/// The patch version of the library this header belongs to.
pub const SPFGATE_VERSION_PATCH: u32 = 0;

/// The version of the loaded library as a static NUL-terminated
/// `"MAJOR.MINOR.PATCH"` string. Compare it with the `SPFGATE_VERSION_*`
/// macros to detect a header/library mismatch.
///
/// Memory: static, never freed. Thread-safety: callable from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn spfgate_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_constants_match_the_package_version() {
        let version = format!(
            "{}.{}.{}",
            super::SPFGATE_VERSION_MAJOR,
            super::SPFGATE_VERSION_MINOR,
            super::SPFGATE_VERSION_PATCH
        );
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
    }
}
