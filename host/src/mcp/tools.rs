//! `tools/call`, the same in both revisions but for the members a
//! 2026-07-28 result adds.
//!
//! A `tools/call` is an [`Invocation`] ([`super::invocation`] has the steps
//! every invocation takes); on top of those, in order, the first to fail
//! answering:
//!
//! 1. `name` is a string and `arguments` an object: else `-32602`.
//! 2. The tool resolves: a name no tool has is `-32602` (`unknown tool`);
//!    a quarantined tool, or one whose component is still loading at
//!    `server.load_timeout_ms`, an `isError` result saying why.
//! 3. Whether it runs as a task ([`super::tasks`]): what the client asked
//!    and the tool's `execution.taskSupport` disagree: `-32601` (2025-11-25)
//!    or `-32021` (2026-07-28).
//! 4. 2026-07-28 over HTTP: the `Mcp-Param-*` headers match the arguments
//!    ([`super::envelope::check_param_headers`]): else `-32020`.
//! 5. The arguments match the tool's `inputSchema`: else an `isError`
//!    result (`invalid_arguments`), and the tool never runs (nor becomes a
//!    task).
//! 6. The backend runs the call, or the task starts.
//! 7. 2026-07-28: a call whose guest asked questions the retry did not
//!    answer ends `input_required` ([`super::asking`]), counted as such. A
//!    tool that needs a capability the client did not declare ends with
//!    `-32021` (2026-07-28) or an `isError` result (2025-11-25).

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::asking::{Asker, RoundEnd};
use super::context::Request;
use super::envelope;
use super::exchange::HttpFacts;
use super::invocation::{Invocation, Method, drive, log_stdio};
use super::jsonrpc::{McpError, RequestId};
use super::protocol::Revision;
use super::reply::{Answer, Outgoing, Reply};
use super::server::McpServer;
use super::shapes::CallToolResult;
use super::tasks::{Mode, TaskAsk};
use crate::call::{CallOutcome, Failure};
use crate::registry::{FinishedCall, ToolOutput};

impl McpServer {
    /// `tools/call`: checks the request, takes its slot, and returns the
    /// stream that runs it.
    pub(super) fn call_tool(self: &Arc<Self>, mut request: Request<'_>) -> Result<Reply, McpError> {
        let Some(Value::String(tool)) = request.params.get_mut("name").map(Value::take) else {
            return Err(McpError::InvalidParams("\"name\" must be a string".into()));
        };
        let arguments = match request.params.get_mut("arguments").map(Value::take) {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(arguments @ Value::Object(_)) => arguments,
            Some(_) => {
                return Err(McpError::InvalidParams("\"arguments\" must be an object".into()));
            }
        };
        let task = TaskAsk::of(&request);
        // The headers are kept only to check them against the tool's.
        let http = request.http.cloned();
        let call = self.begin(&mut request, Method::CallTool, &tool, &arguments)?;
        let server = self.clone();
        Ok(Reply::stream(request.cancel_on_close(), move |out| async move {
            server.run_tool_call(call, ToolCall { tool, arguments, task, http }, out).await;
        }))
    }

    async fn run_tool_call(
        self: Arc<Self>,
        mut call: Invocation,
        request: ToolCall,
        out: mpsc::UnboundedSender<Outgoing>,
    ) {
        let ToolCall { tool, arguments, task, http } = request;
        let resolved = call
            .resolve(
                &self.registry,
                &out,
                |catalog| catalog.lookup(&tool),
                || Failure::unknown_tool(&tool),
            )
            .await;
        let entry = match resolved {
            Ok(Some(entry)) => entry,
            // Cancelled while it waited: no response.
            Ok(None) => return,
            Err(failure) if failure.outcome == CallOutcome::UnknownTool => {
                return call.fail(&out, failure.outcome, McpError::InvalidParams(failure.message));
            }
            Err(failure) => return self.conclude(call, &out, FinishedCall::failed(failure)),
        };
        call.accounting.resolved(&entry.name, &entry.source);
        let mode = match self.task_mode(&entry, &task) {
            Ok(mode) => mode,
            Err(error) => return call.fail(&out, CallOutcome::MissingCapability, error),
        };
        if let Some(http) = &http
            && let Err(error) =
                envelope::check_param_headers(entry.input.params(), &arguments, http)
        {
            return call.fail(&out, CallOutcome::InvalidArguments, error);
        }
        if let Err(message) = entry.input.check(&entry.name, &arguments) {
            let done = FinishedCall::failed(Failure::invalid_arguments(message));
            return self.conclude(call, &out, done);
        }
        if !matches!(mode, Mode::Inline) {
            return self.run_task(call, entry, arguments, mode, out).await;
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let running = entry.call(arguments, Some(events_tx), call.progress_token.is_some());
        let (mut relay, cancel) = call.split(&entry.name, &entry.source, &self.registry, &out);
        let Some(done) = drive(running, events, &mut relay, cancel.cancelled(&out)).await else {
            return;
        };
        log_stdio(&entry.name, &done);
        self.conclude(call, &out, done);
    }

    /// Answers a finished call: its result, or `input_required` when its
    /// guest asked what the retry did not answer, or `-32021` for a
    /// capability a 2026-07-28 client did not declare.
    pub(super) fn conclude(
        &self,
        mut call: Invocation,
        out: &mpsc::UnboundedSender<Outgoing>,
        done: FinishedCall,
    ) {
        call.accounting.fuel += done.fuel;
        let (outcome, answer) = self.call_answer(&call.id, done, call.asker.take(), call.revision);
        call.accounting.outcome = outcome;
        call.answer(out, answer);
    }

    /// The answer to a finished call, and how it is counted.
    pub(super) fn call_answer(
        &self,
        id: &RequestId,
        done: FinishedCall,
        asker: Asker,
        revision: Revision,
    ) -> (CallOutcome, Answer) {
        // A call the host stopped reports that; its questions are dropped.
        if let Asker::Rounds(rounds) = asker
            && !done.outcome.stopped()
        {
            let failure = match rounds.end(&self.state_key) {
                RoundEnd::Complete => None,
                RoundEnd::InputRequired(result) => {
                    return (CallOutcome::InputRequired, Answer::result(id, &*result, revision));
                }
                RoundEnd::TooManyRounds(max) => Some(Failure::too_many_rounds(max)),
                RoundEnd::StateTooLarge => {
                    Some(Failure::state_too_large(super::asking::MAX_STATE_BYTES))
                }
            };
            if let Some(failure) = failure {
                let done = FinishedCall::failed(failure);
                return (done.outcome, result_answer(id, &done, revision));
            }
        }
        if let (Revision::Stateless, ToolOutput::Failure(failure)) = (revision, &done.output)
            && let Some(capability) = failure.capability
        {
            let error = McpError::MissingCapability {
                capability: capability.to_owned(),
                message: failure.message.clone(),
            };
            return (done.outcome, Answer::error(Some(id), error, revision));
        }
        (done.outcome, result_answer(id, &done, revision))
    }
}

/// A `tools/call` past its checks.
struct ToolCall {
    tool: String,
    arguments: Value,
    task: TaskAsk,
    /// 2026-07-28 over HTTP: the request's headers.
    http: Option<HttpFacts>,
}

/// A finished call's result, in `revision`'s shape.
pub(super) fn result_answer(id: &RequestId, done: &FinishedCall, revision: Revision) -> Answer {
    Answer::result(id, &CallToolResult { output: &done.output, revision }, revision)
}
