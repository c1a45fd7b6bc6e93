//! The native-echo server built static and packed into a local image, and
//! helpers that wait for a native server's state in `/readyz`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use corral::config::Config;
use serde_json::Value;

use crate::support::Addr;

/// The tag of the test image.
pub const IMAGE: &str = "corral-native-echo:test";
const TARGET: &str = "x86_64-unknown-linux-musl";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `command`; its stdout, or a panic naming it with its stderr.
pub fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Panics with a clear message when no docker engine answers.
pub fn require_docker() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let output = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
        match output {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "these tests need a running docker engine (bash .ci/run installs and starts one); `docker info` failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!("these tests need the docker command line and a running engine: {e}"),
        }
    });
}

/// The static native-echo binary, built once per test run.
pub fn echo_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let target_dir = workspace().join("target/native-echo");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // A target directory of its own: the outer cargo may hold the main one.
        run(Command::new(cargo)
            .current_dir(workspace())
            .args(["build", "--quiet", "--release", "-p", "native-echo", "--target", TARGET])
            .env("CARGO_TARGET_DIR", &target_dir));
        target_dir.join(TARGET).join("release/native-echo")
    })
}

/// Builds the `FROM scratch` image holding native-echo, once per test run.
pub fn echo_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        require_docker();
        build_echo_image(&mut Command::new("docker"));
    });
    IMAGE
}

/// Builds the native-echo image with `docker` (a command that may name
/// another engine); its tag.
pub fn build_echo_image(docker: &mut Command) -> &'static str {
    let context = tempfile::tempdir().expect("tempdir");
    std::fs::copy(echo_binary(), context.path().join("native-echo")).expect("copy binary");
    std::fs::copy(
        workspace().join("tests/native-echo/Dockerfile"),
        context.path().join("Dockerfile"),
    )
    .expect("copy Dockerfile");
    run(docker.args(["build", "-q", "-t", IMAGE]).arg(context.path()));
    IMAGE
}

/// A config with the wasm conformance tools (bare names) and `native_toml`.
pub fn config(native_toml: &str, base_dir: &Path) -> Config {
    let text = format!(
        "[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n\n{native_toml}"
    );
    Config::from_toml(&text, Path::new("<test>"), base_dir).expect("test config")
}

/// The `/readyz` entry of native server `name`.
pub fn native_state(addr: &Addr, name: &str) -> Value {
    let ready = addr.get("/readyz").json();
    ready["native"]
        .as_array()
        .and_then(|servers| servers.iter().find(|s| s["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no native server {name:?} in /readyz: {ready}"))
}

/// Polls `/readyz` until `test` holds for server `name`'s entry; that entry.
pub fn wait_for(addr: &Addr, name: &str, within: Duration, test: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let state = native_state(addr, name);
        if test(&state) {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "native server {name:?} never reached the state; last: {state}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until server `name` is up; its `/readyz` entry.
pub fn wait_up(addr: &Addr, name: &str) -> Value {
    wait_for(addr, name, Duration::from_secs(60), |s| s["state"] == "up")
}

/// Calls `tool` in a new session; the JSON-RPC `result` (the last message
/// when the answer streams notifications first).
pub fn call(addr: &Addr, tool: &str, arguments: Value) -> Value {
    let session = addr.session();
    let reply = addr.request(
        &session,
        2,
        "tools/call",
        serde_json::json!({ "name": tool, "arguments": arguments }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = if reply.header("content-type") == Some("text/event-stream") {
        reply.events().pop().expect("at least the response")
    } else {
        reply.json()
    };
    body.get("result").cloned().unwrap_or_else(|| panic!("no result: {body}"))
}

/// The text of a result's first content item.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text content: {result}"))
}

/// `docker inspect` of a container, as JSON.
pub fn inspect(container: &str) -> Value {
    let out = run(Command::new("docker").args(["inspect", container]));
    let parsed: Value = serde_json::from_str(&out).expect("docker inspect JSON");
    parsed[0].clone()
}
