//! How the in-process call scales from one thread to two: the same
//! fresh-instance `tools/call` back to back on one thread, on two threads
//! sharing one sandbox (one engine and instance pool, as `corral serve`
//! does), and on two threads with a sandbox each.
//!
//! Reports microseconds per call on each thread; on a machine whose cores
//! do not interfere, all three are alike. A timed loop on plain threads
//! (each with its own current-thread runtime), so no scheduler sits
//! between the threads and the sandbox.
//!
//! Run: `cargo bench --bench threads` (`CORRAL_BENCH_CALLS` sets the calls
//! per thread, default 100000).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use corral::registry::Registry;
use corral::sandbox::Sandbox;

const COMPONENT: &str =
    "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n";
const TOOL: &str = "test_simple_text";
const WARMUP: usize = 2000;

type Loaded = Arc<(Sandbox, Registry)>;

fn main() {
    let calls: usize =
        std::env::var("CORRAL_BENCH_CALLS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let one = per_call_us(vec![load()], calls);
    let shared = load();
    let shared = per_call_us(vec![shared.clone(), shared], calls);
    let separate = per_call_us(vec![load(), load()], calls);
    let show = |name: &str, times: &[f64]| {
        let list: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!("{name:>32}: {} µs per call ({:.2}x one thread)", list.join(", "), mean / one[0]);
    };
    show("one thread", &one);
    show("two threads, one shared sandbox", &shared);
    show("two threads, a sandbox each", &separate);
}

/// A sandbox with the conformance component loaded.
fn load() -> Loaded {
    runtime().block_on(async {
        let config =
            corral::config::Config::from_toml(COMPONENT, Path::new("<bench>"), Path::new("."))
                .expect("config");
        let sandbox = Sandbox::new(&config.engine).expect("sandbox");
        let registry = Registry::load(&config, &sandbox).await.expect("registry");
        Arc::new((sandbox, registry))
    })
}

/// Runs `calls` calls on one thread per entry of `sandboxes`, all at once;
/// each thread's microseconds per call.
fn per_call_us(sandboxes: Vec<Loaded>, calls: usize) -> Vec<f64> {
    let threads: Vec<_> = sandboxes
        .into_iter()
        .map(|loaded| {
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let (sandbox, registry) = &*loaded;
                    for _ in 0..WARMUP {
                        registry.call(sandbox, TOOL, "{}", None).await;
                    }
                    let started = Instant::now();
                    for _ in 0..calls {
                        let report = registry.call(sandbox, TOOL, "{}", None).await;
                        assert!(!report.result.is_error);
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
