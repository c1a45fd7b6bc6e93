//! MCP tasks over HTTP, both revisions, against the conformance component's
//! task fixtures (`slow_compute`, `failing_job`, `protocol_error_job`,
//! `confirm_delete`, `multi_input`): start, poll, answer, cancel, fetch;
//! the limits; every bad input a clear error; and 1,000 short tasks that
//! leave nothing behind once their time is up.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use corral::config::Config;
use serde_json::{Value, json};

use crate::support::*;

const TASK_SUPPORT: &str = r#"task_support = { slow_compute = "optional", protocol_error_job = "optional", confirm_delete = "optional", multi_input = "optional", failing_job = "required" }"#;

/// A server with the task fixtures; `tasks` is its `[tasks]` table, and
/// the component may run `concurrency` calls at once.
pub(crate) fn server(tasks: &str, concurrency: u32) -> Addr {
    let text = format!(
        "[tasks]\n{tasks}\n\n[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\n\
         namespace = \"\"\n{TASK_SUPPORT}\n\n[component.limits]\nmax_concurrency = {concurrency}\n\
         queue_timeout_ms = 0\n"
    );
    let base = tempfile::tempdir().expect("tempdir").keep();
    start(Config::from_toml(&text, Path::new("<test>"), &base).expect("config"))
}

/// The server most tests share: roomy limits, so they do not meet.
pub(crate) fn roomy() -> Addr {
    static ROOMY: OnceLock<Addr> = OnceLock::new();
    *ROOMY.get_or_init(|| {
        server("max_tasks = 64\nmax_tasks_per_client = 64\npromote_after_ms = 100", 32)
    })
}

/// `_meta` declaring the tasks extension.
pub(crate) fn with_tasks(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/clientCapabilities": {
            "elicitation": {},
            "extensions": { "io.modelcontextprotocol/tasks": {} }
        }
    });
    params
}

pub(crate) fn call(addr: Addr, name: &str, arguments: Value) -> HttpReply {
    let message = stateless_request(
        1,
        "tools/call",
        with_tasks(json!({ "name": name, "arguments": arguments })),
    );
    addr.stateless(&message, &[])
}

pub(crate) fn tasks_request(addr: Addr, method: &str, params: Value) -> HttpReply {
    addr.stateless(&stateless_request(2, method, with_tasks(params)), &[])
}

/// Starts a task of `name`; its id.
pub(crate) fn start_task(addr: Addr, name: &str, arguments: Value) -> String {
    let reply = call(addr, name, arguments);
    let result = &reply.json()["result"];
    assert_eq!(result["resultType"], "task", "{}", reply.body);
    result["taskId"].as_str().expect("taskId").to_owned()
}

pub(crate) fn get(addr: Addr, task: &str) -> Value {
    let reply = tasks_request(addr, "tasks/get", json!({ "taskId": task }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["result"].clone()
}

/// Polls until the task is in one of `statuses`.
pub(crate) fn poll_until(addr: Addr, task: &str, statuses: &[&str]) -> Value {
    poll_for(addr, task, |now| statuses.iter().any(|s| now["status"] == *s))
}

/// Polls `tasks/get` until `done` holds of the task (at most 30 s).
pub(crate) fn poll_for(addr: Addr, task: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = get(addr, task);
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "the task never got there: {now}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const FINAL: [&str; 3] = ["completed", "failed", "cancelled"];

#[test]
fn a_long_call_becomes_a_task_that_reports_progress_and_completes() {
    let addr = roomy();
    let reply = call(addr, "slow_compute", json!({ "seconds": 3, "label": "life" }));
    let created = &reply.json()["result"];
    assert_eq!(created["resultType"], "task", "{}", reply.body);
    assert_eq!(created["status"], "working");
    for absent in
        ["result", "error", "inputRequests", "requestState", "ttl", "pollInterval", "task"]
    {
        assert!(created.get(absent).is_none(), "{absent} in {created}");
    }
    assert!(created["ttlMs"].as_u64().unwrap() > 0);
    assert!(created["pollIntervalMs"].as_u64().unwrap() > 0);
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    let task = created["taskId"].as_str().unwrap();
    // While it runs: its progress is the status message, its output readable.
    let running = poll_for(addr, task, |task| {
        task["statusMessage"].as_str().is_some_and(|m| m.contains("life"))
            || FINAL.iter().any(|s| task["status"] == *s)
    });
    assert_eq!(running["status"], "working", "{running}");
    assert!(running["statusMessage"].as_str().is_some_and(|m| m.contains("life")), "{running}");
    assert!(running["_meta"]["dev.corral/output"].as_str().unwrap().contains("[progress]"));
    let done = poll_until(addr, task, &FINAL);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["resultType"], "complete");
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("life"), "{text}");
    // A short call of the same tool is answered inline, no task.
    let quick = call(addr, "slow_compute", json!({ "seconds": 0, "label": "quick" }));
    assert_eq!(quick.json()["result"]["resultType"], "complete", "{}", quick.body);
    let metrics = addr.metrics();
    assert!(metrics.contains("corral_task_duration_seconds_count{status=\"completed\"}"));
}

#[test]
fn a_tool_error_completes_and_a_trap_fails_naming_its_outcome() {
    let addr = roomy();
    let failing = start_task(addr, "failing_job", json!({}));
    let done = poll_until(addr, &failing, &FINAL);
    assert_eq!(
        (done["status"].as_str(), done["result"]["isError"].as_bool()),
        (Some("completed"), Some(true))
    );
    let crash = start_task(addr, "protocol_error_job", json!({}));
    let done = poll_until(addr, &crash, &FINAL);
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done.get("result").is_none());
    assert_eq!(done["error"]["code"], -32603);
    assert_eq!(done["error"]["data"]["outcome"], "trap");
    assert!(done["error"]["message"].as_str().unwrap().contains("deliberate crash"), "{done}");
}

