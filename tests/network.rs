//! Network rules, end to end through the sandbox: a component reaches
//! exactly what its rules grant, over `wasi:http` (the `fetch` tool) and
//! `wasi:sockets` (the hostile fixture's TCP and UDP probes), and every
//! attempt is reported with its decision.
//!
//! All traffic stays on loopback: local servers on ephemeral ports, and
//! targets that must be refused before any packet leaves.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::config::LimitOverrides;
use corral::network::{Decision, NetRules};
use corral::policy::{Limits, Policy};
use corral::sandbox::{CallOutcome, CallReport, LoadedComponent, Sandbox};
use serde_json::{Value, json};

#[path = "guest/mod.rs"]
mod guest;
#[path = "loopback/mod.rs"]
mod loopback;

use guest::{call, structured, text};

use loopback::Reply;

const HOSTILE: &str = env!("CORRAL_GUEST_HOSTILE");
const FETCH: &str = env!("CORRAL_GUEST_FETCH");

type Seen = Arc<Mutex<Vec<(String, Decision)>>>;

fn policy(rules: &[&str], overrides: LimitOverrides) -> Policy {
    Policy {
        network: Arc::new(NetRules::parse(rules).expect("test rules parse")),
        limits: Limits::resolve(overrides),
        ..Policy::deny_all()
    }
}

/// Loads `wasm` under `policy` into a sandbox that records every network
/// decision.
async fn load(wasm: &str, policy: Policy) -> (Sandbox, LoadedComponent, Seen) {
    let engine =
        corral::config::EngineConfig { max_instances: 4, no_cache: true, ..Default::default() };
    let mut sandbox = Sandbox::new(&engine).expect("sandbox");
    let seen: Seen = Arc::default();
    let record = seen.clone();
    sandbox.observe_network(Arc::new(move |component: &str, decision| {
        record.lock().unwrap().push((component.to_owned(), decision));
    }));
    let bytes = std::fs::read(wasm).expect("guest is built");
    let component = sandbox.load("probe", bytes, policy).await.expect("guest loads");
    (sandbox, component, seen)
}

fn decisions(seen: &Seen) -> Vec<Decision> {
    seen.lock().unwrap().iter().map(|(_, d)| *d).collect()
}

/// The test server: `/` an HTML page, `/png` an image, `/big` 64 KiB of
/// text, `/slow` answers after 5 s, `/redirect` a 302 to port 1, `/echo`
/// the method, content type and body it received.
fn http_server() -> SocketAddr {
    loopback::serve(|request| match request.path.as_str() {
        "/" => Reply::ok(
            "text/html; charset=utf-8",
            "<html><body><h1>Corral</h1><p>served on loopback</p></body></html>",
        ),
        "/png" => Reply::ok("image/png", vec![0x89, b'P', b'N', b'G']),
        "/big" => Reply::ok("text/plain", vec![b'x'; 64 * 1024]),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(5));
            Reply::ok("text/plain", "late")
        }
        "/redirect" => Reply {
            status: "302 Found",
            headers: vec![("Location", "http://127.0.0.1:1/".to_owned())],
            body: Vec::new(),
        },
        "/echo" => Reply::ok(
            "text/plain",
            format!(
                "{} {} {}",
                request.method,
                request.header("content-type").unwrap_or(""),
                String::from_utf8_lossy(&request.body)
            ),
        ),
        _ => Reply { status: "404 Not Found", headers: Vec::new(), body: b"no such page".to_vec() },
    })
}

async fn fetch(rules: &[&str], url: &str) -> (CallReport, Seen) {
    fetch_with(rules, LimitOverrides::default(), url).await
}

async fn fetch_with(rules: &[&str], limits: LimitOverrides, url: &str) -> (CallReport, Seen) {
    let (sandbox, c, seen) = load(FETCH, policy(rules, limits)).await;
    (call(&sandbox, &c, "fetch", json!({ "url": url })).await, seen)
}

#[tokio::test]
async fn granted_address_is_fetched_over_wasi_http() {
    let server = http_server();
    let rule = server.to_string();
    let (report, seen) = fetch(&[&rule], &format!("http://{server}/")).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    let result: Value = structured(&report);
    assert_eq!(result["status"], 200);
    assert_eq!(result["headers"]["content-type"], "text/html; charset=utf-8");
    let body = result["body"].as_str().unwrap();
    assert!(body.contains("Corral") && body.contains("served on loopback"), "{body}");
    assert!(!body.contains("<h1>"), "HTML is reduced to text: {body}");
    assert_eq!(decisions(&seen), [Decision::Allowed]);
    assert_eq!(seen.lock().unwrap()[0].0, "probe");
}

