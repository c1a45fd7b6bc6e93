//! The HTTP call path: `tools/call` of the conformance suite's
//! `test_simple_text` through `corral serve`'s server (session, header checks,
//! schema check, a fresh wasm instance, metrics) beside a bare hyper server
//! that echoes the same JSON body, measured in the same run over keep-alive
//! loopback connections. Two more rows split the difference: `ping` through
//! the same server (HTTP, session and JSON-RPC, no call), and the same call
//! made in-process (sandbox and wasm, no HTTP).
//!
//! Reports, for each: p50 latency at concurrency 1 and throughput at
//! concurrency 32, and both as ratios to bare hyper's (the figures to
//! quote; absolute times depend on the machine). Targets: p50 at most 1.5x
//! bare hyper's, throughput at least 50% of bare hyper's.
//!
//! The targets are measured in interleaved rounds (every target once per
//! round, [`ROUNDS`] rounds), so a change in the machine's state during the
//! run (a noisy neighbour, CPU frequency) falls on all of them alike rather
//! than on whichever ran at that moment.
//!
//! Run: `cargo bench --bench http` (`CORRAL_BENCH_SECS` sets the seconds
//! of throughput measurement per target, default 3).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corral::registry::Registry;
use corral::sandbox::Sandbox;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

/// Rounds of measurement; each measures every target once.
const ROUNDS: usize = 6;
/// Latency samples per target per round.
const SAMPLES_PER_ROUND: usize = 500;
const WARMUP: usize = 300;
const CONCURRENCY: usize = 32;

/// What is measured.
#[derive(Clone)]
enum Target {
    /// POSTs of `body` to `addr`, with the session headers when given.
    Http { addr: SocketAddr, session: Option<String>, body: Bytes },
    /// The call made through the registry, as the server makes it.
    InProcess(Arc<(Sandbox, Registry)>),
}

const TOOL: &str = "test_simple_text";

fn main() {
    let secs: f64 =
        std::env::var("CORRAL_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let slice = Duration::from_secs_f64(secs / ROUNDS as f64);
    let servers =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
    let client =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");

    let corral = servers.block_on(start_corral());
    let echo = servers.block_on(start_echo());
    let session = client.block_on(open_session(corral));
    let in_process = servers.block_on(load_in_process());
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": TOOL, "arguments": {} } });
    let call = Bytes::from(call.to_string());
    let ping = Bytes::from(json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }).to_string());

    let targets = [
        ("bare hyper echo", Target::Http { addr: echo, session: None, body: call.clone() }),
        ("corral ping", Target::Http { addr: corral, session: Some(session.clone()), body: ping }),
        ("corral tools/call", Target::Http { addr: corral, session: Some(session), body: call }),
        ("in-process call", Target::InProcess(in_process)),
    ];
    // Warm every path up once before the first round.
    for (_, target) in &targets {
        measure_latency(&servers, &client, target, WARMUP);
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    let mut done = vec![0u64; targets.len()];
    let mut busy = vec![Duration::ZERO; targets.len()];
    for _ in 0..ROUNDS {
        for (i, (_, target)) in targets.iter().enumerate() {
            samples[i].extend(measure_latency(&servers, &client, target, SAMPLES_PER_ROUND));
        }
    }
    let host_mean = client.block_on(mean_call_seconds(corral));
    for _ in 0..ROUNDS {
        for (i, (_, target)) in targets.iter().enumerate() {
            let started = Instant::now();
            done[i] += measure_throughput(&servers, &client, target, slice);
            busy[i] += started.elapsed();
        }
    }

    let p50 = |i: usize| {
        let mut sorted = samples[i].clone();
        sorted.sort();
        sorted[sorted.len() / 2].as_secs_f64()
    };
    let rps = |i: usize| done[i] as f64 / busy[i].as_secs_f64();
    println!(
        "{:>18}  {:>10}  {:>8}  {:>12}  {:>8}",
        "", "p50 (c1)", "vs bare", "req/s (c32)", "vs bare"
    );
    for (i, (name, _)) in targets.iter().enumerate() {
        println!(
            "{name:>18}  {:>7.1} µs  {:>7.2}x  {:>12.0}  {:>7.0}%",
            p50(i) * 1e6,
            p50(i) / p50(0),
            rps(i),
            rps(i) / rps(0) * 100.0
        );
    }
    println!(
        "host time per served call (corral_tool_call_duration_seconds, concurrency 1): mean {:.1} µs",
        host_mean * 1e6
    );
    println!(
        "targets: tools/call p50 {:.2}x bare hyper's (target <= 1.5x), throughput {:.0}% (target >= 50%)",
        p50(2) / p50(0),
        rps(2) / rps(0) * 100.0
    );
}

