//! The HTTP call path: `tools/call` of the conformance suite's
//! `test_simple_text` through `corral serve`'s server (session, header checks,
//! schema check, a fresh wasm instance, metrics) beside a bare hyper server
//! that echoes the same JSON body, measured in the same run over keep-alive
//! loopback connections.
//!
//! Reports, for each: p50 latency at concurrency 1 and throughput at
//! concurrency 32, then the ratios (the figures to quote; absolute times
//! depend on the machine). Targets: p50 at most 1.5x bare hyper's,
//! throughput at least 50% of bare hyper's.
//!
//! Run: `cargo bench --bench http` (`CORRAL_BENCH_SECS` sets the seconds
//! per throughput run, default 3).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

const LATENCY_SAMPLES: usize = 3000;
const WARMUP: usize = 300;
const CONCURRENCY: usize = 32;

fn main() {
    let secs: u64 =
        std::env::var("CORRAL_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let servers =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
    let client =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");

    let corral = servers.block_on(start_corral());
    let echo = servers.block_on(start_echo());
    let session = client.block_on(open_session(corral));
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "test_simple_text", "arguments": {} } });
    let body = Bytes::from(call.to_string());

    let targets =
        [("bare hyper echo", echo, None), ("corral tools/call", corral, Some(session.as_str()))];
    let mut results = Vec::new();
    for (name, addr, session) in targets {
        let p50 = client.block_on(latency_p50(addr, session, body.clone()));
        if session.is_some() {
            // Read before the throughput run, so it covers concurrency 1 only.
            let mean = client.block_on(mean_call_seconds(addr));
            println!(
                "{:>18}: mean {:>6.1} µs of host time per call (from /metrics)",
                "of which the call",
                mean * 1e6
            );
        }
        let rps =
            client.block_on(throughput(addr, session, body.clone(), Duration::from_secs(secs)));
        println!(
            "{name:>18}: p50 {:>7.1} µs (concurrency 1), {rps:>8.0} req/s (concurrency {CONCURRENCY})",
            p50.as_secs_f64() * 1e6
        );
        results.push((p50, rps));
    }
    let in_process =
        servers.block_on(async { tokio::spawn(in_process_p50()).await.expect("in-process") });
    println!(
        "{:>18}: p50 {:>7.1} µs (the same call without HTTP: sandbox and wasm only)",
        "in-process call",
        in_process.as_secs_f64() * 1e6
    );
    let (bare, corral) = (results[0], results[1]);
    let latency_ratio = corral.0.as_secs_f64() / bare.0.as_secs_f64();
    let throughput_ratio = corral.1 / bare.1;
    println!("p50 ratio corral/bare: {latency_ratio:.2}x (target <= 1.5x)");
    println!("throughput ratio corral/bare: {:.0}% (target >= 50%)", throughput_ratio * 100.0);
}