#[test]
fn questions_park_the_task_until_every_answer_came() {
    let addr = roomy();
    let task = start_task(addr, "multi_input", json!({}));
    let waiting = poll_until(addr, &task, &["input_required"]);
    let keys: Vec<String> = waiting["inputRequests"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 2, "{waiting}");
    let answer = json!({ "action": "accept", "content": { "name": "n", "confirm": true } });
    let ack = tasks_request(
        addr,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": { &keys[0]: answer, "unknown-key": {} } }),
    );
    assert_eq!(ack.json()["result"]["resultType"], "complete", "{}", ack.body);
    let half = get(addr, &task);
    assert_eq!(half["status"], "input_required");
    assert_eq!(half["inputRequests"].as_object().unwrap().keys().collect::<Vec<_>>(), [&keys[1]]);
    tasks_request(
        addr,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": { &keys[1]: answer } }),
    );
    let done = poll_until(addr, &task, &FINAL);
    assert_eq!(done["status"], "completed", "{done}");
}

#[test]
fn cancel_stops_the_wasm_and_frees_its_slot_at_once() {
    // One slot: a call that needs it succeeds right after the cancel.
    let addr = server("promote_after_ms = 100", 1);
    let task = start_task(addr, "slow_compute", json!({ "seconds": 60, "label": "slot" }));
    let busy = call(addr, "slow_compute", json!({ "seconds": 0, "label": "blocked" }));
    assert_eq!(busy.json()["result"]["isError"], true, "the slot is taken: {}", busy.body);
    let ack = tasks_request(addr, "tasks/cancel", json!({ "taskId": task }));
    assert_eq!(
        ack.json()["result"],
        json!({ "resultType": "complete", "_meta": ack.json()["result"]["_meta"] })
    );
    let now = get(addr, &task);
    assert_eq!(now["status"], "cancelled", "{now}");
    let started = Instant::now();
    let free = call(addr, "slow_compute", json!({ "seconds": 0, "label": "free" }));
    assert_eq!(free.json()["result"]["isError"], false, "{}", free.body);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Cancelling it again is acknowledged, and changes nothing.
    let again = tasks_request(addr, "tasks/cancel", json!({ "taskId": task }));
    assert_eq!(again.json()["result"]["resultType"], "complete");
    assert_eq!(get(addr, &task)["status"], "cancelled");
}

