//! The HTTP server: MCP Streamable HTTP (revision 2025-11-25) on `/mcp`,
//! and the operational endpoints.
//!
//! | endpoint | method | answer |
//! | --- | --- | --- |
//! | `/mcp` | POST | one JSON-RPC message in; JSON, or SSE when the call sends notifications |
//! | `/mcp` | GET | the session's standalone SSE stream (`notifications/tools/list_changed`) |
//! | `/mcp` | DELETE | ends the session: 204 |
//! | `/healthz` | GET | 200 `{"status":"ok"}` while the process serves |
//! | `/readyz` | GET | 503 while components load, then 200 with every component's and native server's state |
//! | `/metrics` | GET | Prometheus (OpenMetrics) text; names in [`crate::metrics`] |
//!
//! A POST to `/mcp` passes these checks in order; the first to fail answers
//! (status, JSON-RPC code in a JSON-RPC error body):
//!
//! 1. `Host` and `Origin` ([`guard`]): 403, `-32000`.
//! 2. Bearer token when configured ([`auth`]): 401 + `WWW-Authenticate`, `-32000`.
//! 3. Rate limit when configured: 429 + `Retry-After`, `-32000`.
//! 4. Components loaded: else 503 + `Retry-After`, `-32000`.
//! 5. `Accept` lists JSON and SSE: 406; `Content-Type` is JSON: 415.
//! 6. Body within `server.max_body_kib`: 413.
//! 7. One JSON-RPC message: parse error 400 `-32700`; batch or malformed 400 `-32600`.
//! 8. `server/discover` (a 2026-07-28 client's probe): 200, `-32601` with the
//!    supported revisions, whatever the session headers say.
//! 9. `initialize` without a session: a new session, `Mcp-Session-Id` in the response.
//! 10. Any other message: `Mcp-Session-Id` present (400) and live (404,
//!     `-32001`); `MCP-Protocol-Version`, when present, supported (400).
//! 11. Notifications and client responses: 202, no body. Requests: 200 with the
//!     result or a JSON-RPC error (unknown method `-32601`, bad params
//!     `-32602`); 503 `-32000` when `server.max_calls_in_flight` calls run.
//!
//! Shutdown (SIGTERM/SIGINT in `corral serve`): the listener closes,
//! standalone streams end, idle connections close, and requests in flight
//! get `server.shutdown_grace_ms` to finish.

pub mod auth;
pub mod config;
pub mod error;
pub mod guard;
pub mod sse;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming as IncomingBody;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use self::auth::{AuthFailure, BearerTokens, RateLimiter, TokenFileError};
pub use self::config::{RateLimitConfig, ServerConfig, ServerConfigError};
pub use self::error::HttpError;
use crate::config::Config;
use crate::mcp::{self, Incoming, McpError, McpOptions, McpServer, Outgoing, Reply};
use crate::metrics::{self, Metrics};
use crate::native::NativeServers;
use crate::registry::{Registry, RegistryError};
use crate::sandbox::{Sandbox, SandboxError};

/// A response body: a whole JSON document or an event stream.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;
/// A response.
pub type Response = hyper::Response<Body>;

