//! The one invocation pipeline: every request that runs a backend
//! (`tools/call`, `resources/read`, `prompts/get`, `completion/complete`,
//! and every round of a task) is an [`Invocation`], and takes the same
//! steps in the same order, whichever door and revision it came through:
//!
//! 1. **Checked**: its params, and for 2026-07-28 its `inputResponses` and
//!    `requestState` ([`super::asking`]): else a JSON-RPC error.
//! 2. **Slot**: one of `server.max_calls_in_flight`, taken with
//!    [`Invocation::begin`] and held while it runs; a request that finds
//!    none is answered `-32000` (HTTP 503) at once. A task holds one
//!    while its call runs, and waits for one before each later round.
//!    `corral_calls_in_flight` counts the slots held.
//! 3. **Cancellable**: its id is registered where `notifications/cancelled`
//!    finds it (a session, the stdio connection): an id already in flight
//!    is `-32600`. A 2026-07-28 request over HTTP is cancelled by closing
//!    its response stream, a task by `tasks/cancel`.
//! 4. **Target**: looked up once; a name a source still loading may serve
//!    is awaited, at most `server.load_timeout_ms`, and cancellably
//!    ([`Invocation::resolve`]).
//! 5. **Run**: the backend runs; its events go to a [`Listener`] (the
//!    client's stream through [`ClientRelay`], or a task's output), its
//!    questions to the request's [`Asker`]. Dropping the run stops it: the
//!    store is dropped and the wasm interrupted, or a native server is
//!    sent `notifications/cancelled`.
//! 6. **Accounted**, however it ends (dropped unfinished: `cancelled`):
//!    one metric update, and one audit line (target `corral::audit`)
//!    naming the method, the target, the outcome, the duration, the fuel,
//!    the session, the client and the task; never argument values.
//!
//! The response is the caller's to write ([`super::tools`],
//! [`super::offers`], [`super::tasks`]): a tool's failure is an `isError`
//! result, an operation's a JSON-RPC error.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};

use super::asking::{Asker, Rounds};
use super::context::{AskVia, Caller, Canceller, LogFloor, Request};
use super::jsonrpc::{self, McpError, RequestId};
use super::protocol::{self, Revision};
use super::reply::{Answer, Outgoing};
use super::server::McpServer;
use crate::call::{CallOutcome, Failure};
use crate::metrics::{Metrics, UNKNOWN_TOOL_LABEL};
use crate::registry::{Catalog, Lookup, Registry};
use crate::sandbox::GuestEvent;

/// What an invocation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    /// `tools/call` (inline, or a task's round).
    CallTool,
    /// `resources/read`.
    ReadResource,
    /// `prompts/get`.
    GetPrompt,
    /// `completion/complete`.
    Complete,
}

impl Method {
    /// The MCP method.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::CallTool => "tools/call",
            Method::ReadResource => "resources/read",
            Method::GetPrompt => "prompts/get",
            Method::Complete => "completion/complete",
        }
    }
}

/// The `source` label of an operation nothing served.
const NO_SOURCE: &str = "_none";

/// A call slot (`server.max_calls_in_flight`), counted in
/// `corral_calls_in_flight` while held.
pub(super) struct Slot {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.metrics.calls_in_flight().dec();
    }
}

impl McpServer {
    /// A free call slot, or `-32000` when all are taken.
    pub(super) fn take_slot(&self) -> Result<Slot, McpError> {
        let permit = self
            .calls
            .clone()
            .try_acquire_owned()
            .map_err(|_| McpError::Busy { limit: self.options.max_calls_in_flight })?;
        Ok(self.slot(permit))
    }

    /// A call slot, once one is free (a task's later round).
    pub(super) async fn wait_for_slot(&self) -> Slot {
        let permit = self.calls.clone().acquire_owned().await;
        // The semaphore is never closed.
        self.slot(permit.expect("the call semaphore stays open"))
    }

    fn slot(&self, permit: OwnedSemaphorePermit) -> Slot {
        self.metrics.calls_in_flight().inc();
        Slot { _permit: permit, metrics: self.metrics.clone() }
    }
}

