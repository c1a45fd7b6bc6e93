//! A small MCP server over stdio (newline-delimited JSON-RPC), the fixture
//! of Corral's native-server tests and bench. Each `tools/call` runs on its
//! own thread, so pings are answered while a call sleeps or hangs.
//!
//! | tool | does |
//! | --- | --- |
//! | `echo` | returns `text` as text content, after a log notification and, when the call carries a progress token, a progress notification |
//! | `sleep` | sleeps `ms` milliseconds, then answers `slept` |
//! | `hang` | never answers |
//! | `big` | answers with a text of `bytes` bytes (default 2 MiB) |
//! | `crash` | exits the process with status 3 at once |
//! | `freeze` | stops reading its input for good: pings go unanswered |
//! | `env` | returns the value of environment variable `name`, or of the file named by `<name>_FILE` |
//!
//! Flags: `--silent` answers nothing at all (not even `initialize`);
//! `--start-delay-ms N` waits N ms before reading its first message.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let silent = args.iter().any(|a| a == "--silent");
    if let Some(ms) = args
        .iter()
        .position(|a| a == "--start-delay-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|ms| ms.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if silent {
            continue;
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            eprintln!("native-echo: not JSON: {line}");
            continue;
        };
        let Some(id) = message.get("id").cloned() else { continue };
        let method = message["method"].as_str().unwrap_or_default().to_owned();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        match method.as_str() {
            "initialize" => send(
                &out,
                &json!({"jsonrpc": "2.0", "id": id, "result": {
                    "protocolVersion": params["protocolVersion"].as_str().unwrap_or("2025-06-18"),
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "native-echo", "version": "0.1.0"}
                }}),
            ),
            "ping" => send(&out, &json!({"jsonrpc": "2.0", "id": id, "result": {}})),
            "tools/list" => send(&out, &tools_list(&id, &params)),
            "tools/call" if params["name"] == "freeze" => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            "tools/call" => {
                let out = out.clone();
                std::thread::spawn(move || call(&out, id, &params));
            }
            _ => send(
                &out,
                &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}}),
            ),
        }
    }
}

fn send(out: &Mutex<std::io::Stdout>, message: &Value) {
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    let _ = writeln!(out, "{message}");
    let _ = out.flush();
}

/// Two pages, so a client must follow `nextCursor`.
fn tools_list(id: &Value, params: &Value) -> Value {
    let object = |props: Value| json!({"type": "object", "properties": props});
    // `echo` is first so that a client must page to see the rest.
    let first = vec![
        json!({"name": "echo", "description": "Echoes text", "inputSchema": {
            "type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}),
        json!({"name": "sleep", "description": "Sleeps ms milliseconds",
            "inputSchema": object(json!({"ms": {"type": "integer"}}))}),
        json!({"name": "hang", "description": "Never answers", "inputSchema": object(json!({}))}),
    ];
    let second = vec![
        json!({"name": "big", "description": "Answers with a big text",
            "inputSchema": object(json!({"bytes": {"type": "integer"}}))}),
        json!({"name": "crash", "description": "Exits at once", "inputSchema": object(json!({}))}),
        json!({"name": "freeze", "description": "Stops reading input", "inputSchema": object(json!({}))}),
        json!({"name": "env", "description": "Reads an environment value",
            "inputSchema": object(json!({"name": {"type": "string"}}))}),
    ];
    let result = if params["cursor"] == "page2" {
        json!({"tools": second})
    } else {
        json!({"tools": first, "nextCursor": "page2"})
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn text_result(id: &Value, text: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": text}], "isError": false}})
}

fn call(out: &Mutex<std::io::Stdout>, id: Value, params: &Value) {
    let args = &params["arguments"];
    match params["name"].as_str().unwrap_or_default() {
        "echo" => {
            if let Some(token) = params.pointer("/_meta/progressToken") {
                send(
                    out,
                    &json!({"jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": token, "progress": 1, "total": 2, "message": "echoing"}}),
                );
            }
            send(
                out,
                &json!({"jsonrpc": "2.0", "method": "notifications/message",
                    "params": {"level": "info", "logger": "native-echo", "data": "echo called"}}),
            );
            send(out, &text_result(&id, args["text"].as_str().unwrap_or_default()));
        }
        "sleep" => {
            std::thread::sleep(Duration::from_millis(args["ms"].as_u64().unwrap_or(0)));
            send(out, &text_result(&id, "slept"));
        }
        "hang" => {}
        "big" => {
            let bytes = args["bytes"].as_u64().unwrap_or(2 << 20) as usize;
            send(out, &text_result(&id, &"x".repeat(bytes)));
        }
        "crash" => std::process::exit(3),
        "env" => {
            let name = args["name"].as_str().unwrap_or_default();
            let value = std::env::var(name)
                .ok()
                .or_else(|| {
                    let path = std::env::var(format!("{name}_FILE")).ok()?;
                    std::fs::read_to_string(path).ok()
                })
                .unwrap_or_else(|| "<unset>".to_owned());
            send(out, &text_result(&id, &value));
        }
        other => send(
            out,
            &json!({"jsonrpc": "2.0", "id": id, "result": {
                "content": [{"type": "text", "text": format!("unknown tool {other}")}], "isError": true}}),
        ),
    }
}