/// The session header.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol revision header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";
/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The `[server]` table is invalid.
    #[error(transparent)]
    Config(#[from] ServerConfigError),
    /// The token file is unusable.
    #[error(transparent)]
    Tokens(#[from] TokenFileError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The wasm engine could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The components could not be loaded.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A native server's configuration could not be resolved.
    #[error(transparent)]
    Native(#[from] crate::config::ConfigError),
    /// A tool's input schema does not compile.
    #[error(transparent)]
    Schema(#[from] crate::mcp::schema::SchemaError),
    /// The loading task failed.
    #[error("loading the components failed: {0}")]
    Load(String),
}

/// Shared by every connection.
struct AppState {
    config: ServerConfig,
    mcp: OnceLock<Arc<McpServer>>,
    metrics: Arc<Metrics>,
    tokens: Option<BearerTokens>,
    limiter: Option<RateLimiter>,
    shutdown: watch::Sender<bool>,
}

/// A bound server, not yet serving.
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
    config: Config,
}

impl Server {
    /// Validates `config.server`, reads the token file and binds `listen`
    /// (default: `config.server.listen`). Components load in [`Server::run`].
    pub async fn bind(config: Config, listen: Option<SocketAddr>) -> Result<Server, ServeError> {
        let server_config = config.server.clone();
        server_config.validate()?;
        let tokens = match &server_config.auth_tokens_file {
            Some(path) => Some(BearerTokens::load(&config.base_dir.join(path))?),
            None => None,
        };
        let addr = listen.unwrap_or(server_config.listen);
        let listener =
            TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let state = Arc::new(AppState {
            limiter: server_config.rate_limit.map(RateLimiter::new),
            config: server_config,
            mcp: OnceLock::new(),
            metrics: Arc::new(Metrics::new()),
            tokens,
            shutdown: watch::Sender::new(false),
        });
        Ok(Server { listener, state, config })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener has an address; fall back to the configured one.
        self.listener.local_addr().unwrap_or(self.state.config.listen)
    }

    /// Loads the components, serves until `shutdown` resolves, then drains.
    /// `/readyz` answers 503 until loading is done; a loading failure stops
    /// the server with that error.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Server { listener, state, config } = self;
        let options = McpOptions {
            page_size: state.config.page_size as usize,
            max_calls_in_flight: state.config.max_calls_in_flight,
            max_sessions: state.config.max_sessions as usize,
            session_idle_timeout: Duration::from_secs(state.config.session_idle_timeout_secs),
        };
        let mut loading = tokio::spawn(load(config, options, state.metrics.clone()));
        let mut loaded = false;
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                result = &mut loading, if !loaded => {
                    loaded = true;
                    let server = result.map_err(|err| ServeError::Load(err.to_string()))??;
                    let _ = state.mcp.set(Arc::new(server));
                    tracing::info!("components loaded; ready");
                }
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(err) => {
                            // Out of file descriptors and the like: back off, go on.
                            tracing::warn!(error = %err, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    let service = service_fn(move |req| handle(state.clone(), peer, req));
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(err) = conn.await {
                            tracing::debug!(error = %err, %peer, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: draining requests in flight");
        state.shutdown.send_replace(true);
        if let Some(mcp) = state.mcp.get() {
            mcp.sessions().close_all();
        }
        let grace = Duration::from_millis(state.config.shutdown_grace_ms);
        if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "requests still in flight at the end of the grace period"
            );
        }
        loading.abort();
        if let Some(native) = state.mcp.get().and_then(|mcp| mcp.native()) {
            native.shutdown().await;
        }
        Ok(())
    }
}

/// Starts the engine, loads every component and compiles the schemas.
async fn load(
    config: Config,
    options: McpOptions,
    metrics: Arc<Metrics>,
) -> Result<McpServer, ServeError> {
    let mut sandbox = Sandbox::new(&config.engine)?;
    let observer = metrics.clone();
    sandbox.observe_network(Arc::new(move |component, decision| {
        observer.record_network(component, decision)
    }));
    metrics.register_components(config.components.iter().map(|c| c.name.as_str()));
    let registry = Registry::load(&config, &sandbox).await?;
    let tool_names: Vec<String> = registry.tools().map(|t| t.name.clone()).collect();
    let server = McpServer::new(sandbox, registry, options, metrics.clone())?;
    if config.native.is_empty() {
        return Ok(server);
    }
    let notify = Arc::new(server.tools_changed_notifier());
    let native =
        NativeServers::start(&config.native, &config.base_dir, tool_names, metrics, notify)?;
    Ok(server.with_native(native))
}

/// Every request enters here; the response's status is counted on the way out.
async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    req: Request<IncomingBody>,
) -> Result<Response, Infallible> {
    let response = route(&state, peer, req).await.unwrap_or_else(HttpError::into_response);
    state.metrics.record_http_response(response.status().as_u16());
    Ok(response)
}

async fn route(
    state: &AppState,
    peer: SocketAddr,
    req: Request<IncomingBody>,
) -> Result<Response, HttpError> {
    let get_only = |req: &Request<IncomingBody>| {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            Ok(())
        } else {
            Err(HttpError::MethodNotAllowed { allow: "GET, HEAD" })
        }
    };
    match req.uri().path() {
        "/mcp" => mcp_endpoint(state, peer, req).await,
        "/healthz" => {
            get_only(&req)?;
            Ok(json_response(StatusCode::OK, &json!({ "status": "ok" })))
        }
        "/readyz" => {
            get_only(&req)?;
            Ok(match state.mcp.get() {
                Some(mcp) => json_response(StatusCode::OK, &mcp.readiness()),
                None => json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({ "status": "loading", "components": [] }),
                ),
            })
        }
        "/metrics" => {
            get_only(&req)?;
            let mut response = full(StatusCode::OK, state.metrics.encode());
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
            Ok(response)
        }
        _ => Err(HttpError::NotFound),
    }
}

