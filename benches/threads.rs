//! How the in-process call scales from one thread to two: the same
//! fresh-instance `tools/call` back to back on one thread, on two threads
//! sharing one sandbox (one engine and instance pool, as `corral serve`
//! does), on two threads sharing one sandbox but each calling its own copy
//! of the component (so no pool slot passes between them), and on two
//! threads with a sandbox each.
//!
//! Reports microseconds per call on each thread; on a machine whose cores
//! do not interfere, all three are alike. A timed loop on plain threads
//! (each with its own current-thread runtime), so no scheduler sits
//! between the threads and the sandbox.
//!
//! Run: `cargo bench --bench threads` (`CORRAL_BENCH_CALLS` sets the calls
//! per thread, default 100000). Without `--bench` (`cargo test --benches`,
//! as CI runs it) each case makes a few hundred calls, so the bench cannot
//! rot; those figures mean nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use corral::app::{App, NativeMode};
use corral::registry::{Lookup, ToolOutput};
use serde_json::json;

/// Two copies of the bundled `text` component, as `a` and `b` (the
/// conformance component, smaller, cannot be loaded twice: its resources'
/// URIs are under no namespace, so only one copy may serve them).
const COMPONENTS: &str = "[[component]]\nname = \"a\"\npath = \"builtin:text\"\n\n[[component]]\nname = \"b\"\npath = \"builtin:text\"\n";
const A: &str = "a_sha256";
const B: &str = "b_sha256";

type Loaded = Arc<App>;

fn main() {
    // `cargo bench` passes `--bench`; anything else is a quick check.
    let (calls, warmup) = if std::env::args().any(|a| a == "--bench") {
        let calls = std::env::var("CORRAL_BENCH_CALLS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000);
        (calls, 2000)
    } else {
        (200, 20)
    };
    let one = per_call_us(vec![(load(), A)], calls, warmup);
    let shared = load();
    let same = per_call_us(vec![(shared.clone(), A), (shared.clone(), A)], calls, warmup);
    let own = per_call_us(vec![(shared.clone(), A), (shared, B)], calls, warmup);
    let separate = per_call_us(vec![(load(), A), (load(), A)], calls, warmup);
    let show = |name: &str, times: &[f64]| {
        let list: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!("{name:>48}: {} µs per call ({:.2}x one thread)", list.join(", "), mean / one[0]);
    };
    show("one thread", &one);
    show("two threads, one shared sandbox", &same);
    show("two threads, one shared sandbox, a component each", &own);
    show("two threads, a sandbox each", &separate);
}

/// A host (one sandbox) with both copies of the component loaded.
fn load() -> Loaded {
    runtime().block_on(async {
        let config =
            corral::config::Config::from_toml(COMPONENTS, Path::new("<bench>"), Path::new("."))
                .expect("config");
        let app = App::start(&config, NativeMode::Skip).expect("app");
        assert!(app.loaded().await.failures.is_empty());
        Arc::new(app)
    })
}

/// One call of `tool`, resolved and run as the doors do; whether it succeeded.
async fn call(app: &App, tool: &str) -> bool {
    let Lookup::Found(entry) = app.registry.lookup(tool) else { return false };
    let done = entry.call(json!({ "text": "abc" }), None, false).await;
    matches!(done.output, ToolOutput::Component(ref r) if !r.is_error)
}

/// Runs `calls` calls of the tool on one thread per entry (after `warmup`
/// more), all at once; each thread's microseconds per call.
fn per_call_us(threads: Vec<(Loaded, &'static str)>, calls: usize, warmup: usize) -> Vec<f64> {
    let threads: Vec<_> = threads
        .into_iter()
        .map(|(loaded, tool)| {
            std::thread::spawn(move || {
                runtime().block_on(async {
                    for _ in 0..warmup {
                        call(&loaded, tool).await;
                    }
                    let started = Instant::now();
                    for _ in 0..calls {
                        assert!(call(&loaded, tool).await);
                    }
                    started.elapsed().as_secs_f64() / calls as f64 * 1e6
                })
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("thread")).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}
