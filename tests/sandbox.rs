//! Hostile guests against the sandbox: every escape or exhaustion attempt
//! ends contained, with the exact outcome, and the next ordinary call works.
//!
//! The fixture is `tests/hostile`, built for wasm32-wasip2 by the host's
//! build script.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use corral::config::{EngineConfig, LimitOverrides};
use corral::policy::{DirGrant, EnvEntry, Limits, Policy};
use corral::sandbox::{CallOutcome, CallReport, GuestEvent, LoadedComponent, Sandbox};
use serde_json::{Value, json};

#[path = "guest/mod.rs"]
mod guest;

use guest::{call, is_error, result_text, structured, text};

const HOSTILE: &str = env!("CORRAL_GUEST_HOSTILE");

fn engine() -> EngineConfig {
    EngineConfig { max_instances: 8, no_cache: true, ..EngineConfig::default() }
}

fn limits(overrides: LimitOverrides) -> Limits {
    Limits::resolve(overrides)
}

async fn load(policy: Policy) -> (Sandbox, LoadedComponent) {
    let sandbox = Sandbox::new(&engine()).expect("sandbox");
    let wasm = std::fs::read(HOSTILE).expect("hostile guest is built");
    let component = sandbox.load("hostile", wasm, policy).await.expect("hostile guest loads");
    (sandbox, component)
}

/// Asserts the outcome, and that an ordinary call right after it succeeds.
async fn assert_contained(
    sandbox: &Sandbox,
    c: &LoadedComponent,
    report: &CallReport,
    outcome: CallOutcome,
) {
    assert_eq!(report.outcome, outcome, "result: {}", text(report));
    assert!(is_error(report), "a contained failure is an isError result");
    let next = call(sandbox, c, "echo", json!({ "text": "still serving" })).await;
    assert_eq!(next.outcome, CallOutcome::Ok, "{}", text(&next));
    assert_eq!(text(&next), "still serving");
}

fn policy_with(overrides: LimitOverrides) -> Policy {
    Policy { limits: limits(overrides), ..Policy::deny_all() }
}

#[tokio::test]
async fn ordinary_call_returns_the_tools_result() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "echo", json!({ "text": "hi" })).await;
    assert_eq!(report.outcome, CallOutcome::Ok);
    assert!(!is_error(&report));
    assert_eq!(text(&report), "hi");
    assert!(report.fuel_consumed > 0);
}

#[tokio::test]
async fn infinite_loop_is_stopped_by_the_wall_clock_limit() {
    let policy = policy_with(LimitOverrides {
        timeout_ms: Some(200),
        fuel: Some(u64::MAX / 2),
        ..Default::default()
    });
    let (sandbox, c) = load(policy).await;
    let report = call(&sandbox, &c, "spin", json!({})).await;
    assert!(text(&report).contains("200 ms time limit"), "{}", text(&report));
    assert_contained(&sandbox, &c, &report, CallOutcome::Timeout).await;
}

#[tokio::test]
async fn guest_blocked_in_a_host_call_is_stopped_by_the_wall_clock_limit() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { timeout_ms: Some(200), ..Default::default() })).await;
    let report = call(&sandbox, &c, "sleep", json!({ "ms": 60_000 })).await;
    assert!(report.elapsed < Duration::from_secs(5), "took {:?}", report.elapsed);
    assert_contained(&sandbox, &c, &report, CallOutcome::Timeout).await;
}

#[tokio::test]
async fn infinite_loop_runs_out_of_fuel() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { fuel: Some(50_000_000), ..Default::default() })).await;
    let report = call(&sandbox, &c, "spin", json!({})).await;
    assert_eq!(text(&report), "tool ran out of fuel: it used all 50000000 units allowed (fuel)");
    assert_contained(&sandbox, &c, &report, CallOutcome::OutOfFuel).await;
}

