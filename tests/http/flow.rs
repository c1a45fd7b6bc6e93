//! The MCP methods over HTTP: initialize, list, call, progress, logging, cancellation.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn initialize_echoes_a_supported_older_revision() {
    let reply = shared().post(None, &initialize("2025-06-18"), &[]);
    assert_eq!(reply.json()["result"]["protocolVersion"], json!("2025-06-18"));
    let reply = shared().post(None, &initialize("2025-03-26"), &[]);
    assert_eq!(reply.json()["result"]["protocolVersion"], json!("2025-03-26"));
}

#[test]
fn initialize_offers_the_latest_revision_for_an_unknown_one() {
    let reply = shared().post(None, &initialize("2024-01-01"), &[]);
    let result = &reply.json()["result"];
    assert_eq!(result["protocolVersion"], json!("2025-11-25"));
    assert_eq!(result["capabilities"]["tools"], json!({ "listChanged": true }));
    assert_eq!(
        result["capabilities"]["resources"],
        json!({ "listChanged": true, "subscribe": true })
    );
    assert_eq!(result["capabilities"]["prompts"], json!({ "listChanged": true }));
    assert_eq!(result["capabilities"]["completions"], json!({}));
    assert_eq!(result["capabilities"]["logging"], json!({}));
    assert_eq!(result["serverInfo"]["name"], json!("corral"));
}

#[test]
fn ping_returns_an_empty_result() {
    let server = shared();
    let session = server.session();
    assert_eq!(
        server.request(&session, 5, "ping", json!({})).json(),
        json!({ "jsonrpc": "2.0", "id": 5, "result": {} })
    );
}

#[test]
fn tools_list_pages_with_an_opaque_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("page_size = 3", dir.path()));
    let session = server.session();
    let (mut names, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({ "cursor": c }));
        let result = server.request(&session, 3, "tools/list", params).json()["result"].clone();
        let page: Vec<String> = result["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(page.len() <= 3);
        names.extend(page);
        pages += 1;
        match result.get("nextCursor") {
            Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    // The conformance component's 34 tools, in 12 pages of 3.
    assert_eq!(pages, 12);
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 34);
    assert!(names.contains(&"test_simple_text".to_owned()));
    let bad = server.request(&session, 4, "tools/list", json!({ "cursor": "%%%" }));
    assert_eq!(bad.code(), -32602);
}

#[test]
fn a_call_without_notifications_is_answered_with_plain_json() {
    let server = shared();
    let session = server.session();
    let reply = server.request(
        &session,
        7,
        "tools/call",
        json!({ "name": "test_simple_text", "arguments": {} }),
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({ "jsonrpc": "2.0", "id": 7, "result": {
            "content": [{ "type": "text", "text": "This is a simple text response for testing." }],
            "isError": false
        }})
    );
}

#[test]
fn unknown_tool_is_invalid_params_32602() {
    let server = shared();
    let session = server.session();
    let reply = server.request(&session, 8, "tools/call", json!({ "name": "no_such_tool" }));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.code(), -32602);
    assert!(
        reply.json()["error"]["message"].as_str().unwrap().contains("unknown tool: no_such_tool")
    );
}

#[test]
fn arguments_that_are_not_an_object_are_invalid_params_32602() {
    let server = shared();
    let session = server.session();
    let reply = server.request(
        &session,
        8,
        "tools/call",
        json!({ "name": "test_simple_text", "arguments": [1] }),
    );
    assert_eq!(reply.code(), -32602);
}

#[test]
fn arguments_failing_the_input_schema_are_an_is_error_result() {
    let server = shared();
    let session = server.session();
    let reply = server.request(
        &session,
        9,
        "tools/call",
        json!({ "name": "json_schema_2020_12_tool", "arguments": { "name": 42 } }),
    );
    assert_eq!(reply.status, 200);
    let result = &reply.json()["result"];
    assert_eq!(result["isError"], json!(true));
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("invalid arguments for tool \"json_schema_2020_12_tool\""), "{text}");
    assert!(text.contains("/name"), "{text}");
}