/// How an invocation is accounted for, however it ends: the metric of its
/// method and the audit line, written when it is dropped.
pub(super) struct Accounting {
    metrics: Arc<Metrics>,
    method: Method,
    /// What it ran: the tool's exposed name, the resource's URI, the
    /// prompt's name.
    target: Arc<str>,
    /// The metric label: the tool (tools/call, [`UNKNOWN_TOOL_LABEL`] until
    /// it resolves), else the serving source ([`NO_SOURCE`] until then).
    label: Arc<str>,
    caller: Caller,
    started: Instant,
    /// How it ended (`cancelled` until set).
    pub outcome: CallOutcome,
    /// Fuel its guest used, over every round.
    pub fuel: u64,
    /// The task it runs as, if it became one.
    pub task: Option<Arc<str>>,
}

impl Accounting {
    fn new(metrics: &Arc<Metrics>, method: Method, target: &str, caller: Caller) -> Accounting {
        let label = match method {
            Method::CallTool => UNKNOWN_TOOL_LABEL,
            _ => NO_SOURCE,
        };
        Accounting {
            metrics: metrics.clone(),
            method,
            target: target.into(),
            label: label.into(),
            caller,
            started: Instant::now(),
            outcome: CallOutcome::Cancelled,
            fuel: 0,
            task: None,
        }
    }

    /// Its target resolved: a tool is counted under its name, an operation
    /// under its source.
    pub fn resolved(&mut self, tool: &Arc<str>, source: &Arc<str>) {
        self.label = match self.method {
            Method::CallTool => tool.clone(),
            _ => source.clone(),
        };
    }
}

impl Drop for Accounting {
    fn drop(&mut self) {
        let wall = self.started.elapsed();
        match self.method {
            Method::CallTool => {
                self.metrics.record_call(&self.label, self.outcome, wall, self.fuel)
            }
            method => {
                self.metrics.record_operation(method.as_str(), &self.label, self.outcome, wall)
            }
        }
        tracing::info!(
            target: "corral::audit",
            method = self.method.as_str(),
            target = %self.target,
            outcome = self.outcome.as_str(),
            duration_ms = wall.as_secs_f64() * 1e3,
            fuel = self.fuel,
            session = %self.caller.origin,
            client = %self.caller.client,
            task = self.task.as_deref().unwrap_or(""),
            "invocation"
        );
    }
}

/// What cancels a running invocation.
pub(super) struct Cancel {
    /// `notifications/cancelled` of its id (sessions, stdio).
    notice: Option<oneshot::Receiver<()>>,
    /// Whether the client closing the response stream cancels it.
    on_close: bool,
    /// Where its id is registered, to forget it once it is answered.
    registered: Option<(Canceller, RequestId)>,
    /// Whether it was cancelled.
    fired: bool,
}

impl Cancel {
    /// Nothing cancels it but dropping it.
    pub fn never() -> Cancel {
        Cancel { notice: None, on_close: false, registered: None, fired: false }
    }

    /// Resolves when the invocation is cancelled; `out` is its stream.
    pub async fn cancelled(&mut self, out: &mpsc::UnboundedSender<Outgoing>) {
        if self.fired {
            return;
        }
        let notice = async {
            match &mut self.notice {
                Some(notice) => {
                    let _ = notice.await;
                }
                None => std::future::pending().await,
            }
        };
        let closed =
            async { if self.on_close { out.closed().await } else { std::future::pending().await } };
        tokio::select! {
            () = notice => {}
            () = closed => {}
        }
        // A oneshot is not polled again once it fired.
        self.notice = None;
        self.fired = true;
    }

    /// Where its id is registered, taken out (whoever holds it now
    /// forgets it).
    pub fn registration(&mut self) -> Option<(Canceller, RequestId)> {
        self.registered.take()
    }

    /// Forgets the registered id, so the client may reuse it once it has
    /// the response.
    pub fn forget(&mut self) {
        if let Some((canceller, id)) = self.registered.take() {
            canceller.in_flight().end(&id);
        }
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        self.forget();
    }
}

/// An invocation between its checks and its end: what it needs to run,
/// answer and account for itself.
pub(super) struct Invocation {
    /// The request's id.
    pub id: RequestId,
    /// Its revision.
    pub revision: Revision,
    /// Who asked.
    pub caller: Caller,
    /// Which log messages the client gets.
    pub logs: LogFloor,
    /// The request's progress token, if it asked for progress.
    pub progress_token: Option<Value>,
    /// Who answers its questions.
    pub asker: Asker,
    /// Its slot, while it holds one.
    pub slot: Option<Slot>,
    /// What cancels it.
    pub cancel: Cancel,
    /// Its metric and audit line.
    pub accounting: Accounting,
}

