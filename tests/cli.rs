//! The `corral` binary as a user runs it: `tools`, `call`, `check`, their
//! output and exit codes.

use std::process::{Command, Output};

use serde_json::Value;

#[path = "loopback/mod.rs"]
mod loopback;

const FS: &str = env!("CORRAL_GUEST_FS");
const TEXT: &str = env!("CORRAL_GUEST_TEXT");

fn corral(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(args)
        .env("CORRAL_CACHE_DIR", std::env::temp_dir().join("corral-cli-test-cache"))
        .output()
        .expect("running corral")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn tools_prints_definitions_with_schemas() {
    let out = corral(&["tools", TEXT]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let tools = stdout_json(&out);
    let sha = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sha256")
        .expect("sha256 tool");
    assert_eq!(sha["inputSchema"]["type"], "object");
}

#[test]
fn successful_call_prints_result_and_exits_zero() {
    let out = corral(&["call", TEXT, "sha256", r#"{"text":"abc"}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let result = stdout_json(&out);
    assert_eq!(result["isError"], false);
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        "{text}"
    );
}

#[test]
fn error_result_exits_one() {
    let out = corral(&["call", TEXT, "regex_find", r#"{"text":"a","pattern":"("}"#]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_json(&out)["isError"], true);
}

#[test]
fn fuel_flag_limits_the_call() {
    let out = corral(&["call", TEXT, "sha256", r#"{"text":"abc"}"#, "--fuel", "1000"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_json(&out)["content"][0]["text"].as_str().unwrap().to_owned();
    assert_eq!(text, "tool ran out of fuel: it used all 1000 units allowed (fuel)");
}

#[test]
fn dir_flag_grants_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello from the host").unwrap();
    let grant = format!("{}:/data:ro", dir.path().display());
    let out = corral(&["call", FS, "read_file", r#"{"path":"/data/hello.txt"}"#, "--dir", &grant]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("hello from the host"));
}

#[test]
fn arguments_that_are_not_an_object_exit_two() {
    let out = corral(&["call", TEXT, "sha256", "[1]"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("arguments must be a JSON object"));
}

#[test]
fn missing_component_file_exits_two_naming_it() {
    let out = corral(&["call", "/nonexistent/tool.wasm", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read /nonexistent/tool.wasm"), "{stderr}");
}

#[test]
fn not_a_component_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"not wasm").unwrap();
    let out = corral(&["tools", bogus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid wasm component"));
}

#[test]
fn check_prints_effective_limits_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "hunter2\n").unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        format!(
            r#"
            [limits]
            timeout_ms = 1234
            [[component]]
            name = "files"
            path = "{FS}"
            [[component.dir]]
            host = "data"
            guest = "/data"
            [component.env]
            TOKEN = {{ from_file = "token" }}
            MODE = "plain"
            [component.limits]
            fuel = 777
            "#
        ),
    )
    .unwrap();
    let out = corral(&["check", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("timeout_ms = 1234, fuel = 777, memory_mib = 64"), "{stdout}");
    assert!(stdout.contains("files_read_file"), "{stdout}");
    assert!(stdout.contains("dir: /data -> "), "{stdout}");
    assert!(stdout.contains("TOKEN = \"<redacted>\""), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

#[test]
fn check_reports_a_bad_config_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        "[[component]]\nname = \"x\"\npath = \"x.wasm\"\n[component.limits]\ntimeout_ms = 0\n",
    )
    .unwrap();
    let out = corral(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: config: component \"x\": limits.timeout_ms: 0 is out of range 1..=86400000"
    );
}

#[test]
fn check_prints_network_rules_and_http_limits() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        "[[component]]\nname = \"web\"\npath = \"builtin:fetch\"\n\
         network = [\"*.Example.com:443\", \"127.0.0.1:8080\"]\n\
         [component.limits]\nhttp_response_kib = 64\n",
    )
    .unwrap();
    let out = corral(&["check", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(r#"network: ["*.example.com:443","127.0.0.1:8080"]"#), "{stdout}");
    assert!(
        stdout.contains("http: connect_timeout_ms = 5000, first_byte_timeout_ms = 10000, between_bytes_timeout_ms = 10000, response_kib = 64"),
        "{stdout}"
    );
}

#[test]
fn check_reports_a_bad_network_rule_naming_component_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        "[[component]]\nname = \"web\"\npath = \"builtin:fetch\"\nnetwork = [\"example.com:0\"]\n",
    )
    .unwrap();
    let out = corral(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: config: component \"web\": network: network rule \"example.com:0\": port must be a number from 1 to 65535"
    );
}

#[test]
fn call_with_net_flag_reaches_a_granted_loopback_server() {
    let addr = loopback::serve(|_| loopback::Reply::ok("text/plain", "ok"));
    let url = format!(r#"{{"url": "http://{addr}/"}}"#);
    let out = corral(&["call", "builtin:fetch", "fetch", &url, "--net", &addr.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout_json(&out)["structuredContent"]["body"], "ok");
}

#[test]
fn two_components_exposing_the_same_tool_name_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[[component]]\nname = \"a\"\npath = \"{TEXT}\"\nnamespace = \"t\"\n\
             [[component]]\nname = \"b\"\npath = \"{TEXT}\"\nnamespace = \"t\"\n"
        ),
    )
    .unwrap();
    let out = corral(&["tools", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is offered by both component \"a\" and component \"b\""), "{stderr}");
}

#[test]
fn tools_are_namespaced_by_component_name_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, format!("[[component]]\nname = \"words\"\npath = \"{TEXT}\"\n"))
        .unwrap();
    let out = corral(&["tools", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> = stdout_json(&out)["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"words_sha256".to_owned()), "{names:?}");
}

#[test]
fn builtin_tool_is_loadable_from_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, "[[component]]\nname = \"t\"\npath = \"builtin:text\"\n").unwrap();
    let out = corral(&[
        "call",
        "t",
        "count",
        r#"{"text":"a b c"}"#,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A component of the tools-only contract `corral:mcp@0.1.0`
/// (`tests/legacy-tool`, wit-bindgen alone, no SDK) still loads and serves
/// beside the current one: listed, called, its log reaching stderr, and
/// `corral check` naming its contract.
#[test]
fn a_corral_mcp_0_1_0_component_still_loads_and_serves() {
    const LEGACY: &str = env!("CORRAL_GUEST_LEGACY");
    let out = corral(&["tools", LEGACY]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<Value> =
        stdout_json(&out)["tools"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, ["echo", "log"]);

    let out = corral(&["call", LEGACY, "echo", r#"{"text":"from 0.1.0"}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout_json(&out)["content"][0]["text"], "from 0.1.0");

    let out = corral(&["call", LEGACY, "log", r#"{"message":"old contract speaking"}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("old contract speaking"));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        format!("[[component]]\nname = \"legacy\"\npath = {LEGACY:?}\n\n[[component]]\nname = \"notes\"\npath = \"builtin:notes\"\n"),
    )
    .unwrap();
    let out = corral(&["check", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("component \"legacy\" (corral:mcp@0.1.0"), "{stdout}");
    assert!(stdout.contains("component \"notes\" (corral:mcp@0.2.0"), "{stdout}");
}

/// A plain component (typed WIT exports, `tests/plain-tool`) through the
/// binary: listed with derived schemas, called, an `err` exiting 1, a
/// schema mismatch named, and `check` naming the functions it refuses.
#[test]
fn a_plain_component_is_listed_called_and_checked() {
    const PLAIN: &str = env!("CORRAL_GUEST_PLAIN");
    let out = corral(&["tools", PLAIN]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("function not served as a tool")
            && stderr.contains("corral-test:plain/handles@0.1.0#make-counter"),
        "{stderr}"
    );
    let listed = stdout_json(&out);
    let add = listed["tools"].as_array().unwrap().iter().find(|t| t["name"] == "add").unwrap();
    assert_eq!(add["inputSchema"]["required"], serde_json::json!(["a", "b"]));

    let out = corral(&["call", PLAIN, "kinds_move_point", r#"{"at":{"x":1,"y":2},"dx":1,"dy":1}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout_json(&out)["structuredContent"], serde_json::json!({"x": 2, "y": 3}));

    let out = corral(&["call", PLAIN, "kinds_divide", r#"{"a":1,"b":0}"#]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_json(&out)["content"][0]["text"], "cannot divide 1 by zero");

    let out = corral(&["call", PLAIN, "add", r#"{"a":1,"b":"two"}"#]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_json(&out)["content"][0]["text"].as_str().unwrap().to_owned();
    assert!(text.contains("/b: \"two\" is not of type \"integer\""), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, format!("[[component]]\nname = \"plain\"\npath = {PLAIN:?}\n"))
        .unwrap();
    let out = corral(&["check", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("component \"plain\" (plain WIT exports"), "{stdout}");
    assert!(stdout.contains("plain_add, plain_greet"), "namespaced like any component: {stdout}");
    assert!(
        stdout.contains("  not a tool: corral-test:plain/handles@0.1.0#[method]counter.next (it belongs to the resource \"counter\""),
        "{stdout}"
    );
}

/// `serve` on an address that is not loopback without bearer tokens
/// refuses to start, naming both ways out; with the flag it serves (and
/// warns); with a tokens file others can read it serves and warns of that.
#[test]
fn serve_refuses_a_non_loopback_address_without_tokens() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_corral"));
        command
            .args(["serve", "--listen", "0.0.0.0:0"])
            .args(args)
            .env("CORRAL_DATA_DIR", dir.path())
            .env("CORRAL_CACHE_DIR", std::env::temp_dir().join("corral-cli-test-cache"));
        command
    };
    let out = serve(&[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "refusing to serve 0.0.0.0:0 without authentication: it is not a loopback address"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("server.auth_tokens_file"), "{stderr}");
    assert!(stderr.contains("--allow-unauthenticated-network"), "{stderr}");

    // Starts, prints its address, answers on loopback, warns; then stops.
    let started = |command: &mut Command, warning: &str| {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().rsplit(':').next().unwrap().trim_end_matches("/mcp").to_owned();
        assert!(line.starts_with("corral: listening on http://0.0.0.0:"), "{line}");
        let health = {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port.parse().unwrap()))
                .expect("it listens on loopback too");
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
                .unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).unwrap();
            reply
        };
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(stderr.contains(warning), "{stderr}");
    };
    started(&mut serve(&["--allow-unauthenticated-network"]), "without authentication");

    let tokens = dir.path().join("tokens.txt");
    std::fs::write(&tokens, "s3cret\n").unwrap();
    std::fs::set_permissions(&tokens, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, "[server]\nauth_tokens_file = \"tokens.txt\"\n").unwrap();
    started(
        &mut serve(&["--config", config.to_str().unwrap()]),
        "readable or writable by group or others",
    );
}
