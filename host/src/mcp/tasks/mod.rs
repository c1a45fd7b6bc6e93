//! MCP tasks: a `tools/call` that runs in the background, which its client
//! polls, answers, cancels and fetches later, in both revisions.
//!
//! | | 2026-07-28 (extension `io.modelcontextprotocol/tasks`) | 2025-11-25 |
//! | --- | --- | --- |
//! | the client asks | declares the extension in the request's `clientCapabilities` | `task` in `tools/call` params |
//! | a task is made | when the call still runs after `[tasks] promote_after_ms`: the answer is `resultType: "task"`, flat; a call that ends (or asks its first questions) sooner is answered as usual | at once: `{"task": {...}}` |
//! | tool `forbidden` | runs inline | `-32601` |
//! | tool `required`, client did not ask | `-32021`, `data.requiredCapabilities.extensions` | `-32601` |
//! | `tasks/get` | the task; with `result`, `error` or `inputRequests` inlined | the task |
//! | `tasks/result` | `-32601` | waits for the end; the result (with `_meta` `related-task`) |
//! | `tasks/list` | `-32601` | the client's tasks, by pages |
//! | `tasks/update` | answers to `inputRequests`; `{resultType: "complete"}` | `-32601` |
//! | `tasks/cancel` | `{resultType: "complete"}`, also for a finished task | the task, `cancelled`; `-32602` for a finished one |
//! | a tool error (`isError`) | `completed`, the result inlined | `failed`, the result from `tasks/result` |
//! | the host stopped the call (time, fuel, memory, trap) | `failed`, `error` naming the outcome | `failed`, the `isError` result |
//!
//! A 2026-07-28 `tasks/*` request of a client that did not declare the
//! extension is `-32021`; over HTTP, `Mcp-Name` must equal `params.taskId`.
//!
//! The call of a task runs under its tool's task limits (`task_timeout_ms`,
//! `task_fuel`) in a fresh instance per round, and survives its client's
//! disconnect once it is a task. Its log and progress messages, and the
//! stdout and stderr of each round, go to its output, whose last lines
//! (20, or `_meta` `dev.corral/outputLines` of the `tasks/get` request, at
//! most 1000) come with every `tasks/get` as `_meta` `dev.corral/output`;
//! its latest progress message is its `statusMessage`. The output is a
//! `_meta` member rather than a tool because the client, not the model,
//! holds the task id and polls `tasks/get`: every client can show it
//! without another tool in every catalogue.
//!
//! A question the guest asks once the call is a task (2026-07-28) parks
//! the task `input_required` with the round's questions as `inputRequests`;
//! when `tasks/update` has answered all of them, the guest runs again from
//! the start in a fresh instance and finds its answers by key, as with the
//! rounds of [`super::asking`]. A 2025-11-25 task cannot ask (its client
//! has no channel to answer on): the guest gets `unsupported`.
//!
//! `tasks/cancel` interrupts the wasm at once (its store is dropped),
//! and answers once the call has stopped, so its slots are free for the
//! client's next call; at shutdown, running tasks get `shutdown_grace_ms`,
//! then end `cancelled`, saying so. Every start, cancel and end is an audit
//! line (target `corral::audit`).
//!
//! A task's call is an [`super::invocation::Invocation`] like any other:
//! it holds a call slot (`server.max_calls_in_flight`) while a round runs,
//! gives it back while it waits for answers, and waits for one before its
//! next round; it is accounted once, when it ends, with its task id.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | how a call runs (inline or as a task), the tasks this replica runs, the shapes of tasks |
//! | [`run`] | running a task's call, round after round |
//! | [`methods`] | `tasks/get`, `tasks/update`, `tasks/cancel`, `tasks/result`, `tasks/list` |

pub mod methods;
pub mod run;
pub mod running;
pub mod shapes;

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::changes::Change;
use super::context::{AskVia, Request};
use super::jsonrpc::{McpError, RequestId};
use super::protocol::{self, Revision};
use super::reply::{Answer, Outgoing, Reply};
use super::server::McpServer;
use super::shapes::CallToolResult;
use crate::config::TaskSupport;
use crate::registry::{FinishedCall, ToolEntry, ToolOutput};
use crate::task_store::{Signal, Task, TaskEnd, TaskError, TaskStatus};

