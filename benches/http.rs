//! The served call path: `tools/call` of the conformance suite's
//! `test_simple_text` through `corral serve`'s doors (header checks, the
//! MCP core, schema check, a fresh wasm instance, metrics) beside a bare
//! hyper server that echoes the same JSON body, measured in the same run
//! over keep-alive loopback connections.
//!
//! | row | what |
//! | --- | --- |
//! | bare hyper echo | the baseline: HTTP and nothing else |
//! | corral ping (2025-11-25) | HTTP, session, JSON-RPC; no call |
//! | corral tools/call (2025-11-25) | a call in a session |
//! | corral tools/call (2026-07-28) | a stateless call: `_meta` envelope and `Mcp-*` headers checked |
//! | stdio tools/call (2026-07-28) | `corral serve --stdio` as a child process, over its pipes |
//! | in-process call | the registry lookup and the call, no door at all |
//!
//! With `CORRAL_BENCH_BASELINE=<path of another corral binary>` two more
//! rows compare builds in the same run: that binary and this one, each as
//! a child process (`corral serve`, logging only warnings) serving the same
//! 2025-11-25 session call, so neither gets an advantage from running in
//! the bench's own process.
//!
//! Reports, for each: p50 latency at concurrency 1 and throughput at
//! concurrency 32, and both as ratios to bare hyper's (the figures to
//! quote; absolute times depend on the machine).
//!
//! The targets are measured in interleaved rounds (every target once per
//! round, six rounds), so a change in the machine's state during the
//! run (a noisy neighbour, CPU frequency) falls on all of them alike rather
//! than on whichever ran at that moment.
//!
//! Run: `cargo bench --bench http` (`CORRAL_BENCH_SECS` sets the seconds
//! of throughput measurement per target, default 3). Without `--bench`
//! (`cargo test --benches`, as CI runs it) every target is measured
//! briefly, once, so the bench cannot rot; those figures mean nothing.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use corral::app::{App, NativeMode};
use corral::registry::{Lookup, ToolOutput};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// How much is measured: rounds (each measures every target once), latency
/// samples per target per round, warm-up calls per target, and the
/// seconds of throughput measurement per target.
struct Plan {
    rounds: usize,
    samples_per_round: usize,
    warmup: usize,
    secs: f64,
}

impl Plan {
    /// `cargo bench` passes `--bench`; anything else is a quick check.
    fn from_env() -> Plan {
        if !std::env::args().any(|a| a == "--bench") {
            return Plan { rounds: 1, samples_per_round: 20, warmup: 10, secs: 0.05 };
        }
        let secs =
            std::env::var("CORRAL_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
        Plan { rounds: 6, samples_per_round: 500, warmup: 300, secs }
    }
}

const CONCURRENCY: usize = 32;

/// What is measured.
#[derive(Clone)]
enum Target {
    /// POSTs of `body` to `addr` with `headers`.
    Http { addr: SocketAddr, headers: Vec<(&'static str, String)>, body: Bytes },
    /// Lines to a `corral serve --stdio` child.
    Stdio(Arc<StdioClient>),
    /// The call made through the registry, as the doors make it.
    InProcess(Arc<App>),
}

const TOOL: &str = "test_simple_text";

/// The conformance component, its tools under their bare names.
const COMPONENT: &str =
    "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";

fn main() {
    let plan = Plan::from_env();
    let slice = Duration::from_secs_f64(plan.secs / plan.rounds as f64);
    let servers =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
    let client =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let config_file = config_dir.path().join("bench.toml");
    std::fs::write(&config_file, format!("[server]\nmax_calls_in_flight = 1024\n\n{COMPONENT}"))
        .expect("config");

    let corral = servers.block_on(start_corral());
    let echo = servers.block_on(start_echo());
    let session = client.block_on(open_session(corral));
    let in_process = servers.block_on(load_in_process());
    let stdio =
        client.block_on(StdioClient::start(Path::new(env!("CARGO_BIN_EXE_corral")), &config_file));
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": TOOL, "arguments": {} } });
    let call = Bytes::from(call.to_string());
    let stateless_call = Bytes::from(stateless_call().to_string());
    let ping = Bytes::from(json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }).to_string());
    let in_session = |session: &str| -> Vec<(&'static str, String)> {
        vec![("mcp-session-id", session.to_owned()), ("mcp-protocol-version", "2025-11-25".into())]
    };
    let stateless_headers = vec![
        ("mcp-protocol-version", "2026-07-28".to_owned()),
        ("mcp-method", "tools/call".to_owned()),
        ("mcp-name", TOOL.to_owned()),
    ];

