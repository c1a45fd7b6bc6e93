//! The `corral` binary with native servers: `check` prints their effective
//! settings without starting them, and `serve` removes their containers
//! when it stops; an unreachable docker engine leaves the wasm tools serving.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::engine::Engine;
use crate::fixture::{build_echo_image, call, echo_image, run, wait_for, wait_up};
use crate::support::Addr;

#[test]
fn check_prints_native_settings_with_secrets_redacted() {
    let image = echo_image();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "hunter2\n").unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[[native]]\nname = \"git\"\nimage = \"example/git-mcp:1\"\nmemory_mib = 100\n[native.env]\nTOKEN = {{ from_file = \"token\" }}\nMODE = \"x\"\n\
             [[native]]\nname = \"echo\"\nimage = \"{image}\"\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["check", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "native \"git\"",
        "  launcher: docker, image example/git-mcp:1 (never pulled: NOT PRESENT on the docker engine), command []",
        "  launcher: docker, image corral-native-echo:test (never pulled: present), command []",
        "  network: none",
        "  env: MODE = \"x\"",
        "  env: TOKEN = <redacted>, as the file /run/secrets/TOKEN (TOKEN_FILE)",
        "  limits: memory_mib = 100, cpus = 1, pids_limit = 128, tmpfs_mib = 64, call_timeout_ms = 30000, max_message_kib = 4096, max_concurrency = 16, queue_timeout_ms = 5000",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} missing from:\n{stdout}");
    }
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert!(
        stdout.starts_with("engine: ") && stdout.contains("\ndocker engine: reachable (version "),
        "{stdout}"
    );
}

/// Starts `corral serve` with `config_toml` and `env`; the child and its
/// address as soon as its port is open.
fn serve(config_toml: &str, env: &[(&str, &str)]) -> (Child, Addr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, config_toml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config", config.to_str().unwrap()])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("corral: listening on http://").expect("address line");
    let addr = Addr(url.trim_end_matches("/mcp").parse().unwrap());
    (child, addr, dir)
}

#[test]
fn unreachable_docker_engine_is_named_and_the_wasm_tools_keep_serving() {
    let config = "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n\
                  [[native]]\nname = \"echo\"\nimage = \"corral-native-echo:test\"\n";
    let (mut child, addr, _dir) =
        serve(config, &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    let state = wait_for(&addr, "echo", Duration::from_secs(30), |s| s["state"] == "down");
    let error = state["last_error"].as_str().unwrap();
    assert!(error.starts_with("docker engine unreachable: "), "{error}");
    assert!(error.contains("/nonexistent/docker.sock"), "{error}");
    assert_eq!(call(&addr, "test_simple_text", json!({}))["isError"], false);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn tools_says_that_it_does_not_start_native_servers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, "[[native]]\nname = \"git\"\nimage = \"example/git-mcp:1\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["tools", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "note: native server \"git\" is not started by `corral tools`; `corral serve` lists its tools once it is up"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{\n  \"tools\": []\n}");
}

#[test]
fn serve_removes_its_containers_when_it_stops() {
    let image = echo_image();
    let (mut child, addr, _dir) =
        serve(&format!("[[native]]\nname = \"echo\"\nimage = \"{image}\"\n"), &[]);
    let container = wait_up(&addr, "echo")["container"].as_str().unwrap().to_owned();
    run(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert!(child.wait().unwrap().success());
    let listed =
        run(Command::new("docker").args(["ps", "-aq", "--filter", &format!("name=^{container}$")]));
    assert_eq!(listed.trim(), "", "container {container} outlived corral serve");
}

#[test]
fn a_docker_engine_that_stops_and_starts_again_takes_only_the_native_tools_away_meanwhile() {
    let mut engine = Engine::start();
    let image = build_echo_image(&mut engine.docker());
    let config = format!(
        "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n\
         [[native]]\nname = \"echo\"\nimage = \"{image}\"\n\
         restart_backoff_ms = 200\nrestart_backoff_max_ms = 1000\nhealth_interval_ms = 500\n"
    );
    let (mut child, addr, _dir) = serve(&config, &[("DOCKER_HOST", &engine.host())]);
    wait_up(&addr, "echo");
    let hello = call(&addr, "echo_echo", json!({ "text": "before" }));
    assert_eq!(hello["isError"], false, "{hello}");

    engine.stop();
    let down = wait_for(&addr, "echo", Duration::from_secs(60), |s| s["state"] == "down");
    assert!(down["last_error"].is_string(), "{down}");
    // The wasm tools serve on; a native call is refused at once, naming
    // the server, rather than waiting on an engine that is gone.
    assert_eq!(call(&addr, "test_simple_text", json!({}))["isError"], false);
    let started = Instant::now();
    let refused = call(&addr, "echo_echo", json!({ "text": "during" }));
    assert_eq!(refused["isError"], true, "{refused}");
    let message = refused["content"][0]["text"].as_str().unwrap();
    assert!(message.contains("\"echo\""), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    engine.resume();
    wait_up(&addr, "echo");
    let back = call(&addr, "echo_echo", json!({ "text": "after" }));
    assert_eq!(back["isError"], false, "{back}");
    assert_eq!(back["content"][0]["text"], "after", "{back}");

    run(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert!(child.wait().unwrap().success());
}