impl McpServer {
    /// The asker of a request to `method` on `target` with `arguments`:
    /// live for a session, else a round from the request's
    /// `inputResponses` and `requestState` (which may be refused).
    pub(super) fn asker(
        &self,
        via: AskVia,
        params: &Value,
        method: &str,
        target: &str,
        arguments: &impl serde::Serialize,
    ) -> Result<Asker, McpError> {
        Ok(match via {
            AskVia::Session(session) => {
                Asker::Live { session, timeout: self.options.input_timeout }
            }
            AskVia::Request { capabilities } => Asker::Rounds(Rounds::start(
                &self.state_key,
                params,
                super::asking::binding(method, target, arguments),
                capabilities,
                self.options.max_input_rounds,
            )?),
        })
    }

    /// Steps 1 to 3 of the module doc for `request`, whose method runs
    /// `target` with `arguments` (what a 2026-07-28 `requestState` is bound
    /// to); the client's `params` are kept in the request.
    pub(super) fn begin(
        &self,
        request: &mut Request<'_>,
        method: Method,
        target: &str,
        arguments: &impl serde::Serialize,
    ) -> Result<Invocation, McpError> {
        let asking =
            std::mem::replace(&mut request.asking, AskVia::Request { capabilities: Value::Null });
        let asker = self.asker(asking, &request.params, method.as_str(), target, arguments)?;
        let slot = self.take_slot()?;
        let notice = match &request.canceller {
            Some(canceller) => Some(
                canceller
                    .in_flight()
                    .begin(&request.id)
                    .map_err(|err| McpError::InvalidRequest(err.to_string()))?,
            ),
            None => None,
        };
        let cancel = Cancel {
            notice,
            on_close: request.cancel_on_close(),
            registered: request.canceller.clone().map(|c| (c, request.id.clone())),
            fired: false,
        };
        Ok(Invocation {
            id: request.id.clone(),
            revision: request.revision,
            caller: request.caller.clone(),
            logs: request.logs.clone(),
            progress_token: progress_token(&request.params),
            asker,
            slot: Some(slot),
            cancel,
            accounting: Accounting::new(&self.metrics, method, target, request.caller.clone()),
        })
    }
}

impl Invocation {
    /// Step 4: what `find` finds in the catalogue, waiting while a source
    /// that may serve it is loading (at most `server.load_timeout_ms`).
    /// `Ok(None)`: cancelled while it waited.
    pub async fn resolve<T>(
        &mut self,
        registry: &Registry,
        out: &mpsc::UnboundedSender<Outgoing>,
        find: impl Fn(&Catalog) -> Lookup<T>,
        unknown: impl FnOnce() -> Failure,
    ) -> Result<Option<T>, Failure> {
        if let Lookup::Found(found) = find(&registry.catalog()) {
            return Ok(Some(found));
        }
        tokio::select! {
            found = registry.wait_for(&find, unknown) => found.map(Some),
            () = self.cancel.cancelled(out) => Ok(None),
        }
    }

    /// Step 5's parts: the relay of its events to its client, for `logger`
    /// (the tool, prompt or URI) served by `source`, and what cancels it;
    /// [`drive`] runs the work with both.
    pub fn split<'a>(
        &'a mut self,
        logger: &'a str,
        source: &'a str,
        registry: &'a Registry,
        out: &'a mpsc::UnboundedSender<Outgoing>,
    ) -> (ClientRelay<'a>, &'a mut Cancel) {
        let relay = ClientRelay::new(
            &self.logs,
            logger,
            self.progress_token.as_ref(),
            out,
            &mut self.asker,
            source,
            registry,
        );
        (relay, &mut self.cancel)
    }

    /// Sends the response, last on the stream, after forgetting the id.
    pub fn answer(&mut self, out: &mpsc::UnboundedSender<Outgoing>, answer: Answer) {
        self.cancel.forget();
        // A send error means the client went away; the invocation still
        // finished (a disconnect is not a cancellation).
        let _ = out.send(Outgoing::Response(answer));
    }

    /// Answers with a JSON-RPC error, accounted as `outcome`.
    pub fn fail(
        &mut self,
        out: &mpsc::UnboundedSender<Outgoing>,
        outcome: CallOutcome,
        error: McpError,
    ) {
        self.accounting.outcome = outcome;
        let answer = Answer::error(Some(&self.id), error, self.revision);
        self.answer(out, answer);
    }
}

/// Where a running invocation's events go.
pub(super) trait Listener {
    /// One event of the running backend, in order.
    fn event(&mut self, event: GuestEvent) -> impl Future<Output = ()>;
}

