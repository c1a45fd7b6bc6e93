//! The operational endpoints, shutdown, and the `corral serve` binary.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

#[test]
fn healthz_is_ok() {
    let reply = shared().get("/healthz");
    assert_eq!((reply.status, reply.json()), (200, json!({ "status": "ok" })));
}

#[test]
fn readyz_lists_every_component_as_ready() {
    let ready = shared().get("/readyz").json();
    assert_eq!(ready["status"], json!("ready"));
    let names: Vec<&str> = ready["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fs", "text", "conformance", "notes"]);
    assert!(ready["components"].as_array().unwrap().iter().all(|c| c["state"] == "ready"));
}

#[test]
fn metrics_use_the_design_names_and_count_calls() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("", dir.path()));
    let session = server.session();
    server.request(&session, 1, "tools/call", json!({ "name": "test_simple_text" }));
    server.request(&session, 2, "tools/call", json!({ "name": "test_error_handling" }));
    let reply = server.get("/metrics");
    assert!(reply.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    let m = reply.body;
    assert_eq!(
        metric_value(&m, r#"corral_tool_calls_total{tool="test_simple_text",outcome="ok"}"#),
        Some(1.0)
    );
    assert_eq!(
        metric_value(
            &m,
            r#"corral_tool_calls_total{tool="test_error_handling",outcome="tool_error"}"#
        ),
        Some(1.0)
    );
    assert!(
        metric_value(&m, r#"corral_tool_fuel_consumed_total{tool="test_simple_text"}"#).unwrap()
            > 0.0
    );
    assert_eq!(
        metric_value(&m, r#"corral_tool_call_duration_seconds_count{tool="test_simple_text"}"#),
        Some(1.0)
    );
    assert!(metric_value(&m, r#"corral_http_requests_total{status="200"}"#).unwrap() >= 3.0);
    assert_eq!(metric_value(&m, "corral_component_compile_seconds_count"), Some(1.0));
    assert_eq!(metric_value(&m, "corral_calls_in_flight"), Some(0.0));
}

#[test]
fn shutdown_lets_a_call_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let server = start_with_shutdown(conformance_config("", dir.path()), Some(stopped));
    let session = server.session();
    let call = {
        let session = session.clone();
        std::thread::spawn(move || {
            server.request(&session, 1, "tools/call", json!({ "name": "test_reconnection" }))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric_value(&server.metrics(), "corral_calls_in_flight") != Some(1.0) {
        assert!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.send(()).unwrap();
    let reply = call.join().unwrap();
    assert_eq!(reply.json()["result"]["content"][0]["text"], json!("Reconnection test completed"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(server.0).is_ok() {
        assert!(Instant::now() < deadline, "the listener is still open 10 s after shutdown");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serve_binary_exits_zero_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CORRAL_DATA_DIR", data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn corral serve");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line.trim().strip_prefix("corral: listening on ").expect("listening line");
    let addr: SocketAddr =
        url.trim_start_matches("http://").trim_end_matches("/mcp").parse().unwrap();
    assert_eq!(Addr(addr).get("/healthz").status, 200);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// `corral serve` with the bundled tools and an empty compile cache (so
/// every component compiles from scratch); its address as soon as its port
/// is open. A call waits for a loading component up to `queue_timeout_ms`,
/// set generously here: compiling the three bundled components from scratch
/// takes 4-5 s of this machine's two cores, more when tests run beside it.
fn spawn_cold(data: &std::path::Path, cache: &std::path::Path) -> (std::process::Child, Addr) {
    let config = data.join("corral.toml");
    std::fs::write(
        &config,
        "[[component]]\nname = \"fs\"\npath = \"builtin:fs\"\n\
         [[component.dir]]\nhost = \".\"\nguest = \"/data\"\nmode = \"rw\"\n\n\
         [[component]]\nname = \"text\"\npath = \"builtin:text\"\n\n\
         [[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("CORRAL_CACHE_DIR", cache)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn corral serve");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line.trim().strip_prefix("corral: listening on ").expect("listening line");
    let addr: SocketAddr =
        url.trim_start_matches("http://").trim_end_matches("/mcp").parse().unwrap();
    (child, Addr(addr))
}

#[test]
fn a_cold_start_refuses_nothing_a_client_sends_the_moment_the_port_opens() {
    let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut child, server) = spawn_cold(data.path(), cache.path());
    // Liveness at once; readiness only once every component is loaded.
    assert_eq!(server.get("/healthz").status, 200);
    let ready = server.get("/readyz");
    if ready.status == 503 {
        assert_eq!(ready.json()["status"], "loading", "{}", ready.body);
    }
    // Both revisions' first requests are answered at once.
    let init = server.post(None, &initialize("2025-11-25"), &[]);
    assert_eq!(init.status, 200, "{}", init.body);
    let discover = stateless_request(1, "server/discover", json!({}));
    assert_eq!(server.stateless(&discover, &[]).status, 200);
    // The first list, of either revision, waits for every component and
    // has every tool: one list, no retry.
    let session = server.session();
    let list = server.request(&session, 2, "tools/list", json!({}));
    assert_eq!(list.json()["result"]["tools"].as_array().unwrap().len(), 44, "{}", list.body);
    let list = server.stateless(&stateless_request(3, "tools/list", json!({})), &[]);
    assert_eq!(list.json()["result"]["tools"].as_array().unwrap().len(), 44, "{}", list.body);
    assert_eq!(list.json()["result"]["ttlMs"], 60000, "complete, so cacheable: {}", list.body);
    let call = server.request(&session, 4, "tools/call", json!({ "name": "test_simple_text" }));
    assert_eq!(call.status, 200, "{}", call.body);
    assert_eq!(call.json()["result"]["isError"], json!(false), "{}", call.body);
    assert_eq!(server.get("/readyz").status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn listeners_hear_each_component_become_ready() {
    use std::io::{BufRead, Write};
    let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut child, server) = spawn_cold(data.path(), cache.path());
    let listen = stateless_request(
        9,
        "subscriptions/listen",
        json!({ "notifications": { "toolsListChanged": true } }),
    );
    let body = listen.to_string();
    let mut stream = TcpStream::connect(server.0).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: subscriptions/listen\r\ncontent-length: {}\r\n\r\n{body}",
        server.0,
        body.len()
    )
    .unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut methods = Vec::new();
    let mut line = String::new();
    // The acknowledgement, then a change for the components that load
    // after the stream opened (at least the last of the three).
    while methods.iter().filter(|m| *m == "notifications/tools/list_changed").count() < 1 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended: {methods:?}");
        if let Some(data) = line.trim_end().strip_prefix("data: ") {
            let message: serde_json::Value = serde_json::from_str(data).unwrap();
            assert_eq!(
                message["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
                json!(9)
            );
            methods.push(message["method"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(methods[0], "notifications/subscriptions/acknowledged");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_component_that_fails_to_load_is_named_and_the_others_serve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.wasm"), b"\0asm\x01\0\0\0 not a component").unwrap();
    let text = "[[component]]\nname = \"broken\"\npath = \"broken.wasm\"\n\n\
                [[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";
    let config =
        corral::config::Config::from_toml(text, std::path::Path::new("<test>"), dir.path())
            .unwrap();
    let server = start_serving(config);
    let deadline = Instant::now() + Duration::from_secs(120);
    let ready = loop {
        let ready = server.get("/readyz");
        if ready.json()["status"] == "failed" {
            break ready;
        }
        assert!(Instant::now() < deadline, "never failed: {}", ready.body);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(ready.status, 503, "a load balancer keeps away from a replica missing a component");
    let broken = &ready.json()["components"][0];
    assert_eq!(
        (broken["name"].clone(), broken["state"].clone()),
        (json!("broken"), json!("failed"))
    );
    let error = broken["error"].as_str().unwrap();
    assert!(error.starts_with("component \"broken\": not a valid wasm component: "), "{error}");
    let session = server.session();
    let call = server.request(&session, 1, "tools/call", json!({ "name": "test_simple_text" }));
    assert_eq!(call.json()["result"]["isError"], json!(false), "{}", call.body);
    let unknown = server.request(&session, 2, "tools/call", json!({ "name": "broken_anything" }));
    assert_eq!(unknown.code(), -32602, "{}", unknown.body);
}
