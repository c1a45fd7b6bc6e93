//! An MCP client over a native server's stdio: newline-delimited JSON-RPC.
//!
//! - One reader task parses the server's lines; one writer task owns its
//!   stdin. Requests are matched to responses by id, so calls, pings and
//!   list refreshes share the connection concurrently.
//! - A line longer than the message limit breaks the connection
//!   ([`ClientError::MessageTooLarge`]): the rest of that line cannot be
//!   framed safely, so the supervisor restarts the server.
//! - A request that times out or whose future is dropped (the HTTP client
//!   cancelled) is followed by `notifications/cancelled` to the server.
//! - `notifications/progress` for a call's token becomes a
//!   [`GuestEvent::Progress`] on that call's sink. `notifications/message`
//!   goes to the tracing log, and to the call's sink when exactly one call
//!   is in flight: stdio gives a log message no request to belong to, and
//!   guessing would leak one client's logs to another.
//! - Requests from the server: `ping` is answered. `elicitation/create`,
//!   `sampling/createMessage` and `roots/list` are relayed to the client of
//!   the one call in flight, as a [`GuestEvent::Ask`] on its sink, and its
//!   answer goes back; with no call, or several, in flight the request has
//!   no client to belong to and is refused (`-32603`, saying so), as is
//!   anything else (`-32601`).
//! - `notifications/{tools,resources,prompts}/list_changed` wake
//!   [`Client::lists_changed`]; `notifications/resources/updated` goes to
//!   [`Client::take_resource_updates`].
//! - A line that is not JSON-RPC is logged and skipped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::call::ClientRequest;
use crate::framing::{LineError, LineReader, write_line};
use crate::lock::Locked as _;
use crate::sandbox::{AskError, EventSink, GuestEvent, LogLevel};

/// The MCP revision Corral asks native servers for.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Pages of `tools/list` followed before the list is declared endless.
const MAX_LIST_PAGES: usize = 100;

/// Why a request to a native server failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The connection ended: the server closed its stdout or writing failed.
    #[error("the connection is closed: {0}")]
    Closed(String),
    /// The server sent a line longer than the limit; the connection is broken.
    #[error(
        "the server sent a message of more than {limit} bytes (max_message_kib); the connection was closed"
    )]
    MessageTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No answer in time.
    #[error("no answer to {method} within {} ms", .after.as_millis())]
    Timeout {
        /// The request's method.
        method: String,
        /// The time waited.
        after: Duration,
    },
    /// The server answered with a JSON-RPC error.
    #[error("{method} failed with JSON-RPC error {code}: {message}")]
    Rpc {
        /// The request's method.
        method: String,
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The server answered with something that is not the expected shape.
    #[error("{method}: unexpected answer: {message}")]
    Protocol {
        /// The request's method.
        method: String,
        /// What was wrong.
        message: String,
    },
}

type Pending = HashMap<u64, (String, oneshot::Sender<Result<Value, ClientError>>)>;

struct Shared {
    server: String,
    pending: Mutex<Pending>,
    /// Every `tools/call` in flight and where its events go.
    calls: Mutex<HashMap<u64, EventSink>>,
    closed: watch::Sender<Option<ClientError>>,
    lists_changed: Notify,
    resource_updates: mpsc::UnboundedSender<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent whatever a panicking holder did.
    mutex.locked()
}

impl Shared {
    /// Marks the connection broken (first reason wins) and fails every
    /// pending request with it.
    fn close(&self, reason: ClientError) {
        self.closed.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason.clone());
                true
            } else {
                false
            }
        });
        // Whoever drains first, every pending request gets the first reason.
        let first = self.closed.borrow().clone().unwrap_or(reason);
        let pending: Vec<_> = lock(&self.pending).drain().collect();
        for (_, (_, tx)) in pending {
            let _ = tx.send(Err(first.clone()));
        }
    }
}

/// A connection to one native MCP server.
pub struct Client {
    shared: Arc<Shared>,
    outgoing: mpsc::UnboundedSender<String>,
    next_id: AtomicU64,
    resource_updates: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
}

