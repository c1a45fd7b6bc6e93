//! The docker launcher end to end, through `corral serve`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::fixture::{
    call, config, echo_image, inspect, native_state, run, text, wait_for, wait_up,
};
use crate::support::{self, Addr, metric_value};

const SECRET: &str = "s3cret-value-7d1f";
/// Restarts within a second.
const FAST_RESTART: &str = "restart_backoff_ms = 200\nrestart_backoff_max_ms = 1000";

/// A server with the native-echo image as native server `echo`, plus
/// `extra` lines in its `[[native]]` table. Keeps its base directory (the
/// secret file) alive for the test's duration by leaking it.
/// The echo server with `extra` settings, once the host is ready (the
/// server started once: `/readyz` waits for it).
fn start_echo(extra: &str) -> Addr {
    support::start(echo_config(extra))
}

/// [`start_echo`], as soon as the port is open.
fn start_echo_serving(extra: &str) -> Addr {
    support::start_serving(echo_config(extra))
}

fn echo_config(extra: &str) -> corral::config::Config {
    let image = echo_image();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    std::fs::write(dir.join("token"), format!("{SECRET}\n")).unwrap();
    let native = format!(
        r#"
[[native]]
name = "echo"
image = "{image}"
memory_mib = 64
cpus = 0.5
pids_limit = 32
call_timeout_ms = 2000
health_interval_ms = 200
max_message_kib = 64
{extra}
[native.env]
MODE = "test"
TOKEN = {{ from_file = "token" }}
"#
    );
    config(&native, &dir)
}

