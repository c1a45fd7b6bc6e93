//! Every refusal of the transport, with its status and JSON-RPC code.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

#[test]
fn post_without_session_is_400_with_code_32000() {
    let reply =
        shared().post(None, &json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }), &[]);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), -32000);
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("Mcp-Session-Id"));
}

#[test]
fn post_with_unknown_session_is_404_with_code_32001() {
    let reply = shared().request("0123456789abcdef0123456789abcdef", 2, "ping", json!({}));
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), -32001);
}

#[test]
fn delete_ends_the_session_and_later_requests_get_404() {
    let server = shared();
    let session = server.session();
    let deleted = server.send("DELETE", "/mcp", &[("mcp-session-id", &session)], "");
    assert_eq!(deleted.status, 204);
    assert_eq!(server.request(&session, 2, "ping", json!({})).status, 404);
    let again = server.send("DELETE", "/mcp", &[("mcp-session-id", &session)], "");
    assert_eq!(again.status, 404);
}

#[test]
fn unsupported_protocol_version_header_is_400() {
    let server = shared();
    let session = server.session();
    let ping = json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" });
    let reply = server.post(Some(&session), &ping, &[("mcp-protocol-version", "1999-01-01")]);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), -32000);
    let ok = server.post(Some(&session), &ping, &[("mcp-protocol-version", "2025-06-18")]);
    assert_eq!(ok.status, 200);
}

#[test]
fn foreign_origin_is_403() {
    let reply =
        shared().post(None, &initialize("2025-11-25"), &[("origin", "http://evil.example.com")]);
    assert_eq!(reply.status, 403);
    assert_eq!(reply.code(), -32000);
}

#[test]
fn loopback_origin_is_accepted() {
    let reply =
        shared().post(None, &initialize("2025-11-25"), &[("origin", "http://localhost:5173")]);
    assert_eq!(reply.status, 200);
}

#[test]
fn rebound_host_header_is_403() {
    let reply =
        shared().post(None, &initialize("2025-11-25"), &[("host", "evil.example.com:7070")]);
    assert_eq!(reply.status, 403);
    assert_eq!(reply.code(), -32000);
}

#[test]
fn post_accepting_only_json_is_406() {
    let body = initialize("2025-11-25").to_string();
    let reply = shared().send("POST", "/mcp", &[("accept", "application/json"), JSON], &body);
    assert_eq!(reply.status, 406);
    assert_eq!(reply.code(), -32000);
}

#[test]
fn non_json_content_type_is_415() {
    let body = initialize("2025-11-25").to_string();
    let reply =
        shared().send("POST", "/mcp", &[ACCEPT_BOTH, ("content-type", "text/plain")], &body);
    assert_eq!(reply.status, 415);
    assert_eq!(reply.code(), -32000);
}

#[test]
fn batch_array_is_400_with_code_32600() {
    let batch = json!([{ "jsonrpc": "2.0", "id": 1, "method": "ping" }]);
    let reply = shared().post(None, &batch, &[]);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), -32600);
    assert!(
        reply.json()["error"]["message"].as_str().unwrap().contains("batches are not supported")
    );
}

#[test]
fn malformed_json_is_400_with_code_32700() {
    let reply = shared().send("POST", "/mcp", &[ACCEPT_BOTH, JSON], "{\"jsonrpc\":");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), -32700);
}

#[test]
fn unknown_method_is_200_with_code_32601_and_the_request_id() {
    let server = shared();
    let session = server.session();
    let reply = server.request(&session, 42, "no/such/method", json!({}));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.code(), -32601);
    assert_eq!(reply.json()["id"], json!(42));
}

#[test]
fn server_discover_without_meta_is_400_invalid_params() {
    // A 2026-07-28 request must carry its envelope in _meta.
    let probe = json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {} });
    let reply = shared().post(None, &probe, &[("mcp-protocol-version", "2026-07-28")]);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), -32602);
    assert_eq!(reply.json()["id"], json!(1));
}

#[test]
fn put_on_mcp_is_405_with_allow_header() {
    let reply = shared().send("PUT", "/mcp", &[], "");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, POST, DELETE"));
}

#[test]
fn unknown_path_is_404() {
    assert_eq!(shared().get("/nope").status, 404);
}