/// Lines of output a `tasks/get` answer carries by default.
pub const TAIL_LINES: usize = 20;
/// The most lines of output a `tasks/get` may ask for.
pub const MAX_TAIL_LINES: usize = 1000;
/// The longest `tasks/cancel` waits for its call to stop (a wasm call stops
/// at its next fuel yield or host wait, well within this).
const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// How a `tools/call` runs, by what the client asked and the tool allows.
pub(super) enum Mode {
    /// Inline, as a plain call.
    Inline,
    /// 2025-11-25: as a task from the start.
    Legacy,
    /// 2026-07-28: inline, becoming a task after `promote_after_ms`.
    Promotable {
        /// The request's `clientCapabilities`, for later rounds' questions.
        capabilities: Value,
    },
}

/// What a `tools/call` asks of tasks.
pub(super) enum TaskAsk {
    /// 2025-11-25: whether its params carry `task`.
    Session {
        /// `task` is present and not `null`.
        asked: bool,
    },
    /// 2026-07-28: the request's `clientCapabilities`, when they declare
    /// the tasks extension (a task's later rounds ask with them).
    Stateless {
        /// `Some` when the client declared the tasks extension.
        capabilities: Option<Value>,
    },
}

impl TaskAsk {
    /// What `request` asks.
    pub(super) fn of(request: &Request<'_>) -> TaskAsk {
        match &request.asking {
            AskVia::Session(_) => TaskAsk::Session {
                asked: request.params.get("task").is_some_and(|task| !task.is_null()),
            },
            AskVia::Request { capabilities } => TaskAsk::Stateless {
                capabilities: protocol::declares_tasks(capabilities).then(|| capabilities.clone()),
            },
        }
    }
}

impl McpServer {
    /// How a `tools/call` of `entry` runs, by what the client asked:
    /// `Err` when the tool's task support and the request disagree.
    pub(super) fn task_mode(&self, entry: &ToolEntry, ask: &TaskAsk) -> Result<Mode, McpError> {
        let support = entry.task_support;
        match ask {
            TaskAsk::Stateless { capabilities } => match (support, capabilities) {
                (TaskSupport::Forbidden, _) | (TaskSupport::Optional, None) => Ok(Mode::Inline),
                // A shared store that cannot be reached: a call that may
                // run inline does, rather than fail for want of a task.
                (TaskSupport::Optional, Some(_)) if !self.tasks.available() => Ok(Mode::Inline),
                (TaskSupport::Required, None) => Err(McpError::MissingExtension {
                    extension: protocol::TASKS_EXTENSION,
                    message: format!("tool {:?} runs only as a task", entry.name),
                }),
                (_, Some(capabilities)) => {
                    Ok(Mode::Promotable { capabilities: capabilities.clone() })
                }
            },
            TaskAsk::Session { asked } => match (support, asked) {
                (TaskSupport::Forbidden, true) => Err(McpError::MethodNotFound(format!(
                    "tools/call with \"task\": tool {:?} does not run as a task \
                     (its execution.taskSupport is forbidden)",
                    entry.name
                ))),
                (TaskSupport::Required, false) => Err(McpError::MethodNotFound(format!(
                    "tools/call without \"task\": tool {:?} runs only as a task \
                     (its execution.taskSupport is required)",
                    entry.name
                ))),
                (_, true) => Ok(Mode::Legacy),
                (_, false) => Ok(Mode::Inline),
            },
        }
    }

    /// Sets `corral_tasks` from the store.
    pub(super) fn census(&self) {
        self.metrics.set_tasks(self.tasks.census());
    }

    /// Waits up to `grace` for this replica's tasks to end, then cancels
    /// the rest, saying why. For the doors, at shutdown.
    pub async fn drain_tasks(&self, grace: Duration) {
        let mut idle = self.running.idle.subscribe();
        let drained =
            tokio::time::timeout(grace, idle.wait_for(|running| *running == 0)).await.is_ok();
        if drained {
            return;
        }
        let reason: Arc<str> = format!(
            "the server shut down; the task did not end within shutdown_grace_ms ({} ms)",
            grace.as_millis()
        )
        .into();
        let left = *idle.borrow();
        tracing::warn!(tasks = left, "{reason}: cancelling");
        self.running.cancel_all(&reason);
        // The runs record their end as soon as they see the cancel.
        let _ =
            tokio::time::timeout(Duration::from_secs(2), idle.wait_for(|running| *running == 0))
                .await;
    }
}

