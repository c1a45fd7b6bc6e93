//! Resources, prompts and completion: the lists, `resources/read`,
//! `prompts/get`, `completion/complete` and (2025-11-25) resource
//! subscriptions.
//!
//! A read or a prompt runs like a tool call (see [`super::tools`]): the
//! target is resolved once (waiting, at most its `queue_timeout_ms`, for a
//! component still loading that could serve it), it takes a call slot
//! (`server.max_calls_in_flight`), may be cancelled, its events reach the
//! client, and its questions are asked through the request's [`Asker`]
//! (2026-07-28: `input_required`). Unlike a tool call, a failure is a
//! JSON-RPC error, since these results have no `isError`:
//!
//! | failure | error |
//! | --- | --- |
//! | no resource at the URI | `-32602`, `data.uri` |
//! | no such prompt, a missing or non-string argument | `-32602` |
//! | a capability the client did not declare | `-32021`, `data.requiredCapabilities` |
//! | no slot, or the component still loading | `-32000` (HTTP 503) |
//! | anything else (a trap, a limit, the component's own error) | `-32603`, naming the cause |
//!
//! Every read, prompt and completion is counted in
//! `corral_operations_total{kind, source, outcome}`, and has an audit line.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tracing::Instrument as _;

use super::asking::{Asker, RoundEnd};
use super::jsonrpc::{McpError, RequestId};
use super::reply::{Answer, Outgoing, Reply, Stream};
use super::running::{Relay, cancellation, drive};
use super::server::{LogFloor, McpServer, Origin};
use super::session::Session;
use super::shapes::{ListPage, OpResult, Stateless};
use super::tools::{CallRequest, cursor, log_stdio, next_cursor, progress_token};
use crate::call::{CallOutcome, Failure};
use crate::metrics::Metrics;
use crate::registry::{FinishedOp, Lookup, OpOutput, PromptEntry, ResourceTarget, Served};
use crate::sandbox::{CompletionRef, CompletionRequest};

/// The `source` label of an operation nothing served.
const NO_SOURCE: &str = "_none";

/// Which operation.
#[derive(Clone, Copy)]
enum Kind {
    Read,
    Prompt,
}

impl Kind {
    fn method(self) -> &'static str {
        match self {
            Kind::Read => "resources/read",
            Kind::Prompt => "prompts/get",
        }
    }
}

/// A resolved target.
enum Target {
    Resource(ResourceTarget),
    Prompt(Arc<PromptEntry>),
}

impl Target {
    fn served(&self) -> &Served {
        match self {
            Target::Resource(target) => target.served(),
            Target::Prompt(entry) => &entry.served,
        }
    }
}

impl McpServer {
    /// One page of `prompts/list`.
    pub(super) fn list_prompts(
        &self,
        id: &RequestId,
        params: &Value,
        stateless: Option<Stateless>,
    ) -> Result<Answer, McpError> {
        let after = cursor(params)?;
        let catalog = self.registry.catalog();
        let mut prompts = catalog.prompts_from(&after);
        let page: Vec<_> = prompts.by_ref().take(self.options.page_size).collect();
        let result = ListPage {
            key: "prompts",
            items: page.iter().map(|entry| &*entry.served.definition).collect(),
            next_cursor: prompts.next().map(|next| next_cursor(&next.name)),
            stateless: self.list_caching(stateless, &catalog),
        };
        Ok(Answer::result(id, &result, stateless.is_some()))
    }

    /// One page of `resources/list`.
    pub(super) fn list_resources(
        &self,
        id: &RequestId,
        params: &Value,
        stateless: Option<Stateless>,
    ) -> Result<Answer, McpError> {
        let after = cursor(params)?;
        let catalog = self.registry.catalog();
        let mut resources = catalog.resources_from(&after);
        let page: Vec<_> = resources.by_ref().take(self.options.page_size).collect();
        let result = ListPage {
            key: "resources",
            items: page.iter().map(|entry| &*entry.served.definition).collect(),
            next_cursor: resources.next().map(|next| next_cursor(&next.uri)),
            stateless: self.list_caching(stateless, &catalog),
        };
        Ok(Answer::result(id, &result, stateless.is_some()))
    }