/// `corral serve` with the conformance tools on an ephemeral port, ready.
async fn start_corral() -> SocketAddr {
    let text = "[server]\nmax_calls_in_flight = 1024\n\n[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";
    let config = corral::config::Config::from_toml(text, Path::new("<bench>"), Path::new("."))
        .expect("config");
    let server = corral::http::Server::bind(config, Some("127.0.0.1:0".parse().unwrap()))
        .await
        .expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.run(std::future::pending()));
    let mut conn = connect(addr).await;
    loop {
        let req = Request::get("/readyz")
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        if conn.send_request(req).await.map(|r| r.status().is_success()).unwrap_or(false) {
            return addr;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mean `corral_tool_call_duration_seconds` of `test_simple_text` so far.
async fn mean_call_seconds(addr: SocketAddr) -> f64 {
    let metrics = fetch_metrics(addr).await;
    let series = |name: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(f64::NAN)
    };
    series(r#"corral_tool_call_duration_seconds_sum{tool="test_simple_text"}"#)
        / series(r#"corral_tool_call_duration_seconds_count{tool="test_simple_text"}"#)
}

async fn fetch_metrics(addr: SocketAddr) -> String {
    let mut conn = connect(addr).await;
    conn.ready().await.expect("ready");
    let req =
        Request::get("/metrics").header("host", "localhost").body(Full::new(Bytes::new())).unwrap();
    let response = conn.send_request(req).await.expect("metrics");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

/// p50 of the same tool call made in-process through the registry: what the
/// sandbox costs, so the HTTP layer's share of the served p50 can be read off.
async fn in_process_p50() -> Duration {
    let text =
        "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";
    let config = corral::config::Config::from_toml(text, Path::new("<bench>"), Path::new("."))
        .expect("config");
    let sandbox = corral::sandbox::Sandbox::new(&config.engine).expect("sandbox");
    let registry = corral::registry::Registry::load(&config, &sandbox).await.expect("registry");
    for _ in 0..WARMUP {
        registry.call(&sandbox, "test_simple_text", "{}", None).await;
    }
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let start = Instant::now();
        let report = registry.call(&sandbox, "test_simple_text", "{}", None).await;
        samples.push(start.elapsed());
        assert!(!report.result.is_error);
    }
    samples.sort();
    samples[samples.len() / 2]
}

/// A bare hyper server that answers every POST with its own body as JSON.
async fn start_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let body =
                        req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    let response = Response::builder()
                        .header("content-type", "application/json")
                        .body(Full::new(body))
                        .unwrap();
                    Ok::<_, Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    sender
}

fn request(session: Option<&str>, body: Bytes) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(session) = session {
        builder =
            builder.header("mcp-session-id", session).header("mcp-protocol-version", "2025-11-25");
    }
    builder.body(Full::new(body)).unwrap()
}

/// Sends one request and reads the whole response; panics on a non-200.
async fn round_trip(
    conn: &mut SendRequest<Full<Bytes>>,
    session: Option<&str>,
    body: Bytes,
) -> Bytes {
    conn.ready().await.expect("connection ready");
    let response = conn.send_request(request(session, body)).await.expect("response");
    assert_eq!(response.status(), 200);
    response.into_body().collect().await.expect("body").to_bytes()
}

async fn open_session(addr: SocketAddr) -> String {
    let mut conn = connect(addr).await;
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "bench", "version": "1" } } });
    conn.ready().await.unwrap();
    let response =
        conn.send_request(request(None, Bytes::from(init.to_string()))).await.expect("initialize");
    let session = response.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    // Check the call works before timing it.
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "test_simple_text" } });
    let reply: Value = serde_json::from_slice(
        &round_trip(&mut conn, Some(&session), Bytes::from(call.to_string())).await,
    )
    .unwrap();
    assert_eq!(reply["result"]["isError"], json!(false), "{reply}");
    session
}

async fn latency_p50(addr: SocketAddr, session: Option<&str>, body: Bytes) -> Duration {
    let mut conn = connect(addr).await;
    for _ in 0..WARMUP {
        round_trip(&mut conn, session, body.clone()).await;
    }
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let start = Instant::now();
        round_trip(&mut conn, session, body.clone()).await;
        samples.push(start.elapsed());
    }
    samples.sort();
    samples[samples.len() / 2]
}

/// `body` (a JSON-RPC request) with its `id` set to `id`.
fn with_id(body: &Bytes, id: usize) -> Bytes {
    let mut message: Value = serde_json::from_slice(body).expect("JSON body");
    message["id"] = json!(id);
    Bytes::from(message.to_string())
}

async fn throughput(addr: SocketAddr, session: Option<&str>, body: Bytes, length: Duration) -> f64 {
    let start = Instant::now();
    let deadline = start + length;
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let session = session.map(str::to_owned);
        // Each worker its own request id: ids in flight in a session must differ.
        let body = with_id(&body, worker);
        workers.push(tokio::spawn(async move {
            let mut conn = connect(addr).await;
            let mut done = 0u64;
            while Instant::now() < deadline {
                round_trip(&mut conn, session.as_deref(), body.clone()).await;
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for worker in workers {
        total += worker.await.expect("worker");
    }
    total as f64 / start.elapsed().as_secs_f64()
}
