//! The MCP methods: what each request does, independent of the transport.
//!
//! | method | kind | answer |
//! | --- | --- | --- |
//! | `initialize` | request | negotiated revision, capabilities (`tools.listChanged`, `logging`), a new session |
//! | `ping` | request | `{}` |
//! | `tools/list` | request | a page of tools, `nextCursor` when more follow |
//! | `tools/call` | request | notifications while it runs, then the `CallToolResult` |
//! | `logging/setLevel` | request | `{}`; later `notifications/message` below the level are dropped |
//! | `notifications/initialized` | notification | nothing |
//! | `notifications/cancelled` | notification | stops the named call: the wasm is interrupted and its slot freed; a native server is sent `notifications/cancelled` |
//! | anything else | request | `-32601` |
//!
//! Tools of native servers ([`crate::native`]), when configured, are listed
//! and called beside the components' through the same path: schema check,
//! events, metrics and audit line.
//!
//! A `tools/call` runs in its own task. Its arguments are checked against
//! the tool's `inputSchema` first (a mismatch is an `isError` result and the
//! guest never runs); while it runs, guest `log` calls become
//! `notifications/message` (filtered by the session's level) and `progress`
//! calls become `notifications/progress` (only when the request carried a
//! `_meta.progressToken`). A cancelled call's stream ends with no response,
//! as the protocol asks. Every call ends with one metric update and one
//! audit log line (target `corral::audit`: tool, outcome, duration, fuel,
//! session, client; never argument values).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc, oneshot};
use tracing::Instrument as _;

use super::jsonrpc::{self, McpError, RequestId};
use super::protocol;
use super::schema::{ArgumentValidators, SchemaError};
use super::session::{Session, SessionError, Sessions};
use super::shapes::{call_result_json, tool_json};
use crate::metrics::{Metrics, UNKNOWN_TOOL_LABEL};
use crate::native::NativeServers;
use crate::registry::Registry;
use crate::sandbox::{CallOutcome, Failure, GuestEvent, Sandbox};

/// Knobs of the protocol layer; the transport's config supplies them.
#[derive(Debug, Clone, Copy)]
pub struct McpOptions {
    /// Tools per `tools/list` page.
    pub page_size: usize,
    /// `tools/call` requests that may run at once across all sessions.
    pub max_calls_in_flight: u32,
    /// Sessions that may exist at once.
    pub max_sessions: usize,
    /// A session with no request for this long ends.
    pub session_idle_timeout: Duration,
}

/// A message for the client while a request is answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// A notification about the request (progress, log message).
    Notification(Value),
    /// The response, always last.
    Response(Value),
}

/// How a request is answered (errors are `Err(McpError)` beside it).
pub enum Reply {
    /// The result response, at once.
    Ready(Value),
    /// A running call: notifications, then the response, as they happen on
    /// `messages`. The channel closes without a response when the request is
    /// cancelled.
    ///
    /// `task` drives the call and must be polled to completion: the transport
    /// polls it inline while it waits for the first message (a call that
    /// answers without notifications then costs no task hand-off between
    /// threads), and spawns it once it starts streaming or if the request
    /// is dropped (a disconnect is not a cancellation).
    Call {
        /// The call's messages.
        messages: mpsc::UnboundedReceiver<Outgoing>,
        /// The call itself.
        task: CallTask,
    },
}

/// The future that runs a call and sends its messages.
pub type CallTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Ready(value) => f.debug_tuple("Ready").field(value).finish(),
            Reply::Call { .. } => f.write_str("Call"),
        }
    }
}

/// The protocol layer: tools, sessions and calls.
pub struct McpServer {
    sandbox: Sandbox,
    registry: Registry,
    validators: ArgumentValidators,
    tool_names: Vec<String>,
    tool_list: Vec<Value>,
    options: McpOptions,
    sessions: Sessions,
    metrics: Arc<Metrics>,
    calls: Arc<Semaphore>,
    notifications: broadcast::Sender<Value>,
    native: Option<Arc<NativeServers>>,
}

impl McpServer {
    /// Compiles every tool's schema and precomputes the tool list.
    pub fn new(
        sandbox: Sandbox,
        registry: Registry,
        options: McpOptions,
        metrics: Arc<Metrics>,
    ) -> Result<McpServer, SchemaError> {
        let validators = ArgumentValidators::compile(&registry)?;
        let tool_names: Vec<String> = registry.tools().map(|t| t.name.clone()).collect();
        let tool_list = registry.tools().map(tool_json).collect();
        metrics.register_tools(tool_names.iter().map(String::as_str));
        for component in registry.components() {
            metrics.record_compile(component.compile_time);
        }
        let calls = Arc::new(Semaphore::new(options.max_calls_in_flight as usize));
        Ok(McpServer {
            sandbox,
            registry,
            validators,
            tool_names,
            tool_list,
            options,
            sessions: Sessions::new(options.max_sessions, options.session_idle_timeout),
            metrics,
            calls,
            notifications: broadcast::channel(64).0,
            native: None,
        })
    }