/// The events of a request, relayed to its client:
///
/// | event | becomes |
/// | --- | --- |
/// | `log` | `notifications/message`, at or above the session's level or the request's `_meta` level (none for a 2026-07-28 request without one) |
/// | `progress` | `notifications/progress`, when the request carried `_meta.progressToken` |
/// | a question (`elicit`, `sample`, `list-roots`, or a native server's request) | asked through the request's [`Asker`] |
/// | `resource-updated` | a resource update for subscribers, if the source serves the URI |
pub(super) struct ClientRelay<'a> {
    logs: &'a LogFloor,
    logger: &'a str,
    progress_token: Option<&'a Value>,
    /// Where notifications and requests for the client go.
    pub out: &'a mpsc::UnboundedSender<Outgoing>,
    asker: &'a mut Asker,
    source: &'a str,
    registry: &'a Registry,
}

impl<'a> ClientRelay<'a> {
    /// A relay to `out` of the events of `logger` (the tool, prompt or URI)
    /// served by `source`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        logs: &'a LogFloor,
        logger: &'a str,
        progress_token: Option<&'a Value>,
        out: &'a mpsc::UnboundedSender<Outgoing>,
        asker: &'a mut Asker,
        source: &'a str,
        registry: &'a Registry,
    ) -> ClientRelay<'a> {
        ClientRelay { logs, logger, progress_token, out, asker, source, registry }
    }

    /// Relays one event at once.
    pub fn relay(&mut self, event: GuestEvent) {
        match event {
            GuestEvent::Log { level, message } => {
                let Some(rank) = protocol::log_level_rank(level.as_str()) else { return };
                if self.logs.wants(rank) {
                    let note = jsonrpc::notification(
                        "notifications/message",
                        &json!({ "level": level.as_str(), "logger": self.logger, "data": message }),
                    );
                    let _ = self.out.send(Outgoing::Notification(note));
                }
            }
            GuestEvent::Progress { done, total, message } => {
                let Some(token) = self.progress_token else { return };
                let mut params = Map::new();
                params.insert("progressToken".into(), token.clone());
                params.insert("progress".into(), json!(done));
                if let Some(total) = total {
                    params.insert("total".into(), json!(total));
                }
                if let Some(message) = message {
                    params.insert("message".into(), message.into());
                }
                let note = jsonrpc::notification("notifications/progress", &params);
                let _ = self.out.send(Outgoing::Notification(note));
            }
            GuestEvent::Ask { request, reply } => self.asker.ask(request, reply, self.out),
            GuestEvent::ResourceUpdated { uri } => {
                self.registry.announce(self.source, &uri);
            }
        }
    }
}

impl Listener for ClientRelay<'_> {
    async fn event(&mut self, event: GuestEvent) {
        self.relay(event);
    }
}

/// Runs `running` to its end while `listener` hears its `events`; `None`
/// if `cancelled` fires first (dropping `running` stops the work).
///
/// The work is polled first: one that finishes in its first poll (the
/// usual case) then never registers the cancel and event wakers, so its own
/// end (the event sender dropped with the store) does not wake this task
/// again, and tokio does not wake another worker for that needless poll. A
/// cancel is seen as soon as the work is pending: at its next fuel yield or
/// host wait.
pub(super) async fn drive<T>(
    running: impl Future<Output = T>,
    mut events: mpsc::UnboundedReceiver<GuestEvent>,
    listener: &mut impl Listener,
    cancelled: impl Future<Output = ()>,
) -> Option<T> {
    tokio::pin!(running);
    tokio::pin!(cancelled);
    let done = loop {
        tokio::select! {
            biased;
            done = &mut running => break done,
            () = &mut cancelled => return None,
            Some(event) = events.recv() => listener.event(event).await,
        }
    };
    while let Ok(event) = events.try_recv() {
        listener.event(event).await;
    }
    Some(done)
}

/// The request's progress token, if it asked for progress.
pub(super) fn progress_token(params: &Value) -> Option<Value> {
    params
        .pointer("/_meta/progressToken")
        .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
        .cloned()
}

/// What a component wrote to stdout and stderr, for the operator's log.
pub(super) fn log_stdio<T>(target: &str, done: &crate::registry::Finished<T>) {
    for (stream, bytes) in [("stdout", &done.stdio.stdout), ("stderr", &done.stdio.stderr)] {
        if !bytes.is_empty() {
            tracing::debug!(target: "corral::guest", target_name = target, stream, output = %String::from_utf8_lossy(bytes).trim_end(), "guest output");
        }
    }
}
