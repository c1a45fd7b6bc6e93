//! The MCP core: what each message does, in either generation of the
//! protocol, whichever door it came through.
//!
//! A transport parses a message ([`super::jsonrpc::parse`]) and hands it to
//! [`McpServer::handle`] with its [`Exchange`]; it gets back a [`Reply`] to
//! write. Which generation serves a request is decided here
//! ([`super::protocol`] has the table):
//!
//! | request | 2026-07-28 (stateless) | 2025-11-25 (session) |
//! | --- | --- | --- |
//! | `server/discover` | versions, capabilities, `ttlMs`, `cacheScope`, `serverInfo` in `_meta` | - |
//! | `initialize` | `-32601` | negotiated revision, capabilities; a new session |
//! | `ping` | `-32601` | `{}` |
//! | `tools/list` | a page, `ttlMs` (0 while components load), `cacheScope` | a page |
//! | `tools/call` | notifications while it runs, then the result, or `input_required` with the questions the tool asked | notifications and requests for the client (elicitation, sampling, roots) while it runs, then the result |
//! | `resources/list`, `resources/templates/list`, `prompts/list` | a page, `ttlMs`, `cacheScope` | a page |
//! | `resources/read`, `prompts/get` | as `tools/call`; a URI nothing serves is `-32602` with `data.uri` | the same |
//! | `completion/complete` | suggestions for a prompt argument or template variable | the same |
//! | `resources/subscribe`, `resources/unsubscribe` | `-32601` (`subscriptions/listen` with `resourceSubscriptions`) | `{}`; `notifications/resources/updated` on the standalone stream |
//! | `logging/setLevel` | `-32601` (log level is per request, `_meta` `io.modelcontextprotocol/logLevel`) | `{}`, filters later log messages |
//! | `subscriptions/listen` | a stream: acknowledgement, then the list changes and resource updates asked for | - |
//! | `notifications/cancelled` | stdio: stops the request; HTTP: closing the response stream stops it | stops the request |
//! | anything else | `-32601` | `-32601` |
//!
//! Every 2026-07-28 request first passes the envelope checks of
//! [`super::envelope`]. A session request names a live session (HTTP:
//! `Mcp-Session-Id`, whose `MCP-Protocol-Version` must be a session
//! revision; stdio: the connection after `initialize`).
//!
//! The lists change while serving (components finish loading, native
//! servers' lists come and go): each change goes to every 2025-11-25
//! session's standalone stream and to every `subscriptions/listen` stream
//! that asked for it; a resource update goes to the sessions and streams
//! subscribed to its URI. A client's response to a request this server
//! sent it (2025-11-25, during a call: see [`super::asking`]) is handed to
//! the session that awaits it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, broadcast, mpsc, watch};

use super::asking::StateKey;
use super::changes::Change;
use super::context::{AskVia, Caller, Canceller, LogFloor, Origin, Request};
use super::envelope;
use super::exchange::{Connection, Door, Exchange, HttpFacts};
use super::jsonrpc::{self, Incoming, McpError, RequestId};
use super::protocol::{self, CacheScope, Revision};
use super::reply::{Answer, Outgoing, Reply, Stream};
use super::session::{Session, Sessions};
use super::shapes::Caching;
use super::shared_sessions::SharedSessions;
use super::tasks::running::Running;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::registry::{Catalog, Registry};

/// Knobs of the protocol layer, from the `[server]` table.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// Tools per `tools/list` page.
    pub page_size: usize,
    /// `tools/call` requests that may run at once across all clients.
    pub max_calls_in_flight: u32,
    /// Sessions that may exist at once.
    pub max_sessions: usize,
    /// Standalone streams one session may hold open at once.
    pub max_streams_per_session: usize,
    /// A session with no request for this long ends.
    pub session_idle_timeout: Duration,
    /// Whether 2025-11-25 sessions may start.
    pub legacy_sessions: bool,
    /// The `ttlMs` of cacheable 2026-07-28 results.
    pub cache_ttl_ms: u64,
    /// The `cacheScope` of cacheable 2026-07-28 results.
    pub cache_scope: CacheScope,
    /// The longest wait for a 2025-11-25 client's answer to one question.
    pub input_timeout: Duration,
    /// The longest a request waits for a source still loading.
    pub load_timeout: Duration,
    /// The most rounds of questions of one 2026-07-28 request.
    pub max_input_rounds: u32,
    /// Search mode: `tools/list` shows `search_tools` and these tools only.
    pub tool_search: Option<Arc<[String]>>,
    /// The limits of tasks (`[tasks]`).
    pub task_limits: crate::task_store::TaskLimits,
    /// 2026-07-28: how long a task-capable call runs inline before it
    /// becomes a task.
    pub task_promote_after: Duration,
}

