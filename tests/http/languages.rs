//! Tools in any language, served by `corral serve` and called with the
//! official Python MCP SDK in both revisions: the plain-WIT Rust fixture
//! (`tests/plain-tool`), the Python example (`tools/python-stats`, plain
//! WIT, componentize-py) and the JavaScript one (`tools/js-text`, the
//! `corral:mcp` world, jco). Their limits hold on an interpreter as on
//! compiled Rust: a long loop ends `out_of_fuel` or `timeout`, memory
//! growth past the limit `memory_limit`.
//!
//! The Python and JavaScript components are built by `.ci/polyglot.sh`
//! into `target/polyglot` (`bash .ci/run` runs it before the tests).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::python_sdk::run_python_client;
use crate::support::*;

const PLAIN: &str = env!("CORRAL_GUEST_PLAIN");

/// A component that `.ci/polyglot.sh` builds.
fn polyglot(file: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/polyglot").join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the Python and JavaScript examples with `bash .ci/polyglot.sh`",
        path.display()
    );
    path
}

/// One server for every test here: the three components under the
/// default limits, and the interpreted two again under tight ones. The
/// compile cache lives in `target/` so that the big interpreter components
/// compile once per build, not once per run.
fn server() -> Addr {
    static SERVER: OnceLock<Addr> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let python = polyglot("python_stats.wasm");
        let js = polyglot("js_text.wasm");
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-compile-cache");
        let toml = format!(
            r#"
[engine]
cache_dir = {cache:?}

[[component]]
name = "plain"
path = {PLAIN:?}

[[component]]
name = "py"
path = {python:?}

[[component]]
name = "js"
path = {js:?}

[[component]]
name = "py_fuel"
path = {python:?}
limits = {{ fuel = 50_000_000 }}

[[component]]
name = "py_memory"
path = {python:?}
limits = {{ memory_mib = 20, fuel = 100_000_000_000, timeout_ms = 60_000 }}

[[component]]
name = "js_time"
path = {js:?}
limits = {{ timeout_ms = 300, fuel = 100_000_000_000 }}

[[component]]
name = "js_memory"
path = {js:?}
limits = {{ memory_mib = 8, fuel = 100_000_000_000, timeout_ms = 60_000 }}
"#
        );
        let base = tempfile::tempdir().expect("tempdir").keep();
        let config = corral::config::Config::from_toml(&toml, Path::new("<languages>"), &base)
            .expect("languages config");
        start(config)
    })
}

/// Lists the tools and makes `calls` with the Python SDK in `mode`.
fn python_sdk(mode: &str, calls: Value) -> Value {
    run_python_client("call_tools.py", &[mode, &server().url(), &calls.to_string()])
}

fn call(seen: &Value, i: usize) -> &Value {
    &seen["calls"][i]
}

#[test]
fn a_plain_rust_component_is_served_in_both_revisions() {
    for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let seen = python_sdk(
            mode,
            json!([
                ["plain_add", {"a": 2, "b": 40}],
                ["plain_kinds_move_point", {"at": {"x": 1, "y": 2}, "dx": 1, "dy": -1}],
                ["plain_kinds_divide", {"a": 1, "b": 0}],
                ["plain_add", {"a": 2, "b": "forty"}],
            ]),
        );
        assert_eq!(seen["protocol_version"], json!(version));
        let add = &seen["tools"]["plain_add"];
        assert_eq!(add["inputSchema"]["properties"]["a"]["maximum"], json!(i32::MAX));
        assert_eq!(add["outputSchema"]["required"], json!(["value"]));
        assert!(seen["tools"].get("plain_handles_make_counter").is_none(), "refused, not listed");
        assert_eq!(call(&seen, 0)["structured"], json!({"value": 42}));
        assert_eq!(call(&seen, 1)["structured"], json!({"x": 2, "y": 1}));
        assert_eq!(call(&seen, 2)["isError"], json!(true));
        assert_eq!(call(&seen, 2)["text"], json!(["cannot divide 1 by zero"]));
        assert_eq!(call(&seen, 3)["isError"], json!(true));
        let text = call(&seen, 3)["text"][0].as_str().unwrap();
        assert!(text.contains("/b: \"forty\" is not of type \"integer\""), "{text}");
    }
}

