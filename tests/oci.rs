//! Components from an OCI registry, against a real one on loopback
//! (Debian's `docker-registry`, the CNCF distribution registry): `corral
//! push`, then configs naming the component by digest and by tag; bytes
//! changed in the registry's storage or in the local store refused with
//! both digests while the other components serve; a stopped registry
//! served from the store; a registry that never answered an error for its
//! component alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TEXT: &str = env!("CORRAL_GUEST_TEXT");
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/// A `docker-registry` serving a temporary directory on a free loopback port.
struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:<port>`.
    addr: String,
    /// Its storage (`storage.filesystem.rootdirectory`).
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("storage");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {addr}\n",
                root.display()
            ),
        )
        .unwrap();
        // Its log (every 404 an error line) is shown only if it does not start.
        let log = dir.path().join("registry.log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot run docker-registry ({err}): these tests need the CNCF registry; \
                     install it with `apt-get install -y docker-registry` (bash .ci/run does)"
                )
            });
        let registry = Registry { child: Some(child), addr, root, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !registry.answers() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("docker-registry did not answer /v2/ within 30 s; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// Whether `GET /v2/` answers 200.
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(&self.addr) else { return false };
        let request =
            format!("GET /v2/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        let mut response = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut response).is_ok()
            && response.starts_with("HTTP/1.1 200")
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The file in the registry's storage holding the blob of `hex`.
    fn blob_file(&self, hex: &str) -> PathBuf {
        self.root.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn corral(args: &[&str]) -> Output {
    corral_logging(args, "warn")
}

/// `corral` with `RUST_LOG=<filter>`.
fn corral_logging(args: &[&str], filter: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(args)
        // Compiled components are shared between tests (keyed by their
        // hash); each test's OCI store is its own (`[oci] dir`).
        .env("CORRAL_CACHE_DIR", std::env::temp_dir().join("corral-oci-test-cache"))
        .env("RUST_LOG", filter)
        .output()
        .expect("running corral")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `corral push TEXT oci://<registry>/tools/text:1`; the printed pinned reference.