impl McpOptions {
    /// The options `server` and `tasks` set.
    pub fn from_config(server: &ServerConfig, tasks: &crate::config::TasksConfig) -> McpOptions {
        McpOptions {
            task_limits: crate::task_store::TaskLimits::from_config(tasks),
            task_promote_after: Duration::from_millis(tasks.promote_after_ms),
            page_size: server.page_size as usize,
            max_calls_in_flight: server.max_calls_in_flight,
            max_sessions: server.max_sessions as usize,
            max_streams_per_session: server.max_streams_per_session as usize,
            session_idle_timeout: Duration::from_secs(server.session_idle_timeout_secs),
            legacy_sessions: server.legacy_sessions,
            cache_ttl_ms: server.cache_ttl_ms,
            // Answers are the same for every client, but with bearer tokens
            // configured they are for authorized eyes only.
            cache_scope: if server.auth_tokens_file.is_some() {
                CacheScope::Private
            } else {
                CacheScope::Public
            },
            input_timeout: Duration::from_millis(server.input_timeout_ms),
            load_timeout: Duration::from_millis(server.load_timeout_ms),
            max_input_rounds: server.max_input_rounds,
            tool_search: server.tool_search.then(|| server.tool_search_listed.clone().into()),
        }
    }
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions::from_config(&ServerConfig::default(), &Default::default())
    }
}

/// The protocol layer: tools through the registry, sessions, calls, streams.
pub struct McpServer {
    pub(super) registry: Arc<Registry>,
    pub(super) options: McpOptions,
    sessions: Sessions,
    pub(super) metrics: Arc<Metrics>,
    pub(super) calls: Arc<Semaphore>,
    pub(super) changes: broadcast::Sender<Change>,
    pub(super) shutdown: watch::Sender<bool>,
    /// Signs 2026-07-28 `requestState`s.
    pub(super) state_key: StateKey,
    /// Where tasks are kept.
    pub(super) tasks: Arc<dyn crate::task_store::TaskStore>,
    /// The tasks this replica runs.
    pub(super) running: Running,
    /// With `[cluster]`: the sessions' shared part.
    pub(super) shared: Option<Arc<SharedSessions>>,
}

/// Which generation serves a request.
enum Route {
    Stateless,
    Session(Arc<Session>),
    Initialize,
}

impl McpServer {
    /// The core over `registry`. Must be called within a tokio runtime: a
    /// task relays the registry's changes to subscribed clients. Fails only
    /// if the system has no randomness for the request-state key.
    /// Tasks are kept in `tasks`, or in memory when `None`; with a
    /// `cluster`, 2025-11-25 sessions are shared through it.
    pub fn new(
        registry: Arc<Registry>,
        options: McpOptions,
        metrics: Arc<Metrics>,
        tasks: Option<Arc<dyn crate::task_store::TaskStore>>,
        cluster: Option<Arc<crate::cluster::Cluster>>,
    ) -> Result<Arc<McpServer>, getrandom::Error> {
        let server = Arc::new(McpServer {
            state_key: StateKey::random()?,
            sessions: Sessions::new(options.max_sessions, options.session_idle_timeout),
            calls: Arc::new(Semaphore::new(options.max_calls_in_flight as usize)),
            // Task status changes come with every progress message.
            changes: broadcast::channel(1024).0,
            shutdown: watch::Sender::new(false),
            tasks: tasks
                .unwrap_or_else(|| crate::task_store::MemoryStore::new(options.task_limits)),
            running: Running::default(),
            shared: cluster
                .map(|cluster| SharedSessions::new(cluster, options.session_idle_timeout)),
            registry,
            options,
            metrics,
        });
        tokio::spawn(relay_changes(Arc::downgrade(&server)));
        tokio::spawn(McpServer::route_task_signals(Arc::downgrade(&server)));
        tokio::spawn(McpServer::hear_replicas(Arc::downgrade(&server)));
        Ok(server)
    }