/// A task's call runs under the task limits, and a failure names them.
#[tokio::test]
async fn a_task_call_runs_under_the_task_limits_and_names_them() {
    let limits = LimitOverrides {
        fuel: Some(50_000_000),
        task_fuel: Some(80_000_000),
        ..Default::default()
    };
    let (sandbox, c) = load(policy_with(limits)).await;
    let report = sandbox.call_task(&c, "spin", "{}", None).await;
    assert_eq!(
        text(&report),
        "tool ran out of fuel: it used all 80000000 units allowed (task_fuel)"
    );
    assert_eq!(report.fuel_consumed, 80_000_000);
    let limits = LimitOverrides { task_timeout_ms: Some(300), ..Default::default() };
    let (sandbox, c) = load(policy_with(limits)).await;
    let report = sandbox.call_task(&c, "sleep", r#"{"ms": 60000}"#, None).await;
    assert_eq!(report.outcome, CallOutcome::Timeout, "{}", text(&report));
    assert!(text(&report).ends_with("(task_timeout_ms)"), "{}", text(&report));
}

#[tokio::test]
async fn bounded_compute_within_fuel_succeeds_and_reports_fuel() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let small = call(&sandbox, &c, "burn", json!({ "iterations": 1_000 })).await;
    let large = call(&sandbox, &c, "burn", json!({ "iterations": 1_000_000 })).await;
    assert_eq!(small.outcome, CallOutcome::Ok, "{}", text(&small));
    assert_eq!(large.outcome, CallOutcome::Ok, "{}", text(&large));
    assert!(large.fuel_consumed > small.fuel_consumed * 100);
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_limit() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { memory_mib: Some(32), ..Default::default() })).await;
    let report = call(&sandbox, &c, "grow_forever", json!({})).await;
    assert_eq!(
        text(&report),
        "tool exceeded its memory limit: growth past 32 MiB was refused (memory_mib)"
    );
    assert_contained(&sandbox, &c, &report, CallOutcome::MemoryLimit).await;
}

#[tokio::test]
async fn allocation_within_the_memory_limit_succeeds() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { memory_mib: Some(32), ..Default::default() })).await;
    let report = call(&sandbox, &c, "alloc", json!({ "mib": 8 })).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
}

#[tokio::test]
async fn deep_recursion_overflows_the_stack() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "recurse", json!({ "depth": 100_000_000u64 })).await;
    assert!(text(&report).contains("512 KiB"), "{}", text(&report));
    assert_contained(&sandbox, &c, &report, CallOutcome::StackOverflow).await;
}

#[tokio::test]
async fn panic_is_a_trap_carrying_the_panic_message() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "panic", json!({ "message": "boom at the guest" })).await;
    assert!(
        text(&report).starts_with("tool panicked: boom at the guest (at "),
        "{}",
        text(&report)
    );
    assert_contained(&sandbox, &c, &report, CallOutcome::Trap).await;
}

#[tokio::test]
async fn huge_result_is_output_too_large() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { output_kib: Some(64), ..Default::default() })).await;
    let report = call(&sandbox, &c, "flood", json!({ "bytes": 200_000 })).await;
    assert_eq!(
        text(&report),
        "tool output too large: the result is 200000 bytes, over the 65536 byte output limit (output_kib)"
    );
    assert_contained(&sandbox, &c, &report, CallOutcome::OutputTooLarge).await;
}

#[tokio::test]
async fn log_flood_is_output_too_large_and_stops_the_guest() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { output_kib: Some(16), ..Default::default() })).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let report = sandbox
        .call(&c, "log_flood", &json!({ "count": 1_000_000, "size": 1024 }).to_string(), Some(tx))
        .await;
    let mut delivered = 0;
    while let Ok(GuestEvent::Log { .. }) = rx.try_recv() {
        delivered += 1;
    }
    assert_eq!(delivered, 16, "exactly the messages that fit in 16 KiB reach the client");
    assert_contained(&sandbox, &c, &report, CallOutcome::OutputTooLarge).await;
}

