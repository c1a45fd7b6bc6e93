//! Resources, prompts and completion: `resources/read`, `prompts/get`,
//! `completion/complete` and (2025-11-25) resource subscriptions.
//!
//! A read, a prompt and a completion are [`Invocation`]s, as a tool call is
//! ([`super::invocation`] has the steps they share: checks, slot,
//! cancellation, target, run, accounting). Unlike a tool call, a failure is
//! a JSON-RPC error, since these results have no `isError`:
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

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::asking::RoundEnd;
use super::context::Request;
use super::invocation::{Cancel, Invocation, Method, drive, log_stdio};
use super::jsonrpc::McpError;
use super::reply::{Answer, Outgoing, Reply};
use super::server::McpServer;
use super::session::Session;
use super::shapes::OpResult;
use crate::call::{CallOutcome, Failure};
use crate::registry::{FinishedOp, OpOutput, PromptEntry, ResourceTarget, Served};
use crate::sandbox::{CompletionRef, CompletionRequest};

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
        mut request: Request<'_>,
    ) -> Result<Reply, McpError> {
        let Some(Value::String(uri)) = request.params.get("uri").cloned() else {
            return Err(McpError::InvalidParams("\"uri\" must be a string".into()));
        };
        let call = self.begin(&mut request, Method::ReadResource, &uri, &Map::new())?;
        let server = self.clone();
        Ok(Reply::stream(request.cancel_on_close(), move |out| async move {
            server.run_operation(call, Method::ReadResource, uri, Map::new(), out).await;
        }))
    }

    /// `prompts/get`: checks the request, takes its slot, and returns the
    /// stream that runs it.
    pub(super) fn get_prompt(
        self: &Arc<Self>,
        mut request: Request<'_>,
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
        let call = self.begin(&mut request, Method::GetPrompt, &name, &arguments)?;
        let server = self.clone();
        Ok(Reply::stream(request.cancel_on_close(), move |out| async move {
            server.run_operation(call, Method::GetPrompt, name, arguments, out).await;
        }))
    }

    /// Runs a read or a prompt to its answer.
    async fn run_operation(
        self: Arc<Self>,
        mut call: Invocation,
        method: Method,
        name: String,
        arguments: Map<String, Value>,
        out: mpsc::UnboundedSender<Outgoing>,
    ) {
        let registry = &self.registry;
        let resolved = match method {
            Method::ReadResource => call
                .resolve(
                    registry,
                    &out,
                    |c| c.lookup_resource(&name),
                    || Failure::resource_not_found(&name),
                )
                .await
                .map(|found| found.map(Target::Resource)),
            _ => call
                .resolve(
                    registry,
                    &out,
                    |c| c.lookup_prompt(&name),
                    || Failure::unknown_prompt(&name),
                )
                .await
                .map(|found| found.map(Target::Prompt)),
        };
        let target = match resolved {
            Ok(Some(target)) => target,
            Ok(None) => return,
            Err(failure) => {
                let error = op_error(method, &name, &failure);
                return call.fail(&out, failure.outcome, error);
            }
        };
        let served = target.served();
        call.accounting.resolved(&served.source, &served.source);
        if let Target::Prompt(entry) = &target
            && let Err(message) = entry.check(&arguments)
        {
            return call.fail(
                &out,
                CallOutcome::InvalidArguments,
                McpError::InvalidParams(message),
            );
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let backend = served.backend().clone();
        let running = match &target {
            Target::Resource(_) => backend.read_resource(&name, Some(events_tx)),
            Target::Prompt(entry) => backend.get_prompt(&entry.remote, arguments, Some(events_tx)),
        };
        let (mut relay, cancel) = call.split(&name, &served.source, registry, &out);
        let Some(done) = drive(running, events, &mut relay, cancel.cancelled(&out)).await else {
            return;
        };
        log_stdio(&name, &done);
        self.conclude_op(call, &out, method, &name, done);
    }

    /// Answers a finished read or prompt.
    fn conclude_op(
        &self,
        mut call: Invocation,
        out: &mpsc::UnboundedSender<Outgoing>,
        method: Method,
        target: &str,
        done: FinishedOp,
    ) {
        let revision = call.revision;
        // A call the host stopped reports that; its questions are dropped.
        if let super::asking::Asker::Rounds(rounds) = call.asker.take()
            && !done.outcome.stopped()
        {
            let failure = match rounds.end(&self.state_key) {
                RoundEnd::Complete => None,
                RoundEnd::InputRequired(result) => {
                    call.accounting.outcome = CallOutcome::InputRequired;
                    let answer = Answer::result(&call.id, &*result, revision);
                    return call.answer(out, answer);
                }
                RoundEnd::TooManyRounds(max) => Some(Failure::too_many_rounds(max)),
                RoundEnd::StateTooLarge => {
                    Some(Failure::state_too_large(super::asking::MAX_STATE_BYTES))
                }
            };
            if let Some(failure) = failure {
                return call.fail(out, failure.outcome, op_error(method, target, &failure));
            }
        }
        match &done.output {
            OpOutput::Failure(failure) => {
                call.fail(out, done.outcome, op_error(method, target, failure));
            }
            output => {
                // A resource's contents come from a fresh instance on every
                // read and the host cannot know how long they stay true:
                // 2026-07-28 requires a TTL, and 0 says not to reuse them.
                let caching = match method {
                    Method::ReadResource => Some((0, self.options.cache_scope)),
                    _ => None,
                };
                call.accounting.outcome = done.outcome;
                let answer =
                    Answer::result(&call.id, &OpResult { output, revision, caching }, revision);
                call.answer(out, answer);
            }
        }
    }

    /// `completion/complete`: suggestions from the source of the prompt or
    /// resource template; none (an empty list) when the source does not
    /// complete.
    pub(super) fn complete(self: &Arc<Self>, mut request: Request<'_>) -> Result<Reply, McpError> {
        let revision = request.revision;
        let Some((served, completion)) = self.completion_request(&request.params)? else {
            let empty = OpOutput::Completion(Default::default());
            let result = OpResult { output: &empty, revision, caching: None };
            return Ok(Reply::Answer(Answer::result(&request.id, &result, revision)));
        };
        let target = match &completion.reference {
            CompletionRef::Prompt(name) | CompletionRef::ResourceTemplate(name) => name.clone(),
        };
        let mut call = self.begin(&mut request, Method::Complete, &target, &Map::new())?;
        call.accounting.resolved(&served.source, &served.source);
        // A completion asks nothing and is not cancelled: it is quick.
        call.cancel = Cancel::never();
        Ok(Reply::stream(true, move |out| async move {
            let done = served.backend.complete(completion).await;
            match &done.output {
                OpOutput::Failure(failure) => {
                    let error = McpError::Internal(failure.message.clone());
                    call.fail(&out, done.outcome, error);
                }
                output => {
                    call.accounting.outcome = done.outcome;
                    let result = OpResult { output, revision, caching: None };
                    let answer = Answer::result(&call.id, &result, revision);
                    call.answer(&out, answer);
                }
            }
        }))
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

impl From<&Served> for ServedRef {
    fn from(served: &Served) -> Self {
        ServedRef { source: served.source.clone(), backend: served.backend().clone() }
    }
}

/// The JSON-RPC error for a read or prompt that failed.
fn op_error(method: Method, target: &str, failure: &Failure) -> McpError {
    match failure.outcome {
        CallOutcome::NotFound => match method {
            Method::ReadResource => McpError::resource_not_found(target),
            _ => McpError::InvalidParams(failure.message.clone()),
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