/// A finished task call's status, end and message, by revision. The end
/// is serialized here, once: every answer that carries it embeds this text.
fn settle(finished: &FinishedCall, revision: Revision) -> (TaskStatus, TaskEnd, Option<String>) {
    let failure = match &finished.output {
        ToolOutput::Failure(failure) => Some(failure),
        _ => None,
    };
    if revision == Revision::Stateless
        && let Some(failure) = failure
        && (finished.outcome.stopped() || failure.capability.is_some())
    {
        let code = if failure.capability.is_some() { -32021 } else { -32603 };
        let error = json!({
            "code": code,
            "message": failure.message,
            "data": { "outcome": finished.outcome.as_str() },
        });
        return (TaskStatus::Failed, TaskEnd::Error(raw(&error)), Some(failure.message.clone()));
    }
    let is_error = match &finished.output {
        ToolOutput::Component(result) => result.is_error,
        ToolOutput::Members(members) => members.get("isError") == Some(&Value::Bool(true)),
        ToolOutput::Failure(_) => true,
    };
    let status = if is_error && revision == Revision::Session {
        TaskStatus::Failed
    } else {
        TaskStatus::Completed
    };
    let result = raw(&CallToolResult { output: &finished.output, revision });
    let message = failure.map(|failure| failure.message.clone());
    (status, TaskEnd::Result(result), message)
}

/// `value` as JSON text, once.
fn raw(value: &impl serde::Serialize) -> Arc<RawValue> {
    // Strings, numbers and maps always serialize; `{}` keeps the shape if not.
    let json = serde_json::value::to_raw_value(value)
        .or_else(|_| RawValue::from_string("{}".to_owned()))
        .expect("{} is JSON");
    Arc::from(json)
}

impl McpServer {
    /// Hands the store's signals to the tasks this replica runs, and keeps
    /// `corral_tasks` current, until the server is dropped.
    pub(super) async fn route_task_signals(server: std::sync::Weak<McpServer>) {
        let Some(mut signals) = server.upgrade().map(|s| s.tasks.signals()) else { return };
        let reason: Arc<str> = "cancelled by the client (tasks/cancel)".into();
        loop {
            let signal = match signals.recv().await {
                Ok(signal) => signal,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "task signals came faster than they were routed");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Some(server) = server.upgrade() else { return };
            match signal {
                Signal::Cancel(id) => server.running.cancel(&id, &reason),
                Signal::Answered(id, answers) => server.running.answered(&id, answers),
                Signal::Changed(task) => {
                    server.census();
                    let _ = server.changes.send(Change::Task(task));
                }
                Signal::Dropped => server.census(),
            }
        }
    }
}

fn audit_start(task: &Task) {
    tracing::info!(target: "corral::audit", task = %task.id, tool = %task.tool, owner = %task.owner, "task started");
}

/// `{"resultType": "complete"}`, with the server's `_meta`.
fn complete() -> Result<Box<RawValue>, McpError> {
    written(&json!({ "resultType": "complete", "_meta": protocol::result_meta() }))
}

/// `params.taskId`, a string.
fn task_id(params: &Value) -> Result<String, McpError> {
    match params.get("taskId") {
        Some(Value::String(id)) => Ok(id.clone()),
        _ => Err(McpError::InvalidParams("\"taskId\" must be a string".into())),
    }
}

/// The protocol error of a store refusal.
fn task_error(err: TaskError) -> McpError {
    match err {
        TaskError::Unknown(_) | TaskError::BadCursor(_) => McpError::InvalidParams(err.to_string()),
        TaskError::TooMany { .. } | TaskError::TooManyForClient { .. } => {
            McpError::TooManyTasks(err.to_string())
        }
        TaskError::Unavailable(_) => McpError::StateUnavailable(err.to_string()),
    }
}

/// A reply answered once `answer` resolves (with a result written once).
fn later(
    id: &RequestId,
    revision: Revision,
    answer: impl Future<Output = Result<Box<RawValue>, McpError>> + Send + 'static,
) -> Reply {
    let id = id.clone();
    Reply::stream(true, move |out| async move {
        let answer = match answer.await {
            Ok(result) => Answer::result(&id, &*result, revision),
            Err(error) => Answer::error(Some(&id), error, revision),
        };
        let _ = out.send(Outgoing::Response(answer));
    })
}

/// `value` as the JSON text of an answer.
fn written(value: &impl serde::Serialize) -> Result<Box<RawValue>, McpError> {
    serde_json::value::to_raw_value(value).map_err(|err| McpError::Internal(err.to_string()))
}
