//! Builds the WebAssembly guests (the example tools, the hostile test
//! fixtures and a component of the old 0.1.0 contract) for `wasm32-wasip2`, so that `cargo build` and `cargo test` on
//! a fresh checkout need no manual step.
//!
//! The guests are built by a nested `cargo build --release` into
//! `target/guests`, a target directory of their own (the outer build holds
//! the lock on its own one). Their paths reach the host crate as
//! `CORRAL_GUEST_<NAME>` environment variables at compile time.
//!
//! Set `CORRAL_SKIP_GUEST_BUILD=1` to skip this (for example to run clippy
//! on the host alone); the bundled tools are then empty and unusable.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (package, artifact stem, env suffix)
const GUESTS: &[(&str, &str, &str)] = &[
    ("corral-tool-fs", "corral_tool_fs", "FS"),
    ("corral-tool-text", "corral_tool_text", "TEXT"),
    ("corral-tool-conformance", "corral_tool_conformance", "CONFORMANCE"),
    ("corral-tool-fetch", "corral_tool_fetch", "FETCH"),
    ("corral-tool-notes", "corral_tool_notes", "NOTES"),
    ("corral-hostile", "corral_hostile", "HOSTILE"),
    ("corral-legacy-tool", "corral_legacy_tool", "LEGACY"),
    ("corral-plain-tool", "corral_plain_tool", "PLAIN"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.parent().expect("host/ lives in the workspace").to_path_buf();
    for dir in [
        "guest-sdk",
        "tools",
        "tests/hostile",
        "tests/legacy-tool",
        "tests/plain-tool",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=CORRAL_SKIP_GUEST_BUILD");

    let target_dir = root.join("target").join("guests");
    let out_dir = target_dir.join("wasm32-wasip2").join("release");
    if std::env::var_os("CORRAL_SKIP_GUEST_BUILD").is_none() {
        build_guests(&root, &target_dir);
    }
    for (_, stem, name) in GUESTS {
        let path = out_dir.join(format!("{stem}.wasm"));
        if !path.exists() {
            // Keeps `include_bytes!` compiling when the build is skipped.
            std::fs::create_dir_all(&out_dir).expect("creating guest output dir");
            std::fs::write(&path, b"").expect("writing placeholder");
        }
        println!("cargo:rustc-env=CORRAL_GUEST_{name}={}", path.display());
    }
}

/// Installs the wasm32-wasip2 standard library through rustup when it is
/// missing, so a fresh checkout builds with plain `cargo`.
fn ensure_wasm_target() {
    let sysroot = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot.is_some_and(|s| s.join("lib/rustlib/wasm32-wasip2/lib").is_dir());
    if !installed {
        println!("cargo:warning=installing the wasm32-wasip2 target with rustup");
        let _ = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    }
}

fn build_guests(root: &Path, target_dir: &Path) {
    ensure_wasm_target();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(target_dir);
    for (package, _, _) in GUESTS {
        cmd.args(["-p", package]);
    }
    // The outer build's flags, wrappers and profile settings are for the
    // host target; none of them may leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CLIPPY_ARGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo to build the wasm guests");
    if !status.success() {
        panic!(
            "building the wasm guests failed ({status}); is the target installed? \
             run `rustup target add wasm32-wasip2`"
        );
    }
}