#[test]
fn past_the_limits_a_task_is_refused_and_the_running_ones_go_on() {
    let addr = server("max_tasks = 3\nmax_tasks_per_client = 2\npromote_after_ms = 50", 8);
    let first = start_task(addr, "slow_compute", json!({ "seconds": 30, "label": "a" }));
    let second = start_task(addr, "slow_compute", json!({ "seconds": 30, "label": "b" }));
    let refused = call(addr, "slow_compute", json!({ "seconds": 30, "label": "c" }));
    assert_eq!((refused.status, refused.code()), (429, -32000), "{}", refused.body);
    assert!(refused.body.contains("tasks.max_tasks_per_client"), "{}", refused.body);
    // Another client (a 2025-11-25 session) still has room, up to max_tasks.
    let session = addr.session();
    let legacy = addr.request(
        &session,
        3,
        "tools/call",
        json!({ "name": "slow_compute", "arguments": { "seconds": 30, "label": "d" }, "task": {} }),
    );
    assert!(legacy.json()["result"]["task"]["taskId"].is_string(), "{}", legacy.body);
    let other = addr.session();
    let full = addr.request(
        &other,
        4,
        "tools/call",
        json!({ "name": "slow_compute", "arguments": { "seconds": 1, "label": "e" }, "task": {} }),
    );
    assert!(full.body.contains("tasks.max_tasks"), "{}", full.body);
    for task in [&first, &second] {
        assert_eq!(get(addr, task)["status"], "working");
        tasks_request(addr, "tasks/cancel", json!({ "taskId": task }));
    }
    let metric = metric_value(&addr.metrics(), "corral_tasks_refused_total").unwrap();
    assert_eq!(metric, 2.0);
}

