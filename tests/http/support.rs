//! Fixtures and a raw HTTP client: servers on ephemeral loopback ports, and
//! requests written by hand over `std::net::TcpStream` so a test controls
//! every header and sees the exact bytes of SSE streams.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use corral::config::Config;
use corral::http::Server;
use serde_json::{Value, json};

// ---------------------------------------------------------------- fixtures

/// Starts a server for `config` on its own runtime thread; returns its
/// address once `/readyz` says ready. `shutdown` stops it when it fires.
pub fn start_with_shutdown(
    config: Config,
    shutdown: Option<tokio::sync::oneshot::Receiver<()>>,
) -> Addr {
    spawn(config, shutdown, true)
}

fn spawn(
    config: Config,
    shutdown: Option<tokio::sync::oneshot::Receiver<()>>,
    wait_ready: bool,
) -> Addr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let server =
                Server::bind(config, Some("127.0.0.1:0".parse().unwrap())).await.expect("bind");
            tx.send(server.local_addr()).unwrap();
            let stop = async move {
                match shutdown {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending().await,
                }
            };
            server.run(stop).await.expect("serve");
        });
    });
    let addr = Addr(rx.recv_timeout(Duration::from_secs(30)).expect("server bound"));
    if wait_ready {
        let deadline = Instant::now() + Duration::from_secs(180);
        while addr.get("/readyz").status != 200 {
            assert!(Instant::now() < deadline, "server not ready within 180 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    addr
}

/// Starts a server for `config`; returns its address once the port is open,
/// whether or not its components have loaded.
#[allow(dead_code)]
pub fn start_serving(config: Config) -> Addr {
    spawn(config, None, false)
}

pub fn start(config: Config) -> Addr {
    start_with_shutdown(config, None)
}

/// A config serving only the bundled conformance tools (bare names), with
/// `server_toml` as its `[server]` table.
pub fn conformance_config(server_toml: &str, base_dir: &Path) -> Config {
    let text = format!(
        "[server]\n{server_toml}\n\n[[component]]\nname = \"conformance\"\npath = \"builtin:conformance\"\nnamespace = \"\"\n"
    );
    Config::from_toml(&text, Path::new("<test>"), base_dir).expect("test config")
}

/// One server with the built-in configuration, shared by the tests that do
/// not count metrics or change server settings.
pub fn shared() -> Addr {
    static SHARED: OnceLock<Addr> = OnceLock::new();
    *SHARED.get_or_init(|| {
        let data = tempfile::tempdir().expect("tempdir").keep();
        start(corral::config::builtin(&data).expect("built-in config"))
    })
}

// ------------------------------------------------------------- raw client

/// A running server.
#[derive(Clone, Copy)]
pub struct Addr(pub SocketAddr);

/// A whole HTTP response, chunked bodies joined.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The JSON-RPC error code of the body.
    pub fn code(&self) -> i64 {
        self.json()["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error code: {}", self.body))
    }

    /// The JSON-RPC messages of an SSE body, in order.
    pub fn events(&self) -> Vec<Value> {
        assert_eq!(self.header("content-type"), Some("text/event-stream"), "{self:?}");
        self.body
            .split("\n\n")
            .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
            .map(|data| serde_json::from_str(data).expect("event data is JSON"))
            .collect()
    }
}

/// The `Accept` a Streamable HTTP POST must send.
pub const ACCEPT_BOTH: (&str, &str) = ("accept", "application/json, text/event-stream");
/// A JSON body.
pub const JSON: (&str, &str) = ("content-type", "application/json");

impl Addr {
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.0)
    }

    /// Sends one request (with `Connection: close`) and reads the whole reply.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpReply {
        let mut stream = TcpStream::connect(self.0).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("host: {}\r\n", self.0));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) and close before reading a large body.
        let _ = stream.write_all(body.as_bytes());
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_reply(&raw)
    }

    pub fn get(&self, path: &str) -> HttpReply {
        self.send("GET", path, &[], "")
    }

    /// POSTs a JSON-RPC message to `/mcp` with the right headers, plus `extra`.
    pub fn post(
        &self,
        session: Option<&str>,
        message: &Value,
        extra: &[(&str, &str)],
    ) -> HttpReply {
        let mut headers = vec![ACCEPT_BOTH, JSON];
        if let Some(session) = session {
            headers.push(("mcp-session-id", session));
        }
        headers.extend_from_slice(extra);
        self.send("POST", "/mcp", &headers, &message.to_string())
    }

    /// A new session (initialize + notifications/initialized); its id.
    pub fn session(&self) -> String {
        self.session_with(json!({}))
    }

    /// A new session of a client declaring `capabilities`; its id.
    pub fn session_with(&self, capabilities: Value) -> String {
        let mut initialize = initialize("2025-11-25");
        initialize["params"]["capabilities"] = capabilities;
        let reply = self.post(None, &initialize, &[]);
        assert_eq!(reply.status, 200, "{reply:?}");
        let id = reply.header("mcp-session-id").expect("session header").to_owned();
        let note = self.post(
            Some(&id),
            &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
            &[],
        );
        assert_eq!(note.status, 202);
        id
    }

    pub fn request(&self, session: &str, id: i64, method: &str, params: Value) -> HttpReply {
        self.post(
            Some(session),
            &json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
            &[],
        )
    }

    pub fn metrics(&self) -> String {
        self.get("/metrics").body
    }
}