    /// The live 2025-11-25 sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The catalogue of tools.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Whether 2025-11-25 sessions may start (`[server] legacy_sessions`).
    pub fn legacy_sessions(&self) -> bool {
        self.options.legacy_sessions
    }

    /// Stops taking part: `subscriptions/listen` streams get their final
    /// result, standalone streams end, sessions close. Calls in flight go on.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
        self.sessions.close_all();
    }

    /// Answers one message.
    pub fn handle(self: &Arc<Self>, message: Incoming, exchange: Exchange<'_>) -> Reply {
        match message {
            Incoming::Response { id, outcome } => {
                self.client_answer(id, outcome, &exchange);
                Reply::Accepted
            }
            Incoming::Notification { method, params } => {
                self.notification(&method, &params, &exchange)
            }
            Incoming::Request { id, method, params } => {
                let route = match self.route(&method, &params, &exchange) {
                    Ok(route) => route,
                    Err((error, revision)) => {
                        return Reply::Answer(Answer::error(Some(&id), error, revision));
                    }
                };
                let revision = match route {
                    Route::Initialize => {
                        return Reply::Answer(self.initialize(&id, &params, &exchange));
                    }
                    Route::Stateless => Revision::Stateless,
                    Route::Session(_) => Revision::Session,
                };
                let answered = match self.request(id.clone(), &method, params, route, &exchange) {
                    Ok(request) => self.method(&method, request),
                    Err(error) => Err(error),
                };
                answered.unwrap_or_else(|error| {
                    Reply::Answer(Answer::error(Some(&id), error, revision))
                })
            }
        }
    }

    /// Which revision serves a request (see [`super::protocol`]), and for
    /// a session request its session; an error says which revision's
    /// shape it takes.
    fn route(
        &self,
        method: &str,
        params: &Value,
        exchange: &Exchange<'_>,
    ) -> Result<Route, (McpError, Revision)> {
        let stateless = params
            .get("_meta")
            .and_then(Value::as_object)
            .is_some_and(|meta| meta.contains_key(protocol::META_PROTOCOL_VERSION))
            || matches!(method, "server/discover" | "subscriptions/listen");
        let sessions_off = || (self.sessions_off(method), Revision::Stateless);
        match exchange.door {
            Door::Http(facts) => {
                if let Some(session_id) = &facts.session_id {
                    if !self.options.legacy_sessions {
                        return Err(sessions_off());
                    }
                    check_session_version(facts).map_err(|e| (e, Revision::Session))?;
                    let session = self
                        .sessions
                        .get(session_id)
                        .map_err(|_| (McpError::SessionNotFound, Revision::Session))?;
                    return Ok(Route::Session(session));
                }
                let stateless_header = facts
                    .protocol_version
                    .as_deref()
                    .is_some_and(|version| !protocol::is_session_version(version));
                if stateless || stateless_header {
                    Ok(Route::Stateless)
                } else if !self.options.legacy_sessions {
                    Err(sessions_off())
                } else if method == "initialize" {
                    Ok(Route::Initialize)
                } else {
                    Err((McpError::SessionRequired, Revision::Session))
                }
            }
            Door::Stdio(connection) => {
                if stateless {
                    return Ok(Route::Stateless);
                }
                if !self.options.legacy_sessions {
                    return Err(sessions_off());
                }
                if method == "initialize" {
                    return Ok(Route::Initialize);
                }
                match connection.session() {
                    Some(session) => Ok(Route::Session(session)),
                    None => Err((
                        McpError::InvalidRequest(
                            "send initialize first (MCP 2025-11-25), or send each request with _meta \
                             \"io.modelcontextprotocol/protocolVersion\" (MCP 2026-07-28)"
                                .into(),
                        ),
                        Revision::Session,
                    )),
                }
            }
        }
    }

    /// The context of a routed request: the same for every method. A
    /// 2026-07-28 request first passes its envelope checks
    /// ([`super::envelope`]).
    fn request<'a>(
        &self,
        id: RequestId,
        method: &str,
        params: Value,
        route: Route,
        exchange: &Exchange<'a>,
    ) -> Result<Request<'a>, McpError> {
        let client = exchange.client.clone();
        Ok(match route {
            Route::Session(session) => Request {
                id,
                revision: Revision::Session,
                params,
                caller: Caller { client, origin: Origin::Session(session.clone()) },
                logs: LogFloor::Session(session.clone()),
                canceller: Some(match exchange.door {
                    Door::Http(_) => Canceller::Session(session.clone()),
                    Door::Stdio(connection) => Canceller::Connection(connection.clone()),
                }),
                http: None,
                asking: AskVia::Session(session),
            },
            Route::Stateless | Route::Initialize => {
                let http = match exchange.door {
                    Door::Http(facts) => Some(facts),
                    Door::Stdio(_) => None,
                };
                let envelope = envelope::check(method, &params, http)?;
                let (origin, canceller) = match exchange.door {
                    Door::Http(_) => (Origin::Http, None),
                    Door::Stdio(connection) => {
                        (Origin::Stdio, Some(Canceller::Connection(connection.clone())))
                    }
                };
                Request {
                    id,
                    revision: Revision::Stateless,
                    params,
                    caller: Caller { client, origin },
                    logs: LogFloor::Request(envelope.log_rank),
                    canceller,
                    http,
                    asking: AskVia::Request { capabilities: envelope.capabilities },
                }
            }
        })
    }

    /// What each method does, in either revision; where they differ, the
    /// revision is matched beside the method.
    fn method(self: &Arc<Self>, method: &str, request: Request<'_>) -> Result<Reply, McpError> {
        use Revision::{Session, Stateless};
        let answer = |result: &Value| {
            Ok(Reply::Answer(Answer::result(&request.id, result, request.revision)))
        };
        let (id, revision, params) = (&request.id, request.revision, &request.params);
        match (method, revision) {
            ("ping", Session) => answer(&json!({})),
            ("server/discover", Stateless) => {
                let result =
                    protocol::discover_result(self.options.cache_ttl_ms, self.options.cache_scope);
                Ok(Reply::Answer(Answer::result(id, &result, revision)))
            }
            // A second initialize in a session is answered like the first,
            // without starting another session.
            ("initialize", Session) => {
                let session = session_of(&request)?;
                let result = protocol::initialize_result(session.protocol_version());
                Ok(Reply::Answer(Answer::result(id, &result, revision)))
            }
            ("logging/setLevel", Session) => {
                let session = session_of(&request)?;
                set_level(session, params)?;
                self.share_level(session);
                answer(&json!({}))
            }
            ("resources/subscribe" | "resources/unsubscribe", Session) => {
                let session = session_of(&request)?;
                let Some(Value::String(uri)) = params.get("uri") else {
                    return Err(McpError::InvalidParams("\"uri\" must be a string".into()));
                };
                if method == "resources/subscribe" {
                    self.subscribe_resource(session, uri);
                } else {
                    session.unsubscribe(uri);
                }
                answer(&json!({}))
            }
            ("subscriptions/listen", Stateless) => {
                let AskVia::Request { capabilities } = &request.asking else {
                    return Err(McpError::Internal(
                        "a stateless request without its envelope".into(),
                    ));
                };
                self.listen(
                    id,
                    params,
                    request.canceller.clone(),
                    capabilities,
                    request.caller.owner(),
                )
            }
            ("tools/list" | "prompts/list" | "resources/list" | "resources/templates/list", _) => {
                Ok(self.list(method, id, params, revision))
            }
            ("completion/complete", _) => self.complete(request),
            ("tools/call", _) => self.call_tool(request),
            ("resources/read", _) => self.read_resource(request),
            ("prompts/get", _) => self.get_prompt(request),
            ("tasks/get" | "tasks/cancel" | "tasks/update", Stateless) => {
                if let AskVia::Request { capabilities } = &request.asking
                    && !protocol::declares_tasks(capabilities)
                {
                    return Err(McpError::MissingExtension {
                        extension: protocol::TASKS_EXTENSION,
                        message: format!("{method} is part of the tasks extension"),
                    });
                }
                let owner = request.caller.owner();
                match method {
                    "tasks/get" => self.get_task(id, params, owner, revision),
                    "tasks/update" => self.update_task(id, params, owner),
                    _ => self.cancel_task(id, params, owner, revision),
                }
            }
            ("tasks/get" | "tasks/result" | "tasks/list" | "tasks/cancel", Session) => {
                let owner = request.caller.owner();
                match method {
                    "tasks/get" => self.get_task(id, params, owner, revision),
                    "tasks/result" => self.task_result(id, params, owner),
                    "tasks/list" => self.list_tasks(id, params, owner),
                    _ => self.cancel_task(id, params, owner, revision),
                }
            }
            ("tasks/result" | "tasks/list", Stateless) => Err(McpError::MethodNotFound(format!(
                "{method} (not part of the MCP 2026-07-28 tasks extension: tasks/get carries the \
                 result, and tasks are not listed)"
            ))),
            (
                "initialize"
                | "ping"
                | "logging/setLevel"
                | "resources/subscribe"
                | "resources/unsubscribe",
                Stateless,
            ) => Err(McpError::MethodNotFound(format!("{method} (not part of MCP 2026-07-28)"))),
            (other, _) => Err(McpError::MethodNotFound(other.to_owned())),
        }
    }

    /// The refusal of a session request when `[server] legacy_sessions = false`:
    /// `initialize` is a method this server does not have; anything else is
    /// a request without the envelope this server needs.
    fn sessions_off(&self, method: &str) -> McpError {
        const WHY: &str = "this server speaks only MCP 2026-07-28, without sessions \
                           ([server] legacy_sessions = false): send each request with _meta \
                           \"io.modelcontextprotocol/protocolVersion\"";
        if method == "initialize" {
            McpError::MethodNotFound(format!("initialize ({WHY})"))
        } else {
            McpError::InvalidRequest(WHY.into())
        }
    }

    /// `initialize` without a session: negotiates the revision and starts one.
    fn initialize(&self, id: &RequestId, params: &Value, exchange: &Exchange<'_>) -> Answer {
        let requested = params.get("protocolVersion").and_then(Value::as_str);
        let version = protocol::negotiate(requested);
        let capabilities = params.get("capabilities").cloned().unwrap_or_else(|| json!({}));
        match exchange.door {
            Door::Http(_) => match self.sessions.create(version, capabilities) {
                Ok(session) => {
                    tracing::info!(session = session.id(), version, client = %exchange.client, "session started");
                    let mut answer = Answer::result(
                        id,
                        &protocol::initialize_result(version),
                        Revision::Session,
                    );
                    answer.session = Some(session);
                    answer
                }
                Err(err) => {
                    Answer::error(Some(id), McpError::Internal(err.to_string()), Revision::Session)
                }
            },
            Door::Stdio(connection) => {
                let session = connection.start_session(version, capabilities);
                tracing::info!(version = session.protocol_version(), "stdio session started");
                let result = protocol::initialize_result(session.protocol_version());
                Answer::result(id, &result, Revision::Session)
            }
        }
    }

    /// Hands a client's response to the session request awaiting it.
    fn client_answer(
        &self,
        id: Option<RequestId>,
        outcome: Result<Value, Value>,
        exchange: &Exchange<'_>,
    ) {
        let session = match exchange.door {
            Door::Http(facts) => {
                facts.session_id.as_deref().and_then(|id| self.sessions.get(id).ok())
            }
            Door::Stdio(connection) => connection.session(),
        };
        let (Some(session), Some(id)) = (session, id) else {
            tracing::debug!("a response with no session or id to match; ignored");
            return;
        };
        let key = match id.as_value() {
            Value::String(key) => key.clone(),
            other => other.to_string(),
        };
        // Another replica may have asked it (a shared session).
        let copy = self.shared.is_some().then(|| outcome.clone());
        if !session.asks().answer(&key, outcome) {
            if let Some(outcome) = copy {
                self.share_answer(session.id(), &key, outcome);
                return;
            }
            tracing::debug!(session = session.id(), request = %key, "a response to no request awaiting one; ignored");
        }
    }

    /// Answers with what `answer` makes of the catalogue once no source is
    /// still loading (at most `server.load_timeout_ms`): at once when none
    /// is. A client's first list sees every tool, however soon it asks.
    pub(super) fn when_settled(
        self: &Arc<Self>,
        id: &RequestId,
        answer: impl FnOnce(&McpServer, &RequestId) -> Answer + Send + 'static,
    ) -> Reply {
        if !self.registry.catalog().is_loading() {
            return Reply::Answer(answer(self, id));
        }
        let (server, id) = (self.clone(), id.clone());
        Reply::stream(true, move |out| async move {
            server.registry.settled_or_timeout().await;
            let _ = out.send(Outgoing::Response(answer(&server, &id)));
        })
    }

    /// How long a 2026-07-28 client may cache a list: `cache_ttl_ms`, or
    /// not at all while it may be incomplete (a source loading or failed).
    pub(super) fn list_caching(&self, catalog: &Catalog) -> Caching {
        let ttl = if catalog.is_complete() { self.options.cache_ttl_ms } else { 0 };
        Some((ttl, self.options.cache_scope))
    }

    fn notification(&self, method: &str, params: &Value, exchange: &Exchange<'_>) -> Reply {
        let cancelled = (method == "notifications/cancelled")
            .then(|| params.get("requestId").cloned().and_then(|v| RequestId::from_value(v).ok()))
            .flatten();
        match exchange.door {
            Door::Http(facts) => {
                if let Some(session_id) = &facts.session_id {
                    let Ok(session) = self.sessions.get(session_id) else {
                        return Reply::Answer(Answer::error(
                            None,
                            McpError::SessionNotFound,
                            Revision::Session,
                        ));
                    };
                    if let Some(id) = cancelled {
                        let found = session.in_flight().cancel(&id);
                        tracing::debug!(session = session.id(), request = %id, found, "cancel requested");
                        if !found {
                            // It may run on another replica (a shared session).
                            self.share_cancel(session.id(), &id);
                        }
                    }
                } else if let Some(version) =
                    facts.protocol_version.as_deref().filter(|v| !protocol::is_known_version(v))
                {
                    let error = McpError::UnsupportedVersion { requested: version.to_owned() };
                    return Reply::Answer(Answer::error(None, error, Revision::Stateless));
                }
                // A 2026-07-28 notification over HTTP has nothing to act on:
                // a client cancels by closing the response stream.
            }
            Door::Stdio(connection) => {
                if let Some(id) = cancelled {
                    let found = connection.in_flight().cancel(&id);
                    tracing::debug!(request = %id, found, "cancel requested");
                }
            }
        }
        Reply::Accepted
    }

    /// `GET /mcp` of a 2025-11-25 session: its standalone stream, which
    /// carries the list changes, and the updates of the resources it
    /// subscribed to, until the session ends or the server stops.
    pub fn session_stream(&self, facts: &HttpFacts) -> Result<Stream, McpError> {
        let session_id = facts.session_id.as_deref().ok_or(McpError::SessionRequired)?;
        check_session_version(facts)?;
        let session = self.sessions.get(session_id).map_err(|_| McpError::SessionNotFound)?;
        let limit = self.options.max_streams_per_session;
        let open = session.open_stream(limit).ok_or(McpError::TooManyStreams { limit })?;
        let closed = session.closed();
        Ok(self.changes_stream(
            move || {
                // Held by the stream's task: the slot frees when it ends.
                let _open = &open;
                Some(session.clone())
            },
            Some(closed),
        ))
    }

    /// What a stdio connection's 2025-11-25 session hears without asking
    /// (over HTTP it opens a standalone stream for it): list changes and
    /// its subscribed resources' updates, once `initialize` has started the
    /// session. Ends when the server shuts down.
    pub fn connection_stream(&self, connection: Arc<Connection>) -> Stream {
        self.changes_stream(move || connection.session(), None)
    }

    /// A stream of the changes a session hears; `session` is asked for the
    /// session at each change (a stdio connection has none before
    /// `initialize`), `closed` ends it with the session.
    fn changes_stream(
        &self,
        session: impl Fn() -> Option<Arc<Session>> + Send + 'static,
        closed: Option<watch::Receiver<bool>>,
    ) -> Stream {
        let mut shutdown = self.shutdown.subscribe();
        let mut changes = self.changes.subscribe();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = async move {
            let mut closed = closed;
            loop {
                let session_closed = async {
                    match &mut closed {
                        Some(closed) => {
                            let _ = closed.wait_for(|closed| *closed).await;
                        }
                        None => std::future::pending().await,
                    }
                };
                let change = tokio::select! {
                    () = session_closed => return,
                    _ = shutdown.wait_for(|down| *down) => return,
                    () = tx.closed() => return,
                    change = changes.recv() => change,
                };
                let change = match change {
                    Ok(change) => change,
                    // Missed changes: list changes are idempotent, so one of
                    // each will do; missed resource updates are lost.
                    Err(broadcast::error::RecvError::Lagged(_)) => Change::ToolsListChanged,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(session) = session() else { continue };
                if let Change::ResourceUpdated(uri) = &change
                    && !session.is_subscribed(uri)
                {
                    continue;
                }
                if let Change::Task(task) = &change {
                    let id = if session.id().is_empty() { "stdio" } else { session.id() };
                    if task.stateless || task.session.as_deref() != Some(id) {
                        continue;
                    }
                }
                let note = jsonrpc::notification(change.method(), &change.params(None));
                if tx.send(Outgoing::Notification(note)).is_err() {
                    return;
                }
            }
        };
        Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true }
    }

    /// `DELETE /mcp`: ends a 2025-11-25 session, cancelling its calls.
    pub fn end_session(&self, facts: &HttpFacts) -> Result<(), McpError> {
        let session_id = facts.session_id.as_deref().ok_or(McpError::SessionRequired)?;
        self.sessions.remove(session_id).map_err(|_| McpError::SessionNotFound)
    }
}