#[test]
fn the_python_tool_is_listed_and_called() {
    let csv = "city,population,area\nOslo,709037,454\nBergen,291940,465\nTromsø,,2521\n";
    let seen = python_sdk(
        "auto",
        json!([
            ["py_stats_describe", {"values": [2, 4, 4, 4, 5, 5, 7, 9]}],
            ["py_stats_percentiles", {"values": [1, 2, 3, 4], "points": [0, 50, 100]}],
            ["py_stats_csv_columns", {"text": csv}],
            ["py_stats_describe", {"values": []}],
            ["py_stats_primes", {"below": 30}],
        ]),
    );
    let names: Vec<&String> =
        seen["tools"].as_object().unwrap().keys().filter(|n| n.starts_with("py_stats_")).collect();
    assert_eq!(
        names,
        [
            "py_stats_csv_columns",
            "py_stats_describe",
            "py_stats_linear_fit",
            "py_stats_percentiles",
            "py_stats_primes"
        ],
        "componentize-py's own `exports#init` is not a tool"
    );
    assert!(
        seen["tools"]["py_stats_describe"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Count, mean, median"),
        "the WIT doc comment, from the package-docs section the build adds: {}",
        seen["tools"]["py_stats_describe"]
    );
    let describe = call(&seen, 0);
    assert_eq!(describe["isError"], json!(false), "{describe}");
    let summary = &describe["structured"];
    assert_eq!(
        (summary["count"].clone(), summary["mean"].clone(), summary["median"].clone()),
        (json!(8), json!(5.0), json!(4.5))
    );
    assert_eq!(call(&seen, 1)["structured"], json!({"value": [1.0, 2.5, 4.0]}));
    let columns = &call(&seen, 2)["structured"]["value"];
    assert_eq!(columns[0]["name"], json!("city"));
    assert_eq!(columns[0]["kind"], json!("text"));
    assert_eq!(columns[1]["numeric_count"], json!(2), "fields come out in snake_case: {columns}");
    assert_eq!(columns[1]["blank_count"], json!(1));
    assert_eq!(call(&seen, 3)["isError"], json!(true), "an err result is a tool error");
    assert_eq!(
        call(&seen, 4)["structured"],
        json!({"value": [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]})
    );
}

#[test]
fn the_javascript_tool_is_listed_and_called() {
    let seen = python_sdk(
        "legacy",
        json!([
            ["js_slugify", {"text": "Héllo, Wörld! Ünïcode"}],
            ["js_word_stats", {"text": "The cat sat. The cat ran!\nDone."}],
            ["js_json_query", {"document": "{\"a\":[10,{\"b\":\"deep\"}]}", "path": "a.1.b"}],
            ["js_json_query", {"document": "{not json", "path": "a"}],
        ]),
    );
    for name in ["js_slugify", "js_word_stats", "js_json_query", "js_lorem"] {
        assert!(seen["tools"].get(name).is_some(), "{name} listed: {}", seen["tools"]);
    }
    assert_eq!(call(&seen, 0)["isError"], json!(false), "{}", call(&seen, 0));
    assert_eq!(call(&seen, 0)["structured"]["slug"], json!("hello-world-unicode"));
    let stats = &call(&seen, 1)["structured"];
    assert_eq!((stats["words"].clone(), stats["lines"].clone()), (json!(7), json!(2)), "{stats}");
    assert_eq!(call(&seen, 2)["structured"]["value"], json!("deep"), "{}", call(&seen, 2));
    assert_eq!(call(&seen, 3)["isError"], json!(true));
}

/// An interpreter's loop and its heap are the guest's like any other: fuel,
/// the wall clock and the memory limit stop them, and the host serves on.
#[test]
fn limits_hold_on_interpreted_tools() {
    let seen = python_sdk(
        "auto",
        json!([
            ["py_fuel_stats_primes", {"below": 5_000_000}],
            ["py_memory_stats_primes", {"below": 200_000_000}],
            ["js_time_lorem", {"words": 50_000_000}],
            ["js_memory_lorem", {"words": 5_000_000}],
            ["py_fuel_stats_primes", {"below": 10}],
        ]),
    );
    let text = |i: usize| call(&seen, i)["text"][0].as_str().unwrap_or_default().to_owned();
    for i in 0..4 {
        assert_eq!(call(&seen, i)["isError"], json!(true), "{}", call(&seen, i));
    }
    assert!(text(0).starts_with("tool ran out of fuel"), "{}", text(0));
    assert!(text(1).starts_with("tool exceeded its memory limit"), "{}", text(1));
    assert!(text(2).starts_with("tool call timed out"), "{}", text(2));
    assert!(text(3).starts_with("tool exceeded its memory limit"), "{}", text(3));
    assert_eq!(call(&seen, 4)["structured"], json!({"value": [2, 3, 5, 7]}), "still serving");
    let metrics = server().metrics();
    for (tool, outcome) in [
        ("py_fuel_stats_primes", "out_of_fuel"),
        ("py_memory_stats_primes", "memory_limit"),
        ("js_time_lorem", "timeout"),
        ("js_memory_lorem", "memory_limit"),
    ] {
        let series = format!(r#"corral_tool_calls_total{{tool="{tool}",outcome="{outcome}"}}"#);
        assert!(
            metric_value(&metrics, &series).is_some_and(|n| n >= 1.0),
            "{series} in\n{metrics}"
        );
    }
}