#[test]
fn get_mcp_without_event_stream_accept_is_406() {
    let server = shared();
    let session = server.session();
    let reply = server.send(
        "GET",
        "/mcp",
        &[("accept", "application/json"), ("mcp-session-id", &session)],
        "",
    );
    assert_eq!(reply.status, 406);
}

/// Sends `GET /mcp` for `session`'s standalone stream on a new connection;
/// the response is the caller's to read.
fn request_session_stream(server: Addr, session: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.0).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "GET /mcp HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\nmcp-session-id: {session}\r\n\r\n",
        server.0
    )
    .unwrap();
    stream
}

#[test]
fn get_mcp_opens_the_standalone_sse_stream() {
    let server = shared();
    let session = server.session();
    let mut stream = request_session_stream(server, &session);
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    while !seen.contains("stream open") {
        let n = stream.read(&mut buf).expect("stream data");
        assert!(n > 0, "stream closed early: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.to_ascii_lowercase().contains("content-type: text/event-stream"), "{seen}");
}

#[test]
fn notification_is_202_with_empty_body() {
    let server = shared();
    let session = server.session();
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let reply = server.post(Some(&session), &note, &[]);
    assert_eq!(reply.status, 202);
    assert_eq!(reply.body, "");
}

#[test]
fn client_response_message_is_202() {
    let server = shared();
    let session = server.session();
    let reply =
        server.post(Some(&session), &json!({ "jsonrpc": "2.0", "id": 9, "result": {} }), &[]);
    assert_eq!(reply.status, 202);
}

#[test]
fn body_over_the_limit_is_413() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("max_body_kib = 1", dir.path()));
    let big = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping", "params": { "pad": "x".repeat(2048) } });
    let reply = server.post(None, &big, &[]);
    assert_eq!(reply.status, 413);
    assert_eq!(reply.code(), -32000);
}

#[test]
fn bearer_tokens_gate_mcp_with_401_and_www_authenticate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokens.txt"), "# clients\nsecret-one\nsecret-two\n").unwrap();
    let server = start(conformance_config("auth_tokens_file = \"tokens.txt\"", dir.path()));

    let missing = server.post(None, &initialize("2025-11-25"), &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.code(), -32000);
    assert_eq!(missing.header("www-authenticate"), Some(r#"Bearer realm="corral""#));

    let wrong =
        server.post(None, &initialize("2025-11-25"), &[("authorization", "Bearer secret-three")]);
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.header("www-authenticate"),
        Some(r#"Bearer realm="corral", error="invalid_token""#)
    );

    let right =
        server.post(None, &initialize("2025-11-25"), &[("authorization", "Bearer secret-two")]);
    assert_eq!(right.status, 200);
    assert_eq!(server.get("/healthz").status, 200, "operational endpoints stay open");
}

#[test]
fn rate_limit_refuses_past_the_burst_with_429_and_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        start(conformance_config("[server.rate_limit]\nper_second = 0.5\nburst = 2", dir.path()));
    let statuses: Vec<u16> =
        (0..3).map(|_| server.post(None, &initialize("2025-11-25"), &[]).status).collect();
    assert_eq!(statuses, [200, 200, 429]);
    let limited = server.post(None, &initialize("2025-11-25"), &[]);
    assert_eq!(limited.code(), -32000);
    assert_eq!(limited.header("retry-after"), Some("2"));
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let limit = "[server.rate_limit]\nper_second = 0.5\nburst = 1";
    let proxied = start(conformance_config(
        &format!("trusted_proxies = [\"127.0.0.1\"]\n{limit}"),
        dir.path(),
    ));
    let from = |server: &Addr, client: &str| {
        server.post(None, &initialize("2025-11-25"), &[("x-forwarded-for", client)]).status
    };
    assert_eq!(from(&proxied, "198.51.100.1"), 200);
    assert_eq!(from(&proxied, "198.51.100.1"), 429, "one client, one bucket");
    assert_eq!(from(&proxied, "198.51.100.2"), 200, "another client behind the proxy");
    // A spoofed left-most entry does not make a new client.
    assert_eq!(from(&proxied, "6.6.6.6, 198.51.100.2"), 429);
    // Without trusted_proxies the header is the client's word: ignored.
    let dir = tempfile::tempdir().unwrap();
    let direct = start(conformance_config(limit, dir.path()));
    assert_eq!(from(&direct, "198.51.100.1"), 200);
    assert_eq!(from(&direct, "198.51.100.2"), 429, "the peer address is the client");
}