impl Client {
    /// Starts the reader and writer tasks on the server's stdout (`reader`)
    /// and stdin (`writer`). `server` names it in logs. Must be called
    /// within a tokio runtime.
    pub fn start<R, W>(server: &str, reader: R, writer: W, max_message: usize) -> Client
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (updates_tx, updates_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            server: server.to_owned(),
            pending: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
            closed: watch::Sender::new(None),
            lists_changed: Notify::new(),
            resource_updates: updates_tx,
        });
        let (outgoing, lines) = mpsc::unbounded_channel();
        tokio::spawn(write_lines(shared.clone(), writer, lines));
        tokio::spawn(read_messages(
            shared.clone(),
            outgoing.clone(),
            LineReader::new(reader, max_message),
        ));
        Client {
            shared,
            outgoing,
            next_id: AtomicU64::new(1),
            resource_updates: Mutex::new(Some(updates_rx)),
        }
    }

    /// Resolves with the reason once the connection is broken.
    pub async fn closed(&self) -> ClientError {
        let mut rx = self.shared.closed.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_else(|| ClientError::Closed("closed".into())),
            Err(_) => ClientError::Closed("closed".into()),
        }
    }

    /// Why the connection is broken, if it is.
    pub fn close_reason(&self) -> Option<ClientError> {
        self.shared.closed.borrow().clone()
    }

    /// Breaks the connection: pending requests fail with `reason`.
    pub fn close(&self, reason: &str) {
        self.shared.close(ClientError::Closed(reason.to_owned()));
    }

    /// Notified when the server says its tool, resource or prompt list
    /// changed.
    pub fn lists_changed(&self) -> &Notify {
        &self.shared.lists_changed
    }

    /// The URIs of the server's `notifications/resources/updated`; the
    /// receiver is handed out once.
    pub fn take_resource_updates(&self) -> Option<mpsc::UnboundedReceiver<String>> {
        lock(&self.resource_updates).take()
    }

    /// `tools/call` requests in flight.
    pub fn calls_in_flight(&self) -> usize {
        lock(&self.shared.calls).len()
    }

    /// `initialize`, then `notifications/initialized`; the server's result.
    pub async fn initialize(&self, timeout: Duration) -> Result<Value, ClientError> {
        // Requests for these are relayed to the client of the call in flight.
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": { "elicitation": {}, "sampling": {}, "roots": {} },
            "clientInfo": { "name": "corral", "version": env!("CARGO_PKG_VERSION") }
        });
        let result = self.request("initialize", params, timeout, None).await?;
        if !result.is_object() {
            return Err(ClientError::Protocol {
                method: "initialize".into(),
                message: "the result is not an object".into(),
            });
        }
        self.notify("notifications/initialized", json!({}));
        Ok(result)
    }

    /// `ping`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), ClientError> {
        self.request("ping", json!({}), timeout, None).await.map(drop)
    }

    /// Every tool, following `nextCursor`; `timeout` applies to each page.
    pub async fn list_tools(&self, timeout: Duration) -> Result<Vec<Value>, ClientError> {
        self.list("tools/list", "tools", timeout).await
    }

    /// Every item of a list method (`tools/list`, `resources/list`,
    /// `resources/templates/list`, `prompts/list`) under `key`, following
    /// `nextCursor`; `timeout` applies to each page.
    pub async fn list(
        &self,
        method: &str,
        key: &str,
        timeout: Duration,
    ) -> Result<Vec<Value>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let result = self.request(method, params, timeout, None).await?;
            let protocol =
                |message: String| ClientError::Protocol { method: method.into(), message };
            let Some(Value::Array(page)) = result.get(key) else {
                return Err(protocol(format!("\"{key}\" is not an array")));
            };
            items.extend(page.iter().cloned());
            match result.get("nextCursor") {
                None | Some(Value::Null) => return Ok(items),
                Some(Value::String(next)) => cursor = Some(next.clone()),
                Some(_) => return Err(protocol("\"nextCursor\" is not a string".into())),
            }
        }
        Err(ClientError::Protocol {
            method: method.into(),
            message: format!("more than {MAX_LIST_PAGES} pages"),
        })
    }

    /// A request made for a client (`resources/read`, `prompts/get`,
    /// `completion/complete`, `resources/subscribe`): its result object.
    /// Log messages and the server's requests to the client go to `events`
    /// as for a tool call.
    pub async fn operation(
        &self,
        method: &str,
        params: Value,
        events: EventSink,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let result = self.request(method, params, timeout, Some(events)).await?;
        if !result.is_object() {
            return Err(ClientError::Protocol {
                method: method.into(),
                message: "the result is not an object".into(),
            });
        }
        Ok(result)
    }

    /// `tools/call`: the `CallToolResult`. With `progress`, the request
    /// carries a progress token and the server's progress goes to `events`;
    /// log messages go there when this is the only call in flight. Dropping
    /// the future before it resolves, or the timeout, sends
    /// `notifications/cancelled`.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
        events: EventSink,
        progress: bool,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let mut params = json!({ "name": name, "arguments": arguments });
        if progress && events.is_some() {
            params["_meta"] = json!({ "progressToken": self.next_id.load(Ordering::Relaxed) });
        }
        let result = self.request("tools/call", params, timeout, Some(events)).await?;
        match result.get("content") {
            Some(Value::Array(_)) => Ok(result),
            _ => Err(ClientError::Protocol {
                method: "tools/call".into(),
                message: "the result has no \"content\" array".into(),
            }),
        }
    }

    fn notify(&self, method: &str, params: Value) {
        let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        let _ = self.outgoing.send(message.to_string());
    }

    /// Sends a request and waits for its answer. `call` is `Some` for
    /// `tools/call`: the call is registered for its events, and a `_meta`
    /// in `params` gets the progress token (the request's id).
    async fn request(
        &self,
        method: &str,
        mut params: Value,
        timeout: Duration,
        call: Option<EventSink>,
    ) -> Result<Value, ClientError> {
        if let Some(reason) = self.close_reason() {
            return Err(reason);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id, (method.to_owned(), tx));
        let mut guard = RequestGuard {
            shared: &self.shared,
            outgoing: &self.outgoing,
            id,
            cancel_reason: (method != "initialize").then_some("the client cancelled the request"),
        };
        if let Some(events) = call {
            if params.get("_meta").is_some() {
                // The token is the request's id.
                params["_meta"] = json!({ "progressToken": id });
            }
            lock(&self.shared.calls).insert(id, events);
        }
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        if self.outgoing.send(message.to_string()).is_err() {
            guard.cancel_reason = None;
            return Err(ClientError::Closed("the writer has stopped".into()));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => {
                guard.cancel_reason = None;
                answer
            }
            Ok(Err(_)) => {
                guard.cancel_reason = None;
                Err(self.close_reason().unwrap_or_else(|| ClientError::Closed("closed".into())))
            }
            Err(_) => {
                guard.cancel_reason = Some("timed out");
                Err(ClientError::Timeout { method: method.to_owned(), after: timeout })
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.close(ClientError::Closed("the client was dropped".into()));
    }
}

/// Forgets a request however it ends, and tells the server when it is
/// abandoned unanswered.
struct RequestGuard<'a> {
    shared: &'a Shared,
    outgoing: &'a mpsc::UnboundedSender<String>,
    id: u64,
    /// `Some` while an abandoned request must be cancelled at the server.
    cancel_reason: Option<&'static str>,
}

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        lock(&self.shared.pending).remove(&self.id);
        lock(&self.shared.calls).remove(&self.id);
        if let Some(reason) = self.cancel_reason {
            let message = json!({
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": { "requestId": self.id, "reason": reason }
            });
            let _ = self.outgoing.send(message.to_string());
            tracing::debug!(server = %self.shared.server, request = self.id, reason, "sent notifications/cancelled");
        }
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(
    shared: Arc<Shared>,
    mut writer: W,
    mut lines: mpsc::UnboundedReceiver<String>,
) {
    let mut closed = shared.closed.subscribe();
    loop {
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = closed.wait_for(Option::is_some) => None,
        };
        let Some(line) = line else { break };
        let written = async {
            write_line(&mut writer, line.as_bytes()).await?;
            writer.flush().await
        };
        if let Err(err) = written.await {
            shared.close(ClientError::Closed(format!("writing to the server failed: {err}")));
            break;
        }
    }
    // Dropping the writer closes the server's stdin: a stdio server exits.
    let _ = writer.shutdown().await;
}

