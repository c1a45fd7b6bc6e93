//! What a tool's language costs: the same measurements for a tool in Rust,
//! Python (componentize-py: CPython in the component) and JavaScript
//! (jco's QuickJS backend: QuickJS in the component).
//!
//! | case | component | call |
//! | --- | --- | --- |
//! | `rust` | `tests/plain-tool` (plain WIT, 0.1 MB) | `add {a, b}` |
//! | `python` | `tools/python-stats` (plain WIT, ~18 MB) | `stats_describe` of three numbers |
//! | `javascript` | `tools/js-text` (`corral:mcp` world, ~1.7 MB) | `slugify` of two words |
//!
//! Per case:
//!
//! - `load_cold`: compile with Cranelift (no cache), link, list the tools
//!   in one instance: what the first start after a new component costs.
//! - `load_cached`: the same from the compile cache (a memory-mapped
//!   artifact): what every later start costs.
//! - `fresh_instance`: one call in a fresh instance, as Corral serves it.
//! - `reused_instance`: one call in a kept instance, the baseline that
//!   shows what the fresh instance costs.
//! - `fresh_instance_keep_16m`: the fresh-instance call with
//!   `[engine] memory_keep_resident_kib = 16384` (default 1024): the pages
//!   a call wrote are copied back from the image and stay resident, so the
//!   next instance in the slot takes no page faults on them.
//!
//! The Python and JavaScript components come from `bash .ci/polyglot.sh`.
//! Run: `cargo bench --bench languages`.

use std::path::Path;

use corral::config::EngineConfig;
use corral::policy::Policy;
use corral::sandbox::{CallOutcome, Sandbox};
use criterion::{Criterion, criterion_group, criterion_main};

const CASES: [(&str, &str, &str, &str); 3] = [
    ("rust", env!("CORRAL_GUEST_PLAIN"), "add", r#"{"a":1,"b":2}"#),
    ("python", "target/polyglot/python_stats.wasm", "stats_describe", r#"{"values":[1,2,3]}"#),
    ("javascript", "target/polyglot/js_text.wasm", "slugify", r#"{"text":"Hello World"}"#),
];

fn languages(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cold =
        Sandbox::new(&EngineConfig { no_cache: true, ..EngineConfig::default() }).expect("sandbox");
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let cached = Sandbox::new(&EngineConfig {
        cache_dir: Some(cache_dir.path().to_owned()),
        ..EngineConfig::default()
    })
    .expect("sandbox");
    let keep_dir = tempfile::tempdir().expect("tempdir");
    let keep = Sandbox::new(&EngineConfig {
        cache_dir: Some(keep_dir.path().to_owned()),
        memory_keep_resident_kib: 16 * 1024,
        max_instances: 8,
        ..EngineConfig::default()
    })
    .expect("sandbox");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (case, path, tool, args) in CASES {
        let wasm = std::fs::read(root.join(path)).unwrap_or_else(|err| {
            panic!(
                "{path}: {err} (build the Python and JavaScript tools with `bash .ci/polyglot.sh`)"
            )
        });
        let component =
            rt.block_on(cached.load(case, wasm.clone(), Policy::deny_all())).expect("loads");
        let report = rt.block_on(cached.call(&component, tool, args, None));
        assert_eq!(report.outcome, CallOutcome::Ok, "{case}: {:?}", report.result);

        let mut group = c.benchmark_group(format!("languages/{case}"));
        group.sample_size(10);
        group.bench_function("load_cold", |b| {
            b.to_async(&rt).iter(|| async {
                cold.load(case, wasm.clone(), Policy::deny_all()).await.expect("loads")
            })
        });
        group.bench_function("load_cached", |b| {
            b.to_async(&rt).iter(|| async {
                let loaded = cached.load(case, wasm.clone(), Policy::deny_all()).await;
                debug_assert!(loaded.as_ref().is_ok_and(|c| c.from_cache));
                loaded.expect("loads")
            })
        });
        group.sample_size(50);
        group.bench_function("fresh_instance", |b| {
            b.to_async(&rt).iter(|| async {
                let report = cached.call(&component, tool, args, None).await;
                debug_assert_eq!(report.outcome, CallOutcome::Ok);
                report
            })
        });
        let kept = rt.block_on(keep.load(case, wasm.clone(), Policy::deny_all())).expect("loads");
        group.bench_function("fresh_instance_keep_16m", |b| {
            b.to_async(&rt).iter(|| async {
                let report = keep.call(&kept, tool, args, None).await;
                debug_assert_eq!(report.outcome, CallOutcome::Ok);
                report
            })
        });
        group.bench_function("reused_instance", |b| {
            let mut reused = rt.block_on(cached.reused_instance(&component)).expect("instance");
            b.iter(|| rt.block_on(reused.call(tool, args)).expect("call"))
        });
        group.finish();
    }
}

criterion_group!(benches, languages);
criterion_main!(benches);
