//! The HTTP door: MCP Streamable HTTP on `/mcp` (both generations of the
//! protocol, decided by the MCP core) and the operational endpoints.
//!
//! | endpoint | method | answer |
//! | --- | --- | --- |
//! | `/mcp` | POST | one JSON-RPC message in; JSON, or SSE when the answer streams |
//! | `/mcp` | GET | a 2025-11-25 session's standalone SSE stream (`notifications/tools/list_changed`); 405 with `legacy_sessions = false` |
//! | `/mcp` | DELETE | ends a 2025-11-25 session: 204; 405 with `legacy_sessions = false` |
//! | `/healthz` | GET | 200 `{"status":"ok"}` as soon as the port is open |
//! | `/readyz` | GET | 503 while a component loads or a native server has not started yet, or after one failed (named), then 200; every component's and native server's state |
//! | `/metrics` | GET | Prometheus (OpenMetrics) text; names in [`crate::metrics`] |
//!
//! A POST to `/mcp` passes these checks in order; the first to fail answers
//! (status, JSON-RPC code in a JSON-RPC error body):
//!
//! 1. `Host` and `Origin` ([`guard`]): 403, `-32000`.
//! 2. Bearer token when configured ([`auth`]): 401 + `WWW-Authenticate`, `-32000`.
//! 3. Rate limit when configured: 429 + `Retry-After`, `-32000`.
//! 4. `Accept` lists JSON and SSE: 406; `Content-Type` is JSON: 415.
//! 5. Body within `server.max_body_kib`: 413.
//! 6. One JSON-RPC message: parse error 400 `-32700`; batch or malformed 400 `-32600`.
//! 7. The MCP core answers ([`crate::mcp::server`]); the status of an error
//!    answer is [`error::status_of`]'s. Notifications and client responses
//!    get 202 and no body.
//!
//! No request waits for the components to load: `initialize`,
//! `server/discover` and `tools/list` answer at once (the list holds the
//! tools that are ready), and a `tools/call` for a component still loading
//! waits for it inside the core.
//!
//! Shutdown (SIGTERM/SIGINT in `corral serve`): the listener closes,
//! `/readyz` answers 503, streams end (a `subscriptions/listen` with its
//! final result), idle connections close, and requests in flight get
//! `server.shutdown_grace_ms` to finish.

pub mod auth;
pub mod error;
pub mod guard;
pub mod sse;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

use self::auth::{AuthFailure, BearerTokens, TokenFileError};
pub use self::error::HttpError;
use crate::app::{App, NativeMode, StartError};
use crate::config::{Config, ServerConfig};
use crate::mcp::{Answer, Door, Exchange, HttpFacts, Outgoing, Reply, Revision, Stream};
use crate::metrics;
use crate::registry::{SourceKind, SourceState};

/// A response body: a whole JSON document or an event stream.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;
/// A response.
pub type Response = hyper::Response<Body>;