#[test]
fn bad_task_requests_are_clear_errors() {
    let addr = roomy();
    let task = start_task(addr, "slow_compute", json!({ "seconds": 30, "label": "mine" }));
    // Unknown id.
    let unknown = tasks_request(addr, "tasks/get", json!({ "taskId": "no-such-task" }));
    assert_eq!((unknown.status, unknown.code()), (400, -32602));
    assert!(unknown.body.contains("unknown task"), "{}", unknown.body);
    // Without the extension.
    let plain = addr.stateless(&stateless_request(3, "tasks/get", json!({ "taskId": &task })), &[]);
    assert_eq!(plain.code(), -32021);
    assert_eq!(
        plain.json()["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
        json!({})
    );
    // Mcp-Name must name the task.
    let wrong = addr.stateless(
        &stateless_request(4, "tasks/get", with_tasks(json!({ "taskId": &task }))),
        &[("mcp-name", "another")],
    );
    assert_eq!((wrong.status, wrong.code()), (400, -32020));
    // Malformed params, each naming what is wrong.
    let odd = [
        // Over HTTP a taskId that is no string cannot match its Mcp-Name.
        ("tasks/get", json!({ "taskId": 7 }), "Mcp-Name header is required"),
        (
            "tasks/update",
            json!({ "taskId": &task, "inputResponses": { "q": 1 } }),
            "must be an object (the client's result for that input request)",
        ),
        (
            "tasks/update",
            json!({ "taskId": &task, "inputResponses": [] }),
            "inputResponses must be",
        ),
        (
            "tasks/get",
            json!({ "taskId": &task, "_meta": { "dev.corral/outputLines": 5000 } }),
            "dev.corral/outputLines",
        ),
    ];
    for (method, params, why) in odd {
        let mut message = stateless_request(8, method, with_tasks(params.clone()));
        if let Some(extra) = params.get("_meta") {
            message["params"]["_meta"]["dev.corral/outputLines"] =
                extra["dev.corral/outputLines"].clone();
        }
        let reply = addr.stateless(&message, &[]);
        let code = if params["taskId"].is_string() { -32602 } else { -32020 };
        assert_eq!(reply.code(), code, "{method} {params}: {}", reply.body);
        assert!(reply.body.contains(why), "{method}: {}", reply.body);
    }
    // Removed methods.
    for method in ["tasks/result", "tasks/list"] {
        let removed = tasks_request(addr, method, json!({ "taskId": &task }));
        assert_eq!(removed.code(), -32601, "{method}: {}", removed.body);
    }
    // A required tool without the extension.
    let required = addr.stateless(
        &stateless_request(5, "tools/call", json!({ "name": "failing_job", "arguments": {} })),
        &[],
    );
    assert_eq!(required.code(), -32021, "{}", required.body);
    // Another client's task: unknown to it.
    let session = addr.session();
    let foreign = addr.request(&session, 6, "tasks/get", json!({ "taskId": &task }));
    assert_eq!(foreign.code(), -32602, "{}", foreign.body);
    let foreign = addr.request(&session, 7, "tasks/cancel", json!({ "taskId": &task }));
    assert_eq!(foreign.code(), -32602, "{}", foreign.body);
    assert_eq!(get(addr, &task)["status"], "working", "the owner's task is untouched");
    tasks_request(addr, "tasks/cancel", json!({ "taskId": &task }));
    // The server still serves.
    let greet = call(addr, "greet", json!({ "name": "still" }));
    assert_eq!(greet.json()["result"]["content"][0]["text"], "Hello, still!");
}

#[test]
fn legacy_tasks_are_created_listed_fetched_and_cancelled() {
    let addr = roomy();
    let session = addr.session();
    let request = |id, method: &str, params| addr.request(&session, id, method, params);
    // The tool's support decides: greet never runs as a task.
    let forbidden = request(
        1,
        "tools/call",
        json!({ "name": "greet", "arguments": { "name": "x" }, "task": {} }),
    );
    assert_eq!(forbidden.code(), -32601, "{}", forbidden.body);
    let required = request(2, "tools/call", json!({ "name": "failing_job", "arguments": {} }));
    assert_eq!(required.code(), -32601, "{}", required.body);
    let listed = request(3, "tools/list", json!({}));
    let tools = listed.json()["result"]["tools"].clone();
    let slow = tools.as_array().unwrap().iter().find(|t| t["name"] == "slow_compute").unwrap();
    assert_eq!(slow["execution"]["taskSupport"], "optional");
    // Created at once, nested.
    let created = request(
        4,
        "tools/call",
        json!({ "name": "slow_compute", "arguments": { "seconds": 1, "label": "legacy" }, "task": { "ttl": 60000 } }),
    );
    let task = created.json()["result"]["task"].clone();
    assert_eq!(task["status"], "working", "{}", created.body);
    assert!(task["ttl"].as_u64().is_some() && task.get("ttlMs").is_none());
    let id = task["taskId"].as_str().unwrap().to_owned();
    // tasks/result waits for the end, and names the task.
    let result = request(5, "tasks/result", json!({ "taskId": &id }));
    let result = result.json()["result"].clone();
    assert!(result["content"][0]["text"].as_str().unwrap().contains("legacy"), "{result}");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id.as_str());
    let listed = request(6, "tasks/list", json!({}));
    let listed = listed.json()["result"]["tasks"].clone();
    assert!(listed.as_array().unwrap().iter().any(|t| t["taskId"] == id.as_str()), "{listed}");
    // Cancel of a finished task is refused, of a running one done.
    let finished = request(7, "tasks/cancel", json!({ "taskId": &id }));
    assert_eq!(finished.code(), -32602);
    assert!(finished.body.contains("already ended completed"), "{}", finished.body);
    let running = request(
        8,
        "tools/call",
        json!({ "name": "slow_compute", "arguments": { "seconds": 60, "label": "x" }, "task": {} }),
    );
    let running = running.json()["result"]["task"]["taskId"].as_str().unwrap().to_owned();
    let cancelled = request(9, "tasks/cancel", json!({ "taskId": &running }));
    assert_eq!(cancelled.json()["result"]["status"], "cancelled", "{}", cancelled.body);
    let bad_cursor = request(10, "tasks/list", json!({ "cursor": "!!" }));
    assert_eq!(bad_cursor.code(), -32602);
}