/// `count` sequential requests (or calls) to `target`, each timed.
fn measure_latency(
    servers: &tokio::runtime::Runtime,
    client: &tokio::runtime::Runtime,
    target: &Target,
    count: usize,
) -> Vec<Duration> {
    match target.clone() {
        Target::Http { addr, session, body } => client.block_on(async move {
            let mut conn = connect(addr).await;
            let mut samples = Vec::with_capacity(count);
            for _ in 0..count {
                let start = Instant::now();
                round_trip(&mut conn, session.as_deref(), body.clone()).await;
                samples.push(start.elapsed());
            }
            samples
        }),
        // On a worker of the server runtime, where a served call runs.
        Target::InProcess(loaded) => servers
            .block_on(servers.spawn(async move {
                let (sandbox, registry) = &*loaded;
                let mut samples = Vec::with_capacity(count);
                for _ in 0..count {
                    let start = Instant::now();
                    let report = registry.call(sandbox, TOOL, "{}", None).await;
                    samples.push(start.elapsed());
                    assert!(!report.result.is_error);
                }
                samples
            }))
            .expect("in-process calls"),
    }
}

/// Requests (or calls) completed by [`CONCURRENCY`] clients in `length`.
fn measure_throughput(
    servers: &tokio::runtime::Runtime,
    client: &tokio::runtime::Runtime,
    target: &Target,
    length: Duration,
) -> u64 {
    let deadline = Instant::now() + length;
    match target.clone() {
        Target::Http { addr, session, body } => client.block_on(async move {
            let workers = (0..CONCURRENCY).map(|worker| {
                let session = session.clone();
                // Each worker its own request id: ids in flight in a session must differ.
                let body = with_id(&body, worker);
                tokio::spawn(async move {
                    let mut conn = connect(addr).await;
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        round_trip(&mut conn, session.as_deref(), body.clone()).await;
                        done += 1;
                    }
                    done
                })
            });
            total(workers.collect()).await
        }),
        Target::InProcess(loaded) => servers.block_on(async move {
            let workers = (0..CONCURRENCY).map(|_| {
                let loaded = loaded.clone();
                tokio::spawn(async move {
                    let (sandbox, registry) = &*loaded;
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        registry.call(sandbox, TOOL, "{}", None).await;
                        done += 1;
                    }
                    done
                })
            });
            total(workers.collect()).await
        }),
    }
}

/// The sum of the workers' counts.
async fn total(workers: Vec<tokio::task::JoinHandle<u64>>) -> u64 {
    let mut total = 0;
    for worker in workers {
        total += worker.await.expect("worker");
    }
    total
}

/// The conformance component, its tools under their bare names.
const COMPONENT: &str =
    "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";

/// The sandbox and registry a server builds, for calls without HTTP.
async fn load_in_process() -> Arc<(Sandbox, Registry)> {
    let config = corral::config::Config::from_toml(COMPONENT, Path::new("<bench>"), Path::new("."))
        .expect("config");
    let sandbox = Sandbox::new(&config.engine).expect("sandbox");
    let registry = Registry::load(&config, &sandbox).await.expect("registry");
    Arc::new((sandbox, registry))
}

/// `corral serve` with the conformance tools on an ephemeral port, ready.
async fn start_corral() -> SocketAddr {
    let text = format!("[server]\nmax_calls_in_flight = 1024\n\n{COMPONENT}");
    let config = corral::config::Config::from_toml(&text, Path::new("<bench>"), Path::new("."))
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

/// `body` (a JSON-RPC request) with its `id` set to `id`.
fn with_id(body: &Bytes, id: usize) -> Bytes {
    let mut message: Value = serde_json::from_slice(body).expect("JSON body");
    message["id"] = json!(id);
    Bytes::from(message.to_string())
}
