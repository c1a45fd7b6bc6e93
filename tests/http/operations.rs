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
    assert_eq!(names, ["fs", "text", "conformance"]);
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
    std::thread::sleep(Duration::from_millis(200));
    assert!(TcpStream::connect(server.0).is_err(), "the listener is closed after shutdown");
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
