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

/// A client that connects the moment the port opens and lists once sees
/// the native server's tools (the list waits for its first start), and can
/// call one at once; `/readyz` says ready only once it has started.
#[test]
fn a_native_servers_tools_are_in_the_first_list_and_callable_at_once() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/native/adder.py");
    let dir = tempfile::tempdir().unwrap();
    let native = format!(
        "[[native]]\nname = \"py\"\nlauncher = \"process\"\ncommand = [{:?}, {:?}]\n",
        python(),
        script.display().to_string()
    );
    let addr = support::start_serving(config(&native, dir.path()));
    let list = addr.stateless(&support::stateless_request(1, "tools/list", json!({})), &[]);
    let tools = list.json()["result"]["tools"].clone();
    assert!(
        tools.as_array().unwrap().iter().any(|t| t["name"] == "py_add"),
        "the first list lacks the native tool: {}",
        list.body
    );
    let ready = addr.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    let call = support::stateless_request(
        2,
        "tools/call",
        json!({ "name": "py_add", "arguments": { "a": 2, "b": 40 } }),
    );
    let reply = addr.stateless(&call, &[]);
    assert_eq!(reply.json()["result"]["content"][0]["text"], "42", "{}", reply.body);
}

/// A native server's tools that change while it runs (its own
/// `notifications/tools/list_changed`) reach the listeners of both
/// revisions: a 2025-11-25 session's standalone stream and a 2026-07-28
/// `subscriptions/listen` stream; so do its prompts.
#[test]
fn a_native_servers_new_tool_reaches_listeners_of_both_revisions() {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/changing_tools.py");
    let dir = tempfile::tempdir().unwrap();
    let native = format!(
        "[[native]]\nname = \"test\"\nlauncher = \"process\"\ncommand = [{:?}, {:?}]\n",
        python(),
        script.display().to_string()
    );
    let addr = support::start(config(&native, dir.path()));
    wait_up(&addr, "test");
    let session = addr.session();
    let mut legacy = support::session_stream(addr, &session);
    let mut listen = support::listen(addr, 5, json!({ "toolsListChanged": true }));
    assert_eq!(
        support::read_events(&mut listen, 1)[0]["method"],
        "notifications/subscriptions/acknowledged"
    );
    let call =
        support::stateless_request(1, "tools/call", json!({ "name": "test_trigger_tool_change" }));
    let reply = addr.stateless(&call, &[]);
    assert_eq!(reply.json()["result"]["content"][0]["text"], "added dynamic_1", "{}", reply.body);
    let heard = support::read_events(&mut listen, 1);
    assert_eq!(heard[0]["method"], "notifications/tools/list_changed");
    assert_eq!(heard[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(5));
    assert_eq!(
        support::read_events(&mut legacy, 1)[0]["method"],
        "notifications/tools/list_changed"
    );
    // The notification may be an earlier change relayed late; the new tool
    // is listed once Corral has listed the server's tools again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let listed = addr.request(&session, 2, "tools/list", json!({})).json();
        let tools = listed["result"]["tools"].as_array().unwrap();
        if tools.iter().any(|t| t["name"] == "test_dynamic_1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never listed: {listed}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // Its prompts change too: a stream filtered to prompt changes hears it.
    let mut prompts = support::listen(addr, 6, json!({ "promptsListChanged": true }));
    support::read_events(&mut prompts, 1);
    let call = support::stateless_request(
        3,
        "tools/call",
        json!({ "name": "test_trigger_prompt_change" }),
    );
    let reply = addr.stateless(&call, &[]);
    assert_eq!(reply.json()["result"]["content"][0]["text"], "added dynamic_prompt_1");
    let heard = support::read_events(&mut prompts, 1);
    assert_eq!(heard[0]["method"], "notifications/prompts/list_changed", "{heard:?}");
    let listed = addr.request(&session, 4, "prompts/list", json!({})).json();
    assert!(listed.to_string().contains("test_dynamic_prompt_1"), "{listed}");
}

/// A native server's resources, template and prompt are served beside the
/// components' (its prompt namespaced, its URIs its own), its request to
/// the client during a call is relayed to a session's client, and its
/// resource updates reach the sessions subscribed to the URI.
#[test]
fn a_native_servers_resources_prompts_questions_and_updates_reach_the_client() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/native/library.py");
    let dir = tempfile::tempdir().unwrap();
    let native = format!(
        "[[native]]\nname = \"library\"\nlauncher = \"process\"\ncommand = [{:?}, {:?}]\n",
        python(),
        script.display().to_string()
    );
    let addr = support::start(config(&native, dir.path()));
    wait_up(&addr, "library");
    let session = addr.session_with(json!({ "elicitation": {} }));
    let result = |id, method: &str, params| {
        let reply = addr.request(&session, id, method, params);
        let body = match reply.header("content-type") {
            Some("text/event-stream") => reply.events().pop().unwrap(),
            _ => reply.json(),
        };
        body["result"].clone()
    };
    let listed = result(2, "resources/list", json!({}));
    assert!(listed.to_string().contains("library://catalog"), "{listed}");
    let read = result(3, "resources/read", json!({ "uri": "library://catalog" }));
    assert_eq!(read["contents"][0]["text"], "dune\nemma");
    let read = result(4, "resources/read", json!({ "uri": "library://books/dune" }));
    assert_eq!(read["contents"][0]["text"], "Dune, by Frank Herbert");
    let prompt = result(
        5,
        "prompts/get",
        json!({ "name": "library_review", "arguments": { "slug": "emma" } }),
    );
    assert!(prompt.to_string().contains("Emma, by Jane Austen"), "{prompt}");

    // The server's elicitation, relayed on the call's stream.
    let lend = json!({ "jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": { "name": "library_lend", "arguments": { "slug": "dune" } } });
    let mut stream = support::post_stream(addr, &session, &lend);
    let request = support::read_events(&mut stream, 1).pop().unwrap();
    assert_eq!(request["method"], "elicitation/create", "{request}");
    let answer = json!({ "jsonrpc": "2.0", "id": request["id"],
        "result": { "action": "accept", "content": { "ok": true } } });
    assert_eq!(addr.post(Some(&session), &answer, &[]).status, 202);
    let response = support::read_events(&mut stream, 1).pop().unwrap();
    assert_eq!(text(&response["result"]), "lent dune", "{response}");

    // MCP 2026-07-28 has no channel back during a request: the server is
    // told so, and its tool reports it.
    let lend = support::stateless_request(
        7,
        "tools/call",
        json!({ "name": "library_lend", "arguments": { "slug": "emma" },
                "_meta": { "io.modelcontextprotocol/clientCapabilities": { "elicitation": {} } } }),
    );
    let reply = addr.stateless(&lend, &[]);
    assert_eq!(reply.json()["result"]["isError"], true, "{}", reply.body);

    // An update of a subscribed URI reaches the session's stream.
    result(8, "resources/subscribe", json!({ "uri": "library://books/dune" }));
    let mut updates = support::session_stream(addr, &session);
    let touched = call(&addr, "library_touch", json!({ "slug": "dune" }));
    assert_eq!(text(&touched), "touched dune");
    let heard = support::read_events(&mut updates, 1);
    assert_eq!(heard[0]["method"], "notifications/resources/updated", "{heard:?}");
    assert_eq!(heard[0]["params"]["uri"], "library://books/dune");
}

/// A native server's tool runs as a task: the host runs the call in the
/// background under `task_timeout_ms` (here past the 500 ms
/// `call_timeout_ms` a plain call gets), and a cancel reaches the server.
#[test]
fn a_native_servers_tool_runs_as_a_task_under_the_task_timeout() {
    let echo = crate::fixture::echo_binary();
    let dir = tempfile::tempdir().unwrap();
    let native = format!(
        "[tasks]\npromote_after_ms = 50\n\n[[native]]\nname = \"echo\"\nlauncher = \"process\"\n\
         command = [{:?}]\ncall_timeout_ms = 500\ntask_support = {{ sleep = \"optional\" }}\n",
        echo.display().to_string()
    );
    let addr = support::start(config(&native, dir.path()));
    wait_up(&addr, "echo");
    let meta = json!({ "io.modelcontextprotocol/clientCapabilities": {
        "extensions": { "io.modelcontextprotocol/tasks": {} } } });
    let start = |ms: u64| {
        let call = support::stateless_request(
            1,
            "tools/call",
            json!({ "name": "echo_sleep", "arguments": { "ms": ms }, "_meta": meta }),
        );
        let reply = addr.stateless(&call, &[]);
        let result = reply.json()["result"].clone();
        assert_eq!(result["resultType"], "task", "{}", reply.body);
        result["taskId"].as_str().unwrap().to_owned()
    };
    let get = |task: &str| {
        let message =
            support::stateless_request(2, "tasks/get", json!({ "taskId": task, "_meta": meta }));
        addr.stateless(&message, &[]).json()["result"].clone()
    };
    let task = start(1500);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = loop {
        let now = get(&task);
        if now["status"] != "working" {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "{now}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "slept");
    // Cancelled: the host stops waiting and the server is told.
    let long = start(60_000);
    let cancel =
        support::stateless_request(3, "tasks/cancel", json!({ "taskId": &long, "_meta": meta }));
    assert_eq!(addr.stateless(&cancel, &[]).json()["result"]["resultType"], "complete");
    assert_eq!(get(&long)["status"], "cancelled");
    // The server still serves.
    let quick = call(&addr, "echo_sleep", json!({ "ms": 1 }));
    assert_eq!(text(&quick), "slept");
}
