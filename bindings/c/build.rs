//! Gives the shared library its soname, `libspfgate.so.MAJOR`, so that programs
//! linked against it keep loading it across compatible releases (see the README's
//! ABI policy). Only for ELF targets; other linkers do not know the flag.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    if matches!(
        target_os.as_str(),
        "linux" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libspfgate.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