async fn mcp_endpoint(
    state: &AppState,
    peer: SocketAddr,
    req: Request<IncomingBody>,
) -> Result<Response, HttpError> {
    let headers = req.headers();
    let host = header_str(headers, header::HOST.as_str())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if !guard::host_allowed(host, &state.config.allowed_hosts) {
        return Err(HttpError::HostNotAllowed(host.unwrap_or_default().to_owned()));
    }
    let origin = header_str(headers, header::ORIGIN.as_str());
    if !guard::origin_allowed(origin, &state.config.allowed_origins) {
        return Err(HttpError::OriginNotAllowed(origin.unwrap_or_default().to_owned()));
    }
    let client: Arc<str> = match &state.tokens {
        Some(tokens) => match tokens.verify(header_str(headers, header::AUTHORIZATION.as_str())) {
            Ok(index) => format!("token#{index}").into(),
            Err(failure) => {
                return Err(HttpError::Unauthorized { invalid: failure == AuthFailure::Invalid });
            }
        },
        None => peer.ip().to_string().into(),
    };
    if let Some(limiter) = &state.limiter {
        limiter
            .check(&client, Instant::now())
            .map_err(|retry_after| HttpError::RateLimited { retry_after })?;
    }
    let mcp = state.mcp.get().ok_or(HttpError::Starting)?;
    match *req.method() {
        Method::POST => post(state, mcp, client, req).await,
        Method::GET => standalone_stream(state, mcp, req.headers()),
        Method::DELETE => {
            let session = session_id(req.headers())?;
            mcp.sessions().remove(session)?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        _ => Err(HttpError::MethodNotAllowed { allow: "GET, POST, DELETE" }),
    }
}

async fn post(
    state: &AppState,
    mcp: &Arc<McpServer>,
    client: Arc<str>,
    req: Request<IncomingBody>,
) -> Result<Response, HttpError> {
    let headers = req.headers();
    if !guard::accepts_post(header_str(headers, header::ACCEPT.as_str())) {
        return Err(HttpError::NotAcceptable("both application/json and text/event-stream"));
    }
    if !guard::is_json(header_str(headers, header::CONTENT_TYPE.as_str())) {
        return Err(HttpError::UnsupportedMediaType);
    }
    let limit = (state.config.max_body_kib as usize).saturating_mul(1024);
    let declared =
        header_str(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(HttpError::BodyTooLarge { limit });
    }
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, limit).collect().await.map_err(|err| {
        if err.is::<http_body_util::LengthLimitError>() {
            HttpError::BodyTooLarge { limit }
        } else {
            HttpError::BodyRead(err.to_string())
        }
    })?;
    let message = mcp::jsonrpc::parse(&body.to_bytes())
        .map_err(|(error, id)| HttpError::Mcp { error, id })?;

    let session_header = header_str(&parts.headers, SESSION_HEADER);
    match (&message, session_header) {
        (Incoming::Request { id, method, .. }, _) if method == "server/discover" => {
            let error = McpError::MethodNotFound(method.clone());
            return Ok(json_response(StatusCode::OK, &error.to_response(Some(id))));
        }
        (Incoming::Request { id, method, params }, None) if method == "initialize" => {
            let (session, result) = mcp
                .initialize(params)
                .map_err(|error| HttpError::Mcp { error, id: Some(id.clone()) })?;
            tracing::info!(session = session.id(), version = session.protocol_version(), %client, "session started");
            let mut response =
                json_response(StatusCode::OK, &mcp::jsonrpc::result_response(id, result));
            if let Ok(value) = HeaderValue::from_str(session.id()) {
                response.headers_mut().insert(SESSION_HEADER, value);
            }
            return Ok(response);
        }
        _ => {}
    }
    let session = mcp.sessions().get(session_id(&parts.headers)?)?;
    check_version(&parts.headers)?;
    match message {
        Incoming::Notification { method, params } => {
            mcp.handle_notification(&session, &method, &params);
            Ok(empty(StatusCode::ACCEPTED))
        }
        Incoming::Response => Ok(empty(StatusCode::ACCEPTED)),
        Incoming::Request { id, method, params } => {
            let reply = mcp
                .handle_request(&session, id.clone(), &method, params, client)
                .map_err(|error| HttpError::Mcp { error, id: Some(id) })?;
            Ok(match reply {
                Reply::Ready(response) => json_response(StatusCode::OK, &response),
                Reply::Call { mut messages, task } => {
                    let first = first_message(&mut messages, task).await;
                    match first {
                        Some(Outgoing::Response(response)) => {
                            json_response(StatusCode::OK, &response)
                        }
                        // Notifications first: stream them, then the response.
                        // Cancelled before any message: an empty stream.
                        first => sse_response(sse::call_stream(first, messages)),
                    }
                }
            })
        }
    }
}

