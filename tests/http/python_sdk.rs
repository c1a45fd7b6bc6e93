//! The official Python MCP SDK as the client.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

/// The official Python MCP SDK (`pip install mcp==2.3.0`) drives a session:
/// `server/discover` probe and fallback, initialize, paged list, calls,
/// progress, logging with setLevel, and cancellation.
#[test]
fn python_sdk_client_runs_the_whole_flow() {
    let server = shared();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/mcp_client.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(server.url())
        .output()
        .expect("python3 must be installed (with `pip install mcp==2.3.0`)");
    assert!(
        output.status.success(),
        "the Python MCP client failed (is `mcp==2.3.0` installed?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("client prints JSON");
    assert_eq!(seen["protocol_version"], json!("2025-11-25"));
    assert_eq!(seen["server_name"], json!("corral"));
    assert_eq!(seen["tools"].as_array().unwrap().len(), 19);
    assert_eq!(seen["simple_text"], json!(["This is a simple text response for testing."]));
    assert_eq!(seen["simple_is_error"], json!(false));
    assert_eq!(seen["invalid_arguments_is_error"], json!(true));
    assert_eq!(seen["progress"], json!([[0.0, 100.0], [50.0, 100.0], [100.0, 100.0]]));
    assert_eq!(seen["logs_at_debug"].as_array().unwrap().len(), 3);
    assert_eq!(seen["logs_at_error"], json!([]));
    assert_eq!(seen["cancelled_client_side"], json!(true));
    assert_eq!(seen["ping_after_cancel"], json!(true));
}
