//! `tools/list` and `tools/call`, the same in both generations but for the
//! members a 2026-07-28 result adds.
//!
//! A `tools/call` goes through these steps; the first to fail answers:
//!
//! 1. `name` is a string and `arguments` an object: else `-32602`.
//! 2. The tool is looked up once. A name no tool has and no loading
//!    component could have is `-32602` (`unknown tool`). A name a component
//!    still loading may expose waits for it, at most its `queue_timeout_ms`,
//!    then ends as a `busy` result naming the component.
//! 3. A call slot (`server.max_calls_in_flight`): else `-32000`, HTTP 503.
//! 4. The request id is registered for `notifications/cancelled` (a
//!    session's or stdio connection's): an id already in flight is `-32600`.
//! 5. 2026-07-28 over HTTP: the `Mcp-Param-*` headers match the arguments
//!    ([`super::envelope::check_param_headers`]): else `-32020`.
//! 6. The arguments match the tool's `inputSchema`: else an `isError`
//!    result (`invalid_arguments`), and the tool never runs.
//! 7. The backend runs the call; its events reach the client as
//!    [`super::running`] says, its questions through the request's
//!    [`Asker`]. A cancelled call ends with no response, as the protocol
//!    asks; its wasm is interrupted and its slot freed.
//! 8. 2026-07-28: a call whose guest asked questions the retry did not
//!    answer ends `input_required` ([`super::asking`]); its outcome is
//!    counted as such. A tool that needs a capability the client did not
//!    declare ends with `-32021` (2026-07-28) or an `isError` result
//!    (2025-11-25).
//!
//! Before step 3, a 2026-07-28 request's `inputResponses` and
//! `requestState` are checked: malformed, tampered, expired or misbound
//! ones are `-32602`.
//!
//! Every call that reaches step 3 ends with one metric update and one audit
//! line (target `corral::audit`: tool, outcome, duration, fuel, session,
//! client; never argument values).

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tracing::Instrument as _;

use super::asking::{Asker, RoundEnd, Rounds};
use super::envelope;
use super::exchange::HttpFacts;
use super::jsonrpc::{McpError, RequestId};
use super::reply::{Answer, Outgoing, Reply, Stream};
use super::running::{AskVia, Relay, cancellation, drive};
use super::server::{Canceller, LogFloor, McpServer, Origin};
use super::shapes::{CallToolResult, ListPage, Stateless};
use super::tasks::{Mode, TaskCall, owner_of};
use crate::call::{CallOutcome, Failure};
use crate::metrics::{Metrics, UNKNOWN_TOOL_LABEL};
use crate::registry::{FinishedCall, Lookup, ToolEntry, ToolOutput};

/// A request that runs a backend (`tools/call`, `resources/read`,
/// `prompts/get`) and what its revision and transport decide.
pub(super) struct CallRequest<'a> {
    pub id: RequestId,
    pub params: Value,
    /// `Some` for 2026-07-28.
    pub stateless: Option<Stateless>,
    pub logs: LogFloor,
    /// Where `notifications/cancelled` finds it; `None` for 2026-07-28
    /// over HTTP, cancelled by closing its response stream.
    pub canceller: Option<Canceller>,
    pub client: Arc<str>,
    /// Whose call it is, for the audit line.
    pub origin: Origin,
    /// 2026-07-28 over HTTP: the headers, for `Mcp-Param-*`.
    pub http: Option<&'a HttpFacts>,
    /// How its questions reach the client.
    pub asking: AskVia,
}

/// A call's tool: found, or to wait for.
enum Target {
    Found(Arc<ToolEntry>),
    Loading,
}