    let mut targets = vec![
        ("bare hyper echo", Target::Http { addr: echo, headers: vec![], body: call.clone() }),
        (
            "ping (2025-11-25)",
            Target::Http { addr: corral, headers: in_session(&session), body: ping },
        ),
        (
            "tools/call (2025-11-25)",
            Target::Http { addr: corral, headers: in_session(&session), body: call.clone() },
        ),
        (
            "tools/call (2026-07-28)",
            Target::Http { addr: corral, headers: stateless_headers, body: stateless_call.clone() },
        ),
        ("stdio tools/call", Target::Stdio(stdio)),
        ("in-process call", Target::InProcess(in_process)),
    ];
    let mut children = Vec::new();
    if let Some(baseline) = std::env::var_os("CORRAL_BENCH_BASELINE") {
        for (name, binary) in [
            ("baseline binary", Path::new(&baseline).to_owned()),
            ("this binary", Path::new(env!("CARGO_BIN_EXE_corral")).to_owned()),
        ] {
            let (child, addr) = client.block_on(spawn_serve(&binary, &config_file));
            let session = client.block_on(open_session(addr));
            children.push(child);
            let label: &'static str = Box::leak(format!("{name} (child)").into_boxed_str());
            targets.push((
                label,
                Target::Http { addr, headers: in_session(&session), body: call.clone() },
            ));
        }
    }
    // Warm every path up once before the first round.
    for (_, target) in &targets {
        measure_latency(&servers, &client, target, plan.warmup);
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    let mut done = vec![0u64; targets.len()];
    let mut busy = vec![Duration::ZERO; targets.len()];
    for _ in 0..plan.rounds {
        for (i, (_, target)) in targets.iter().enumerate() {
            samples[i].extend(measure_latency(&servers, &client, target, plan.samples_per_round));
        }
    }
    for _ in 0..plan.rounds {
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
        "{:>26}  {:>10}  {:>8}  {:>12}  {:>8}",
        "", "p50 (c1)", "vs bare", "req/s (c32)", "vs bare"
    );
    for (i, (name, _)) in targets.iter().enumerate() {
        println!(
            "{name:>26}  {:>7.1} µs  {:>7.2}x  {:>12.0}  {:>7.0}%",
            p50(i) * 1e6,
            p50(i) / p50(0),
            rps(i),
            rps(i) / rps(0) * 100.0
        );
    }
    drop(children);
}

/// A `tools/call` of the 2026-07-28 revision.
fn stateless_call() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": TOOL, "arguments": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    })
}

/// `count` sequential requests (or calls) to `target`, each timed.
fn measure_latency(
    servers: &tokio::runtime::Runtime,
    client: &tokio::runtime::Runtime,
    target: &Target,
    count: usize,
) -> Vec<Duration> {
    match target.clone() {
        Target::Http { addr, headers, body } => client.block_on(async move {
            let mut conn = connect(addr).await;
            let mut samples = Vec::with_capacity(count);
            for _ in 0..count {
                let start = Instant::now();
                round_trip(&mut conn, &headers, body.clone()).await;
                samples.push(start.elapsed());
            }
            samples
        }),
        Target::Stdio(stdio) => client.block_on(async move {
            let mut samples = Vec::with_capacity(count);
            for _ in 0..count {
                let start = Instant::now();
                stdio.call(0).await;
                samples.push(start.elapsed());
            }
            samples
        }),
        // On a worker of the server runtime, where a served call runs.
        Target::InProcess(app) => servers
            .block_on(servers.spawn(async move {
                let mut samples = Vec::with_capacity(count);
                for _ in 0..count {
                    let start = Instant::now();
                    in_process_call(&app).await;
                    samples.push(start.elapsed());
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
        Target::Http { addr, headers, body } => client.block_on(async move {
            let workers = (0..CONCURRENCY).map(|worker| {
                let headers = headers.clone();
                // Each worker its own request id: ids in flight in a session must differ.
                let body = with_id(&body, worker);
                tokio::spawn(async move {
                    let mut conn = connect(addr).await;
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        round_trip(&mut conn, &headers, body.clone()).await;
                        done += 1;
                    }
                    done
                })
            });
            total(workers.collect()).await
        }),
        Target::Stdio(stdio) => client.block_on(async move {
            let workers = (0..CONCURRENCY).map(|worker| {
                let stdio = stdio.clone();
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        stdio.call(worker).await;
                        done += 1;
                    }
                    done
                })
            });
            total(workers.collect()).await
        }),
        Target::InProcess(app) => servers.block_on(async move {
            let workers = (0..CONCURRENCY).map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        in_process_call(&app).await;
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

/// One call resolved and run the way the doors do, minus the door.
async fn in_process_call(app: &App) {
    let Lookup::Found(entry) = app.registry.lookup(TOOL) else { panic!("{TOOL} is loaded") };
    let arguments = json!({});
    entry.input.check(&entry.name, &arguments).expect("valid arguments");
    let done = entry.call(arguments, None, false).await;
    assert!(matches!(done.output, ToolOutput::Component(ref r) if !r.is_error));
}

/// The host a server builds, for calls without a door.
async fn load_in_process() -> Arc<App> {
    let config = corral::config::Config::from_toml(COMPONENT, Path::new("<bench>"), Path::new("."))
        .expect("config");
    let app = App::start(&config, NativeMode::Skip).expect("app");
    assert!(app.loaded().await.failures.is_empty());
    Arc::new(app)
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
    wait_ready(addr).await;
    addr
}

/// Polls `/readyz` until it answers 200.
async fn wait_ready(addr: SocketAddr) {
    loop {
        if let Ok(stream) = TcpStream::connect(addr).await {
            let (mut conn, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(driver);
            let req = Request::get("/readyz")
                .header("host", "localhost")
                .body(Full::new(Bytes::new()))
                .unwrap();
            if conn.send_request(req).await.map(|r| r.status().is_success()).unwrap_or(false) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `binary serve` on an ephemeral port as a child process, ready.
async fn spawn_serve(binary: &Path, config: &Path) -> (tokio::process::Child, SocketAddr) {
    let mut child = tokio::process::Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn corral serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next_line().await.expect("read").expect("listening line");
    let addr = line
        .strip_prefix("corral: listening on http://")
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    wait_ready(addr).await;
    (child, addr)
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

fn request(headers: &[(&str, String)], body: Bytes) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Full::new(body)).unwrap()
}

/// Sends one request and reads the whole response; panics on a non-200.
async fn round_trip(
    conn: &mut SendRequest<Full<Bytes>>,
    headers: &[(&str, String)],
    body: Bytes,
) -> Bytes {
    conn.ready().await.expect("connection ready");
    let response = conn.send_request(request(headers, body)).await.expect("response");
    assert_eq!(response.status(), 200);
    response.into_body().collect().await.expect("body").to_bytes()
}

async fn open_session(addr: SocketAddr) -> String {
    let mut conn = connect(addr).await;
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "bench", "version": "1" } } });
    conn.ready().await.unwrap();
    let response =
        conn.send_request(request(&[], Bytes::from(init.to_string()))).await.expect("initialize");
    let session = response.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    // Check the call works before timing it.
    let call =
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": TOOL } });
    let headers =
        [("mcp-session-id", session.clone()), ("mcp-protocol-version", "2025-11-25".to_owned())];
    let reply: Value = serde_json::from_slice(
        &round_trip(&mut conn, &headers, Bytes::from(call.to_string())).await,
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

/// A client of `corral serve --stdio`: one writer, and a reader that hands
/// each response to the caller waiting for its id.
struct StdioClient {
    stdin: tokio::sync::Mutex<tokio::process::ChildStdin>,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    next: std::sync::atomic::AtomicU64,
    _child: tokio::process::Child,
}

impl StdioClient {
    async fn start(binary: &Path, config: &Path) -> Arc<StdioClient> {
        let mut child = tokio::process::Command::new(binary)
            .args(["serve", "--stdio", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn corral serve --stdio");
        let stdin = child.stdin.take().expect("stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let routes = waiting.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let message: Value = serde_json::from_str(&line).expect("a JSON-RPC line");
                if let Some(id) = message["id"].as_u64()
                    && let Some(tx) = routes.lock().unwrap().remove(&id)
                {
                    let _ = tx.send(message);
                }
            }
        });
        let client = Arc::new(StdioClient {
            stdin: tokio::sync::Mutex::new(stdin),
            waiting,
            next: std::sync::atomic::AtomicU64::new(1),
            _child: child,
        });
        // The first call waits for the component to load.
        client.call(0).await;
        client
    }

    /// One stateless `tools/call`; panics unless it succeeded.
    async fn call(&self, _worker: usize) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut message = stateless_call();
        message["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().insert(id, tx);
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        self.stdin.lock().await.write_all(&line).await.expect("write to corral");
        let reply = rx.await.expect("an answer");
        assert_eq!(reply["result"]["isError"], json!(false), "{reply}");
    }
}
