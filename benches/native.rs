//! Per-call latency of the same trivial tool three ways, in one run:
//!
//! - `wasm`: the `conformance` component's `test_simple_text`, a fresh
//!   instance per call (the served path minus HTTP);
//! - `native_warm`: native-echo's `echo` in a warm hardened container, one
//!   `tools/call` over its stdio per call;
//! - `native_per_call`: a container started per call (`docker run`,
//!   `initialize`, `tools/list`, `tools/call`, removal), what running a
//!   native tool without a supervisor would cost;
//!
//! plus `process_warm`, the same binary as a plain process, to separate the
//! container's cost from the stdio round trip's.
//!
//! A timed loop rather than criterion: a per-call container costs a good
//! part of a second, and the point is the ratios. Needs a docker engine and
//! the `x86_64-unknown-linux-musl` target (as the tests do).
//!
//! Run: `cargo bench --bench native`. Without `--bench` (`cargo test
//! --benches`, as CI runs it) each path runs a few times, so the bench
//! cannot rot; those figures mean nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral::config::{Config, EngineConfig};
use corral::native::client::Client;
use corral::native::launcher::{self, LaunchSpec};
use corral::policy::Policy;
use corral::sandbox::{CallOutcome, Sandbox};
use serde_json::json;

const IMAGE: &str = "corral-native-echo:test";
const TIMEOUT: Duration = Duration::from_secs(30);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Builds the static native-echo and its image; the binary's path.
fn build_fixture() -> PathBuf {
    let target_dir = workspace().join("target/native-echo");
    let triple = "x86_64-unknown-linux-musl";
    run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace())
        .args(["build", "--quiet", "--release", "-p", "native-echo", "--target", triple])
        .env("CARGO_TARGET_DIR", &target_dir));
    let binary = target_dir.join(triple).join("release/native-echo");
    let context = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&binary, context.path().join("native-echo")).expect("copy");
    std::fs::copy(
        workspace().join("tests/native-echo/Dockerfile"),
        context.path().join("Dockerfile"),
    )
    .expect("copy");
    run(Command::new("docker").args(["build", "-q", "-t", IMAGE]).arg(context.path()));
    binary
}

fn spec(native_toml: &str) -> LaunchSpec {
    let config =
        Config::from_toml(native_toml, Path::new("<bench>"), Path::new(".")).expect("config");
    LaunchSpec::resolve(&config.native[0], Path::new("."), "bench").expect("spec")
}

/// Launches `spec` and completes the MCP handshake.
async fn connect(spec: &LaunchSpec) -> (launcher::Launched, Client) {
    let mut launched = launcher::launch(spec).expect("launch");
    let client = Client::start(
        "bench",
        launched.stdout.take().expect("stdout"),
        launched.stdin.take().expect("stdin"),
        4 << 20,
    );
    client.initialize(TIMEOUT).await.expect("initialize");
    client.list_tools(TIMEOUT).await.expect("tools/list");
    (launched, client)
}

async fn echo(client: &Client) {
    let result = client
        .call_tool("echo", json!({ "text": "hello" }), None, false, TIMEOUT)
        .await
        .expect("echo answers");
    assert_eq!(result["content"][0]["text"], "hello");
}

/// Times `iterations` awaited calls of `f` after `warmup` untimed ones.
async fn measure<F, Fut>(
    name: &str,
    warmup: usize,
    iterations: usize,
    mut f: F,
) -> (String, Vec<Duration>)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..warmup {
        f().await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        f().await;
        samples.push(start.elapsed());
    }
    samples.sort();
    (name.to_owned(), samples)
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter or `--list` is not supported.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; anything else is a quick check.
    let scale: usize = if std::env::args().any(|a| a == "--bench") { 1 } else { 100 };
    let binary = build_fixture();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let results = rt.block_on(async {
        let mut results = Vec::new();

        let sandbox = Sandbox::new(&EngineConfig { no_cache: true, ..EngineConfig::default() })
            .expect("sandbox");
        let component = sandbox
            .load("conformance", corral::bundled::CONFORMANCE, Policy::deny_all())
            .await
            .expect("component loads");
        let sandbox = Arc::new(sandbox);
        results.push(
            measure("wasm (fresh instance)", 200 / scale, 2000 / scale, || {
                let (sandbox, component) = (sandbox.clone(), &component);
                async move {
                    let report = sandbox.call(component, "test_simple_text", "{}", None).await;
                    assert_eq!(report.outcome, CallOutcome::Ok);
                }
            })
            .await,
        );

        let docker = spec(&format!("[[native]]\nname = \"bench\"\nimage = \"{IMAGE}\"\n"));
        let (launched, client) = connect(&docker).await;
        results.push(
            measure("native_warm (container)", 100 / scale, 1000 / scale, || echo(&client)).await,
        );
        drop(client);
        launched.stop().await;

        let process = spec(&format!(
            "[[native]]\nname = \"bench\"\nlauncher = \"process\"\ncommand = [{:?}]\n",
            binary.display().to_string()
        ));
        let (launched, client) = connect(&process).await;
        results.push(
            measure("process_warm (no container)", 100 / scale, 1000 / scale, || echo(&client))
                .await,
        );
        drop(client);
        launched.stop().await;

        results.push(
            measure(
                "native_per_call (docker run per call)",
                2 / scale.min(2),
                20 / scale.min(10),
                || async {
                    let (launched, client) = connect(&docker).await;
                    echo(&client).await;
                    drop(client);
                    launched.stop().await;
                },
            )
            .await,
        );
        results
    });
    let base = percentile(&results[0].1, 0.5);
    println!("{:<40} {:>12} {:>12} {:>14}", "path", "median", "p90", "median / wasm");
    for (name, samples) in &results {
        let median = percentile(samples, 0.5);
        println!(
            "{:<40} {:>12.1?} {:>12.1?} {:>13.0}x",
            name,
            median,
            percentile(samples, 0.9),
            median.as_secs_f64() / base.as_secs_f64()
        );
    }
}