impl McpServer {
    /// One page of `tools/list` from the request's cursor.
    pub(super) fn list_tools(
        &self,
        id: &RequestId,
        params: &Value,
        stateless: Option<Stateless>,
    ) -> Result<Answer, McpError> {
        let after = cursor(params)?;
        let catalog = self.registry.catalog();
        let mut tools = catalog.tools_from(&after).filter(|entry| self.is_listed(entry));
        let page: Vec<_> = tools.by_ref().take(self.options.page_size).collect();
        let next_cursor = tools.next().map(|next| next_cursor(&next.name));
        let result = ListPage {
            key: "tools",
            items: page.iter().map(|entry| &*entry.definition).collect(),
            next_cursor,
            stateless: self.list_caching(stateless, &catalog),
        };
        Ok(Answer::result(id, &result, stateless.is_some()))
    }

    /// Whether `tools/list` shows `entry`: every tool, or in search mode
    /// `search_tools` and the tools `tool_search_listed` names.
    fn is_listed(&self, entry: &ToolEntry) -> bool {
        match &self.options.tool_search {
            None => true,
            Some(listed) => {
                &*entry.source == crate::search::SOURCE
                    || listed.iter().any(|name| **name == *entry.name)
            }
        }
    }

    /// The 2026-07-28 members of a list result: cacheable, for no time
    /// while components load (an answer known to be incomplete is not worth
    /// caching).
    pub(super) fn list_caching(
        &self,
        stateless: Option<Stateless>,
        catalog: &crate::registry::Catalog,
    ) -> Option<Stateless> {
        stateless.map(|_| Stateless {
            cache: Some((
                if catalog.is_loading() { 0 } else { self.options.cache_ttl_ms },
                self.options.cache_scope,
            )),
        })
    }