#[tokio::test]
async fn the_same_component_is_denied_another_port() {
    let server = http_server();
    let other = http_server();
    let (report, seen) = fetch(&[&server.to_string()], &format!("http://{other}/")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert_eq!(
        text(&report),
        format!(
            "request to http://{other}/ was denied by the host: no network rule of this tool grants that host and port"
        )
    );
    assert_eq!(decisions(&seen), [Decision::DeniedRule]);
}

#[tokio::test]
async fn a_component_with_no_rules_is_denied_every_request() {
    let server = http_server();
    let (report, seen) = fetch(&[], &format!("http://{server}/")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert!(text(&report).contains("was denied by the host"), "{}", text(&report));
    assert_eq!(decisions(&seen), [Decision::DeniedRule]);
}

#[tokio::test]
async fn a_name_rule_does_not_reach_a_loopback_address() {
    let server = http_server();
    let port = server.port();
    let (report, seen) =
        fetch(&[&format!("localhost:{port}")], &format!("http://localhost:{port}/")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert!(
        text(&report).contains("resolves to an address that is not public"),
        "{}",
        text(&report)
    );
    assert_eq!(decisions(&seen), [Decision::DeniedAddress]);

    // Granting the address as well lets the same name through.
    let (report, _) = fetch(
        &[&format!("localhost:{port}"), &format!("127.0.0.1:{port}"), &format!("[::1]:{port}")],
        &format!("http://localhost:{port}/"),
    )
    .await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
}

#[tokio::test]
async fn private_and_link_local_targets_are_refused_by_default() {
    // `*` grants every name, never an address: metadata and private
    // addresses stay out of reach, by literal or by a name that resolves there.
    for url in ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[fe80::1]/"]
    {
        let (report, seen) = fetch(&["*"], url).await;
        assert_eq!(report.outcome, CallOutcome::ToolError, "{url}");
        assert!(text(&report).contains("was denied by the host"), "{url}: {}", text(&report));
        assert_eq!(decisions(&seen), [Decision::DeniedRule], "{url}");
    }
    let (report, seen) = fetch(&["*"], "http://localhost:9/").await;
    assert!(text(&report).contains("not public"), "{}", text(&report));
    assert_eq!(decisions(&seen), [Decision::DeniedAddress]);
}

#[tokio::test]
async fn a_slow_server_hits_the_first_byte_timeout() {
    let server = http_server();
    let limits = LimitOverrides { http_first_byte_timeout_ms: Some(300), ..Default::default() };
    let (report, _) =
        fetch_with(&[&server.to_string()], limits, &format!("http://{server}/slow")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert_eq!(
        text(&report),
        format!(
            "http://{server}/slow did not answer in time (waiting for the response): the read timed out"
        )
    );
}

#[tokio::test]
async fn a_response_over_the_cap_is_cut_off() {
    let server = http_server();
    let limits = LimitOverrides { http_response_kib: Some(16), ..Default::default() };
    let (report, _) =
        fetch_with(&[&server.to_string()], limits, &format!("http://{server}/big")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    // wasmtime-wasi-http 48 hands body errors to the guest as text, not as
    // an error code, so the tool reports the host's own words.
    assert_eq!(
        text(&report),
        format!(
            "fetching http://{server}/big failed while reading the response body: HTTP response body size exceeds limit: 16384 bytes"
        )
    );
}

#[tokio::test]
async fn a_binary_body_is_refused_by_type() {
    let server = http_server();
    let (report, _) = fetch(&[&server.to_string()], &format!("http://{server}/png")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert_eq!(text(&report), "the response is not text: Content-Type image/png, 4 bytes");
}

#[tokio::test]
async fn a_redirect_is_returned_not_followed() {
    let server = http_server();
    let (report, seen) = fetch(&[&server.to_string()], &format!("http://{server}/redirect")).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    let result: Value = structured(&report);
    assert_eq!(result["status"], 302);
    assert_eq!(result["headers"]["location"], "http://127.0.0.1:1/");
    assert_eq!(decisions(&seen), [Decision::Allowed], "the target was not contacted");
}

#[tokio::test]
async fn post_sends_the_body_with_its_content_type() {
    let server = http_server();
    let (sandbox, c, _) =
        load(FETCH, policy(&[&server.to_string()], LimitOverrides::default())).await;
    let args = json!({
        "url": format!("http://{server}/echo"),
        "method": "POST",
        "body": "{\"q\":1}",
        "content_type": "application/json",
    });
    let report = call(&sandbox, &c, "fetch", args).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    let result: Value = structured(&report);
    assert_eq!(result["body"], "POST application/json {\"q\":1}");
}

#[tokio::test]
async fn raw_tcp_reaches_only_the_granted_address() {
    let granted = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let rule = granted.local_addr().unwrap().to_string();
    let (sandbox, c, seen) = load(HOSTILE, policy(&[&rule], LimitOverrides::default())).await;

    let report = call(&sandbox, &c, "connect", json!({ "address": rule })).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    assert_eq!(text(&report), format!("connected to {rule}"));
    assert!(granted.accept().is_ok());

    let denied = other.local_addr().unwrap().to_string();
    let report = call(&sandbox, &c, "connect", json!({ "address": denied })).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert!(
        text(&report).starts_with(&format!("connect {denied}: Permission denied")),
        "{}",
        text(&report)
    );
    other.set_nonblocking(true).unwrap();
    assert!(other.accept().is_err(), "no connection may reach the denied port");
    assert_eq!(decisions(&seen), [Decision::Allowed, Decision::DeniedRule]);
}

#[tokio::test]
async fn a_component_with_no_rules_is_denied_raw_tcp_and_udp() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (sandbox, c, seen) = load(HOSTILE, policy(&[], LimitOverrides::default())).await;
    let address = tcp.local_addr().unwrap().to_string();
    let report = call(&sandbox, &c, "connect", json!({ "address": address })).await;
    assert_eq!(report.outcome, CallOutcome::ToolError, "{}", text(&report));
    let address = udp.local_addr().unwrap().to_string();
    let report = call(&sandbox, &c, "udp_send", json!({ "address": address })).await;
    assert_eq!(report.outcome, CallOutcome::ToolError, "{}", text(&report));
    udp.set_nonblocking(true).unwrap();
    assert!(udp.recv(&mut [0u8; 16]).is_err(), "no datagram may arrive");
    assert_eq!(decisions(&seen), [Decision::DeniedRule, Decision::DeniedRule]);
}

#[tokio::test]
async fn udp_reaches_only_the_granted_address() {
    let granted = UdpSocket::bind("127.0.0.1:0").unwrap();
    granted.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rule = granted.local_addr().unwrap().to_string();
    let (sandbox, c, _) = load(HOSTILE, policy(&[&rule], LimitOverrides::default())).await;

    let report = call(&sandbox, &c, "udp_send", json!({ "address": rule })).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    let mut buf = [0u8; 16];
    let n = granted.recv(&mut buf).expect("the granted address receives the datagram");
    assert_eq!(&buf[..n], b"corral");

    let denied = other.local_addr().unwrap().to_string();
    let report = call(&sandbox, &c, "udp_send", json!({ "address": denied })).await;
    assert_eq!(report.outcome, CallOutcome::ToolError, "{}", text(&report));
    other.set_nonblocking(true).unwrap();
    assert!(other.recv(&mut buf).is_err(), "no datagram may reach the denied port");
}

#[tokio::test]
async fn listening_and_name_lookup_are_refused_even_with_rules() {
    let (sandbox, c, _) =
        load(HOSTILE, policy(&["127.0.0.1", "localhost", "*"], LimitOverrides::default())).await;
    let report = call(&sandbox, &c, "listen", json!({ "address": "127.0.0.1:0" })).await;
    assert_eq!(report.outcome, CallOutcome::ToolError, "{}", text(&report));
    assert!(
        text(&report).starts_with("listen 127.0.0.1:0: Permission denied"),
        "{}",
        text(&report)
    );
    let report = call(&sandbox, &c, "resolve", json!({ "host": "localhost" })).await;
    assert_eq!(report.outcome, CallOutcome::ToolError, "{}", text(&report));
}

#[tokio::test]
async fn https_performs_a_tls_handshake_and_reports_its_failure() {
    // A server that answers a ClientHello in clear text: the request must
    // fail as TLS, never fall back to plain HTTP.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.read(&mut [0u8; 512]);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        }
    });
    let (report, seen) = fetch(&[&server.to_string()], &format!("https://{server}/")).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert!(
        text(&report).starts_with(&format!("TLS with https://{server}/ failed")),
        "{}",
        text(&report)
    );
    assert_eq!(decisions(&seen), [Decision::Allowed]);
}
