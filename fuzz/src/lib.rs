//! The fuzz targets ([`targets`]) and what they share: one runtime and one
//! host per process.
//!
//! Each target is a plain function of the input's bytes, so the same code
//! runs under libFuzzer (`fuzz_targets/`, `cargo fuzz`) and in the host's
//! ordinary test build, which replays every committed corpus and seed
//! through it (`tests/fuzz_corpora.rs`, part of `cargo test`).
//!
//! The host serves the conformance component (every MCP feature a tool can
//! use: tools with and without arguments, resources, templates, prompts,
//! completion, elicitation and sampling) when the workspace has built it
//! (`cargo build` or `cargo test` in the repository builds the guests into
//! `target/guests`); without it the host serves no tool and the targets
//! still reach every protocol path that needs none.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use corral::config::Config;

pub mod targets;

/// The repository's root (this file is compiled from `fuzz/` by cargo fuzz,
/// and from `host/` by the corpus replay: both one level down).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A current-thread runtime: every task the host spawns runs on the fuzzing
/// thread, so a panic anywhere aborts the input that caused it.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
    })
}

/// The fuzzed host's configuration: both protocol generations with
/// sessions, short limits so that a call that waits (for a client's answer,
/// a timeout) costs a millisecond or a few, the compile cache in `target/`.
pub fn config() -> Config {
    let root = root();
    let cache = root.join("target").join("fuzz-compile-cache");
    // The component the fuzzed host serves, as `cargo build` left it.
    let wasm = root.join("target/guests/wasm32-wasip2/release/corral_tool_conformance.wasm");
    let has_component = std::fs::metadata(&wasm).is_ok_and(|m| m.len() > 0);
    let component = if has_component {
        format!(
            r#"
            [[component]]
            name = "conformance"
            path = {path}
            namespace = ""
            limits.timeout_ms = 100
            limits.queue_timeout_ms = 50
            "#,
            path = toml_string(&wasm)
        )
    } else {
        eprintln!(
            "corral-fuzz: {} is not built; the host serves no component \
             (run `cargo build` in the repository first)",
            wasm.display()
        );
        String::new()
    };
    let text = format!(
        r#"
        [server]
        shutdown_grace_ms = 20
        input_timeout_ms = 1
        max_body_kib = 64
        [engine]
        cache_dir = {cache}
        {component}
        "#,
        cache = toml_string(&cache)
    );
    Config::from_toml(&text, Path::new("<fuzz config>"), &root).expect("the fuzz config is valid")
}

fn toml_string(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}