    /// Checks a `tools/call` request, takes its slot, and returns the
    /// stream that runs it.
    pub(super) fn call_tool(self: &Arc<Self>, request: CallRequest<'_>) -> Result<Reply, McpError> {
        // Whether a tool may run as a task is known once its component has
        // loaded: a task asked of a tool still loading waits for it first.
        if let Some(Value::String(tool)) = request.params.get("name")
            && asks_for_task(&request)
            && matches!(self.registry.lookup(tool), Lookup::Loading { .. })
        {
            let tool = tool.clone();
            return Ok(self.call_once_loaded(request, tool));
        }
        let started = Instant::now();
        let CallRequest {
            id,
            mut params,
            stateless,
            logs,
            canceller,
            client,
            origin,
            http,
            asking,
        } = request;
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
        let progress_token = progress_token(&params);
        // Kept past the asker only when a task may need them.
        let capabilities = match &asking {
            AskVia::Request { capabilities } if super::protocol::declares_tasks(capabilities) => {
                Some(capabilities.clone())
            }
            _ => None,
        };
        let asker = self.asker(asking, &params, "tools/call", &tool, &arguments)?;
        let target = match self.registry.lookup(&tool) {
            Lookup::Found(entry) => Target::Found(entry),
            Lookup::Loading { .. } => Target::Loading,
            Lookup::Unknown => {
                self.metrics.record_call(
                    UNKNOWN_TOOL_LABEL,
                    CallOutcome::UnknownTool,
                    started.elapsed(),
                    0,
                );
                return Err(McpError::InvalidParams(format!("unknown tool: {tool}")));
            }
            Lookup::Quarantined(reason) => {
                let done = FinishedCall::failed(Failure::quarantined(&reason));
                self.metrics.record_call(UNKNOWN_TOOL_LABEL, done.outcome, started.elapsed(), 0);
                tracing::warn!(tool = %tool, session = %origin, "call of a quarantined tool refused");
                return Ok(Reply::Answer(result_answer(&id, &done, stateless)));
            }
        };
        if let Target::Found(entry) = &target {
            let mode =
                self.task_mode(entry, &params, stateless.is_some(), capabilities.as_ref())?;
            // Arguments that fail the schema are answered inline, as always.
            if !matches!(mode, Mode::Inline) && entry.input.check(&entry.name, &arguments).is_ok() {
                if let Some(http) = http {
                    envelope::check_param_headers(entry.input.params(), &arguments, http)?;
                }
                let asker = match mode {
                    Mode::Promotable { .. } => asker,
                    // A 2025-11-25 task's client cannot answer questions.
                    _ => Asker::Rounds(Rounds::in_task(
                        Value::Object(Map::new()),
                        Map::new(),
                        0,
                        self.options.max_input_rounds,
                    )),
                };
                return self.start_task(TaskCall {
                    id,
                    entry: entry.clone(),
                    arguments,
                    progress_token,
                    owner: owner_of(&client, &origin),
                    client,
                    origin,
                    stateless,
                    logs,
                    asker,
                    mode,
                    canceller,
                });
            }
        }
        let permit = self
            .calls
            .clone()
            .try_acquire_owned()
            .map_err(|_| McpError::Busy { limit: self.options.max_calls_in_flight })?;
        if let (Some(http), Target::Found(entry)) = (http, &target) {
            envelope::check_param_headers(entry.input.params(), &arguments, http)?;
        }
        let cancel = match &canceller {
            Some(canceller) => Some(
                canceller
                    .in_flight()
                    .begin(&id)
                    .map_err(|err| McpError::InvalidRequest(err.to_string()))?,
            ),
            None => None,
        };
        // The headers are kept only to check them once a loading tool is known.
        let http = match target {
            Target::Loading => http.cloned(),
            Target::Found(_) => None,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let server = self.clone();
        let span = tracing::info_span!(
            "tool_call",
            tool = %tool,
            session = %origin,
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            fuel = tracing::field::Empty,
        );
        let cancel_on_drop = stateless.is_some() && canceller.is_none();
        // A tool still loading is counted under the label of unknown names
        // until it resolves, so that made-up names add no metric series.
        let label_name = match &target {
            Target::Found(entry) => entry.name.to_string(),
            Target::Loading => UNKNOWN_TOOL_LABEL.to_owned(),
        };
        let guard = CallGuard::new(
            &self.metrics,
            label_name,
            Accounting { permit, client, origin, started },
        );
        let call =
            PreparedCall { tool, arguments, progress_token, target, logs, http, stateless, asker };
        let task = async move {
            let response = server.run_call(&id, call, guard, cancel, &tx, cancel_on_drop).await;
            // Forget the id before answering, so a client may reuse it as
            // soon as it has the response.
            if let Some(canceller) = &canceller {
                canceller.in_flight().end(&id);
            }
            if let Some(answer) = response {
                // A send error means the client went away; the call still
                // finished (a disconnect is not a cancellation).
                let _ = tx.send(Outgoing::Response(answer));
            }
        }
        .instrument(span);
        Ok(Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop }))
    }

    /// `request` once `tool` has loaded (or failed to, or never will).
    fn call_once_loaded(self: &Arc<Self>, request: CallRequest<'_>, tool: String) -> Reply {
        let CallRequest { id, params, stateless, logs, canceller, client, origin, http, asking } =
            request;
        let http = http.cloned();
        let (tx, rx) = mpsc::unbounded_channel();
        let server = self.clone();
        let task = async move {
            if let Err(failure) = server.registry.resolve(&tool).await {
                let answer = if failure.outcome == CallOutcome::UnknownTool {
                    let error = McpError::InvalidParams(failure.message);
                    Answer::error(Some(&id), error, stateless.is_some())
                } else {
                    result_answer(&id, &FinishedCall::failed(failure), stateless)
                };
                let _ = tx.send(Outgoing::Response(answer));
                return;
            }
            let request = CallRequest {
                id: id.clone(),
                params,
                stateless,
                logs,
                canceller,
                client,
                origin,
                http: http.as_ref(),
                asking,
            };
            let reply = server.call_tool(request).unwrap_or_else(|error| {
                Reply::Answer(Answer::error(Some(&id), error, stateless.is_some()))
            });
            forward(reply, &tx).await;
        };
        Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true })
    }

    /// Runs a call to its end; `None` when it was cancelled (no response is
    /// sent then). The accounting is done when this returns.
    async fn run_call(
        &self,
        id: &RequestId,
        call: PreparedCall,
        mut guard: CallGuard,
        cancel: Option<oneshot::Receiver<()>>,
        out: &mpsc::UnboundedSender<Outgoing>,
        cancel_on_close: bool,
    ) -> Option<Answer> {
        let PreparedCall {
            tool,
            arguments,
            progress_token,
            target,
            logs,
            http,
            stateless,
            mut asker,
        } = call;
        let cancelled = cancellation(cancel, out, cancel_on_close);
        tokio::pin!(cancelled);
        let entry = match target {
            Target::Found(entry) => entry,
            Target::Loading => {
                let resolved = tokio::select! {
                    resolved = self.registry.resolve(&tool) => resolved,
                    () = &mut cancelled => return None,
                };
                match resolved {
                    Ok(entry) => {
                        guard.tool = entry.name.to_string();
                        if let Some(http) = &http
                            && let Err(error) = envelope::check_param_headers(
                                entry.input.params(),
                                &arguments,
                                http,
                            )
                        {
                            guard.outcome = CallOutcome::InvalidArguments;
                            return Some(Answer::error(Some(id), error, stateless.is_some()));
                        }
                        entry
                    }
                    Err(failure) if failure.outcome == CallOutcome::UnknownTool => {
                        guard.outcome = CallOutcome::UnknownTool;
                        let error = McpError::InvalidParams(failure.message);
                        return Some(Answer::error(Some(id), error, stateless.is_some()));
                    }
                    Err(failure) => {
                        let done = FinishedCall::failed(failure);
                        guard.outcome = done.outcome;
                        return Some(result_answer(id, &done, stateless));
                    }
                }
            }
        };
        if let Err(message) = entry.input.check(&entry.name, &arguments) {
            let done = FinishedCall::failed(Failure::invalid_arguments(message));
            guard.outcome = done.outcome;
            return Some(result_answer(id, &done, stateless));
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let running = entry.call(arguments, Some(events_tx), progress_token.is_some());
        let mut relay = Relay {
            logs: &logs,
            logger: &entry.name,
            progress_token: progress_token.as_ref(),
            out,
            asker: &mut asker,
            source: &entry.source,
            registry: &self.registry,
        };
        let done = drive(running, events, &mut relay, cancelled).await?;
        guard.fuel = done.fuel;
        log_stdio(&entry.name, &done);
        let (outcome, answer) = self.conclude(id, done, asker, stateless);
        guard.outcome = outcome;
        Some(answer)
    }

    /// The answer to a finished call: its result, or `input_required` when
    /// its guest asked what the retry did not answer, or `-32021` for a
    /// capability a 2026-07-28 client did not declare.
    pub(super) fn conclude(
        &self,
        id: &RequestId,
        done: FinishedCall,
        asker: Asker,
        stateless: Option<Stateless>,
    ) -> (CallOutcome, Answer) {
        // A call the host stopped reports that; its questions are dropped.
        if let Asker::Rounds(rounds) = asker
            && !done.outcome.stopped()
        {
            match rounds.end(&self.state_key) {
                RoundEnd::Complete => {}
                RoundEnd::InputRequired(result) => {
                    return (CallOutcome::InputRequired, Answer::result(id, &*result, true));
                }
                RoundEnd::TooManyRounds(max) => {
                    let done = FinishedCall::failed(Failure::too_many_rounds(max));
                    return (done.outcome, result_answer(id, &done, stateless));
                }
                RoundEnd::StateTooLarge => {
                    let done = FinishedCall::failed(Failure::state_too_large());
                    return (done.outcome, result_answer(id, &done, stateless));
                }
            }
        }
        if let (Some(_), ToolOutput::Failure(failure)) = (stateless, &done.output)
            && let Some(capability) = failure.capability
        {
            let error = McpError::MissingCapability {
                capability: capability.to_owned(),
                message: failure.message.clone(),
            };
            return (done.outcome, Answer::error(Some(id), error, true));
        }
        (done.outcome, result_answer(id, &done, stateless))
    }
}