#[test]
fn progress_token_turns_the_call_into_an_sse_stream_of_progress_then_result() {
    let server = shared();
    let session = server.session();
    let params = json!({ "name": "test_tool_with_progress", "arguments": {}, "_meta": { "progressToken": "p-1" } });
    let events = server.request(&session, 10, "tools/call", params).events();
    let progress: Vec<(Value, f64)> = events
        .iter()
        .filter(|e| e["method"] == "notifications/progress")
        .map(|e| (e["params"]["progressToken"].clone(), e["params"]["progress"].as_f64().unwrap()))
        .collect();
    assert_eq!(progress, [(json!("p-1"), 0.0), (json!("p-1"), 50.0), (json!("p-1"), 100.0)]);
    let last = events.last().unwrap();
    assert_eq!(last["id"], json!(10));
    assert_eq!(last["result"]["isError"], json!(false));
}

#[test]
fn progress_without_a_token_is_not_sent() {
    let server = shared();
    let session = server.session();
    let reply =
        server.request(&session, 11, "tools/call", json!({ "name": "test_tool_with_progress" }));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["result"]["isError"], json!(false));
}

#[test]
fn tool_logs_stream_as_notifications_message_until_the_level_filters_them() {
    let server = shared();
    let session = server.session();
    let events = server
        .request(&session, 12, "tools/call", json!({ "name": "test_tool_with_logging" }))
        .events();
    let logs: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["method"] == "notifications/message")
        .map(|e| (e["params"]["level"].as_str().unwrap(), e["params"]["data"].as_str().unwrap()))
        .collect();
    assert_eq!(
        logs,
        [
            ("info", "Tool execution started"),
            ("info", "Tool processing data"),
            ("info", "Tool execution completed")
        ]
    );
    assert_eq!(events.last().unwrap()["id"], json!(12));

    let set = server.request(&session, 13, "logging/setLevel", json!({ "level": "warning" }));
    assert_eq!(set.json()["result"], json!({}));
    let quiet =
        server.request(&session, 14, "tools/call", json!({ "name": "test_tool_with_logging" }));
    assert_eq!(
        quiet.header("content-type"),
        Some("application/json"),
        "info logs are below warning"
    );
}

#[test]
fn logging_set_level_rejects_an_unknown_level_with_32602() {
    let server = shared();
    let session = server.session();
    assert_eq!(
        server.request(&session, 15, "logging/setLevel", json!({ "level": "loud" })).code(),
        -32602
    );
}

#[test]
fn cancelled_call_ends_without_a_response_and_counts_as_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("", dir.path()));
    let session = server.session();
    let call = {
        let session = session.clone();
        std::thread::spawn(move || {
            server.request(&session, 21, "tools/call", json!({ "name": "test_reconnection" }))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric_value(&server.metrics(), "corral_calls_in_flight") != Some(1.0) {
        assert!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 21, "reason": "test" } });
    assert_eq!(server.post(Some(&session), &cancel, &[]).status, 202);
    let reply = call.join().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.events(), Vec::<Value>::new(), "no response after cancellation");
    let metrics = server.metrics();
    assert_eq!(
        metric_value(
            &metrics,
            r#"corral_tool_calls_total{tool="test_reconnection",outcome="cancelled"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        metric_value(&metrics, r#"corral_tool_calls_total{tool="test_reconnection",outcome="ok"}"#),
        Some(0.0)
    );
    assert_eq!(metric_value(&metrics, "corral_calls_in_flight"), Some(0.0));
    // The slot was freed: the session goes on calling.
    let next = server.request(&session, 22, "tools/call", json!({ "name": "test_simple_text" }));
    assert_eq!(next.json()["result"]["isError"], json!(false));
}

#[test]
fn client_disconnect_does_not_cancel_the_call() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("", dir.path()));
    let session = server.session();
    let body = json!({ "jsonrpc": "2.0", "id": 31, "method": "tools/call", "params": { "name": "test_reconnection" } }).to_string();
    let mut stream = std::net::TcpStream::connect(server.0).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-session-id: {session}\r\n\
         mcp-protocol-version: 2025-11-25\r\ncontent-length: {}\r\n\r\n{body}",
        server.0,
        body.len()
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric_value(&server.metrics(), "corral_calls_in_flight") != Some(1.0) {
        assert!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(stream);
    let ok = r#"corral_tool_calls_total{tool="test_reconnection",outcome="ok"}"#;
    while metric_value(&server.metrics(), ok) != Some(1.0) {
        assert!(Instant::now() < deadline, "the call did not finish after the disconnect");
        std::thread::sleep(Duration::from_millis(5));
    }
    let cancelled = r#"corral_tool_calls_total{tool="test_reconnection",outcome="cancelled"}"#;
    assert_eq!(metric_value(&server.metrics(), cancelled), Some(0.0));
}