    /// One page of `resources/templates/list`; the cursor is a position
    /// (templates are kept in source order, which decides matching).
    pub(super) fn list_templates(
        &self,
        id: &RequestId,
        params: &Value,
        stateless: Option<Stateless>,
    ) -> Result<Answer, McpError> {
        let after = cursor(params)?;
        let start = if after.is_empty() {
            0
        } else {
            after.parse::<usize>().map_err(|_| McpError::InvalidParams("invalid cursor".into()))?
        };
        let catalog = self.registry.catalog();
        let templates = catalog.templates();
        let end = templates.len().min(start.saturating_add(self.options.page_size));
        let page = templates.get(start..end).unwrap_or_default();
        let result = ListPage {
            key: "resourceTemplates",
            items: page.iter().map(|entry| &*entry.served.definition).collect(),
            next_cursor: (end < templates.len()).then(|| next_cursor(&end.to_string())),
            stateless: self.list_caching(stateless, &catalog),
        };
        Ok(Answer::result(id, &result, stateless.is_some()))
    }

    /// `resources/subscribe` of a 2025-11-25 session. Any URI may be
    /// subscribed to (a resource may appear later); updates come when its
    /// source announces them.
    pub(super) fn subscribe_resource(&self, session: &Session, uri: &str) {
        session.subscribe(uri);
        if let Some(target) = self.registry.catalog().resource_target(uri) {
            target.served().backend().subscribe(uri);
        }
    }

    /// `resources/read`: checks the request, takes its slot, and returns
    /// the stream that runs it.
    pub(super) fn read_resource(
        self: &Arc<Self>,
        request: CallRequest<'_>,
    ) -> Result<Reply, McpError> {
        let Some(Value::String(uri)) = request.params.get("uri").cloned() else {
            return Err(McpError::InvalidParams("\"uri\" must be a string".into()));
        };
        self.operation(Kind::Read, request, uri, Map::new())
    }

