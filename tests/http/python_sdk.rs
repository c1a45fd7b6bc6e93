//! The official Python MCP SDK as the client.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

/// Runs the Python script `tests/e2e/<script>` (an official Python MCP
/// SDK client) with `args` and returns the JSON it prints of what it saw.
pub fn run_python_client(script: &str, args: &[&str]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e").join(script);
    let output = std::process::Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .expect("python3 must be installed (with `pip install mcp==2.3.0`)");
    assert!(
        output.status.success(),
        "{script} {args:?} failed (is `mcp==2.3.0` installed?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("client prints JSON")
}

/// Runs `tests/e2e/mcp_client.py` in `mode` against `server` (a URL, or
/// `stdio` and a command line) and returns what the client saw.
pub fn python_client(mode: &str, server: &[&str]) -> Value {
    let args: Vec<&str> = std::iter::once(mode).chain(server.iter().copied()).collect();
    run_python_client("mcp_client.py", &args)
}

/// What both revisions see alike: every bundled tool, results, argument
/// checks, progress, logs, and a working connection after a cancellation.
pub fn assert_common_flow(seen: &Value) {
    assert_eq!(seen["server_name"], json!("corral"));
    assert_eq!(seen["tools"].as_array().unwrap().len(), 47, "{seen}");
    assert_eq!(seen["simple_text"], json!(["This is a simple text response for testing."]));
    assert_eq!(seen["simple_is_error"], json!(false));
    assert_eq!(seen["invalid_arguments_is_error"], json!(true));
    assert_eq!(seen["progress"], json!([[0.0, 100.0], [50.0, 100.0], [100.0, 100.0]]));
    assert_eq!(seen["logs_at_debug"].as_array().unwrap().len(), 3);
    assert_eq!(seen["cancelled_client_side"], json!(true));
    assert_eq!(seen["call_after_cancel"], json!(true));
}

/// The Python SDK's default mode probes `server/discover` and speaks
/// 2026-07-28: no session, log messages only when a request asks for them.
#[test]
fn python_sdk_auto_mode_speaks_2026_07_28_over_http() {
    let seen = python_client("auto", &[&shared().url()]);
    assert_eq!(seen["protocol_version"], json!("2026-07-28"));
    assert_common_flow(&seen);
    assert_eq!(seen["logs_without_level"], json!([]));
}

/// The Python SDK in legacy mode: the 2025-11-25 initialize handshake, a
/// session, `logging/setLevel`.
#[test]
fn python_sdk_legacy_mode_speaks_2025_11_25_over_http() {
    let seen = python_client("legacy", &[&shared().url()]);
    assert_eq!(seen["protocol_version"], json!("2025-11-25"));
    assert_common_flow(&seen);
    assert_eq!(seen["logs_at_error"], json!([]));
}

/// Runs `tests/e2e/notes_client.py` in `mode` against `server`.
pub fn notes_client(mode: &str, server: &[&str]) -> Value {
    let args: Vec<&str> = std::iter::once(mode).chain(server.iter().copied()).collect();
    run_python_client("notes_client.py", &args)
}

/// What the notes client sees in either revision, and what is left in the
/// notes directory: the note the user let go is gone, the one they kept
/// is there.
pub fn assert_notes_flow(seen: &Value, notes: &Path) {
    assert_eq!(seen["read"], "- eggs\n- milk\n", "{seen}");
    assert!(seen["templates"].as_array().unwrap().contains(&json!("notes://{name}")), "{seen}");
    assert!(seen["prompt"].as_str().unwrap().contains("Corral everything."), "{seen}");
    assert_eq!(seen["completion"], json!(["groceries.md"]));
    assert_eq!(seen["accepted"]["text"], "Deleted note `groceries.md`.");
    assert_eq!(seen["declined"]["is_error"], false);
    assert!(seen["declined"]["text"].as_str().unwrap().contains("declined"), "{seen}");
    assert_eq!(seen["asked"].as_array().unwrap().len(), 2, "{seen}");
    assert!(!notes.join("groceries.md").exists(), "the accepted delete removed the file");
    assert!(notes.join("ideas.md").exists(), "the declined delete kept the file");
}

/// The notes example from the Python SDK, both revisions over HTTP: read
/// a note as a resource, get the summarize prompt, complete a name, and
/// delete with the user accepting and declining (2026-07-28: the SDK
/// answers the `input_required` round and retries; 2025-11-25: the server
/// asks during the call).
#[test]
fn python_sdk_uses_the_notes_example_in_both_revisions() {
    for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let data = tempfile::tempdir().unwrap();
        let server = start(corral::config::builtin(data.path()).expect("built-in config"));
        let seen = notes_client(mode, &[&server.url()]);
        assert_eq!(seen["protocol_version"], json!(version));
        assert_notes_flow(&seen, &data.path().join("notes"));
    }
}
