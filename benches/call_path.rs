//! The in-process call path: one `tools/call` of a small real tool (`text`'s
//! `count`) through the same code a served call uses, minus HTTP, with a
//! fresh instance per call, beside a baseline that keeps one instance and
//! calls it again. The difference is what isolation costs.
//!
//! Run: `cargo bench --bench call_path`.

use corral::config::EngineConfig;
use corral::policy::Policy;
use corral::sandbox::{CallOutcome, Sandbox};
use criterion::{Criterion, criterion_group, criterion_main};

const ARGS: &str = r#"{"text":"the quick brown fox jumps over the lazy dog"}"#;

fn call_path(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox =
        Sandbox::new(&EngineConfig { no_cache: true, ..EngineConfig::default() }).expect("sandbox");
    let component = rt
        .block_on(sandbox.load("text", corral::bundled::TEXT, Policy::deny_all()))
        .expect("text tool loads");
    let report = rt.block_on(sandbox.call(&component, "count", ARGS, None));
    assert_eq!(report.outcome, CallOutcome::Ok, "{:?}", report.result);

    let mut group = c.benchmark_group("call_path");
    group.bench_function("fresh_instance", |b| {
        b.to_async(&rt).iter(|| async {
            let report = sandbox.call(&component, "count", ARGS, None).await;
            debug_assert_eq!(report.outcome, CallOutcome::Ok);
            report
        })
    });
    let mut reused = rt.block_on(sandbox.reused_instance(&component)).expect("instance");
    group.bench_function("reused_instance", |b| {
        b.iter(|| rt.block_on(reused.call("count", ARGS)).expect("call succeeds"))
    });
    group.finish();
}

criterion_group!(benches, call_path);
criterion_main!(benches);