#[test]
fn native_tools_are_listed_beside_the_wasm_tools_and_called() {
    let addr = start_echo(FAST_RESTART);
    wait_up(&addr, "echo");
    let session = addr.session();
    let reply = addr.request(&session, 2, "tools/list", json!({}));
    let names: Vec<String> = reply.json()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    for name in [
        "echo_echo",
        "echo_sleep",
        "echo_hang",
        "echo_big",
        "echo_crash",
        "echo_env",
        "test_simple_text",
    ] {
        assert!(names.contains(&name.to_owned()), "{name} missing from {names:?}");
    }
    let result = call(&addr, "echo_echo", json!({ "text": "hello from a container" }));
    assert_eq!(
        result,
        json!({ "content": [{ "type": "text", "text": "hello from a container" }], "isError": false })
    );
    let metrics = addr.metrics();
    assert_eq!(
        metric_value(&metrics, r#"corral_tool_calls_total{tool="echo_echo",outcome="ok"}"#),
        Some(1.0)
    );
    assert_eq!(metric_value(&metrics, r#"corral_native_server_up{server="echo"}"#), Some(1.0));
    assert_eq!(metric_value(&metrics, r#"corral_circuit_open{server="echo"}"#), Some(0.0));
}

#[test]
fn arguments_are_checked_against_the_native_input_schema() {
    let addr = start_echo(FAST_RESTART);
    wait_up(&addr, "echo");
    let result = call(&addr, "echo_echo", json!({ "text": 5 }));
    assert_eq!(result["isError"], true);
    assert!(text(&result).starts_with("invalid arguments for tool \"echo_echo\""), "{result}");
}

#[test]
fn progress_and_log_notifications_are_relayed_to_the_http_client() {
    let addr = start_echo(FAST_RESTART);
    wait_up(&addr, "echo");
    let session = addr.session();
    let reply = addr.request(
        &session,
        2,
        "tools/call",
        json!({ "name": "echo_echo", "arguments": { "text": "x" }, "_meta": { "progressToken": "p1" } }),
    );
    let events = reply.events();
    assert_eq!(events[0]["method"], "notifications/progress");
    assert_eq!(
        events[0]["params"],
        json!({ "progressToken": "p1", "progress": 1.0, "total": 2.0, "message": "echoing" })
    );
    assert_eq!(events[1]["method"], "notifications/message");
    assert_eq!(events[1]["params"]["data"], "echo called");
    assert_eq!(events[2]["result"]["content"][0]["text"], "x");
}

#[test]
fn hardening_flags_read_back_with_docker_inspect() {
    let addr = start_echo(FAST_RESTART);
    let state = wait_up(&addr, "echo");
    let container = state["container"].as_str().expect("container name");
    let info = inspect(container);
    let host = &info["HostConfig"];
    assert_eq!(host["ReadonlyRootfs"], true);
    assert_eq!(host["CapDrop"], json!(["ALL"]));
    assert!(
        host["SecurityOpt"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o.as_str().unwrap().starts_with("no-new-privileges")),
        "{host}"
    );
    assert_eq!(host["NetworkMode"], "none");
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["NanoCpus"], 500_000_000);
    assert_eq!(host["PidsLimit"], 32);
    assert_eq!(host["Init"], true);
    assert_eq!(host["Privileged"], false);
    assert_eq!(host["LogConfig"]["Type"], "none");
    assert!(host["Tmpfs"]["/tmp"].as_str().unwrap().contains("size=64m"), "{host}");
    assert_eq!(info["Config"]["Labels"]["corral.managed"], "1");
    let env = info["Config"]["Env"].to_string();
    assert!(env.contains("MODE=test") && env.contains("TOKEN_FILE=/run/secrets/TOKEN"), "{env}");
    let mounts = info["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 1, "only the secret file is mounted: {mounts:?}");
    assert_eq!(mounts[0]["Destination"], "/run/secrets/TOKEN");
    assert_eq!(mounts[0]["RW"], false);
    let everything = info.to_string();
    assert!(!everything.contains(SECRET), "the secret value is visible in docker inspect");
    // The server reads the secret from its file.
    assert_eq!(text(&call(&addr, "echo_env", json!({ "name": "TOKEN" }))), SECRET);
    // And the docker run command line does not hold it either.
    let ps = run(Command::new("ps").args(["-eo", "args"]));
    assert!(!ps.contains(SECRET), "the secret value is on a command line");
}

#[test]
fn killed_container_is_restarted_with_the_circuit_open_then_closed() {
    // A long first backoff so the open window can be observed.
    let addr = start_echo("restart_backoff_ms = 1500\nrestart_backoff_max_ms = 3000");
    let before = wait_up(&addr, "echo");
    let container = before["container"].as_str().unwrap().to_owned();
    run(Command::new("docker").args(["kill", &container]));
    let down = wait_for(&addr, "echo", Duration::from_secs(10), |s| s["circuit"] == "open");
    assert_eq!(down["state"], "down");
    assert!(down["last_error"].as_str().unwrap().contains("connection lost"), "{down}");
    assert_eq!(metric_value(&addr.metrics(), r#"corral_circuit_open{server="echo"}"#), Some(1.0));
    assert_eq!(
        metric_value(&addr.metrics(), r#"corral_native_server_up{server="echo"}"#),
        Some(0.0)
    );
    // While open, a call is answered at once with the server's state.
    let asked = Instant::now();
    let refused = call(&addr, "echo_echo", json!({ "text": "x" }));
    assert!(asked.elapsed() < Duration::from_millis(500), "took {:?}", asked.elapsed());
    assert_eq!(refused["isError"], true);
    assert!(
        text(&refused).starts_with("native server \"echo\" is unavailable (circuit open"),
        "{refused}"
    );
    // Then it comes back in a new container.
    let after = wait_up(&addr, "echo");
    assert_eq!(after["circuit"], "closed");
    assert_ne!(after["container"], before["container"]);
    assert_eq!(after["restarts"], 1);
    assert_eq!(metric_value(&addr.metrics(), r#"corral_circuit_open{server="echo"}"#), Some(0.0));
    assert_eq!(text(&call(&addr, "echo_echo", json!({ "text": "back" }))), "back");
    assert_eq!(
        metric_value(
            &addr.metrics(),
            r#"corral_tool_calls_total{tool="echo_echo",outcome="host_error"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn a_server_that_exits_during_a_call_is_a_host_error_and_is_restarted() {
    let addr = start_echo(FAST_RESTART);
    wait_up(&addr, "echo");
    let result = call(&addr, "echo_crash", json!({}));
    assert_eq!(result["isError"], true);
    assert!(text(&result).starts_with("native server \"echo\" failed during the call"), "{result}");
    wait_for(&addr, "echo", Duration::from_secs(30), |s| s["state"] == "up" && s["restarts"] == 1);
    assert_eq!(text(&call(&addr, "echo_echo", json!({ "text": "again" }))), "again");
}

#[test]
fn a_call_never_answered_times_out_and_the_server_keeps_serving() {
    let addr = start_echo(FAST_RESTART);
    let before = wait_up(&addr, "echo");
    let asked = Instant::now();
    let result = call(&addr, "echo_hang", json!({}));
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(2000) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_eq!(
        text(&result),
        "native server \"echo\": tool call timed out: it ran past the 2000 ms time limit (call_timeout_ms); the server was sent notifications/cancelled"
    );
    assert_eq!(
        metric_value(
            &addr.metrics(),
            r#"corral_tool_calls_total{tool="echo_hang",outcome="timeout"}"#
        ),
        Some(1.0)
    );
    // Same container, still answering.
    assert_eq!(text(&call(&addr, "echo_echo", json!({ "text": "still here" }))), "still here");
    assert_eq!(native_state(&addr, "echo")["container"], before["container"]);
}

#[test]
fn an_oversized_message_is_a_clear_error_and_the_server_restarts() {
    let addr = start_echo(FAST_RESTART);
    wait_up(&addr, "echo");
    let result = call(&addr, "echo_big", json!({ "bytes": 200_000 }));
    assert_eq!(
        text(&result),
        "native server \"echo\": the server sent a message of more than 65536 bytes (max_message_kib); the connection was closed; the server is being restarted"
    );
    assert_eq!(
        metric_value(
            &addr.metrics(),
            r#"corral_tool_calls_total{tool="echo_big",outcome="output_too_large"}"#
        ),
        Some(1.0)
    );
    wait_for(&addr, "echo", Duration::from_secs(30), |s| s["state"] == "up" && s["restarts"] == 1);
    assert_eq!(text(&call(&addr, "echo_big", json!({ "bytes": 10 }))), "xxxxxxxxxx");
}

#[test]
fn a_missing_image_is_named_and_the_wasm_tools_keep_serving() {
    crate::fixture::require_docker();
    let dir = tempfile::tempdir().unwrap();
    let addr = support::start_serving(config(
        "[[native]]\nname = \"ghost\"\nimage = \"corral-no-such-image:404\"\nrestart_backoff_ms = 5000\n",
        dir.path(),
    ));
    let state = wait_for(&addr, "ghost", Duration::from_secs(30), |s| s["state"] == "down");
    // A replica whose native server never started is not ready.
    let ready = addr.get("/readyz");
    assert_eq!(
        (ready.status, ready.json()["status"].clone()),
        (503, json!("failed")),
        "{}",
        ready.body
    );
    let error = state["last_error"].as_str().unwrap();
    assert!(
        error.starts_with("image \"corral-no-such-image:404\" is not present on the docker engine (it is never pulled"),
        "{error}"
    );
    assert_eq!(state["tools"], json!([]));
    let result = call(&addr, "test_simple_text", json!({}));
    assert_eq!(result["isError"], false, "{result}");
}

#[test]
fn leftover_containers_of_a_dead_host_are_removed_at_start() {
    let image = echo_image();
    // A pid that surely belongs to no live process: a child that has exited.
    let mut child = Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let name = format!("corral-leftover-{}", std::process::id());
    run(Command::new("docker").args([
        "create",
        "--name",
        &name,
        "--label",
        "corral.managed=1",
        "--label",
        &format!("corral.pid={dead_pid}"),
        image,
    ]));
    let addr = start_echo(FAST_RESTART);
    wait_up(&addr, "echo");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed =
            run(Command::new("docker").args(["ps", "-aq", "--filter", &format!("name=^{name}$")]));
        if listed.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "leftover container {name} was not removed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tools_list_changed_is_sent_when_a_server_s_tools_come() {
    // The server answers only after the client has opened its stream.
    let addr = start_echo_serving("command = [\"--start-delay-ms\", \"1500\"]");
    // The components' own list changes come first: wait them out.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = addr.get("/readyz").json();
        let components = ready["components"].as_array().unwrap().clone();
        if components.iter().all(|c| c["state"] == "ready") {
            break;
        }
        assert!(Instant::now() < deadline, "the components never loaded: {ready}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let session = addr.session();
    let mut stream = TcpStream::connect(addr.0).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "GET /mcp HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\nmcp-session-id: {session}\r\n\r\n",
        addr.0
    )
    .unwrap();
    assert_eq!(native_state(&addr, "echo")["state"], "starting");
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    while !seen.contains("notifications/tools/list_changed") {
        let n = stream.read(&mut buf).expect("stream data");
        assert!(n > 0, "stream closed early: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert_eq!(native_state(&addr, "echo")["state"], "up");
}

#[test]
fn a_server_that_never_answers_initialize_is_down_with_the_start_timeout_named() {
    let addr = start_echo_serving(
        "command = [\"--silent\"]\nstart_timeout_ms = 500\nrestart_backoff_ms = 5000",
    );
    let state = wait_for(&addr, "echo", Duration::from_secs(30), |s| s["state"] == "down");
    assert_eq!(
        state["last_error"],
        "start failed: no answer to initialize and its lists within 500 ms (start_timeout_ms)"
    );
    let refused = call(&addr, "test_simple_text", json!({}));
    assert_eq!(refused["isError"], false);
}

#[test]
fn a_granted_directory_is_mounted_read_only_and_readable() {
    let image = echo_image();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/hello.txt"), "hello from the host").unwrap();
    let native = format!(
        "[[native]]\nname = \"echo\"\nimage = \"{image}\"\n\
         [native.env]\nDATA_FILE = \"/data/hello.txt\"\n\
         [[native.dir]]\nhost = \"data\"\nguest = \"/data\"\n"
    );
    let addr = support::start(config(&native, dir.path()));
    let state = wait_up(&addr, "echo");
    assert_eq!(text(&call(&addr, "echo_env", json!({ "name": "DATA" }))), "hello from the host");
    let mounts = inspect(state["container"].as_str().unwrap())["Mounts"].clone();
    assert_eq!(mounts.as_array().unwrap().len(), 1, "{mounts}");
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(mounts[0]["RW"], false);
}

#[test]
fn calls_beyond_max_concurrency_wait_then_are_refused_as_busy() {
    let addr = start_echo("max_concurrency = 1\nqueue_timeout_ms = 100");
    wait_up(&addr, "echo");
    let sleeper = std::thread::spawn(move || call(&addr, "echo_sleep", json!({ "ms": 1500 })));
    // Let the sleeper take the only slot.
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric_value(&addr.metrics(), "corral_calls_in_flight") != Some(1.0) {
        assert!(Instant::now() < deadline, "the sleeping call never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The call is in flight before it holds the server's slot: until it
    // does, a quick call still gets through.
    let busy = "server busy: no slot for native server \"echo\" came free within 100 ms (queue_timeout_ms; max_concurrency = 1)";
    let refused = loop {
        let reply = call(&addr, "echo_echo", json!({ "text": "x" }));
        if text(&reply) != "x" {
            break reply;
        }
        assert!(Instant::now() < deadline, "the sleeping call never held the slot");
    };
    assert_eq!(text(&refused), busy);
    assert_eq!(text(&sleeper.join().unwrap()), "slept");
    assert_eq!(
        metric_value(
            &addr.metrics(),
            r#"corral_tool_calls_total{tool="echo_echo",outcome="busy"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn a_server_that_stops_answering_pings_is_restarted() {
    let addr = start_echo(FAST_RESTART);
    let before = wait_up(&addr, "echo");
    let result = call(&addr, "echo_freeze", json!({}));
    assert_eq!(result["isError"], true);
    let after = wait_for(&addr, "echo", Duration::from_secs(30), |s| {
        s["state"] == "up" && s["restarts"] == 1
    });
    assert_ne!(after["container"], before["container"]);
    assert_eq!(after["last_error"], "health ping failed: no answer to ping within 2000 ms");
    assert_eq!(text(&call(&addr, "echo_echo", json!({ "text": "thawed" }))), "thawed");
}

#[test]
fn secret_files_are_removed_when_the_container_stops() {
    let addr = start_echo(FAST_RESTART);
    let before = wait_up(&addr, "echo");
    let info = inspect(before["container"].as_str().unwrap());
    let source = std::path::PathBuf::from(info["Mounts"][0]["Source"].as_str().unwrap());
    assert!(source.exists(), "{source:?}");
    run(Command::new("docker").args(["kill", before["container"].as_str().unwrap()]));
    wait_for(&addr, "echo", Duration::from_secs(30), |s| s["state"] == "up" && s["restarts"] == 1);
    assert!(!source.exists(), "{source:?} outlived its container");
    assert!(!source.parent().unwrap().exists(), "the secrets directory outlived its container");
}
