//! Instructions per request of the MCP core, counted by Valgrind's
//! callgrind: a number a noisy machine cannot move, checked against a
//! budget kept in this repository (`benches/instructions.toml`).
//!
//! Each case is one JSON-RPC request as bytes, handed to the MCP core in
//! process (`McpServer::handle`, what both doors call), run to its answer
//! and serialized: the router, the envelope checks, the invocation
//! pipeline, the registry, the sandbox (a fresh instance), the result's
//! JSON and the accounting. The doors' own framing (HTTP, stdio) is not
//! counted: `benches/http.rs` measures it in time.
//!
//! | case | request |
//! | --- | --- |
//! | `ping` | `ping` in a 2025-11-25 session |
//! | `tools_call_session` | `tools/call` of `test_simple_text` in a 2025-11-25 session |
//! | `tools_call_stateless` | the same, 2026-07-28 |
//! | `resources_read` | `resources/read` of `test://static-text`, 2026-07-28 |
//!
//! Modes:
//!
//! - no argument (`cargo test --benches`, as the test step of CI runs it):
//!   every case a few times, checking each answers; no counting.
//! - `--check`: runs itself under `valgrind --tool=callgrind` once per
//!   case, counting only the measured requests (after a warm-up), and fails
//!   when a case costs more than its budget plus [`TOLERANCE`], printing the
//!   numbers; a case well under its budget is reported, so the budget can
//!   be lowered. CI runs `cargo test -p corral --bench instructions --
//!   --check` (the test profile: dependencies optimised, Corral's own code
//!   not, so Corral's share weighs more than in a release build).
//! - `--write`: as `--check`, then writes the counts as the new budget.
//!
//! The counts depend on the toolchain and the dependencies' versions, not
//! on the machine: a change that moves them is a change of the code (or of
//! `Cargo.lock`), and the budget moves with it in the same commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use corral::app::{App, NativeMode};
use corral::mcp::{Door, Exchange, HttpFacts, Incoming, Outgoing, Reply};
use serde_json::json;

/// How far over its budget a case may go before the check fails.
const TOLERANCE: f64 = 0.03;
/// Requests counted per case (the count is their mean).
const MEASURED: usize = 20;
/// Requests before counting: caches, pools and lazy statics warmed.
const WARMUP: usize = 20;

const CASES: [&str; 4] = ["ping", "tools_call_session", "tools_call_stateless", "resources_read"];

/// The conformance component, its tools under their bare names; a small
/// pool, so that the engine's reservations fit under Valgrind.
const CONFIG: &str = "[engine]\nmax_instances = 4\n\n[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(case) = args.iter().position(|a| a == "--case").and_then(|i| args.get(i + 1)) {
        // Under callgrind: warm up, then the counted requests.
        run_case(case, true);
        return;
    }
    let check = args.iter().any(|a| a == "--check");
    let write = args.iter().any(|a| a == "--write");
    if !check && !write {
        for case in CASES {
            run_case(case, false);
        }
        println!("instructions: every case answers (run with --check to count)");
        return;
    }
    let budget_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/instructions.toml");
    let budget = read_budget(&budget_file);
    let profile = profile();
    let mut counts = BTreeMap::new();
    let mut over = Vec::new();
    println!("{:<22} {:>14} {:>14} {:>9}", "case", "instructions", "budget", "change");
    for case in CASES {
        let count = count_case(case);
        let key = format!("{profile}.{case}");
        let line = match budget.get(&key) {
            Some(&limit) => {
                let change = count as f64 / limit as f64 - 1.0;
                if change > TOLERANCE {
                    over.push(format!(
                        "{case}: {count} instructions per request, {:+.1}% over its budget of {limit}",
                        change * 100.0
                    ));
                }
                format!("{case:<22} {count:>14} {limit:>14} {:>+8.1}%", change * 100.0)
            }
            None => format!("{case:<22} {count:>14} {:>14} {:>9}", "-", "new"),
        };
        println!("{line}");
        counts.insert(key, count);
    }
    if write {
        let mut all = budget;
        all.extend(counts);
        write_budget(&budget_file, &all);
        println!("instructions: budget written to {}", budget_file.display());
        return;
    }
    if !over.is_empty() {
        eprintln!(
            "instructions: over budget (more than {:.0}% over; {}):",
            TOLERANCE * 100.0,
            budget_file.display()
        );
        for line in &over {
            eprintln!("  {line}");
        }
        eprintln!(
            "if the cost is worth it, update the budget in the same commit: \
             cargo test -p corral --bench instructions -- --write"
        );
        std::process::exit(1);
    }
}

/// `test` or `release`: the budget is kept per profile.
fn profile() -> &'static str {
    if cfg!(debug_assertions) { "test" } else { "release" }
}