/// The session header.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The host could not be assembled.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The token file is unusable.
    #[error(transparent)]
    Tokens(#[from] TokenFileError),
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// A non-loopback address without authentication, not allowed.
    #[error(
        "refusing to serve {addr} without authentication: it is not a loopback address, so \
         anyone who can reach it could call every tool this host grants. Set \
         server.auth_tokens_file (bearer tokens), or, if something in front of Corral \
         authenticates, server.allow_unauthenticated_network = true \
         (--allow-unauthenticated-network)"
    )]
    Unauthenticated {
        /// The address.
        addr: SocketAddr,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Shared by every connection.
struct HttpState {
    config: ServerConfig,
    app: App,
    tokens: Option<BearerTokens>,
    limiter: Option<crate::cluster::Limiter>,
    /// `server.trusted_proxies`.
    proxies: Vec<ipnet::IpNet>,
    draining: AtomicBool,
}

/// A bound server, its components loading.
pub struct Server {
    listener: TcpListener,
    door: Arc<HttpState>,
    tls: Option<TlsAcceptor>,
}

impl Server {
    /// Reads the token file, assembles the host (components start loading
    /// in the background; native servers start) and binds `listen`
    /// (default: `config.server.listen`). Must be called within a tokio runtime.
    pub async fn bind(config: Config, listen: Option<SocketAddr>) -> Result<Server, ServeError> {
        let tokens = match &config.server.auth_tokens_file {
            Some(path) => Some(BearerTokens::load(&config.base_dir.join(path))?),
            None => None,
        };
        let tls = match (&config.server.tls_cert, &config.server.tls_key) {
            (Some(cert), Some(key)) => {
                Some(tls::acceptor(&config.base_dir.join(cert), &config.base_dir.join(key))?)
            }
            _ => None,
        };
        let addr = listen.unwrap_or(config.server.listen);
        if tokens.is_none() && !addr.ip().is_loopback() {
            if !config.server.allow_unauthenticated_network {
                return Err(ServeError::Unauthenticated { addr });
            }
            tracing::warn!(
                %addr,
                "serving a non-loopback address without authentication \
                 (server.allow_unauthenticated_network): whoever reaches it can call every tool"
            );
        }
        let listener =
            TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let app = App::start(&config, NativeMode::Start)?;
        let door = Arc::new(HttpState {
            limiter: config
                .server
                .rate_limit
                .map(|limit| crate::cluster::Limiter::new(limit, app.cluster.clone())),
            proxies: config.server.proxies().map_err(StartError::from)?,
            config: config.server,
            app,
            tokens,
            draining: AtomicBool::new(false),
        });
        Ok(Server { listener, door, tls })
    }

    /// `https` with TLS configured, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Answers one request exactly as a connection from `peer` would have
    /// it answered, without a connection: for callers that hold requests
    /// in memory (the fuzz targets). A streamed answer's body ends when its
    /// stream does.
    pub async fn respond<B: RequestBody>(&self, peer: SocketAddr, req: Request<B>) -> Response {
        match handle(self.door.clone(), peer, req).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// Waits until every component has loaded or failed (serving does not
    /// wait for it).
    pub async fn loaded(&self) {
        self.door.app.loaded().await;
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener has an address; fall back to the configured one.
        self.listener.local_addr().unwrap_or(self.door.config.listen)
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Server { listener, door, tls } = self;
        let graceful = GracefulShutdown::new();
        let connections = Arc::new(Semaphore::new(door.config.max_connections as usize));
        let header_timeout = Duration::from_millis(door.config.header_timeout_ms);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
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
                    // Over the limit: the connection is answered 503 and closed.
                    let slot = connections.clone().try_acquire_owned().ok();
                    let (door, tls, watcher) = (door.clone(), tls.clone(), graceful.watcher());
                    tokio::spawn(async move {
                        let Some(acceptor) = tls else {
                            return connection(door, peer, TokioIo::new(stream), slot, watcher).await;
                        };
                        match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => {
                                connection(door, peer, TokioIo::new(stream), slot, watcher).await;
                            }
                            Ok(Err(err)) => {
                                tracing::debug!(error = %err, %peer, "TLS handshake failed");
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake not done within header_timeout_ms");
                            }
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: draining requests in flight");
        door.draining.store(true, Ordering::Relaxed);
        door.app.mcp.shutdown();
        let grace = Duration::from_millis(door.config.shutdown_grace_ms);
        // Tasks run on without a request: they get the same grace, then
        // end cancelled, saying why.
        let (drained, ()) = tokio::join!(
            tokio::time::timeout(grace, graceful.shutdown()),
            door.app.mcp.drain_tasks(grace)
        );
        if drained.is_err() {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "requests still in flight at the end of the grace period"
            );
        }
        door.app.shutdown().await;
        Ok(())
    }
}

/// What a request's body may be: a connection's, or one held in memory
/// ([`Server::respond`]).
pub trait RequestBody:
    hyper::body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send
{
}

impl<B> RequestBody for B where
    B: hyper::body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
{
}

/// Serves one connection (after its TLS handshake, with TLS): every
/// request in turn, or, without a connection `slot`, one 503 answer.
async fn connection<I>(
    door: Arc<HttpState>,
    peer: SocketAddr,
    io: I,
    slot: Option<OwnedSemaphorePermit>,
    watcher: Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let header_timeout = Duration::from_millis(door.config.header_timeout_ms);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let Some(slot) = slot else {
        door.app.metrics.record_connection_refused();
        let max = door.config.max_connections;
        let refuse = service_fn(move |_req| async move {
            Ok::<_, Infallible>(HttpError::TooManyConnections(max).into_response())
        });
        let conn = builder.keep_alive(false).serve_connection(io, refuse);
        let _ = tokio::time::timeout(header_timeout, conn).await;
        return;
    };
    let service = service_fn({
        let door = door.clone();
        move |req| handle(door.clone(), peer, req)
    });
    if let Err(err) = watcher.watch(builder.serve_connection(io, service)).await {
        tracing::debug!(error = %err, %peer, "connection ended with an error");
    }
    drop(slot);
}

/// Every request enters here; the response's status is counted on the way out.
async fn handle<B: RequestBody>(
    door: Arc<HttpState>,
    peer: SocketAddr,
    req: Request<B>,
) -> Result<Response, Infallible> {
    let response = route(&door, peer, req).await.unwrap_or_else(HttpError::into_response);
    door.app.metrics.record_http_response(response.status().as_u16());
    Ok(response)
}

async fn route<B: RequestBody>(
    door: &HttpState,
    peer: SocketAddr,
    req: Request<B>,
) -> Result<Response, HttpError> {
    let get_only = |req: &Request<B>| {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            Ok(())
        } else {
            Err(HttpError::MethodNotAllowed { allow: "GET, HEAD" })
        }
    };
    match req.uri().path() {
        "/mcp" => mcp_endpoint(door, peer, req).await,
        "/healthz" => {
            get_only(&req)?;
            Ok(json_response(StatusCode::OK, json!({ "status": "ok" }).to_string()))
        }
        "/readyz" => {
            get_only(&req)?;
            let (ready, body) = readiness(door);
            let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            Ok(json_response(status, body.to_string()))
        }
        "/metrics" => {
            get_only(&req)?;
            let quarantined: usize =
                door.app.registry.status().iter().map(|s| s.quarantined.len()).sum();
            door.app.metrics.set_tools_quarantined(quarantined);
            let mut response = full(StatusCode::OK, door.app.metrics.encode());
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
            Ok(response)
        }
        _ => Err(HttpError::NotFound),
    }
}

/// `/readyz`: ready once every component has loaded and every native
/// server has started once, none failed, and the server is not draining
/// (a native server that served and now restarts keeps it ready: its
/// calls answer at once that it is down).
fn readiness(door: &HttpState) -> (bool, Value) {
    let mut loading = false;
    let mut failed = false;
    let sources = door.app.registry.status();
    for native in sources.iter().filter(|s| s.kind == SourceKind::Native) {
        match native.state {
            SourceState::Loading => loading = true,
            SourceState::Failed(_) => failed = true,
            SourceState::Ready => {}
        }
    }
    let components: Vec<Value> = sources
        .into_iter()
        .filter(|s| matches!(s.kind, SourceKind::Component { .. }))
        .map(|s| {
            let (state, error) = match &s.state {
                SourceState::Loading => {
                    loading = true;
                    ("loading", None)
                }
                SourceState::Ready => ("ready", None),
                SourceState::Failed(why) => {
                    failed = true;
                    ("failed", Some(why.clone()))
                }
            };
            json!({
                "name": s.name,
                "kind": "component",
                "state": state,
                "error": error,
                "tools": s.tools.iter().map(|t| &**t).collect::<Vec<_>>(),
                "quarantined_tools": s
                    .quarantined
                    .iter()
                    .map(|(tool, reason)| json!({"tool": &**tool, "reason": &**reason}))
                    .collect::<Vec<_>>(),
                "compile_seconds": s.compile_time.map(|t| t.as_secs_f64()),
                "from_cache": s.from_cache,
            })
        })
        .collect();
    let draining = door.draining.load(Ordering::Relaxed);
    let status = match (draining, failed, loading) {
        (true, _, _) => "draining",
        (_, true, _) => "failed",
        (_, _, true) => "loading",
        _ => "ready",
    };
    let mut body = json!({ "status": status, "components": components });
    if let Some(native) = &door.app.native {
        body["native"] = json!(native.readiness());
    }
    (status == "ready", body)
}

async fn mcp_endpoint<B: RequestBody>(
    door: &HttpState,
    peer: SocketAddr,
    req: Request<B>,
) -> Result<Response, HttpError> {
    let headers = req.headers();
    let host = header_str(headers, header::HOST.as_str())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if !guard::host_allowed(host, &door.config.allowed_hosts) {
        return Err(HttpError::HostNotAllowed(host.unwrap_or_default().to_owned()));
    }
    let origin = header_str(headers, header::ORIGIN.as_str());
    if !guard::origin_allowed(origin, &door.config.allowed_origins) {
        return Err(HttpError::OriginNotAllowed(origin.unwrap_or_default().to_owned()));
    }
    let client: Arc<str> = match &door.tokens {
        Some(tokens) => match tokens.verify(header_str(headers, header::AUTHORIZATION.as_str())) {
            Ok(index) => format!("token#{index}").into(),
            Err(failure) => {
                return Err(HttpError::Unauthorized { invalid: failure == AuthFailure::Invalid });
            }
        },
        None => {
            let forwarded: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect();
            guard::client_address(peer.ip(), &forwarded, &door.proxies).to_string().into()
        }
    };
    if let Some(limiter) = &door.limiter {
        limiter
            .check(&client)
            .await
            .map_err(|retry_after| HttpError::RateLimited { retry_after })?;
    }
    let mcp = &door.app.mcp;
    // A session another replica started: adopted from the shared store.
    let session = header_str(req.headers(), SESSION_HEADER).map(|id| trim(id).to_owned());
    if let Some(id) = &session
        && mcp.legacy_sessions()
    {
        mcp.find_session(id).await.map_err(HttpError::Session)?;
    }
    match *req.method() {
        Method::POST => post(door, client, req).await,
        Method::GET if mcp.legacy_sessions() => {
            if !guard::accepts_sse(header_str(req.headers(), header::ACCEPT.as_str())) {
                return Err(HttpError::NotAcceptable("text/event-stream"));
            }
            let stream = mcp.session_stream(&facts(req.headers())).map_err(HttpError::Session)?;
            let keepalive = Duration::from_secs(door.config.sse_keepalive_secs);
            Ok(sse_response(sse::stream(None, stream.messages, keepalive, true), stream.task))
        }
        Method::DELETE if mcp.legacy_sessions() => {
            mcp.end_session(&facts(req.headers())).map_err(HttpError::Session)?;
            if let Some(id) = &session {
                mcp.forget_session(id).await;
            }
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Method::GET | Method::DELETE => Err(HttpError::SessionsOff),
        _ => Err(HttpError::MethodNotAllowed { allow: "GET, POST, DELETE" }),
    }
}

async fn post<B: RequestBody>(
    door: &HttpState,
    client: Arc<str>,
    req: Request<B>,
) -> Result<Response, HttpError> {
    let headers = req.headers();
    if !guard::accepts_post(header_str(headers, header::ACCEPT.as_str())) {
        return Err(HttpError::NotAcceptable("both application/json and text/event-stream"));
    }
    if !guard::is_json(header_str(headers, header::CONTENT_TYPE.as_str())) {
        return Err(HttpError::UnsupportedMediaType);
    }
    let limit = (door.config.max_body_kib as usize).saturating_mul(1024);
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
    let facts = facts(&parts.headers);
    let message = match crate::mcp::jsonrpc::parse(&body.to_bytes()) {
        Ok(message) => message,
        Err((error, id)) => {
            let revision =
                if facts.session_id.is_none() { Revision::Stateless } else { Revision::Session };
            return Ok(answer_response(Answer::error(id.as_ref(), error, revision)));
        }
    };
    let reply = door.app.mcp.handle(message, Exchange { client, door: Door::Http(&facts) });
    if let Reply::Answer(Answer { session: Some(session), .. }) = &reply {
        // Shared before the answer leaves: the client's next request may
        // reach another replica.
        door.app.mcp.share_session(session).await;
    }
    Ok(match reply {
        Reply::Accepted => empty(StatusCode::ACCEPTED),
        Reply::Answer(answer) => answer_response(answer),
        Reply::Stream(stream) => {
            let keepalive = Duration::from_secs(door.config.sse_keepalive_secs);
            stream_response(stream, keepalive).await
        }
    })
}

/// Answers a stream: plain JSON if its first message is the response (a
/// call that sent no notification), else an SSE stream.
async fn stream_response(stream: Stream, keepalive: Duration) -> Response {
    let Stream { mut messages, task, cancel_on_drop } = stream;
    let mut running = InlineTask { task: Some(task), detach_on_drop: !cancel_on_drop };
    let first = running.first_message(&mut messages).await;
    match first {
        Some(Outgoing::Response(answer)) => answer_response(answer),
        // Notifications first: stream them, then the response. Cancelled
        // before any message: an empty stream.
        first => match running.task.take() {
            Some(task) => sse_response(sse::stream(first, messages, keepalive, false), task),
            None => {
                sse_response(sse::stream(first, messages, keepalive, false), Box::pin(async {}))
            }
        },
    }
}

/// A stream's task, polled inline while the door waits for its first
/// message: a call that answers without notifications thus never leaves
/// the connection's task and costs no hand-off between threads.
struct InlineTask {
    task: Option<crate::mcp::StreamTask>,
    /// If the request is dropped unfinished (the client went away), the
    /// task goes on alone (`true`) or is dropped, which cancels it.
    detach_on_drop: bool,
}

impl InlineTask {
    async fn first_message(
        &mut self,
        messages: &mut tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    ) -> Option<Outgoing> {
        let Some(running) = self.task.as_mut() else { return messages.recv().await };
        tokio::select! {
            biased;
            () = running => {}
            first = messages.recv() => return first,
        }
        // Finished: every message it sent is already in the channel.
        self.task = None;
        messages.recv().await
    }
}

impl Drop for InlineTask {
    fn drop(&mut self) {
        if let (Some(task), true, Ok(runtime)) =
            (self.task.take(), self.detach_on_drop, tokio::runtime::Handle::try_current())
        {
            runtime.spawn(task);
        }
    }
}

/// The MCP headers of a request, as the core reads them.
fn facts(headers: &HeaderMap) -> HttpFacts {
    let one = |name: &str| -> (Option<String>, bool) {
        let mut values = headers.get_all(name).iter();
        let first = values.next().and_then(|v| v.to_str().ok()).map(|v| trim(v).to_owned());
        (first, values.next().is_some())
    };
    let (session_id, _) = one(SESSION_HEADER);
    let (protocol_version, version_twice) = one("mcp-protocol-version");
    let (method, method_twice) = one("mcp-method");
    let (name, name_twice) = one("mcp-name");
    let repeated = [
        (version_twice, "MCP-Protocol-Version"),
        (method_twice, "Mcp-Method"),
        (name_twice, "Mcp-Name"),
    ]
    .into_iter()
    .find_map(|(twice, name)| twice.then_some(name));
    let params = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("mcp-param-"))
        .map(|(name, value)| {
            // A value that is not visible ASCII can never match an argument:
            // such values must come as =?base64?...?=.
            let value =
                value.to_str().map(|v| trim(v).to_owned()).unwrap_or_else(|_| "\u{fffd}".into());
            (name.as_str().to_owned(), value)
        })
        .collect();
    HttpFacts { session_id, protocol_version, method, name, params, repeated }
}

/// A header value without the optional whitespace around it (RFC 9110 §5.5).
fn trim(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
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
pub(crate) fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut response = full(status, body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The response for an MCP answer: its status, its session header.
fn answer_response(answer: Answer) -> Response {
    let status = match &answer.error {
        Some(error) => error::status_of(error, answer.revision),
        None => StatusCode::OK,
    };
    let mut response = json_response(status, answer.body);
    if let Some(session) = &answer.session
        && let Ok(value) = HeaderValue::from_str(session.id())
    {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// An SSE response; `task` drives its messages and runs on its own.
fn sse_response(body: sse::SseBody, task: crate::mcp::StreamTask) -> Response {
    tokio::spawn(task);
    let mut response = hyper::Response::new(body.boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
