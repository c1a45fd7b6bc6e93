//! The HTTP door and the MCP core behind it: one request with arbitrary
//! method, path, MCP headers and body, answered as a connection would be
//! (`Server::respond`). A 2025-11-25 session the host handed out earlier in
//! the run can be named, so that session paths are reached too.
//!
//! Checked: no panic; a JSON answer is JSON; every SSE event's data is JSON.

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use bytes::Bytes;
use corral::http::Server;
use http_body_util::{BodyExt as _, Full};

#[derive(Arbitrary, Debug)]
enum Verb {
    Post,
    Get,
    Delete,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Target {
    Mcp,
    Healthz,
    Readyz,
    Metrics,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Header {
    ProtocolVersion,
    Method,
    McpName,
    Param(String),
    Accept,
    ContentType,
    ContentLength,
    Host,
    Origin,
    Authorization,
    LastEventId,
    Other(String),
}

impl Header {
    fn as_header(&self) -> String {
        match self {
            Header::ProtocolVersion => "mcp-protocol-version".into(),
            Header::Method => "mcp-method".into(),
            Header::McpName => "mcp-name".into(),
            Header::Param(name) => format!("mcp-param-{name}"),
            Header::Accept => "accept".into(),
            Header::ContentType => "content-type".into(),
            Header::ContentLength => "content-length".into(),
            Header::Host => "host".into(),
            Header::Origin => "origin".into(),
            Header::Authorization => "authorization".into(),
            Header::LastEventId => "last-event-id".into(),
            Header::Other(name) => name.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Session {
    None,
    /// The last session the host handed out in this run.
    Current,
    Given(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    verb: Verb,
    target: Target,
    /// Leave out the usual `Host`, `Accept` and `Content-Type`.
    bare: bool,
    session: Session,
    headers: Vec<(Header, String)>,
    body: Vec<u8>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        super::runtime().block_on(async {
            let server = Server::bind(super::host_config(), Some(([127, 0, 0, 1], 0).into()))
                .await
                .expect("the server binds");
            server.loaded().await;
            server
        })
    })
}

const PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

static SESSION: Mutex<Option<String>> = Mutex::new(None);

/// Compiles the component, before the first input is timed.
pub fn init() {
    server();
}

/// One input, as libFuzzer hands it to the target.
pub fn run(data: &[u8]) {
    let Some(input) = super::arbitrary::<Input>(data) else { return };
    let server = server();
    let method = match &input.verb {
        Verb::Post => "POST",
        Verb::Get => "GET",
        Verb::Delete => "DELETE",
        Verb::Other(verb) => verb,
    };
    let path = match &input.target {
        Target::Mcp => "/mcp",
        Target::Healthz => "/healthz",
        Target::Readyz => "/readyz",
        Target::Metrics => "/metrics",
        Target::Other(path) => path,
    };
    let mut request = hyper::Request::builder().method(method).uri(path);
    if !input.bare {
        request = request
            .header("host", "127.0.0.1:7070")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
    }
    let session = match &input.session {
        Session::None => None,
        Session::Current => SESSION.lock().unwrap().clone(),
        Session::Given(id) => Some(id.clone()),
    };
    if let Some(id) = session {
        request = request.header("mcp-session-id", id);
    }
    for (name, value) in &input.headers {
        request = request.header(name.as_header(), value.as_str());
    }
    // Names and values hyper would never have parsed off a connection.
    let Ok(request) = request.body(Full::new(Bytes::from(input.body))) else { return };

    super::runtime().block_on(async {
        let response = server.respond(PEER, request).await;
        if let Some(id) = response.headers().get("mcp-session-id") {
            *SESSION.lock().unwrap() = Some(id.to_str().expect("a visible session id").to_owned());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("a visible content type").to_owned())
            .unwrap_or_default();
        // A stream may stay open (a session's stream, a listen): read what
        // comes promptly, then drop it as a client that leaves would.
        let mut body = response.into_body();
        let mut text = Vec::new();
        for _ in 0..64 {
            match tokio::time::timeout(Duration::from_millis(20), body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        text.extend_from_slice(data);
                    }
                }
                Ok(Some(Err(never))) => match never {},
                Ok(None) | Err(_) => break,
            }
        }
        drop(body);
        if content_type.starts_with("application/json") && !text.is_empty() {
            serde_json::from_slice::<serde_json::Value>(&text).unwrap_or_else(|e| {
                panic!("a JSON answer that is not JSON ({e}): {}", String::from_utf8_lossy(&text))
            });
        }
        if content_type.starts_with("text/event-stream") {
            let text = String::from_utf8(text).expect("an event stream is UTF-8");
            for data in text.lines().filter_map(|l| l.strip_prefix("data:")) {
                let data = data.trim();
                if !data.is_empty() {
                    serde_json::from_str::<serde_json::Value>(data)
                        .unwrap_or_else(|e| panic!("an SSE event that is not JSON ({e}): {data}"));
                }
            }
        }
    });
}