fn push_text(registry: &Registry) -> String {
    let out = corral(&["push", TEXT, &format!("oci://{}/tools/text:1", registry.addr)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pinned = text(&out.stdout).trim_end().to_owned();
    let prefix = format!("oci://{}/tools/text@sha256:", registry.addr);
    let hex = pinned.strip_prefix(&prefix).unwrap_or_else(|| panic!("printed {pinned:?}"));
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{pinned}");
    pinned
}

/// sha256 of the bundled text tool, the layer's digest, in hex.
fn text_layer_hex() -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(std::fs::read(TEXT).unwrap());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A config in `dir` whose OCI store is `dir/store`, with `components`
/// as `(name, path)`.
fn config(dir: &Path, components: &[(&str, &str)]) -> PathBuf {
    let mut toml = format!("[oci]\ndir = {:?}\n", dir.join("store").display().to_string());
    for (name, path) in components {
        toml.push_str(&format!("\n[[component]]\nname = {name:?}\npath = {path:?}\n"));
    }
    let path = dir.join("corral.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// The tool names `corral tools --config` prints, or the `error:` line
/// it ends with (exit status 2).
fn tools(config: &Path) -> Result<Vec<String>, String> {
    let out = corral(&["tools", "--config", config.to_str().unwrap()]);
    if out.status.code() != Some(0) {
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        let error = stderr.lines().filter(|l| l.starts_with("error: ")).collect::<Vec<_>>();
        return Err(error.join("\n"));
    }
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(list["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_owned())
        .collect())
}

/// `corral call <component> sha256 {"text":"abc"} --config`, its text.
fn call_sha256(config: &Path, component: &str) -> String {
    let args = ["call", component, "sha256", r#"{"text":"abc"}"#, "--config"];
    let out = corral(&[&args[..], &[config.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

/// `corral serve --stdio` on `config`: calls `<component>_sha256` and
/// returns the call's result and the server's stderr.
fn serve_and_call(config: &Path, component: &str) -> (Value, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["serve", "--stdio", "--config", config.to_str().unwrap()])
        .env("CORRAL_CACHE_DIR", std::env::temp_dir().join("corral-oci-test-cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corral serve --stdio");
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": format!("{component}_sha256"), "arguments": { "text": "abc" },
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        } } });
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{call}").unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // A call for a component still loading waits for it, so the answer
    // comes once every component before it has loaded or failed.
    stdout.read_line(&mut line).unwrap();
    drop(stdin);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    child.wait().unwrap();
    let response: Value = serde_json::from_str(&line)
        .unwrap_or_else(|err| panic!("{err}: {line:?}\nstderr: {stderr}"));
    (response, stderr)
}

#[test]
fn pushed_component_serves_by_digest() {
    let registry = Registry::start();
    let pinned = push_text(&registry);
    assert!(registry.blob_file(&text_layer_hex()).is_file(), "the layer is the component");
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[("text", &pinned)]);
    let names = tools(&config).unwrap();
    assert!(names.contains(&"text_sha256".to_owned()), "{names:?}");
    assert!(call_sha256(&config, "text").contains(ABC_SHA256));
    assert!(dir.path().join("store/sha256").join(text_layer_hex()).is_file());
}

#[test]
fn pushing_the_same_component_twice_gives_the_same_digest() {
    let registry = Registry::start();
    assert_eq!(push_text(&registry), push_text(&registry));
}

#[test]
fn tag_is_resolved_to_the_pushed_digest_and_logged() {
    let registry = Registry::start();
    let pinned = push_text(&registry);
    let digest = pinned.rsplit_once('@').unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("oci://{}/tools/text:1", registry.addr);
    let config = config(dir.path(), &[("text", &tag)]);
    let out = corral_logging(&["tools", "--config", config.to_str().unwrap()], "corral=info");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert!(
        log.lines().any(|l| l.contains("tag resolved") && l.contains(digest)),
        "no log line resolving the tag to {digest}:\n{log}"
    );
    assert!(call_sha256(&config, "text").contains(ABC_SHA256));
}

#[test]
fn blob_changed_in_the_registry_is_refused_and_the_others_serve() {
    let registry = Registry::start();
    let pinned = push_text(&registry);
    let layer = text_layer_hex();
    let mut tampered = std::fs::read(registry.blob_file(&layer)).unwrap();
    tampered[100] ^= 0xff;
    std::fs::write(registry.blob_file(&layer), &tampered).unwrap();
    let actual = {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(&tampered);
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[("pulled", &pinned), ("local", "builtin:text")]);

    let expected = format!(
        "error: component \"pulled\": {pinned}: layer digest mismatch from the registry: \
         expected sha256:{layer}, got sha256:{actual}"
    );
    assert_eq!(tools(&config).unwrap_err(), expected);
    assert!(!dir.path().join("store/sha256").join(&layer).exists(), "refused bytes are not kept");

    let (response, stderr) = serve_and_call(&config, "local");
    assert_eq!(response["result"]["isError"], false, "{response}\n{stderr}");
    assert!(stderr.contains("layer digest mismatch from the registry"), "{stderr}");
}

#[test]
fn blob_changed_in_the_local_store_is_refused_and_removed() {
    let registry = Registry::start();
    let pinned = push_text(&registry);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[("pulled", &pinned), ("local", "builtin:text")]);
    tools(&config).unwrap();
    let stored = dir.path().join("store/sha256").join(text_layer_hex());
    let mut tampered = std::fs::read(&stored).unwrap();
    tampered[100] ^= 0xff;
    std::fs::write(&stored, &tampered).unwrap();

    let err = tools(&config).unwrap_err();
    let prefix = format!(
        "error: component \"pulled\": {pinned}: layer digest mismatch in the local store ({}, removed): expected sha256:{}, got sha256:",
        stored.display(),
        text_layer_hex()
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert!(!stored.exists());
    // Removed, so the next load pulls it again.
    assert!(tools(&config).unwrap().contains(&"pulled_sha256".to_owned()));
}

#[test]
fn stored_component_serves_with_the_registry_stopped() {
    let mut registry = Registry::start();
    let pinned = push_text(&registry);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[("text", &pinned)]);
    tools(&config).unwrap();
    registry.stop();
    assert!(!registry.answers());
    assert!(tools(&config).unwrap().contains(&"text_sha256".to_owned()));
    assert!(call_sha256(&config, "text").contains(ABC_SHA256));
}

#[test]
fn registry_down_with_nothing_stored_fails_that_component_alone() {
    let mut registry = Registry::start();
    let pinned = push_text(&registry);
    registry.stop();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[("pulled", &pinned), ("local", "builtin:text")]);

    let err = tools(&config).unwrap_err();
    let prefix = format!("error: component \"pulled\": {pinned}: cannot connect to the registry: ");
    assert!(err.starts_with(&prefix), "{err}");
    assert!(err.contains("Connection refused"), "{err}");

    let (response, stderr) = serve_and_call(&config, "local");
    assert_eq!(response["result"]["isError"], false, "{response}\n{stderr}");
    assert!(stderr.contains(&prefix["error: ".len()..]), "{stderr}");
}

#[test]
fn missing_tag_names_the_reference_and_the_registry_answer() {
    let registry = Registry::start();
    push_text(&registry);
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("oci://{}/tools/text:2", registry.addr);
    let config = config(dir.path(), &[("text", &reference)]);
    let err = tools(&config).unwrap_err();
    let prefix =
        format!("error: component \"text\": {reference}: the registry answered ManifestUnknown");
    assert!(err.starts_with(&prefix), "{err}");
}

#[test]
fn layer_above_the_size_limit_is_refused() {
    let registry = Registry::start();
    let pinned = push_text(&registry);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[("text", &pinned)]);
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, toml.replace("[oci]\n", "[oci]\nmax_blob_mib = 1\n")).unwrap();
    let size = std::fs::metadata(TEXT).unwrap().len();
    assert!(size > 1 << 20, "the text tool is {size} bytes; the test needs more than 1 MiB");
    let err = tools(&config).unwrap_err();
    let expected = format!(
        "error: component \"text\": {pinned}: the component layer is {size} bytes, above the limit of 1048576 (oci.max_blob_mib)"
    );
    assert_eq!(err, expected);
}

#[test]
fn push_refuses_a_file_that_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("module.wasm");
    std::fs::write(&file, b"\0asm\x01\0\0\0").unwrap();
    let out = corral(&["push", file.to_str().unwrap(), "oci://127.0.0.1:9/tools/x:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("error: {}: not a WebAssembly component\n", file.display())
    );
}