/// Whether a `tools/call` asks to run as a task: 2025-11-25 with `task`,
/// 2026-07-28 from a client declaring the tasks extension.
fn asks_for_task(request: &CallRequest<'_>) -> bool {
    match &request.asking {
        AskVia::Request { capabilities } => super::protocol::declares_tasks(capabilities),
        AskVia::Session(_) => request.params.get("task").is_some_and(|task| !task.is_null()),
    }
}

/// Relays `reply` onto `out`, up to and including its response.
async fn forward(reply: Reply, out: &mpsc::UnboundedSender<Outgoing>) {
    let Stream { mut messages, task, .. } = match reply {
        Reply::Answer(answer) => {
            let _ = out.send(Outgoing::Response(answer));
            return;
        }
        Reply::Accepted => return,
        Reply::Stream(stream) => stream,
    };
    let relay = async {
        while let Some(message) = messages.recv().await {
            let last = matches!(message, Outgoing::Response(_));
            if out.send(message).is_err() || last {
                return;
            }
        }
    };
    tokio::join!(task, relay);
}

/// The request's progress token, if it asked for progress.
pub(super) fn progress_token(params: &Value) -> Option<Value> {
    params
        .pointer("/_meta/progressToken")
        .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
        .cloned()
}

/// The position a list request's `cursor` names (`""`: the start).
pub(super) fn cursor(params: &Value) -> Result<String, McpError> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(cursor)) => URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| McpError::InvalidParams(format!("invalid cursor {cursor:?}"))),
        Some(_) => Err(McpError::InvalidParams("cursor must be a string".into())),
    }
}