/// A guest that asks the client in a loop, whatever the answer: every
/// question is paid for from the output budget, so the loop ends at the
/// limit, with the questions that fit delivered and each one answered.
#[tokio::test]
async fn a_guest_asking_in_a_loop_is_stopped_by_its_output_budget() {
    let (sandbox, c) =
        load(policy_with(LimitOverrides { output_kib: Some(16), ..Default::default() })).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The client: accepts every question at once.
    let client = tokio::spawn(async move {
        let mut asked = 0;
        while let Some(event) = rx.recv().await {
            if let GuestEvent::Ask { request, reply } = event {
                assert_eq!(request.method, "elicitation/create");
                asked += 1;
                let _ = reply.send(Ok(json!({ "action": "accept", "content": { "ok": true } })));
            }
        }
        asked
    });
    let report = sandbox.call(&c, "ask_loop", "{}", Some(tx)).await;
    let asked = client.await.unwrap();
    assert!((50..200).contains(&asked), "16 KiB pays for about a hundred questions, not {asked}");
    assert_contained(&sandbox, &c, &report, CallOutcome::OutputTooLarge).await;

    // Nobody to ask (the command line): each question is refused at once,
    // and still paid for.
    let report = call(&sandbox, &c, "ask_loop", json!({})).await;
    assert_contained(&sandbox, &c, &report, CallOutcome::OutputTooLarge).await;
}

#[tokio::test]
async fn stdout_flood_is_captured_bounded_and_harmless() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "stdout", json!({ "bytes": 1_000_000 })).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    assert_eq!(report.stdio.stdout.len(), corral::sandbox::STDIO_CAPTURE_BYTES);
    assert_eq!(report.stdio.stderr.len(), corral::sandbox::STDIO_CAPTURE_BYTES);
    assert_eq!(report.stdio.dropped, 2 * (1_000_000 - corral::sandbox::STDIO_CAPTURE_BYTES as u64));
}

#[tokio::test]
async fn stdin_is_closed() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "stdin", json!({})).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    assert_eq!(text(&report), "read 0 bytes from stdin");
}

#[tokio::test]
async fn environment_holds_only_granted_values() {
    // The test process has PATH, HOME, CARGO_* and more; none may leak in.
    assert!(std::env::var_os("PATH").is_some());
    let policy = Policy {
        env: vec![("GRANTED".into(), EnvEntry::Literal("yes".into()))],
        ..Policy::deny_all()
    };
    let (sandbox, c) = load(policy).await;
    let report = call(&sandbox, &c, "env", json!({})).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    let env: Value = structured(&report);
    assert_eq!(env, json!({ "GRANTED": "yes" }));
    let args = call(&sandbox, &c, "args", json!({})).await;
    assert_eq!(text(&args), "[]", "no host arguments leak in");
}

struct Tree {
    _root: tempfile::TempDir,
    granted: std::path::PathBuf,
}

/// `root/secret.txt` (outside) and `root/granted/{inside.txt, link -> ../secret.txt}`.
fn tree() -> Tree {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("secret.txt"), "TOP SECRET").unwrap();
    let granted = root.path().join("granted");
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("inside.txt"), "visible").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), granted.join("link")).unwrap();
    Tree { _root: root, granted }
}

fn dir_policy(host: &Path, writable: bool) -> Policy {
    let grant = DirGrant::resolve("test", host, "/data", writable).unwrap();
    Policy { dirs: vec![grant], ..Policy::deny_all() }
}

async fn read(sandbox: &Sandbox, c: &LoadedComponent, path: &str) -> CallReport {
    call(sandbox, c, "read", json!({ "path": path })).await
}

#[tokio::test]
async fn granted_file_is_readable() {
    let t = tree();
    let (sandbox, c) = load(dir_policy(&t.granted, false)).await;
    let report = read(&sandbox, &c, "/data/inside.txt").await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    assert_eq!(text(&report), "visible");
}

#[tokio::test]
async fn dot_dot_cannot_leave_the_grant() {
    let t = tree();
    let (sandbox, c) = load(dir_policy(&t.granted, false)).await;
    let report = read(&sandbox, &c, "/data/../secret.txt").await;
    assert!(!text(&report).contains("TOP SECRET"));
    assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
}

#[tokio::test]
async fn absolute_host_path_is_not_nameable() {
    let t = tree();
    let (sandbox, c) = load(dir_policy(&t.granted, false)).await;
    let secret = t.granted.parent().unwrap().join("secret.txt");
    for path in [secret.to_str().unwrap(), "/etc/passwd"] {
        let report = read(&sandbox, &c, path).await;
        assert!(!text(&report).contains("TOP SECRET") && !text(&report).contains("root:"));
        assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
    }
}