    /// `prompts/get`: checks the request, takes its slot, and returns the
    /// stream that runs it.
    pub(super) fn get_prompt(
        self: &Arc<Self>,
        request: CallRequest<'_>,
    ) -> Result<Reply, McpError> {
        let Some(Value::String(name)) = request.params.get("name").cloned() else {
            return Err(McpError::InvalidParams("\"name\" must be a string".into()));
        };
        let arguments = match request.params.get("arguments").cloned() {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(arguments)) => arguments,
            Some(_) => {
                return Err(McpError::InvalidParams("\"arguments\" must be an object".into()));
            }
        };
        self.operation(Kind::Prompt, request, name, arguments)
    }

    fn operation(
        self: &Arc<Self>,
        kind: Kind,
        request: CallRequest<'_>,
        target: String,
        arguments: Map<String, Value>,
    ) -> Result<Reply, McpError> {
        let started = Instant::now();
        let CallRequest { id, params, stateless, logs, canceller, client, origin, asking, .. } =
            request;
        let asker = self.asker(asking, &params, kind.method(), &target, &arguments)?;
        let found = match kind {
            Kind::Read => match self.registry.lookup_resource(&target) {
                Lookup::Found(found) => Some(Target::Resource(found)),
                Lookup::Loading { .. } => None,
                Lookup::Unknown | Lookup::Quarantined(_) => {
                    self.metrics.record_operation(
                        kind.method(),
                        NO_SOURCE,
                        CallOutcome::NotFound,
                        started.elapsed(),
                    );
                    return Err(McpError::resource_not_found(&target));
                }
            },
            Kind::Prompt => match self.registry.lookup_prompt(&target) {
                Lookup::Found(entry) => Some(Target::Prompt(entry)),
                Lookup::Loading { .. } => None,
                Lookup::Unknown | Lookup::Quarantined(_) => {
                    self.metrics.record_operation(
                        kind.method(),
                        NO_SOURCE,
                        CallOutcome::NotFound,
                        started.elapsed(),
                    );
                    return Err(McpError::InvalidParams(format!("unknown prompt: {target}")));
                }
            },
        };
        let permit = self
            .calls
            .clone()
            .try_acquire_owned()
            .map_err(|_| McpError::Busy { limit: self.options.max_calls_in_flight })?;
        let cancel = match &canceller {
            Some(canceller) => Some(
                canceller
                    .in_flight()
                    .begin(&id)
                    .map_err(|err| McpError::InvalidRequest(err.to_string()))?,
            ),
            None => None,
        };
        let cancel_on_drop = stateless.is_some() && canceller.is_none();
        let guard = OpGuard::new(&self.metrics, kind, permit, client, origin, started);
        let span = tracing::info_span!(
            "operation",
            kind = kind.method(),
            target = %target,
            outcome = tracing::field::Empty,
        );
        let progress_token = progress_token(&params);
        let (tx, rx) = mpsc::unbounded_channel();
        let server = self.clone();
        let op =
            Operation { kind, target, arguments, found, logs, progress_token, stateless, asker };
        let task = async move {
            let response = server.run_operation(&id, op, guard, cancel, &tx, cancel_on_drop).await;
            if let Some(canceller) = &canceller {
                canceller.in_flight().end(&id);
            }
            if let Some(answer) = response {
                let _ = tx.send(Outgoing::Response(answer));
            }
        }
        .instrument(span);
        Ok(Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop }))
    }

    async fn run_operation(
        &self,
        id: &RequestId,
        op: Operation,
        mut guard: OpGuard,
        cancel: Option<oneshot::Receiver<()>>,
        out: &mpsc::UnboundedSender<Outgoing>,
        cancel_on_close: bool,
    ) -> Option<Answer> {
        let Operation {
            kind,
            target,
            arguments,
            found,
            logs,
            progress_token,
            stateless,
            mut asker,
        } = op;
        let stateless_flag = stateless.is_some();
        let cancelled = cancellation(cancel, out, cancel_on_close);
        tokio::pin!(cancelled);
        let found = match found {
            Some(found) => found,
            None => {
                let resolved = match kind {
                    Kind::Read => tokio::select! {
                        resolved = self.registry.resolve_resource(&target) => resolved.map(Target::Resource),
                        () = &mut cancelled => return None,
                    },
                    Kind::Prompt => tokio::select! {
                        resolved = self.registry.resolve_prompt(&target) => resolved.map(Target::Prompt),
                        () = &mut cancelled => return None,
                    },
                };
                match resolved {
                    Ok(found) => found,
                    Err(failure) => {
                        guard.outcome = failure.outcome;
                        return Some(Answer::error(
                            Some(id),
                            op_error(kind, &target, &failure),
                            stateless_flag,
                        ));
                    }
                }
            }
        };
        guard.source = found.served().source.to_string();
        if let Target::Prompt(entry) = &found
            && let Err(message) = entry.check(&arguments)
        {
            guard.outcome = CallOutcome::InvalidArguments;
            return Some(Answer::error(Some(id), McpError::InvalidParams(message), stateless_flag));
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let backend = found.served().backend().clone();
        let running = match &found {
            Target::Resource(_) => backend.read_resource(&target, Some(events_tx)),
            Target::Prompt(entry) => backend.get_prompt(&entry.remote, arguments, Some(events_tx)),
        };
        let source = found.served().source.clone();
        let mut relay = Relay {
            logs: &logs,
            logger: &target,
            progress_token: progress_token.as_ref(),
            out,
            asker: &mut asker,
            source: &source,
            registry: &self.registry,
        };
        let done = drive(running, events, &mut relay, cancelled).await?;
        log_stdio(&target, &done);
        let (outcome, answer) = self.conclude_op(id, kind, &target, done, asker, stateless);
        guard.outcome = outcome;
        Some(answer)
    }

    /// The answer to a finished read or prompt.
    fn conclude_op(
        &self,
        id: &RequestId,
        kind: Kind,
        target: &str,
        done: FinishedOp,
        asker: Asker,
        stateless: Option<Stateless>,
    ) -> (CallOutcome, Answer) {
        let is_stateless = stateless.is_some();
        // A call the host stopped reports that; its questions are dropped.
        if let Asker::Rounds(rounds) = asker
            && !done.outcome.stopped()
        {
            let failure = match rounds.end(&self.state_key) {
                RoundEnd::Complete => None,
                RoundEnd::InputRequired(result) => {
                    return (CallOutcome::InputRequired, Answer::result(id, &*result, true));
                }
                RoundEnd::TooManyRounds(max) => Some(Failure::too_many_rounds(max)),
                RoundEnd::StateTooLarge => Some(Failure::state_too_large()),
            };
            if let Some(failure) = failure {
                let error = op_error(kind, target, &failure);
                return (failure.outcome, Answer::error(Some(id), error, is_stateless));
            }
        }
        match &done.output {
            OpOutput::Failure(failure) => (
                done.outcome,
                Answer::error(Some(id), op_error(kind, target, failure), is_stateless),
            ),
            output => {
                // A resource's contents come from a fresh instance on every
                // read and the host cannot know how long they stay true:
                // 2026-07-28 requires a TTL, and 0 says not to reuse them.
                let stateless = match kind {
                    Kind::Read => {
                        stateless.map(|_| Stateless { cache: Some((0, self.options.cache_scope)) })
                    }
                    Kind::Prompt => stateless,
                };
                let result = OpResult { output, stateless };
                (done.outcome, Answer::result(id, &result, is_stateless))
            }
        }
    }

    /// `completion/complete`: suggestions from the source of the prompt or
    /// resource template; none (an empty list) when the source does not
    /// complete.
    pub(super) fn complete(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        stateless: Option<Stateless>,
    ) -> Reply {
        let started = Instant::now();
        let request = match self.completion_request(params) {
            Ok(request) => request,
            Err(error) => {
                self.metrics.record_operation(
                    "completion/complete",
                    NO_SOURCE,
                    CallOutcome::InvalidArguments,
                    started.elapsed(),
                );
                return Reply::Answer(Answer::error(Some(id), error, stateless.is_some()));
            }
        };
        let Some((served, request)) = request else {
            let empty = OpOutput::Completion(Default::default());
            let result = OpResult { output: &empty, stateless };
            return Reply::Answer(Answer::result(id, &result, stateless.is_some()));
        };
        let Ok(permit) = self.calls.clone().try_acquire_owned() else {
            let error = McpError::Busy { limit: self.options.max_calls_in_flight };
            return Reply::Answer(Answer::error(Some(id), error, stateless.is_some()));
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (server, id) = (self.clone(), id.clone());
        let task = async move {
            let done = served.backend().complete(request).await;
            drop(permit);
            server.metrics.record_operation(
                "completion/complete",
                &served.source,
                done.outcome,
                started.elapsed(),
            );
            let answer = match &done.output {
                OpOutput::Failure(failure) => {
                    let error = McpError::Internal(failure.message.clone());
                    Answer::error(Some(&id), error, stateless.is_some())
                }
                output => Answer::result(&id, &OpResult { output, stateless }, stateless.is_some()),
            };
            let _ = tx.send(Outgoing::Response(answer));
        };
        Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true })
    }

    /// What a `completion/complete` request asks, and who answers it;
    /// `None` when nobody completes it (an empty answer).
    fn completion_request(
        &self,
        params: &Value,
    ) -> Result<Option<(ServedRef, CompletionRequest)>, McpError> {
        let invalid = |message: &str| McpError::InvalidParams(message.to_owned());
        let reference = params.get("ref").ok_or_else(|| invalid("\"ref\" is required"))?;
        let argument = params.get("argument").ok_or_else(|| invalid("\"argument\" is required"))?;
        let (Some(name), Some(value)) = (
            argument.get("name").and_then(Value::as_str),
            argument.get("value").and_then(Value::as_str),
        ) else {
            return Err(invalid("\"argument\" must have a string \"name\" and \"value\""));
        };
        let context = params
            .pointer("/context/arguments")
            .and_then(Value::as_object)
            .map(|arguments| {
                arguments
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let catalog = self.registry.catalog();
        let (served, reference) = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let prompt = reference
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("\"ref.name\" must be a string"))?;
                let entry = catalog
                    .prompt(prompt)
                    .ok_or_else(|| McpError::InvalidParams(format!("unknown prompt: {prompt}")))?;
                if !entry.completes {
                    return Ok(None);
                }
                (ServedRef::from(&entry.served), CompletionRef::Prompt(entry.remote.to_string()))
            }
            Some("ref/resource") => {
                let uri = reference
                    .get("uri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("\"ref.uri\" must be a string"))?;
                // A plain resource has nothing to complete.
                let Some(entry) = catalog.template(uri).filter(|entry| entry.completes) else {
                    return Ok(None);
                };
                (ServedRef::from(&entry.served), CompletionRef::ResourceTemplate(uri.to_owned()))
            }
            _ => return Err(invalid("\"ref.type\" must be \"ref/prompt\" or \"ref/resource\"")),
        };
        let request = CompletionRequest {
            reference,
            argument: name.to_owned(),
            value: value.to_owned(),
            context,
        };
        Ok(Some((served, request)))
    }
}