/// The cursor of the page starting at `key`.
pub(super) fn next_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

pub(super) fn result_answer(
    id: &RequestId,
    done: &FinishedCall,
    stateless: Option<Stateless>,
) -> Answer {
    let result = CallToolResult { output: &done.output, stateless };
    Answer::result(id, &result, stateless.is_some())
}

/// What a component wrote to stdout and stderr, for the operator's log.
pub(super) fn log_stdio<T>(target: &str, done: &crate::registry::Finished<T>) {
    for (stream, bytes) in [("stdout", &done.stdio.stdout), ("stderr", &done.stdio.stderr)] {
        if !bytes.is_empty() {
            tracing::debug!(target: "corral::guest", tool = target, stream, output = %String::from_utf8_lossy(bytes).trim_end(), "guest output");
        }
    }
}

/// A `tools/call` request that passed the protocol checks.
struct PreparedCall {
    tool: String,
    arguments: Value,
    progress_token: Option<Value>,
    target: Target,
    logs: LogFloor,
    http: Option<HttpFacts>,
    stateless: Option<Stateless>,
    asker: Asker,
}

/// What a call holds until it is accounted for.
pub(super) struct Accounting {
    pub permit: OwnedSemaphorePermit,
    pub client: Arc<str>,
    pub origin: Origin,
    pub started: Instant,
}

/// Accounts for one call however it ends: metrics, the in-flight gauge and
/// slot, and the audit line. A call dropped before it sets an outcome
/// counts as `cancelled`.
struct CallGuard {
    metrics: Arc<Metrics>,
    tool: String,
    accounting: Accounting,
    outcome: CallOutcome,
    fuel: u64,
}

impl CallGuard {
    fn new(metrics: &Arc<Metrics>, tool: String, accounting: Accounting) -> CallGuard {
        metrics.calls_in_flight().inc();
        CallGuard {
            metrics: metrics.clone(),
            tool,
            accounting,
            outcome: CallOutcome::Cancelled,
            fuel: 0,
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let wall = self.accounting.started.elapsed();
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
            session = %self.accounting.origin,
            client = %self.accounting.client,
            "tool call"
        );
        let _ = &self.accounting.permit;
    }
}