#[tokio::test]
async fn symlink_inside_the_grant_pointing_outside_is_refused() {
    let t = tree();
    let (sandbox, c) = load(dir_policy(&t.granted, false)).await;
    let report = read(&sandbox, &c, "/data/link").await;
    assert!(!text(&report).contains("TOP SECRET"));
    assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
}

#[tokio::test]
async fn read_only_grant_refuses_writes() {
    let t = tree();
    let (sandbox, c) = load(dir_policy(&t.granted, false)).await;
    let report =
        call(&sandbox, &c, "write", json!({ "path": "/data/new.txt", "content": "x" })).await;
    assert!(!t.granted.join("new.txt").exists());
    assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
}

#[tokio::test]
async fn read_write_grant_allows_writes_inside_it() {
    let t = tree();
    let (sandbox, c) = load(dir_policy(&t.granted, true)).await;
    let report =
        call(&sandbox, &c, "write", json!({ "path": "/data/new.txt", "content": "x" })).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    assert_eq!(std::fs::read_to_string(t.granted.join("new.txt")).unwrap(), "x");
}

#[tokio::test]
async fn no_grant_means_no_filesystem() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "list", json!({ "path": "/" })).await;
    assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
}

#[tokio::test]
async fn unknown_tool_is_classified() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "no_such_tool", json!({})).await;
    assert!(text(&report).starts_with("unknown tool: "), "{}", text(&report));
    assert!(text(&report).contains("no_such_tool"), "{}", text(&report));
    assert_contained(&sandbox, &c, &report, CallOutcome::UnknownTool).await;
}

#[tokio::test]
async fn mistyped_arguments_are_invalid_arguments_naming_the_field() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "burn", json!({ "iterations": "many" })).await;
    assert!(text(&report).starts_with("invalid arguments: "), "{}", text(&report));
    assert_contained(&sandbox, &c, &report, CallOutcome::InvalidArguments).await;
}

#[tokio::test]
async fn every_call_gets_a_fresh_instance() {
    let (sandbox, c) = load(Policy::deny_all()).await;
    for _ in 0..3 {
        let report = call(&sandbox, &c, "counter", json!({})).await;
        assert_eq!(text(&report), "1", "state from an earlier call survived");
    }
}

#[tokio::test]
async fn no_byte_an_earlier_call_wrote_survives() {
    // 4 MiB: more than the pool keeps resident per slot, so both ways a slot
    // is reset between calls (copying written pages back from the image, and
    // returning the rest to the kernel) are covered. Calls in sequence reuse
    // the same slot.
    let (sandbox, c) = load(Policy::deny_all()).await;
    for _ in 0..3 {
        let report = call(&sandbox, &c, "residue", json!({ "kib": 4096 })).await;
        assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
        let counts = text(&report);
        let (before, after) = counts.split_once(' ').expect("two counts");
        assert_eq!(before, "0", "an earlier call's memory survived: {counts}");
        assert!(
            after.parse::<usize>().unwrap() >= 4096 * 16,
            "the scan finds the marker: {counts}"
        );
    }
    // The control: one instance called twice does show the first call's
    // marker, so a zero above means the memory was reset, not missed.
    let mut kept = sandbox.reused_instance(&c).await.expect("instantiates");
    let args = json!({ "kib": 64 }).to_string();
    kept.call("residue", &args).await.expect("first call");
    let second = kept.call("residue", &args).await.expect("second call");
    let counts = result_text(&second.content);
    assert!(!counts.starts_with("0 "), "a kept instance keeps its memory: {counts}");
}

#[tokio::test]
async fn calls_beyond_the_concurrency_limit_are_refused_as_busy() {
    let policy = policy_with(LimitOverrides {
        max_concurrency: Some(1),
        queue_timeout_ms: Some(100),
        ..Default::default()
    });
    let (sandbox, c) = load(policy).await;
    let (sandbox, c) = (Arc::new(sandbox), Arc::new(c));
    let first = {
        let (sandbox, c) = (sandbox.clone(), c.clone());
        tokio::spawn(async move { call(&sandbox, &c, "sleep", json!({ "ms": 1500 })).await })
    };
    // Until the first call holds the only slot, a quick call gets through.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let second = loop {
        let second = call(&sandbox, &c, "echo", json!({ "text": "x" })).await;
        if second.outcome != CallOutcome::Ok {
            break second;
        }
        assert!(std::time::Instant::now() < deadline, "the first call never held the slot");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(second.outcome, CallOutcome::Busy, "{}", text(&second));
    assert!(text(&second).contains("max_concurrency = 1"), "{}", text(&second));
    assert_eq!(first.await.unwrap().outcome, CallOutcome::Ok);
    assert_eq!(call(&sandbox, &c, "echo", json!({ "text": "x" })).await.outcome, CallOutcome::Ok);
}

