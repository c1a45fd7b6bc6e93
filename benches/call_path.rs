//! The in-process call path: one `tools/call` through the same code a
//! served call uses, minus HTTP, with a fresh instance per call, beside a
//! baseline that keeps one instance and calls it again. The difference is
//! what isolation costs.
//!
//! Two tools: the smallest real one (`conformance`'s `test_simple_text`,
//! a 0.4 MB component) and `text`'s `count` (1.8 MB, with regex tables).
//!
//! `fresh_instance_after_idle` times the same fresh-instance call after the
//! thread has slept for [`IDLE`], as a server at concurrency 1 does between
//! requests: it shows what cold caches and an idle CPU add, apart from any
//! HTTP or scheduling cost.
//!
//! `through_registry` makes the fresh-instance call the way the MCP core
//! does: the tool looked up in the registry, its arguments checked against
//! its `inputSchema`, the call made through the backend seam. Its difference
//! from `fresh_instance` is what the seam and the schema check cost.
//!
//! Run: `cargo bench --bench call_path`.

use corral::app::{App, NativeMode};
use corral::config::EngineConfig;
use corral::policy::Policy;
use corral::registry::Lookup;
use corral::sandbox::{CallOutcome, Sandbox};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};

/// The pause before each call of `fresh_instance_after_idle`.
const IDLE: Duration = Duration::from_micros(100);

/// (case, component, exposed name, tool, arguments): the conformance
/// component is configured with the empty namespace (its resources' URIs
/// are not under one), so its tools have their bare names.
const CASES: [(&str, &[u8], &str, &str, &str); 2] = [
    ("small_tool", corral::bundled::CONFORMANCE, "test_simple_text", "test_simple_text", "{}"),
    (
        "text_count",
        corral::bundled::TEXT,
        "text_count",
        "count",
        r#"{"text":"the quick brown fox jumps over the lazy dog"}"#,
    ),
];

fn call_path(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox =
        Sandbox::new(&EngineConfig { no_cache: true, ..EngineConfig::default() }).expect("sandbox");
    let config = corral::config::Config::from_toml(
        "[engine]\nno_cache = true\n\n\
         [[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n\n\
         [[component]]\nname = \"text\"\npath = \"builtin:text\"\n",
        std::path::Path::new("<bench>"),
        std::path::Path::new("."),
    )
    .expect("config");
    let app = rt.block_on(async {
        let app = App::start(&config, NativeMode::Skip).expect("app");
        assert!(app.loaded().await.failures.is_empty());
        app
    });
    for (case, wasm, exposed, tool, args) in CASES {
        let component =
            rt.block_on(sandbox.load(case, wasm, Policy::deny_all())).expect("component loads");
        let report = rt.block_on(sandbox.call(&component, tool, args, None));
        assert_eq!(report.outcome, CallOutcome::Ok, "{:?}", report.result);

        let mut group = c.benchmark_group(format!("call_path/{case}"));
        group.bench_function("fresh_instance", |b| {
            b.to_async(&rt).iter(|| async {
                let report = sandbox.call(&component, tool, args, None).await;
                debug_assert_eq!(report.outcome, CallOutcome::Ok);
                report
            })
        });
        group.bench_function("fresh_instance_after_idle", |b| {
            b.iter_custom(|iters| {
                let mut busy = Duration::ZERO;
                for _ in 0..iters {
                    std::thread::sleep(IDLE);
                    let started = Instant::now();
                    let report = rt.block_on(sandbox.call(&component, tool, args, None));
                    busy += started.elapsed();
                    debug_assert_eq!(report.outcome, CallOutcome::Ok);
                }
                busy
            })
        });
        let arguments: serde_json::Value = serde_json::from_str(args).expect("JSON arguments");
        group.bench_function("through_registry", |b| {
            b.to_async(&rt).iter(|| async {
                let Lookup::Found(entry) = app.registry.lookup(exposed) else { panic!("loaded") };
                let arguments = arguments.clone();
                entry.input.check(&entry.name, &arguments).expect("valid arguments");
                let done = entry.call(arguments, None, false).await;
                debug_assert_eq!(done.outcome, CallOutcome::Ok);
                done
            })
        });
        let mut reused = rt.block_on(sandbox.reused_instance(&component)).expect("instance");
        group.bench_function("reused_instance", |b| {
            b.iter(|| rt.block_on(reused.call(tool, args)).expect("call succeeds"))
        });
        group.finish();
    }
}

criterion_group!(benches, call_path);
criterion_main!(benches);