pub fn initialize(version: &str) -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } }
    })
}

pub fn parse_reply(raw: &[u8]) -> HttpReply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) =
        text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no header end: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    HttpReply { status, headers, body }
}

pub fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

pub fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

// --------------------------------------------------------- 2026-07-28

/// The `_meta` envelope of a 2026-07-28 request.
pub fn envelope() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "test", "version": "1" }
    })
}

/// A 2026-07-28 request: `params` with the envelope added to its `_meta`.
pub fn stateless_request(id: i64, method: &str, mut params: Value) -> Value {
    let mut meta = envelope();
    if let Some(extra) = params.get("_meta").and_then(Value::as_object) {
        for (key, value) in extra {
            meta[key] = value.clone();
        }
    }
    params["_meta"] = meta;
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// The headers a 2026-07-28 client sends with `message`.
pub fn stateless_headers(message: &Value) -> Vec<(&'static str, String)> {
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    let mut headers =
        vec![("mcp-protocol-version", "2026-07-28".to_owned()), ("mcp-method", method.clone())];
    let name = match method.as_str() {
        "resources/read" => message["params"]["uri"].as_str(),
        "tasks/get" | "tasks/update" | "tasks/cancel" => message["params"]["taskId"].as_str(),
        _ => message["params"]["name"].as_str(),
    };
    if let Some(name) = name {
        headers.push(("mcp-name", name.to_owned()));
    }
    headers
}

impl Addr {
    /// POSTs a 2026-07-28 request with its headers, plus `extra` (which
    /// replace headers of the same name).
    pub fn stateless(&self, message: &Value, extra: &[(&str, &str)]) -> HttpReply {
        let mut headers: Vec<(&str, String)> = stateless_headers(message)
            .into_iter()
            .filter(|(name, _)| !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(name)))
            .collect();
        headers.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(None, message, &borrowed)
    }
}

/// Reads SSE events until `count` JSON-RPC messages came (or the stream
/// ends). Keep-alive comments do not count: past 60 s without the events
/// the test fails rather than waits forever.
pub fn read_events(reader: &mut std::io::BufReader<TcpStream>, count: usize) -> Vec<Value> {
    use std::io::BufRead;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events = Vec::new();
    let mut line = String::new();
    while events.len() < count {
        assert!(
            Instant::now() < deadline,
            "{} of {count} events after 60 s: {events:?}",
            events.len()
        );
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(data) = line.trim_end().strip_prefix("data: ")
            && let Ok(message) = serde_json::from_str::<Value>(data)
        {
            events.push(message);
        }
    }
    events
}

/// Opens `subscriptions/listen` (2026-07-28) on a raw connection; the reader
/// is past the response's status line.
pub fn listen(addr: Addr, id: i64, filter: Value) -> std::io::BufReader<TcpStream> {
    let message = stateless_request(id, "subscriptions/listen", json!({ "notifications": filter }));
    listen_with(addr, &message)
}

/// Opens `subscriptions/listen` with the whole `message` (its `_meta` as
/// the test wants it).
pub fn listen_with(addr: Addr, message: &Value) -> std::io::BufReader<TcpStream> {
    let body = message.to_string();
    open_stream(
        addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: subscriptions/listen\r\ncontent-length: {}\r\n\r\n{body}",
            addr.0,
            body.len()
        ),
    )
}

/// Opens a 2025-11-25 session's standalone stream (`GET /mcp`); used by
/// the native tests, whose servers' tools change while they run.
#[allow(dead_code)]
pub fn session_stream(addr: Addr, session: &str) -> std::io::BufReader<TcpStream> {
    open_stream(
        addr,
        &format!(
            "GET /mcp HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\nmcp-session-id: {session}\r\n\r\n",
            addr.0
        ),
    )
}

/// POSTs a session request on a raw connection and returns the reader of
/// its response, past the status line: for calls whose stream carries
/// requests for the client, answered while it is open.
#[allow(dead_code)]
pub fn post_stream(addr: Addr, session: &str, message: &Value) -> std::io::BufReader<TcpStream> {
    let body = message.to_string();
    open_stream(
        addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-session-id: {session}\r\nmcp-protocol-version: 2025-11-25\r\ncontent-length: {}\r\n\r\n{body}",
            addr.0,
            body.len()
        ),
    )
}

fn open_stream(addr: Addr, request: &str) -> std::io::BufReader<TcpStream> {
    use std::io::BufRead;
    let mut stream = TcpStream::connect(addr.0).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    reader
}