async fn read_messages<R: AsyncRead + Unpin>(
    shared: Arc<Shared>,
    outgoing: mpsc::UnboundedSender<String>,
    mut reader: LineReader<R>,
) {
    let mut closed = shared.closed.subscribe();
    loop {
        let line = tokio::select! {
            line = reader.next_line() => line,
            _ = closed.wait_for(Option::is_some) => return,
        };
        match line {
            Ok(Some(line)) => dispatch(&shared, &outgoing, line),
            Ok(None) => {
                shared.close(ClientError::Closed("the server closed its output".into()));
                return;
            }
            Err(LineError::TooLong { limit }) => {
                // The rest of that line cannot be framed safely: the
                // supervisor restarts the server.
                shared.close(ClientError::MessageTooLarge { limit });
                return;
            }
            Err(LineError::Io(err)) => {
                shared.close(ClientError::Closed(format!("reading from the server failed: {err}")));
                return;
            }
        }
    }
}

/// Acts on one line from the server.
fn dispatch(shared: &Shared, outgoing: &mpsc::UnboundedSender<String>, line: &[u8]) {
    let message: Value = match serde_json::from_slice(line) {
        Ok(Value::Object(message)) => Value::Object(message),
        _ => {
            let shown = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
            tracing::warn!(server = %shared.server, line = %shown, "native server wrote a line that is not a JSON-RPC message; skipped");
            return;
        }
    };
    let method = message.get("method").and_then(Value::as_str);
    let id = message.get("id");
    match (method, id) {
        (Some(method), Some(id)) => answer_request(
            shared,
            outgoing,
            method,
            id,
            message.get("params").cloned().unwrap_or_else(|| json!({})),
        ),
        (Some(method), None) => {
            notification(shared, method, message.get("params").unwrap_or(&Value::Null))
        }
        (None, Some(id)) => response(shared, id, &message),
        (None, None) => {
            tracing::warn!(server = %shared.server, "native server sent a message with neither method nor id; skipped");
        }
    }
}