/// Relays the registry's list changes and resource updates to subscribed
/// clients until the server is dropped.
async fn relay_changes(server: std::sync::Weak<McpServer>) {
    let Some((mut changes, mut updates, mut seen)) = server.upgrade().map(|s| {
        (s.registry.changes(), s.registry.resource_updates(), s.registry.catalog().revisions())
    }) else {
        return;
    };
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                let Some(server) = server.upgrade() else { return };
                let now = server.registry.catalog().revisions();
                let announce = [
                    (now.tools != seen.tools, Change::ToolsListChanged),
                    (now.resources != seen.resources, Change::ResourcesListChanged),
                    (now.prompts != seen.prompts, Change::PromptsListChanged),
                ];
                seen = now;
                for (changed, change) in announce {
                    if changed {
                        let _ = server.changes.send(change);
                    }
                }
            }
            update = updates.recv() => {
                let uri = match update {
                    Ok(uri) => uri,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "resource updates came faster than they could be relayed; some were dropped");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(server) = server.upgrade() else { return };
                let _ = server.changes.send(Change::ResourceUpdated(uri));
            }
        }
    }
}

/// The session of a 2025-11-25 request.
fn session_of<'a>(request: &'a Request<'_>) -> Result<&'a Arc<Session>, McpError> {
    match &request.caller.origin {
        Origin::Session(session) => Ok(session),
        // The router gives every session request its session.
        _ => Err(McpError::Internal("a session request without its session".into())),
    }
}

/// In a session, `MCP-Protocol-Version` must name a session revision.
fn check_session_version(facts: &HttpFacts) -> Result<(), McpError> {
    match facts.protocol_version.as_deref() {
        Some(version) if !protocol::is_session_version(version) => {
            Err(McpError::VersionHeader(version.to_owned()))
        }
        _ => Ok(()),
    }
}

fn set_level(session: &Session, params: &Value) -> Result<(), McpError> {
    let level = params.get("level").and_then(Value::as_str).unwrap_or_default();
    let rank = protocol::log_level_rank(level).ok_or_else(|| {
        McpError::InvalidParams(format!(
            "level must be one of {}; got {level:?}",
            protocol::LOG_LEVELS.join(", ")
        ))
    })?;
    session.set_min_log_rank(rank);
    Ok(())
}