/// Runs a call inline until its first message, then hands the rest of it
/// to its own task. A call that answers without notifications thus never
/// leaves the connection's task and costs no hand-off between threads.
async fn first_message(
    messages: &mut tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    task: mcp::CallTask,
) -> Option<Outgoing> {
    let mut call = DetachOnDrop(Some(task));
    let running = call.0.as_mut()?;
    tokio::select! {
        biased;
        () = running => {}
        first = messages.recv() => return first,
    }
    // Finished: every message it sent is already in the channel.
    call.0 = None;
    messages.recv().await
}

/// Holds a call that is being polled inline; if it is dropped unfinished
/// (streaming began, or the client went away) the call goes on in a task of
/// its own.
struct DetachOnDrop(Option<mcp::CallTask>);

impl Drop for DetachOnDrop {
    fn drop(&mut self) {
        if let (Some(task), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(task);
        }
    }
}

/// GET `/mcp`: the session's standalone stream.
fn standalone_stream(
    state: &AppState,
    mcp: &McpServer,
    headers: &HeaderMap,
) -> Result<Response, HttpError> {
    if !guard::accepts_sse(header_str(headers, header::ACCEPT.as_str())) {
        return Err(HttpError::NotAcceptable("text/event-stream"));
    }
    let session = mcp.sessions().get(session_id(headers)?)?;
    check_version(headers)?;
    let body = sse::standalone_stream(
        mcp.subscribe(),
        session.closed(),
        state.shutdown.subscribe(),
        Duration::from_secs(state.config.sse_keepalive_secs),
    );
    Ok(sse_response(body))
}

fn session_id(headers: &HeaderMap) -> Result<&str, HttpError> {
    header_str(headers, SESSION_HEADER).ok_or(HttpError::MissingSession)
}

fn check_version(headers: &HeaderMap) -> Result<(), HttpError> {
    match header_str(headers, VERSION_HEADER) {
        Some(version) if !mcp::protocol::is_supported(version) => {
            Err(HttpError::UnsupportedVersion(version.to_owned()))
        }
        _ => Ok(()),
    }
}

/// A header as text; a value that is not visible ASCII counts as absent.
fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut response = hyper::Response::new(Full::new(body.into()).boxed_unsync());
    *response.status_mut() = status;
    response
}

fn empty(status: StatusCode) -> Response {
    full(status, Bytes::new())
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = full(status, body.to_string());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn sse_response(body: sse::SseBody) -> Response {
    let mut response = hyper::Response::new(body.boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
