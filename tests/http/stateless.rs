//! MCP 2026-07-28 over HTTP: no session, every request carries its own
//! envelope in `_meta` and says what it is in `Mcp-*` headers.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn discover() -> Value {
    stateless_request(1, "server/discover", json!({}))
}

#[test]
fn discover_names_the_revision_capabilities_server_and_caching_hints() {
    let reply = shared().stateless(&discover(), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.header("mcp-session-id").is_none(), "no session in 2026-07-28");
    let result = &reply.json()["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"], json!(["2026-07-28"]));
    assert_eq!(
        result["capabilities"],
        json!({
            "tools": { "listChanged": true },
            "resources": { "listChanged": true, "subscribe": true },
            "prompts": { "listChanged": true },
            "completions": {},
            "logging": {},
            "extensions": { "io.modelcontextprotocol/tasks": {} },
        })
    );
    assert_eq!(result["ttlMs"], json!(60_000));
    assert_eq!(result["cacheScope"], "public");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "corral");
}

#[test]
fn a_request_without_the_envelope_is_400_invalid_params() {
    let message = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } });
    let reply = shared().stateless(&message, &[]);
    assert_eq!((reply.status, reply.code()), (400, -32602));
    assert_eq!(reply.json()["id"], json!(7));
    assert!(reply.body.contains("clientCapabilities"), "{}", reply.body);
}