fn answer_request(
    shared: &Shared,
    outgoing: &mpsc::UnboundedSender<String>,
    method: &str,
    id: &Value,
    params: Value,
) {
    let reply = |answer: Value| {
        let _ = outgoing.send(answer.to_string());
    };
    let error = |code: i64, message: String| json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
    if method == "ping" {
        return reply(json!({ "jsonrpc": "2.0", "id": id, "result": {} }));
    }
    let Some((method, capability)) = ClientRequest::capability_of(method) else {
        tracing::debug!(server = %shared.server, method, "native server request refused: not a client feature");
        return reply(error(-32601, format!("method not supported by corral: {method}")));
    };
    // A request carries nothing that names the call it belongs to; only
    // with one call in flight is its client known.
    let sink = {
        let calls = lock(&shared.calls);
        match (calls.len(), calls.values().next()) {
            (1, Some(Some(sink))) => Some(sink.clone()),
            _ => None,
        }
    };
    let Some(sink) = sink else {
        tracing::warn!(server = %shared.server, method, "native server request refused: not exactly one call in flight to relate it to");
        return reply(error(
            -32603,
            format!(
                "corral relays {method} only during a request it can relate it to \
                 (exactly one request in flight to this server)"
            ),
        ));
    };
    let request = ClientRequest {
        method,
        params,
        key: format!("{}-{id}", shared.server),
        capability,
        resumable: false,
    };
    let (tx, rx) = oneshot::channel();
    if sink.send(GuestEvent::Ask { request, reply: tx }).is_err() {
        return reply(error(-32603, "the request it belongs to has ended".into()));
    }
    let (outgoing, id) = (outgoing.clone(), id.clone());
    tokio::spawn(async move {
        let answer = match rx.await {
            Ok(Ok(result)) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Ok(Err(why)) => {
                let (code, message) = match why {
                    AskError::Unsupported(capability) => (
                        -32601,
                        format!(
                            "the client did not declare the {} capability",
                            capability.as_str()
                        ),
                    ),
                    AskError::Timeout => (-32001, "the client did not answer in time".to_owned()),
                    AskError::Pending => {
                        (-32603, "the client cannot be asked during this request".to_owned())
                    }
                    AskError::Invalid(message) | AskError::Failed(message) => (-32603, message),
                };
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
            }
            Err(_) => {
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": "the request it belongs to has ended" } })
            }
        };
        let _ = outgoing.send(answer.to_string());
    });
}