/// Runs this binary under callgrind for `case`; its instructions per
/// counted request.
fn count_case(case: &str) -> u64 {
    let out = tempfile::tempdir().expect("a temporary directory");
    let file = out.path().join("callgrind.out");
    let binary = std::env::current_exe().expect("this binary's path");
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*instructions*measured_requests*")
        // wasmtime writes its compiled code into memory it then runs.
        .arg("--smc-check=all-non-file")
        .arg(&binary)
        .args(["--case", case])
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run valgrind ({err}): install it (apt-get install valgrind)")
        });
    assert!(
        output.status.success(),
        "{case} under callgrind failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("callgrind's output file");
    let total: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("totals: ").or_else(|| line.strip_prefix("summary: ")))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no totals in callgrind's output for {case}"));
    assert!(total > 0, "callgrind counted nothing for {case}: the toggle matched no function");
    total / MEASURED as u64
}

/// Builds the host, opens a session, and sends `case`'s request: warm-up
/// requests, then (when `measure`) the counted ones.
fn run_case(case: &str, measure: bool) {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let config =
            corral::config::Config::from_toml(CONFIG, Path::new("<bench>"), Path::new("."))
                .expect("config");
        let app = App::start(&config, NativeMode::Skip).expect("the host starts");
        assert!(app.loaded().await.failures.is_empty(), "the component loads");
        let session = open_session(&app);
        let request = Request::of(case, &session);
        for _ in 0..WARMUP {
            request.answer(&app).await;
        }
        if measure {
            measured_requests(&app, &request).await;
        }
    });
}

/// The counted requests: callgrind collects inside this function only.
#[inline(never)]
async fn measured_requests(app: &App, request: &Request) {
    for _ in 0..MEASURED {
        std::hint::black_box(request.answer(app).await);
    }
}

/// A 2025-11-25 session's id, as `initialize` over HTTP starts one.
fn open_session(app: &App) -> String {
    let initialize = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": { "name": "bench", "version": "1" } } });
    let message = corral::mcp::jsonrpc::parse(initialize.to_string().as_bytes()).expect("JSON-RPC");
    let facts = HttpFacts::default();
    let exchange = Exchange { client: "bench".into(), door: Door::Http(&facts) };
    let Reply::Answer(answer) = app.mcp.handle(message, exchange) else {
        panic!("initialize is answered at once")
    };
    answer.session.expect("a session").id().to_owned()
}

/// One request as the HTTP door hands it to the core: its body's bytes
/// and its MCP headers.
struct Request {
    body: Vec<u8>,
    facts: HttpFacts,
}

impl Request {
    /// The request of `case` (in `session` for the session cases).
    fn of(case: &str, session: &str) -> Request {
        let envelope = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        });
        let in_session = HttpFacts {
            session_id: Some(session.to_owned()),
            protocol_version: Some("2025-11-25".into()),
            ..HttpFacts::default()
        };
        let stateless = |method: &str, name: &str| HttpFacts {
            protocol_version: Some("2026-07-28".into()),
            method: Some(method.into()),
            name: Some(name.into()),
            ..HttpFacts::default()
        };
        let (body, facts) = match case {
            "ping" => (json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }), in_session),
            "tools_call_session" => (
                json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": { "name": "test_simple_text", "arguments": {} } }),
                in_session,
            ),
            "tools_call_stateless" => (
                json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": { "name": "test_simple_text", "arguments": {}, "_meta": envelope } }),
                stateless("tools/call", "test_simple_text"),
            ),
            "resources_read" => (
                json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/read",
                    "params": { "uri": "test://static-text", "_meta": envelope } }),
                stateless("resources/read", "test://static-text"),
            ),
            other => panic!("no case {other}"),
        };
        Request { body: body.to_string().into_bytes(), facts }
    }

    /// The answer's bytes: parsed, handled, run to its response.
    async fn answer(&self, app: &App) -> bytes::Bytes {
        let message: Incoming = corral::mcp::jsonrpc::parse(&self.body).expect("a request");
        let exchange = Exchange { client: "bench".into(), door: Door::Http(&self.facts) };
        let answer = match app.mcp.handle(message, exchange) {
            Reply::Answer(answer) => answer,
            Reply::Stream(mut stream) => {
                let ((), response) = tokio::join!(stream.task, async {
                    loop {
                        match stream.messages.recv().await {
                            Some(Outgoing::Response(answer)) => return answer,
                            Some(_) => continue,
                            None => panic!("the stream ended without a response"),
                        }
                    }
                });
                response
            }
            Reply::Accepted => panic!("a request is answered"),
        };
        assert!(answer.error.is_none(), "{answer:?}");
        answer.body
    }
}

/// `profile.case = count` lines (comments and blank lines skipped).
fn read_budget(path: &PathBuf) -> BTreeMap<String, u64> {
    let Ok(text) = std::fs::read_to_string(path) else { return BTreeMap::new() };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            Some((key.trim().trim_matches('"').to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

fn write_budget(path: &PathBuf, budget: &BTreeMap<String, u64>) {
    let mut text = String::from(
        "# Instructions per request of the MCP core, by build profile and case,\n\
         # counted by callgrind (benches/instructions.rs). CI fails a change that\n\
         # passes one by more than 3%. Update with\n\
         #   cargo test -p corral --bench instructions -- --write\n",
    );
    for (key, count) in budget {
        text.push_str(&format!("\"{key}\" = {count}\n"));
    }
    std::fs::write(path, text).expect("writing the budget");
}