/// A source and backend, detached from the catalogue snapshot.
struct ServedRef {
    source: Arc<str>,
    backend: Arc<dyn crate::registry::Backend>,
}

impl ServedRef {
    fn backend(&self) -> &Arc<dyn crate::registry::Backend> {
        &self.backend
    }
}

impl From<&Served> for ServedRef {
    fn from(served: &Served) -> Self {
        ServedRef { source: served.source.clone(), backend: served.backend().clone() }
    }
}

/// A read or prompt that passed the protocol checks.
struct Operation {
    kind: Kind,
    target: String,
    arguments: Map<String, Value>,
    /// `None` while its component loads.
    found: Option<Target>,
    logs: LogFloor,
    progress_token: Option<Value>,
    stateless: Option<Stateless>,
    asker: Asker,
}

/// The JSON-RPC error for a read or prompt that failed.
fn op_error(kind: Kind, target: &str, failure: &Failure) -> McpError {
    match failure.outcome {
        CallOutcome::NotFound => match kind {
            Kind::Read => McpError::resource_not_found(target),
            Kind::Prompt => McpError::InvalidParams(failure.message.clone()),
        },
        CallOutcome::InvalidArguments | CallOutcome::UnknownTool => {
            McpError::InvalidParams(failure.message.clone())
        }
        CallOutcome::MissingCapability => McpError::MissingCapability {
            capability: failure.capability.unwrap_or_default().to_owned(),
            message: failure.message.clone(),
        },
        CallOutcome::Busy => McpError::Unavailable(failure.message.clone()),
        _ => McpError::Internal(failure.message.clone()),
    }
}

