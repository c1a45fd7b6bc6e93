//! Task status notifications: `notifications/tasks/status` on a 2025-11-25
//! session's stream, `notifications/tasks` on a 2026-07-28
//! `subscriptions/listen` stream that follows the task's id.

use serde_json::{Value, json};

use crate::support::*;
use crate::tasks::{roomy, start_task, with_tasks};

/// Reads events until one is `method` for `task` with `status`.
fn until_status(
    reader: &mut std::io::BufReader<std::net::TcpStream>,
    method: &str,
    task: &str,
    status: &str,
) -> Value {
    for _ in 0..200 {
        let events = read_events(reader, 1);
        let Some(event) = events.into_iter().next() else { break };
        if event["method"] == method
            && event["params"]["taskId"] == task
            && event["params"]["status"] == status
        {
            return event;
        }
    }
    panic!("no {method} with status {status} for {task}");
}

#[test]
fn a_session_hears_its_tasks_change_on_its_stream() {
    let addr = roomy();
    let session = addr.session();
    let mut stream = session_stream(addr, &session);
    let created = addr.request(
        &session,
        2,
        "tools/call",
        json!({ "name": "slow_compute", "arguments": { "seconds": 1, "label": "heard" }, "task": {} }),
    );
    let task = created.json()["result"]["task"]["taskId"].as_str().unwrap().to_owned();
    let done = until_status(&mut stream, "notifications/tasks/status", &task, "completed");
    assert!(done["params"]["ttl"].is_u64(), "{done}");
    assert!(done["params"].get("result").is_none(), "2025-11-25 carries the task only");
}

#[test]
fn a_listener_hears_the_tasks_it_follows_with_their_result() {
    let addr = roomy();
    let task = start_task(addr, "slow_compute", json!({ "seconds": 2, "label": "listened" }));
    let listen = stateless_request(
        9,
        "subscriptions/listen",
        with_tasks(json!({ "notifications": { "taskIds": [&task] } })),
    );
    let mut stream = listen_with(addr, &listen);
    let ack = read_events(&mut stream, 1);
    assert_eq!(ack[0]["params"]["notifications"]["taskIds"], json!([&task]), "{ack:?}");
    let done = until_status(&mut stream, "notifications/tasks", &task, "completed");
    assert!(done["params"]["result"]["content"][0]["text"].as_str().unwrap().contains("listened"));
    assert_eq!(done["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 9);
    // Without the extension, following tasks is refused.
    let plain = stateless_request(
        10,
        "subscriptions/listen",
        json!({ "notifications": { "taskIds": [&task] } }),
    );
    let refused = addr.stateless(&plain, &[]);
    assert_eq!(refused.code(), -32021, "{}", refused.body);
}

#[test]
fn a_tool_declares_its_task_support_and_the_config_overrides_it() {
    // fs declares digest optional in its code (the SDK's task_support).
    let addr = shared();
    let session = addr.session();
    let listed = addr.request(&session, 2, "tools/list", json!({}));
    let tools = listed.json()["result"]["tools"].clone();
    let tool =
        |name: &str| tools.as_array().unwrap().iter().find(|t| t["name"] == name).cloned().unwrap();
    assert_eq!(tool("fs_digest")["execution"]["taskSupport"], "optional");
    assert!(tool("fs_read_file").get("execution").is_none(), "forbidden is MCP's default");
    // The configuration's word wins over the tool's.
    let text = "[[component]]\nname = \"fs\"\npath = \"builtin:fs\"\n\
                task_support = { digest = \"forbidden\", read_file = \"required\" }\n";
    let base = tempfile::tempdir().unwrap().keep();
    let config = corral::config::Config::from_toml(text, std::path::Path::new("<t>"), &base);
    let other = start(config.unwrap());
    let session = other.session();
    let listed = other.request(&session, 2, "tools/list", json!({}));
    let tools = listed.json()["result"]["tools"].clone();
    let tool =
        |name: &str| tools.as_array().unwrap().iter().find(|t| t["name"] == name).cloned().unwrap();
    assert!(tool("fs_digest").get("execution").is_none());
    assert_eq!(tool("fs_read_file")["execution"]["taskSupport"], "required");
}

/// The long-running example: `fs_digest` answers a small tree inline and
/// runs on as a task for a large one, its progress readable meanwhile.
#[test]
fn the_digest_example_answers_a_small_tree_inline_and_a_large_one_as_a_task() {
    use crate::tasks::{call, poll_until};
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("small")).unwrap();
    std::fs::write(data.path().join("small/a.txt"), b"abc").unwrap();
    // 48 files of 2 MiB: seconds of hashing in the guest.
    let large = data.path().join("large");
    std::fs::create_dir_all(&large).unwrap();
    let block = vec![7u8; 2 << 20];
    for n in 0..48 {
        std::fs::write(large.join(format!("f{n:02}.bin")), &block).unwrap();
    }
    let text = format!(
        "[tasks]\npromote_after_ms = 100\n\n[[component]]\nname = \"fs\"\npath = \"builtin:fs\"\n\
         [[component.dir]]\nhost = {:?}\nguest = \"/data\"\n",
        data.path().display().to_string()
    );
    let config = corral::config::Config::from_toml(&text, std::path::Path::new("<t>"), data.path());
    let addr = start(config.unwrap());
    let small = call(addr, "fs_digest", json!({ "path": "/data/small" }));
    let small = small.json()["result"].clone();
    assert_eq!(small["resultType"], "complete", "{small}");
    assert_eq!(small["structuredContent"]["files"], 1, "{small}");
    let reply = call(addr, "fs_digest", json!({ "path": "/data/large" }));
    let created = reply.json()["result"].clone();
    assert_eq!(created["resultType"], "task", "{created}");
    let task = created["taskId"].as_str().unwrap();
    let done = poll_until(addr, task, &["completed", "failed", "cancelled"]);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["structuredContent"]["files"], 48, "{done}");
    assert_eq!(done["result"]["structuredContent"]["bytes"], 48 * (2 << 20), "{done}");
    let output = done["_meta"]["dev.corral/output"].as_str().unwrap();
    assert!(output.contains("[progress]"), "{output}");
}