#[test]
fn calls_past_max_calls_in_flight_are_503_busy() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("max_calls_in_flight = 1", dir.path()));
    let session = server.session();
    let slow = {
        let session = session.clone();
        std::thread::spawn(move || {
            server.request(&session, 1, "tools/call", json!({ "name": "test_reconnection" }))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric_value(&server.metrics(), "corral_calls_in_flight") != Some(1.0) {
        assert!(Instant::now() < deadline, "the slow call never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    let busy = server.request(&session, 2, "tools/call", json!({ "name": "test_simple_text" }));
    assert_eq!(busy.status, 503);
    assert_eq!(busy.code(), -32000);
    assert_eq!(busy.json()["id"], json!(2));
    assert_eq!(slow.join().unwrap().status, 200);
}

/// Thousands of idle connections: past `max_connections` (idle ones count),
/// each one more is answered 503 with `Retry-After`, naming the setting,
/// and closed; once the held connections close, requests are served again.
/// Refusals are counted.
#[test]
fn thousands_of_idle_connections_past_the_limit_are_answered_503_and_closed() {
    raise_open_file_limit(8192);
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("max_connections = 1000", dir.path()));
    assert_eq!(server.get("/healthz").status, 200);
    let held: Vec<TcpStream> = (0..3000).map(|_| TcpStream::connect(server.0).unwrap()).collect();
    // Until the server has accepted them all, a request may still get through.
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let reply = server.get("/healthz");
        if reply.status != 200 || Instant::now() > deadline {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(refused.body.contains("(server.max_connections)"), "{}", refused.body);
    let refusals = |metrics: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("corral_http_connections_refused_total "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };

    drop(held);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get("/healthz").status != 200 {
        assert!(Instant::now() < deadline, "never served again");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = server.get("/metrics").body;
    assert!(refusals(&metrics) >= 2001, "{metrics}");
}

/// Lifts this process's soft limit on open files to `want` (or the hard
/// limit): the test holds both ends of thousands of connections.
fn raise_open_file_limit(want: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if limit.current.is_some_and(|soft| soft < want) {
        limit.current = Some(want.min(hard));
        setrlimit(Resource::Nofile, limit).expect("raising the open file limit");
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    assert!(soft >= 7000, "this test needs 7000 open files; the hard limit is {hard}");
}

/// A client sending its headers a byte at a time is cut off at
/// `header_timeout_ms`, long before it would finish, and the server goes
/// on serving.
#[test]
fn headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config("header_timeout_ms = 500", dir.path()));
    let mut slow = TcpStream::connect(server.0).unwrap();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nhost: {}\r\nx-pad: {}\r\n\r\n",
        server.0,
        "a".repeat(200)
    );
    // At 50 ms a byte the headers would take over 10 s.
    let started = Instant::now();
    let cut_off = request.as_bytes().iter().any(|byte| {
        std::thread::sleep(Duration::from_millis(50));
        slow.write_all(&[*byte]).is_err()
    });
    assert!(cut_off, "the server read slow headers for {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(5), "cut off after {:?}", started.elapsed());
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn a_session_holds_at_most_max_streams_per_session_standalone_streams() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(conformance_config(
        "max_streams_per_session = 2\nsse_keepalive_secs = 1",
        dir.path(),
    ));
    let session = server.session();
    let first = session_stream(server, &session);
    let _second = session_stream(server, &session);
    let get = [("accept", "text/event-stream"), ("mcp-session-id", session.as_str())];
    let refused = server.send("GET", "/mcp", &get, "");
    assert_eq!(refused.status, 429, "{}", refused.body);
    let error = refused.json();
    assert_eq!(error["error"]["code"], -32000);
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("server.max_streams_per_session"), "{message}");
    // Another session has its own streams.
    let other = server.session();
    drop(session_stream(server, &other));
    // A stream the client closes frees its slot (noticed at the latest
    // when the next keep-alive cannot be written).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = request_session_stream(server, &session);
        let mut status = [0u8; 12];
        stream.read_exact(&mut status).unwrap();
        match &status {
            b"HTTP/1.1 200" => break,
            b"HTTP/1.1 429" => {
                assert!(Instant::now() < deadline, "the closed stream's slot was never freed");
                std::thread::sleep(Duration::from_millis(200));
            }
            other => panic!("unexpected status {:?}", String::from_utf8_lossy(other)),
        }
    }
}
