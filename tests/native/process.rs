//! The `process` launcher against a third-party stdio MCP server: the
//! official Python SDK (`pip install mcp==2.3.0`, done by `.ci/run`).

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::fixture::{call, config, run, text, wait_up};
use crate::support;

/// The real interpreter behind `python3` (a pyenv shim needs variables the
/// cleared environment of the process launcher does not have).
fn python() -> String {
    run(Command::new("python3").args(["-c", "import sys; print(sys.executable)"])).trim().to_owned()
}

#[test]
fn python_sdk_server_is_listed_and_called_through_the_process_launcher() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/native/adder.py");
    let dir = tempfile::tempdir().unwrap();
    let native = format!(
        "[[native]]\nname = \"py\"\nlauncher = \"process\"\ncommand = [{:?}, {:?}]\n",
        python(),
        script.display().to_string()
    );
    let addr = support::start(config(&native, dir.path()));
    let state = wait_up(&addr, "py");
    assert_eq!(state["tools"], json!(["py_add"]));
    assert_eq!(state["launcher"], "process");
    let session = addr.session();
    let listed = addr.request(&session, 2, "tools/list", json!({})).json();
    let add = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "py_add")
        .cloned();
    assert_eq!(add.expect("py_add listed")["description"], "Adds two integers.");
    let result = call(&addr, "py_add", json!({ "a": 2, "b": 40 }));
    assert_eq!(text(&result), "42");
    assert_eq!(result["structuredContent"], json!({ "result": 42 }));
    let refused = call(&addr, "py_add", json!({ "a": "two" }));
    assert_eq!(refused["isError"], true);
}