#[tokio::test]
async fn network_is_unreachable_without_a_grant() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (sandbox, c) = load(Policy::deny_all()).await;
    let report = call(&sandbox, &c, "connect", json!({ "address": address })).await;
    assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "no connection may reach the host");
    let report = call(&sandbox, &c, "resolve", json!({ "host": "localhost" })).await;
    assert_contained(&sandbox, &c, &report, CallOutcome::ToolError).await;
}

#[tokio::test]
async fn compiled_component_is_reused_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let engine =
        EngineConfig { cache_dir: Some(cache.path().to_owned()), no_cache: false, ..engine() };
    let wasm = std::fs::read(HOSTILE).unwrap();
    let sandbox = Sandbox::new(&engine).unwrap();
    let first = sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
    let second = sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
    assert!(!first.from_cache && second.from_cache);
    let report = call(&sandbox, &second, "echo", json!({ "text": "cached" })).await;
    assert_eq!(text(&report), "cached");
}

/// The one file of a cache directory.
fn cache_entry(dir: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// Garbage, a truncated file and one flipped byte deep in the native code:
/// none is loaded (the digest in front of each entry does not match), the
/// component is compiled again, the entry replaced, and the next load
/// comes from the cache again.
#[tokio::test]
async fn an_altered_or_truncated_cache_entry_is_never_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let engine =
        EngineConfig { cache_dir: Some(cache.path().to_owned()), no_cache: false, ..engine() };
    let wasm = std::fs::read(HOSTILE).unwrap();
    let sandbox = Sandbox::new(&engine).unwrap();
    sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
    let entry = cache_entry(cache.path());
    let good = std::fs::read(&entry).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x01;
    for bad in [b"garbage".to_vec(), good[..good.len() / 2].to_vec(), flipped] {
        std::fs::write(&entry, &bad).unwrap();
        let reloaded = sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
        assert!(!reloaded.from_cache);
        let report = call(&sandbox, &reloaded, "echo", json!({ "text": "ok" })).await;
        assert_eq!(text(&report), "ok");
        assert_eq!(std::fs::read(&entry).unwrap(), good, "the entry is replaced");
        let again = sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
        assert!(again.from_cache);
    }
}

/// A valid entry of another component, copied over this one's: its digest
/// covers its key, so it is not loaded in this one's place.
#[tokio::test]
async fn a_cache_entry_swapped_for_another_components_is_not_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let engine =
        EngineConfig { cache_dir: Some(cache.path().to_owned()), no_cache: false, ..engine() };
    let sandbox = Sandbox::new(&engine).unwrap();
    let hostile = std::fs::read(HOSTILE).unwrap();
    sandbox.load("hostile", hostile.clone(), Policy::deny_all()).await.unwrap();
    let hostile_entry = cache_entry(cache.path());
    let legacy = std::fs::read(env!("CORRAL_GUEST_LEGACY")).unwrap();
    sandbox.load("legacy", legacy, Policy::deny_all()).await.unwrap();
    let legacy_entry = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != hostile_entry)
        .unwrap();
    std::fs::copy(&legacy_entry, &hostile_entry).unwrap();
    let reloaded = sandbox.load("hostile", hostile, Policy::deny_all()).await.unwrap();
    assert!(!reloaded.from_cache);
    let report = call(&sandbox, &reloaded, "counter", json!({})).await;
    assert_eq!(text(&report), "1", "the hostile component's own tool answers");
}