#[test]
fn headers_that_disagree_with_the_body_are_400_header_mismatch() {
    let list = stateless_request(2, "tools/list", json!({}));
    for extra in [
        [("mcp-protocol-version", "2025-11-25")],
        [("mcp-method", "prompts/list")],
        [("mcp-method", "TOOLS/LIST")],
    ] {
        let reply = shared().stateless(&list, &extra);
        assert_eq!((reply.status, reply.code()), (400, -32020), "{extra:?}: {}", reply.body);
    }
    let call = stateless_request(3, "tools/call", json!({ "name": "test_simple_text" }));
    let reply = shared().stateless(&call, &[("mcp-name", "text_sha256")]);
    assert_eq!((reply.status, reply.code()), (400, -32020));
    // Whitespace around a value is not part of it.
    let reply = shared().stateless(&call, &[("mcp-name", "  test_simple_text  ")]);
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn an_unsupported_version_is_400_naming_the_supported_and_the_requested() {
    let mut message = discover();
    message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let reply = shared().stateless(&message, &[("mcp-protocol-version", "2099-01-01")]);
    assert_eq!((reply.status, reply.code()), (400, -32022));
    assert_eq!(
        reply.json()["error"]["data"],
        json!({ "supported": ["2026-07-28"], "requested": "2099-01-01" })
    );
}

#[test]
fn methods_of_the_session_revisions_are_404_method_not_found() {
    for method in ["initialize", "ping", "logging/setLevel", "no/such/method"] {
        let reply = shared().stateless(&stateless_request(4, method, json!({})), &[]);
        assert_eq!((reply.status, reply.code()), (404, -32601), "{method}: {}", reply.body);
        assert_eq!(reply.json()["id"], json!(4));
    }
}

#[test]
fn tools_list_carries_result_type_and_caching_hints() {
    let reply = shared().stateless(&stateless_request(5, "tools/list", json!({})), &[]);
    let result = &reply.json()["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["cacheScope"], "public");
    assert_eq!(result["ttlMs"], json!(60_000), "every component is loaded");
    assert!(result["tools"].as_array().unwrap().iter().any(|t| t["name"] == "test_simple_text"));
}

#[test]
fn a_call_result_is_complete_and_names_the_server() {
    let call = stateless_request(6, "tools/call", json!({ "name": "test_simple_text" }));
    let reply = shared().stateless(&call, &[]);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let result = &reply.json()["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["content"][0]["text"], "This is a simple text response for testing.");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "corral");
}

#[test]
fn log_messages_come_only_at_or_above_the_requested_level() {
    let quiet = stateless_request(7, "tools/call", json!({ "name": "test_tool_with_logging" }));
    let reply = shared().stateless(&quiet, &[]);
    assert_eq!(reply.header("content-type"), Some("application/json"), "no notifications at all");
    let info = stateless_request(
        8,
        "tools/call",
        json!({ "name": "test_tool_with_logging", "_meta": { "io.modelcontextprotocol/logLevel": "info" } }),
    );
    let events = shared().stateless(&info, &[]).events();
    assert_eq!(events.iter().filter(|e| e["method"] == "notifications/message").count(), 3);
    let error = stateless_request(
        9,
        "tools/call",
        json!({ "name": "test_tool_with_logging", "_meta": { "io.modelcontextprotocol/logLevel": "error" } }),
    );
    let reply = shared().stateless(&error, &[]);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[test]
fn param_headers_must_mirror_the_arguments_they_declare() {
    let call = stateless_request(
        10,
        "tools/call",
        json!({ "name": "test_param_header", "arguments": { "region": "eu-west" } }),
    );
    let ok = shared().stateless(&call, &[("mcp-param-region", "eu-west")]);
    assert_eq!(ok.json()["result"]["content"][0]["text"], "region: eu-west", "{}", ok.body);
    let base64 = shared().stateless(&call, &[("Mcp-Param-Region", "=?base64?ZXUtd2VzdA==?=")]);
    assert_eq!(base64.status, 200, "{}", base64.body);
    for extra in [
        vec![],
        vec![("mcp-param-region", "us-east")],
        vec![("mcp-param-region", "=?base64?ZXUtd2VzdA?=")],
    ] {
        let reply = shared().stateless(&call, &extra);
        assert_eq!((reply.status, reply.code()), (400, -32020), "{extra:?}: {}", reply.body);
    }
}

#[test]
fn a_notification_is_accepted_and_needs_no_session() {
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 1 } });
    let reply = shared().post(None, &note, &[("mcp-protocol-version", "2026-07-28")]);
    assert_eq!(reply.status, 202);
}

#[test]
fn a_listen_stream_is_acknowledged_and_ends_with_its_result_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let server = start_with_shutdown(conformance_config("", dir.path()), Some(stopped));
    let mut stream = listen(
        server,
        42,
        json!({ "toolsListChanged": true, "promptsListChanged": true, "bogus": true,
                "resourceSubscriptions": ["test://watched-resource"] }),
    );
    let ack = read_events(&mut stream, 1);
    assert_eq!(ack[0]["method"], "notifications/subscriptions/acknowledged");
    // What the server offers is honored; what it does not know is not.
    assert_eq!(
        ack[0]["params"]["notifications"],
        json!({ "toolsListChanged": true, "promptsListChanged": true,
                "resourceSubscriptions": ["test://watched-resource"] })
    );
    assert_eq!(ack[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(42));
    stop.send(()).unwrap();
    // A list change may come first (the component's load, relayed late on
    // a busy machine: a repeated list_changed is harmless); then the end.
    let end = loop {
        let message = read_events(&mut stream, 1).pop().expect("the stream ends with a result");
        if message.get("id").is_some() {
            break message;
        }
        assert_eq!(message["method"], "notifications/tools/list_changed", "{message}");
    };
    assert_eq!(end["id"], json!(42));
    assert_eq!(end["result"]["resultType"], "complete");
    assert_eq!(end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(42));
}

#[test]
fn closing_the_response_stream_cancels_a_stateless_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("", dir.path()));
    let call = stateless_request(11, "tools/call", json!({ "name": "test_reconnection" }));
    let body = call.to_string();
    let mut stream = TcpStream::connect(server.0).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: test_reconnection\r\ncontent-length: {}\r\n\r\n{body}",
        server.0,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric_value(&server.metrics(), "corral_calls_in_flight") != Some(1.0) {
        assert!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(stream);
    let cancelled = r#"corral_tool_calls_total{tool="test_reconnection",outcome="cancelled"}"#;
    while metric_value(&server.metrics(), cancelled) != Some(1.0) {
        assert!(Instant::now() < deadline, "the call was not cancelled:\n{}", server.metrics());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn with_sessions_off_only_the_stateless_revision_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("legacy_sessions = false", dir.path()));
    let reply = server.post(None, &initialize("2025-11-25"), &[]);
    assert_eq!((reply.status, reply.code()), (404, -32601));
    assert!(reply.body.contains("legacy_sessions = false"), "{}", reply.body);
    let get = server.send("GET", "/mcp", &[("accept", "text/event-stream")], "");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(server.send("DELETE", "/mcp", &[], "").status, 405);
    let call = stateless_request(1, "tools/call", json!({ "name": "test_simple_text" }));
    assert_eq!(server.stateless(&call, &[]).status, 200);
}