    /// Serves the tools of native servers beside the components' (see
    /// [`crate::native`]); their tools are listed after each is up.
    pub fn with_native(mut self, native: Arc<NativeServers>) -> McpServer {
        self.native = Some(native);
        self
    }

    /// The native servers, if any are configured.
    pub fn native(&self) -> Option<&Arc<NativeServers>> {
        self.native.as_ref()
    }

    /// A function that sends `notifications/tools/list_changed` to every
    /// connected client, for parts whose tools come and go.
    pub fn tools_changed_notifier(&self) -> impl Fn() + Send + Sync + 'static {
        let notifications = self.notifications.clone();
        move || {
            let _ = notifications
                .send(jsonrpc::notification("notifications/tools/list_changed", json!({})));
        }
    }

    /// The live sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The catalogue of tools.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Server-initiated notifications for every session's standalone stream
    /// (`notifications/tools/list_changed`).
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.notifications.subscribe()
    }

    /// Tells every connected client that the tool list changed.
    pub fn notify_tools_changed(&self) {
        let _ = self
            .notifications
            .send(jsonrpc::notification("notifications/tools/list_changed", json!({})));
    }

    /// Readiness: every component and native server, and its state.
    pub fn readiness(&self) -> Value {
        let components: Vec<Value> = self
            .registry
            .components()
            .iter()
            .map(|component| {
                let tools: Vec<&str> = self
                    .registry
                    .tools()
                    .filter(|t| self.registry.component_of(t).name() == component.name())
                    .map(|t| t.name.as_str())
                    .collect();
                json!({
                    "name": component.name(),
                    "kind": "component",
                    "state": "ready",
                    "tools": tools,
                    "compile_seconds": component.compile_time.as_secs_f64(),
                    "from_cache": component.from_cache,
                })
            })
            .collect();
        match &self.native {
            None => json!({ "status": "ready", "components": components }),
            Some(native) => {
                json!({ "status": "ready", "components": components, "native": native.readiness() })
            }
        }
    }

    /// `initialize`: negotiates the revision and starts a session.
    pub fn initialize(&self, params: &Value) -> Result<(Arc<Session>, Value), McpError> {
        let requested = params.get("protocolVersion").and_then(Value::as_str);
        let version = protocol::negotiate(requested);
        let session =
            self.sessions.create(version).map_err(|err| McpError::Internal(err.to_string()))?;
        Ok((session, protocol::initialize_result(version)))
    }

    /// Answers a request of an established session.
    pub fn handle_request(
        self: &Arc<Self>,
        session: &Arc<Session>,
        id: RequestId,
        method: &str,
        params: Value,
        client: Arc<str>,
    ) -> Result<Reply, McpError> {
        let result = match method {
            "ping" => Ok(json!({})),
            "tools/list" => self.list_tools(&params),
            "logging/setLevel" => set_level(session, &params),
            "tools/call" => return self.call_tool(session, id, params, client),
            // A second initialize in a session is answered like the first,
            // without starting another session.
            "initialize" => Ok(protocol::initialize_result(session.protocol_version())),
            other => Err(McpError::MethodNotFound(other.to_owned())),
        };
        result.map(|result| Reply::Ready(jsonrpc::result_response(&id, result)))
    }

    /// Acts on a notification of an established session.
    pub fn handle_notification(&self, session: &Session, method: &str, params: &Value) {
        if method == "notifications/cancelled"
            && let Some(id) =
                params.get("requestId").cloned().and_then(|v| RequestId::from_value(v).ok())
        {
            let cancelled = session.cancel(&id);
            tracing::debug!(session = session.id(), request = %id.key(), cancelled, "cancel requested");
        }
        // notifications/initialized and others need no action.
    }

    fn list_tools(&self, params: &Value) -> Result<Value, McpError> {
        match &self.native {
            None => self.list_page(&self.tool_names, &self.tool_list, params),
            Some(native) => {
                let mut merged: Vec<(String, Value)> = self
                    .tool_names
                    .iter()
                    .cloned()
                    .zip(self.tool_list.iter().cloned())
                    .chain(native.tools())
                    .collect();
                merged.sort_by(|a, b| a.0.cmp(&b.0));
                let (names, list): (Vec<String>, Vec<Value>) = merged.into_iter().unzip();
                self.list_page(&names, &list, params)
            }
        }
    }

    /// One page of `list` (sorted by `names`) from the request's cursor.
    fn list_page(
        &self,
        names: &[String],
        list: &[Value],
        params: &Value,
    ) -> Result<Value, McpError> {
        let start = match params.get("cursor") {
            None | Some(Value::Null) => 0,
            Some(Value::String(cursor)) => {
                let name = URL_SAFE_NO_PAD
                    .decode(cursor)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| McpError::InvalidParams(format!("invalid cursor {cursor:?}")))?;
                names.partition_point(|n| *n < name)
            }
            Some(_) => return Err(McpError::InvalidParams("cursor must be a string".into())),
        };
        let end = (start + self.options.page_size).min(list.len());
        let mut result = Map::new();
        result.insert("tools".into(), Value::Array(list[start..end].to_vec()));
        if let Some(next) = names.get(end) {
            result.insert("nextCursor".into(), URL_SAFE_NO_PAD.encode(next).into());
        }
        Ok(Value::Object(result))
    }

    fn call_tool(
        self: &Arc<Self>,
        session: &Arc<Session>,
        id: RequestId,
        params: Value,
        client: Arc<str>,
    ) -> Result<Reply, McpError> {
        let started = Instant::now();
        let (call, permit, cancel) = self.prepare_call(session, &id, params, started)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let server = self.clone();
        let session = session.clone();
        let span = tracing::info_span!(
            "tool_call",
            tool = %call.tool,
            session = session.id(),
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            fuel = tracing::field::Empty,
        );
        let guard = CallGuard {
            metrics: self.metrics.clone(),
            tool: call.tool.clone(),
            session: session.id().to_owned(),
            client,
            started,
            outcome: CallOutcome::Cancelled,
            fuel: 0,
            _permit: permit,
        };
        self.metrics.calls_in_flight().inc();
        let task = async move {
            let response = server.run_call(&session, call, guard, cancel, &tx).await;
            // Forget the id before answering, so a client may reuse it as
            // soon as it has the response.
            session.end_request(&id);
            if let Some(result) = response {
                // A send error means the client went away; the call still
                // finished (a disconnect is not a cancellation).
                let _ = tx.send(Outgoing::Response(jsonrpc::result_response(&id, result)));
            }
        }
        .instrument(span);
        Ok(Reply::Call { messages: rx, task: Box::pin(task) })
    }

    /// Checks a `tools/call` request and takes its slot, or says why not.
    fn prepare_call(
        &self,
        session: &Session,
        id: &RequestId,
        mut params: Value,
        started: Instant,
    ) -> Result<(PreparedCall, OwnedSemaphorePermit, oneshot::Receiver<()>), McpError> {
        let Some(Value::String(tool)) = params.get_mut("name").map(Value::take) else {
            return Err(McpError::InvalidParams("\"name\" must be a string".into()));
        };
        let arguments = match params.get_mut("arguments").map(Value::take) {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(arguments @ Value::Object(_)) => arguments,
            Some(_) => {
                return Err(McpError::InvalidParams("\"arguments\" must be an object".into()));
            }
        };
        let progress_token = params
            .pointer("/_meta/progressToken")
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        let native = self.native.as_ref().is_some_and(|n| n.has_tool(&tool));
        if self.registry.tool(&tool).is_none() && !native {
            self.metrics.record_call(
                UNKNOWN_TOOL_LABEL,
                CallOutcome::UnknownTool,
                started.elapsed(),
                0,
            );
            return Err(McpError::InvalidParams(format!("unknown tool: {tool}")));
        }
        let permit = self
            .calls
            .clone()
            .try_acquire_owned()
            .map_err(|_| McpError::Busy { limit: self.options.max_calls_in_flight })?;
        let cancel = session.begin_request(id).map_err(|err| match err {
            SessionError::DuplicateRequestId(_) => McpError::InvalidRequest(err.to_string()),
            other => McpError::Internal(other.to_string()),
        })?;
        Ok((PreparedCall { tool, arguments, progress_token }, permit, cancel))
    }

    /// Runs a call to its end; `None` when it was cancelled (no response
    /// is sent then). The guard's accounting is done when this returns.
    async fn run_call(
        &self,
        session: &Session,
        call: PreparedCall,
        mut guard: CallGuard,
        mut cancel: oneshot::Receiver<()>,
        out: &mpsc::UnboundedSender<Outgoing>,
    ) -> Option<Value> {
        let native = self.native.as_ref().filter(|_| self.registry.tool(&call.tool).is_none());
        let checked = match native {
            None => self.validators.check(&call.tool, &call.arguments),
            Some(native) => native.check_arguments(&call.tool, &call.arguments),
        };
        if let Err(message) = checked {
            guard.outcome = CallOutcome::InvalidArguments;
            let result = Failure::new(CallOutcome::InvalidArguments, message).into_result();
            return Some(call_result_json(&result));
        }
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let running = async {
            match native {
                None => {
                    let arguments = call.arguments.to_string();
                    let report = self
                        .registry
                        .call(&self.sandbox, &call.tool, &arguments, Some(events_tx))
                        .await;
                    (report.outcome, call_result_json(&report.result), report.fuel_consumed)
                }
                Some(native) => {
                    let arguments = call.arguments.clone();
                    let progress = call.progress_token.is_some();
                    let done = native.call(&call.tool, arguments, Some(events_tx), progress).await;
                    (done.outcome, done.result, 0)
                }
            }
        };
        tokio::pin!(running);
        let forward = |event: GuestEvent| {
            if let Some(note) = event_notification(session, &call, event) {
                let _ = out.send(Outgoing::Notification(note));
            }
        };
        // The call is polled first: one that finishes in its first poll (the
        // usual case) then never registers the cancel and event wakers, so
        // its own end (the event sender dropped with the store) does not
        // wake this task again, and tokio does not wake another worker for
        // that needless poll. A cancel is seen as soon as the call is
        // pending: at its next fuel yield or host wait.
        let (outcome, result, fuel) = loop {
            tokio::select! {
                biased;
                done = &mut running => break done,
                _ = &mut cancel => {
                    // Returning drops `running`: the store is dropped, the
                    // wasm interrupted, and the slot freed; a native call
                    // sends notifications/cancelled to its server.
                    return None;
                }
                Some(event) = events.recv() => forward(event),
            }
        };
        while let Ok(event) = events.try_recv() {
            forward(event);
        }
        guard.outcome = outcome;
        guard.fuel = fuel;
        Some(result)
    }
}