/// Accounts for one read or prompt however it ends; one dropped before
/// it sets an outcome counts as `cancelled`.
struct OpGuard {
    metrics: Arc<Metrics>,
    kind: Kind,
    source: String,
    outcome: CallOutcome,
    _permit: OwnedSemaphorePermit,
    client: Arc<str>,
    origin: Origin,
    started: Instant,
}

impl OpGuard {
    fn new(
        metrics: &Arc<Metrics>,
        kind: Kind,
        permit: OwnedSemaphorePermit,
        client: Arc<str>,
        origin: Origin,
        started: Instant,
    ) -> OpGuard {
        metrics.calls_in_flight().inc();
        OpGuard {
            metrics: metrics.clone(),
            kind,
            source: NO_SOURCE.to_owned(),
            outcome: CallOutcome::Cancelled,
            _permit: permit,
            client,
            origin,
            started,
        }
    }
}

impl Drop for OpGuard {
    fn drop(&mut self) {
        let wall = self.started.elapsed();
        self.metrics.calls_in_flight().dec();
        self.metrics.record_operation(self.kind.method(), &self.source, self.outcome, wall);
        tracing::Span::current().record("outcome", self.outcome.as_str());
        tracing::info!(
            target: "corral::audit",
            operation = self.kind.method(),
            source = %self.source,
            outcome = self.outcome.as_str(),
            duration_ms = wall.as_secs_f64() * 1e3,
            session = %self.origin,
            client = %self.client,
            "operation"
        );
    }
}