/// An entry others may write (or, when the tests run as root, one another
/// user owns) could hold anyone's native code: it is not loaded, and the
/// entry written in its place is the host's own, private.
#[tokio::test]
async fn a_cache_entry_others_could_have_written_is_not_loaded() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let cache = tempfile::tempdir().unwrap();
    let engine =
        EngineConfig { cache_dir: Some(cache.path().to_owned()), no_cache: false, ..engine() };
    let wasm = std::fs::read(HOSTILE).unwrap();
    let sandbox = Sandbox::new(&engine).unwrap();
    sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
    let entry = cache_entry(cache.path());
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let reloaded = sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
    assert!(!reloaded.from_cache, "a world-writable entry is not loaded");
    assert_eq!(std::fs::metadata(&entry).unwrap().mode() & 0o077, 0, "replaced, private");
    assert!(sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap().from_cache);

    if std::fs::metadata(cache.path()).unwrap().uid() == 0 {
        std::os::unix::fs::chown(&entry, Some(12345), None).unwrap();
        let reloaded = sandbox.load("hostile", wasm.clone(), Policy::deny_all()).await.unwrap();
        assert!(!reloaded.from_cache, "an entry another user owns is not loaded");
        assert_eq!(std::fs::metadata(&entry).unwrap().uid(), 0, "replaced by the host's own");
    }
}

/// A cache directory others may write is refused at start, naming it and
/// the ways out; nothing is loaded from it.
#[test]
fn a_cache_directory_others_may_write_is_refused_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let engine =
        EngineConfig { cache_dir: Some(cache.path().to_owned()), no_cache: false, ..engine() };
    let Err(err) = Sandbox::new(&engine) else { panic!("an open cache directory was accepted") };
    let message = err.to_string();
    assert!(message.contains(&cache.path().display().to_string()), "{message}");
    assert!(message.contains("writable by group or others (mode 777)"), "{message}");
    assert!(message.contains("engine.no_cache = true"), "{message}");
}

#[tokio::test]
async fn bytes_that_are_not_a_component_fail_to_load_naming_it() {
    let sandbox = Sandbox::new(&engine()).unwrap();
    let err =
        sandbox.load("junk", &b"\0asm\x01\0\0\0"[..], Policy::deny_all()).await.err().unwrap();
    let message = err.to_string();
    // The reason is wasmtime's, with its causes: here the bytes are a core
    // module's header, not a component's.
    assert!(message.starts_with("component \"junk\": not a valid wasm component: "), "{message}");
}

/// A 64 KiB tmpfs, unmounted on drop. Mounting needs root (CI runs as
/// root); without it the test fails saying so rather than passing unseen.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                "size=64k,mode=0755",
                "corral-full",
                dir.path().to_str().unwrap(),
            ])
            .status()
            .expect("mount runs");
        assert!(status.success(), "this test mounts a 64 KiB tmpfs and needs root for it");
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

#[tokio::test]
async fn a_full_disk_fails_the_fs_write_clearly_keeps_the_old_file_and_nothing_else_breaks() {
    let disk = SmallDisk::mount();
    let sandbox = Sandbox::new(&engine()).expect("sandbox");
    let fs = sandbox
        .load("fs", corral::bundled::FS.to_vec(), dir_policy(disk.dir.path(), true))
        .await
        .expect("the fs tool loads");
    let write = |content: String| {
        let args = json!({ "path": "/data/notes.txt", "content": content });
        let (sandbox, fs) = (&sandbox, &fs);
        async move { call(sandbox, fs, "write_file", args).await }
    };
    let first = write("kept".into()).await;
    assert!(!is_error(&first), "{}", text(&first));

    let full = write("x".repeat(256 * 1024)).await;
    assert_eq!(full.outcome, CallOutcome::ToolError, "{}", text(&full));
    assert_eq!(
        text(&full),
        "writing /data/notes.txt failed: the host reported an I/O error, most often because \
         the disk (or quota) holding it is full; the file is unchanged"
    );
    // The old content is whole and no partial file takes the space.
    assert_eq!(std::fs::read_to_string(disk.dir.path().join("notes.txt")).unwrap(), "kept");
    let names: Vec<_> = std::fs::read_dir(disk.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["notes.txt"]);

    let read = call(&sandbox, &fs, "read_file", json!({ "path": "/data/notes.txt" })).await;
    assert_eq!(text(&read), "kept");
    let again = write("smaller".into()).await;
    assert!(!is_error(&again), "{}", text(&again));
}