fn response(shared: &Shared, id: &Value, message: &Value) {
    let Some(entry) = id.as_u64().and_then(|id| lock(&shared.pending).remove(&id)) else {
        tracing::debug!(server = %shared.server, %id, "response to no pending request; skipped");
        return;
    };
    let (method, tx) = entry;
    let answer = match (message.get("result"), message.get("error")) {
        (Some(result), None) => Ok(result.clone()),
        (None, Some(error)) => Err(ClientError::Rpc {
            method,
            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: error.get("message").and_then(Value::as_str).unwrap_or("").to_owned(),
        }),
        _ => Err(ClientError::Protocol { method, message: "neither result nor error".into() }),
    };
    let _ = tx.send(answer);
}

fn notification(shared: &Shared, method: &str, params: &Value) {
    match method {
        "notifications/progress" => {
            let Some(token) = params.get("progressToken").and_then(Value::as_u64) else { return };
            let calls = lock(&shared.calls);
            if let Some(Some(sink)) = calls.get(&token) {
                let _ = sink.send(GuestEvent::Progress {
                    done: params.get("progress").and_then(Value::as_f64).unwrap_or(0.0),
                    total: params.get("total").and_then(Value::as_f64),
                    message: params.get("message").and_then(Value::as_str).map(str::to_owned),
                });
            }
        }
        "notifications/message" => {
            let level = params
                .get("level")
                .and_then(Value::as_str)
                .and_then(parse_level)
                .unwrap_or(LogLevel::Info);
            let message = match params.get("data") {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            tracing::info!(server = %shared.server, level = level.as_str(), %message, "native server log");
            let calls = lock(&shared.calls);
            if calls.len() == 1
                && let Some(Some(sink)) = calls.values().next()
            {
                let _ = sink.send(GuestEvent::Log { level, message });
            }
        }
        "notifications/tools/list_changed"
        | "notifications/resources/list_changed"
        | "notifications/prompts/list_changed" => shared.lists_changed.notify_one(),
        "notifications/resources/updated" => {
            if let Some(uri) = params.get("uri").and_then(Value::as_str) {
                let _ = shared.resource_updates.send(uri.to_owned());
            }
        }
        _ => {}
    }
}

fn parse_level(level: &str) -> Option<LogLevel> {
    Some(match level {
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "notice" => LogLevel::Notice,
        "warning" => LogLevel::Warning,
        "error" => LogLevel::Error,
        "critical" => LogLevel::Critical,
        "alert" => LogLevel::Alert,
        "emergency" => LogLevel::Emergency,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

    /// A client wired to an in-memory fake server: the test reads what the
    /// client sends and writes what the server answers.
    fn pair(max: usize) -> (Client, Lines<BufReader<DuplexStream>>, DuplexStream) {
        let (client_out, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, client_in) = tokio::io::duplex(1 << 16);
        let client = Client::start("fake", client_in, client_out, max);
        (client, BufReader::new(server_in).lines(), server_out)
    }

    async fn next(lines: &mut Lines<BufReader<DuplexStream>>) -> Value {
        serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap()
    }

    async fn write(out: &mut DuplexStream, message: Value) {
        out.write_all(format!("{message}\n").as_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn list_follows_next_cursor() {
        let (client, mut lines, mut out) = pair(1 << 20);
        let server = async {
            let first = next(&mut lines).await;
            assert_eq!(first["params"], json!({}));
            write(&mut out, json!({"jsonrpc":"2.0","id":first["id"],"result":{"tools":[{"name":"a"}],"nextCursor":"c2"}})).await;
            let second = next(&mut lines).await;
            assert_eq!(second["params"], json!({"cursor":"c2"}));
            write(
                &mut out,
                json!({"jsonrpc":"2.0","id":second["id"],"result":{"tools":[{"name":"b"}]}}),
            )
            .await;
        };
        let (tools, ()) = tokio::join!(client.list_tools(Duration::from_secs(5)), server);
        assert_eq!(tools.unwrap(), vec![json!({"name":"a"}), json!({"name":"b"})]);
    }

    #[tokio::test]
    async fn timed_out_call_is_cancelled_at_the_server() {
        let (client, mut lines, _out) = pair(1 << 20);
        let err = client
            .call_tool("hang", json!({}), None, false, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::Timeout { method: "tools/call".into(), after: Duration::from_millis(50) }
        );
        let call = next(&mut lines).await;
        let cancel = next(&mut lines).await;
        assert_eq!(cancel["method"], "notifications/cancelled");
        assert_eq!(cancel["params"]["requestId"], call["id"]);
        assert_eq!(client.calls_in_flight(), 0);
    }

    #[tokio::test]
    async fn dropped_call_is_cancelled_at_the_server() {
        let (client, mut lines, _out) = pair(1 << 20);
        {
            let call = client.call_tool("hang", json!({}), None, false, Duration::from_secs(60));
            tokio::pin!(call);
            tokio::select! {
                _ = &mut call => panic!("answered"),
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        let _call = next(&mut lines).await;
        let cancel = next(&mut lines).await;
        assert_eq!(cancel["params"]["reason"], "the client cancelled the request");
    }

    #[tokio::test]
    async fn oversized_line_breaks_the_connection() {
        let (client, mut lines, mut out) = pair(64);
        let server = async {
            let call = next(&mut lines).await;
            let text = "x".repeat(100);
            write(&mut out, json!({"jsonrpc":"2.0","id":call["id"],"result":{"content":[{"type":"text","text":text}]}})).await;
        };
        let (result, ()) = tokio::join!(
            client.call_tool("big", json!({}), None, false, Duration::from_secs(5)),
            server
        );
        assert_eq!(result.unwrap_err(), ClientError::MessageTooLarge { limit: 64 });
        assert_eq!(client.close_reason(), Some(ClientError::MessageTooLarge { limit: 64 }));
        let err = client.ping(Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(err, ClientError::MessageTooLarge { limit: 64 });
    }

    #[tokio::test]
    async fn progress_for_the_call_token_reaches_its_sink() {
        let (client, mut lines, mut out) = pair(1 << 20);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let server = async {
            let call = next(&mut lines).await;
            let token = call["params"]["_meta"]["progressToken"].clone();
            write(&mut out, json!({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":token,"progress":1,"total":2}})).await;
            write(&mut out, json!({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"warning","data":"hi"}})).await;
            write(&mut out, json!({"jsonrpc":"2.0","id":call["id"],"result":{"content":[]}})).await;
        };
        let (result, ()) = tokio::join!(
            client.call_tool("echo", json!({}), Some(tx), true, Duration::from_secs(5)),
            server
        );
        assert_eq!(result.unwrap(), json!({"content":[]}));
        assert_eq!(
            rx.recv().await,
            Some(GuestEvent::Progress { done: 1.0, total: Some(2.0), message: None })
        );
        assert_eq!(
            rx.recv().await,
            Some(GuestEvent::Log { level: LogLevel::Warning, message: "hi".into() })
        );
    }

    #[tokio::test]
    async fn server_ping_is_answered_and_garbage_skipped() {
        let (client, mut lines, mut out) = pair(1 << 20);
        out.write_all(b"not json\n").await.unwrap();
        write(&mut out, json!({"jsonrpc":"2.0","id":"s1","method":"ping"})).await;
        assert_eq!(next(&mut lines).await, json!({"jsonrpc":"2.0","id":"s1","result":{}}));
        assert_eq!(client.close_reason(), None);
    }

    #[tokio::test]
    async fn end_of_output_fails_pending_requests() {
        let (client, mut lines, out) = pair(1 << 20);
        let server = async {
            let _ = next(&mut lines).await;
            drop(out);
        };
        let (result, ()) = tokio::join!(client.ping(Duration::from_secs(5)), server);
        assert_eq!(result.unwrap_err(), ClientError::Closed("the server closed its output".into()));
    }
}