/// A `tools/call` request that passed the protocol checks.
struct PreparedCall {
    tool: String,
    arguments: Value,
    progress_token: Option<Value>,
}

/// The MCP notification for a guest event, if the client is to get it.
fn event_notification(session: &Session, call: &PreparedCall, event: GuestEvent) -> Option<Value> {
    match event {
        GuestEvent::Log { level, message } => {
            let rank = protocol::log_level_rank(level.as_str())?;
            session.wants_log(rank).then(|| {
                jsonrpc::notification(
                    "notifications/message",
                    json!({ "level": level.as_str(), "logger": call.tool, "data": message }),
                )
            })
        }
        GuestEvent::Progress { done, total, message } => {
            let token = call.progress_token.clone()?;
            let mut params = Map::new();
            params.insert("progressToken".into(), token);
            params.insert("progress".into(), json!(done));
            if let Some(total) = total {
                params.insert("total".into(), json!(total));
            }
            if let Some(message) = message {
                params.insert("message".into(), message.into());
            }
            Some(jsonrpc::notification("notifications/progress", Value::Object(params)))
        }
    }
}

fn set_level(session: &Session, params: &Value) -> Result<Value, McpError> {
    let level = params.get("level").and_then(Value::as_str).unwrap_or_default();
    let rank = protocol::log_level_rank(level).ok_or_else(|| {
        McpError::InvalidParams(format!(
            "level must be one of {}; got {level:?}",
            protocol::LOG_LEVELS.join(", ")
        ))
    })?;
    session.set_min_log_rank(rank);
    Ok(json!({}))
}

/// Accounts for one call however it ends: metrics, the in-flight gauge and
/// slot, and the audit line. A call whose task is dropped before it sets an
/// outcome counts as `cancelled`.
struct CallGuard {
    metrics: Arc<Metrics>,
    tool: String,
    session: String,
    client: Arc<str>,
    started: Instant,
    outcome: CallOutcome,
    fuel: u64,
    _permit: OwnedSemaphorePermit,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let wall = self.started.elapsed();
        self.metrics.calls_in_flight().dec();
        self.metrics.record_call(&self.tool, self.outcome, wall, self.fuel);
        let duration_ms = wall.as_secs_f64() * 1e3;
        let span = tracing::Span::current();
        span.record("outcome", self.outcome.as_str());
        span.record("duration_ms", duration_ms);
        span.record("fuel", self.fuel);
        tracing::info!(
            target: "corral::audit",
            tool = %self.tool,
            outcome = self.outcome.as_str(),
            duration_ms,
            fuel = self.fuel,
            session = %self.session,
            client = %self.client,
            "tool call"
        );
    }
}