/// The server's resident memory, in KiB (it runs in this process).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_thousand_short_tasks_leave_nothing_behind_after_their_ttl() {
    let addr =
        server("max_tasks = 64\nmax_tasks_per_client = 64\nmax_kept = 2000\nttl_ms = 3000", 32);
    let session = addr.session();
    // Three rounds: the first pays for what stays (connections, pool
    // slots, allocator arenas); the others show whether tasks leave
    // anything behind.
    let mut rss = vec![rss_kib()];
    for round in 0..3 {
        let mut last = String::new();
        for n in 0..1000 {
            let reply = addr.request(
                &session,
                round * 1000 + n,
                "tools/call",
                json!({ "name": "slow_compute", "arguments": { "seconds": 0, "label": "flood" }, "task": {} }),
            );
            last = reply.json()["result"]["task"]["taskId"].as_str().expect("a task").to_owned();
        }
        // The last is still kept (its TTL has just begun); how many of the
        // first have already passed theirs depends on this machine's speed,
        // so the count is bounded, not fixed (the store's unit tests pin
        // the TTL itself).
        let kept =
            metric_value(&addr.metrics(), "corral_tasks{status=\"completed\"}").unwrap_or(0.0);
        assert!((1.0..=1000.0).contains(&kept), "finished tasks are kept until their TTL: {kept}");
        let fresh = addr.request(&session, 5000, "tasks/get", json!({ "taskId": &last }));
        assert_eq!(fresh.json()["result"]["status"], "completed", "{}", fresh.body);
        rss.push(rss_kib());
        // Past the TTL, the sweeper drops them all.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let metrics = addr.metrics();
            let left: f64 = ["working", "completed", "failed"]
                .iter()
                .filter_map(|s| metric_value(&metrics, &format!("corral_tasks{{status=\"{s}\"}}")))
                .sum();
            if left == 0.0 {
                break;
            }
            assert!(Instant::now() < deadline, "tasks still kept after their TTL: {left}");
            std::thread::sleep(Duration::from_millis(200));
        }
        let gone = addr.request(&session, 5001, "tasks/get", json!({ "taskId": last }));
        assert_eq!(gone.code(), -32602);
        rss.push(rss_kib());
    }
    // RSS is the whole test process (other tests run beside this one), so
    // it is reported, not asserted.
    eprintln!(
        "1000 tasks, 3 rounds: RSS {:?} KiB (before, then kept and after the TTL, each round)",
        rss
    );
}

/// Checks what `tests/e2e/tasks_client.py` (the Python SDK as the client)
/// saw in `revision`: a task started, polled to completed and its result
/// read; a running task cancelled, its one slot free for the next call at
/// once; a task whose guest traps ended failed with its outcome.
pub fn assert_python_tasks(seen: &Value, revision: &str) {
    assert_eq!(seen["protocol_version"], revision, "{seen}");
    let completed = &seen["completed"];
    assert_eq!(completed["created_status"], "working", "{seen}");
    assert_eq!(completed["status"], "completed", "{seen}");
    assert_eq!(completed["is_error"], false, "{seen}");
    assert_eq!(completed["text"], "slow_compute py: done after 2 s", "{seen}");
    let cancel = &seen["cancel"];
    assert_eq!(cancel["busy_is_error"], true, "the task holds the slot: {seen}");
    assert!(cancel["busy_text"].as_str().unwrap().contains("busy"), "{seen}");
    assert_eq!(cancel["greet_is_error"], false, "the cancel freed the slot: {seen}");
    assert_eq!(cancel["greet_text"], "Hello, after!", "{seen}");
    assert!(cancel["greet_seconds"].as_f64().unwrap() < 5.0, "{seen}");
    assert_eq!(cancel["status_after"], "cancelled", "{seen}");
    let failed = &seen["failed"];
    assert_eq!(failed["status"], "failed", "{seen}");
    if revision == "2026-07-28" {
        assert_eq!(seen["extension_advertised"], true, "{seen}");
        assert_eq!(cancel["ack_result_type"], "complete", "{seen}");
        assert_eq!(failed["has_result"], false, "{seen}");
        assert_eq!(failed["error"]["code"], -32603, "{seen}");
        assert_eq!(failed["error"]["data"]["outcome"], "trap", "{seen}");
        assert!(failed["error"]["message"].as_str().unwrap().contains("deliberate crash"));
        // The SDK's own claim resolution polls a task to its result.
        assert_eq!(seen["resolved_text"], "slow_compute py-resolved: done after 1 s", "{seen}");
    } else {
        assert_eq!(seen["tasks_capability"]["requests"]["tools"]["call"], json!({}), "{seen}");
        assert_eq!(completed["related_task"], true, "{seen}");
        assert_eq!(cancel["cancel_status"], "cancelled", "{seen}");
        assert_eq!(failed["is_error"], true, "{seen}");
        assert_eq!(failed["related_task"], true, "{seen}");
        assert!(failed["text"].as_str().unwrap().contains("deliberate crash"), "{seen}");
    }
}

/// The acceptance test: the official Python SDK as the client, in both
/// revisions over HTTP, against one slot.
#[test]
fn the_python_sdk_runs_cancels_and_sees_tasks_fail_in_both_revisions() {
    let addr = server("promote_after_ms = 100", 1);
    for revision in ["2026-07-28", "2025-11-25"] {
        let seen =
            crate::python_sdk::run_python_client("tasks_client.py", &[revision, &addr.url()]);
        assert_python_tasks(&seen, revision);
    }
}
