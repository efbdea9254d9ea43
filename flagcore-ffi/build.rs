//! Gives the shared library its versioned name, so that every build of it (the release
//! build CI makes, `make install`, a distribution's package) can be installed as
//! `libflagcore.so.0.1.0` with the links `libflagcore.so.0.1` and `libflagcore.so`, the
//! layout cargo-c installs (see `Makefile`).
//!
//! The version in the name is the ABI's: programs linked against the library record it and
//! refuse to load one with another. As in cargo-c and Cargo's own SemVer rules, a 0.x
//! release may break compatibility in its minor version, so 0.x names carry `major.minor`
//! (`libflagcore.so.0.1`) and 1.0 on carries the major alone (`libflagcore.so.1`).

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi_version = if major == "0" {
        format!("{major}.{minor}")
    } else {
        major
    };
    // The target's, not the host's: a cross build names its library for where it runs.
    match env::var("CARGO_CFG_TARGET_OS").unwrap_or_default().as_str() {
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "illumos"
        | "solaris" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libflagcore.so.{abi_version}");
        }
        "macos" | "ios" => {
            println!(
                "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libflagcore.{abi_version}.dylib"
            );
        }
        // Windows DLLs carry no such name; the import library names the DLL.
        _ => {}
    }
}
