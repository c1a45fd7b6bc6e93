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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument as _;

use super::asking::{Asker, Rounds, TaskRoundEnd};
use super::jsonrpc::{McpError, RequestId};
use super::protocol::{self, META_RELATED_TASK, META_TASK_OUTPUT, META_TASK_OUTPUT_LINES};
use super::reply::{Answer, Outgoing, Reply, Stream};
use super::running::Relay;
use super::server::{Canceller, Change, LogFloor, McpServer, Origin};
use super::shapes::{CallToolResult, Stateless};
use crate::call::{CallOutcome, Failure};
use crate::config::TaskSupport;
use crate::registry::{FinishedCall, ToolEntry, ToolOutput};
use crate::sandbox::GuestEvent;
use crate::tasks::{Signal, Task, TaskEnd, TaskError, TaskStatus, Update, rfc3339};

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

/// The tasks this replica runs: how to stop each, and where its answers go.
#[derive(Default)]
pub(super) struct Running {
    tasks: Mutex<HashMap<Arc<str>, Local>>,
    /// Tells waiters when the last one ended.
    idle: watch::Sender<usize>,
}

struct Local {
    cancel: watch::Sender<Option<Arc<str>>>,
    answers: mpsc::UnboundedSender<Arc<Map<String, Value>>>,
}

/// Where a running task hears its cancel (with the reason).
type CancelRx = watch::Receiver<Option<Arc<str>>>;
/// Where a running task gets its client's answers.
type AnswersRx = mpsc::UnboundedReceiver<Arc<Map<String, Value>>>;

impl Running {
    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Local>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, id: &Arc<str>) -> (CancelRx, AnswersRx) {
        let (cancel, cancelled) = watch::channel(None);
        let (answers, answered) = mpsc::unbounded_channel();
        let mut tasks = self.lock();
        tasks.insert(id.clone(), Local { cancel, answers });
        self.idle.send_replace(tasks.len());
        (cancelled, answered)
    }

    fn remove(&self, id: &str) {
        let mut tasks = self.lock();
        tasks.remove(id);
        self.idle.send_replace(tasks.len());
    }

    fn cancel(&self, id: &str, reason: &Arc<str>) {
        if let Some(local) = self.lock().get(id) {
            local.cancel.send_replace(Some(reason.clone()));
        }
    }

    fn cancel_all(&self, reason: &Arc<str>) {
        for local in self.lock().values() {
            local.cancel.send_replace(Some(reason.clone()));
        }
    }

    /// Waits (at most `limit`) until the task `id` no longer runs here:
    /// its instance dropped, its slots free.
    async fn gone(&self, id: &str, limit: Duration) {
        let mut changes = self.idle.subscribe();
        let _ = tokio::time::timeout(limit, async {
            while self.lock().contains_key(id) {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    fn answered(&self, id: &str, answers: Arc<Map<String, Value>>) {
        if let Some(local) = self.lock().get(id) {
            let _ = local.answers.send(answers);
        }
    }
}

/// Where a promotable call is: inline (its request waits), a task, answered
/// inline, or cancelled while inline (its request went away).
const INLINE: u8 = 0;
const PROMOTED: u8 = 1;
const DONE: u8 = 2;
const DROPPED: u8 = 3;

/// A call of a task, checked and ready to run.
pub(super) struct TaskCall {
    pub id: RequestId,
    pub entry: Arc<ToolEntry>,
    pub arguments: Value,
    pub progress_token: Option<Value>,
    pub owner: Arc<str>,
    pub client: Arc<str>,
    pub origin: Origin,
    pub stateless: Option<Stateless>,
    pub logs: LogFloor,
    pub asker: Asker,
    pub mode: Mode,
    pub canceller: Option<Canceller>,
}

impl McpServer {
    /// How a `tools/call` of `entry` runs: `Err` when the tool's task
    /// support and what the client asked disagree.
    pub(super) fn task_mode(
        &self,
        entry: &ToolEntry,
        params: &Value,
        stateless: bool,
        capabilities: Option<&Value>,
    ) -> Result<Mode, McpError> {
        let support = entry.task_support;
        if stateless {
            let declared = capabilities.is_some_and(protocol::declares_tasks);
            return match (support, declared) {
                (TaskSupport::Forbidden, _) | (TaskSupport::Optional, false) => Ok(Mode::Inline),
                // A shared store that cannot be reached: a call that may
                // run inline does, rather than fail for want of a task.
                (TaskSupport::Optional, true) if !self.tasks.available() => Ok(Mode::Inline),
                (TaskSupport::Required, false) => Err(McpError::MissingExtension {
                    extension: protocol::TASKS_EXTENSION,
                    message: format!("tool {:?} runs only as a task", entry.name),
                }),
                (_, true) => Ok(Mode::Promotable {
                    capabilities: capabilities.cloned().unwrap_or_else(|| json!({})),
                }),
            };
        }
        let asked = params.get("task").is_some_and(|task| !task.is_null());
        match (support, asked) {
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
        }
    }

    /// Starts a task's call; the reply is the created task (2025-11-25),
    /// or, 2026-07-28, the call's own answer if it ends within
    /// `promote_after_ms`, else the created task.
    pub(super) fn start_task(self: &Arc<Self>, call: TaskCall) -> Result<Reply, McpError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let server = self.clone();
        let promotable = matches!(call.mode, Mode::Promotable { .. });
        let cancel_in_flight = match &call.canceller {
            Some(canceller) if promotable => Some(
                canceller
                    .in_flight()
                    .begin(&call.id)
                    .map_err(|err| McpError::InvalidRequest(err.to_string()))?,
            ),
            _ => None,
        };
        let task = async move {
            let session = match (&call.origin, promotable) {
                (Origin::Session(session), false) if session.id().is_empty() => {
                    Some("stdio".to_owned())
                }
                (Origin::Session(session), false) => Some(session.id().to_owned()),
                _ => None,
            };
            let created = server
                .tasks
                .create(&call.owner, &call.entry.name, promotable, session.as_deref())
                .await;
            let task = match created {
                Ok(task) => task,
                Err(err) => {
                    if matches!(err, TaskError::TooMany { .. } | TaskError::TooManyForClient { .. })
                    {
                        server.metrics.record_task_refused();
                    }
                    tracing::info!(tool = %call.entry.name, session = %call.origin, "task refused: {err}");
                    if let Some(canceller) = &call.canceller
                        && promotable
                    {
                        canceller.in_flight().end(&call.id);
                    }
                    let error = task_error(err);
                    let _ = tx.send(Outgoing::Response(Answer::error(
                        Some(&call.id),
                        error,
                        call.stateless.is_some(),
                    )));
                    return;
                }
            };
            server.census();
            let phase = Arc::new(AtomicU8::new(if promotable { INLINE } else { PROMOTED }));
            let (cancelled, answers) = server.running.add(&task.id);
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let id = call.id.clone();
            let stateless = call.stateless;
            let canceller = call.canceller.clone();
            let span = tracing::info_span!("task", task = %task.id, tool = %call.entry.name, session = %call.origin);
            let run = server.clone().run_task(
                task.clone(),
                call,
                phase.clone(),
                tx.clone(),
                cancelled,
                answers,
                done_tx,
            );
            tokio::spawn(run.instrument(span));
            if !promotable {
                audit_start(&task);
                let _ = tx.send(Outgoing::Response(created_answer(&id, &task, stateless)));
                return;
            }
            // Inline until promoted: a client gone (stream dropped) or a
            // stdio cancel before then stops the call, as for any call.
            let guard = InlineGuard { server: &server, task: &task, phase: &phase };
            let cancel_notice = async {
                match cancel_in_flight {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending().await,
                }
            };
            let mut done_rx = done_rx;
            tokio::select! {
                () = tokio::time::sleep(server.options.task_promote_after) => {
                    if phase.compare_exchange(INLINE, PROMOTED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        audit_start(&task);
                        let _ = tx.send(Outgoing::Response(created_answer(&id, &task, stateless)));
                    } else {
                        // The run answered (or is answering) inline.
                        let _ = (&mut done_rx).await;
                    }
                }
                _ = &mut done_rx => {}
                () = cancel_notice => guard.cancel(),
            }
            if let Some(canceller) = &canceller {
                canceller.in_flight().end(&id);
            }
            drop(guard);
        };
        Ok(Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true }))
    }

    /// Runs a task's call, round after round, to its end.
    #[allow(clippy::too_many_arguments)]
    async fn run_task(
        self: Arc<Self>,
        task: Task,
        call: TaskCall,
        phase: Arc<AtomicU8>,
        out: mpsc::UnboundedSender<Outgoing>,
        mut cancelled: CancelRx,
        mut answers: AnswersRx,
        done: oneshot::Sender<()>,
    ) {
        let started = Instant::now();
        let TaskCall {
            id,
            entry,
            arguments,
            progress_token,
            client,
            origin,
            stateless,
            logs,
            mut asker,
            mode,
            ..
        } = call;
        let capabilities = match mode {
            Mode::Promotable { capabilities } => capabilities,
            _ => json!({}),
        };
        let mut fuel = 0;
        let closed = mpsc::unbounded_channel().0;
        let end = loop {
            let (events_tx, mut events) = mpsc::unbounded_channel();
            let running =
                entry.call_task(arguments.clone(), Some(events_tx), progress_token.is_some());
            tokio::pin!(running);
            let stopped = loop {
                tokio::select! {
                    biased;
                    finished = &mut running => break Ok(finished),
                    reason = wait_cancel(&mut cancelled) => break Err(reason),
                    Some(event) = events.recv() => {
                        let inline = phase.load(Ordering::Acquire) == INLINE;
                        self.task_event(&task, event, inline, &out, &closed, &logs, &entry, progress_token.as_ref(), &mut asker).await;
                    }
                }
            };
            let finished = match stopped {
                Ok(finished) => finished,
                Err(_) if phase.load(Ordering::Acquire) == DROPPED => {
                    // Never a task: a call cancelled like any other, with
                    // no response and no task to keep.
                    self.forget(&task).await;
                    let _ = done.send(());
                    self.account(&entry, CallOutcome::Cancelled, started, fuel, &origin, &client);
                    return;
                }
                Err(reason) => break Ending::Cancelled(reason),
            };
            while let Ok(event) = events.try_recv() {
                let inline = phase.load(Ordering::Acquire) == INLINE;
                self.task_event(
                    &task,
                    event,
                    inline,
                    &out,
                    &closed,
                    &logs,
                    &entry,
                    progress_token.as_ref(),
                    &mut asker,
                )
                .await;
            }
            fuel += finished.fuel;
            self.task_stdio(&task, &entry, &finished).await;
            // Still inline: answered as any call, and no task was seen.
            let inline = phase.compare_exchange(INLINE, DONE, Ordering::AcqRel, Ordering::Acquire);
            if inline.is_ok() || inline == Err(DROPPED) {
                let outcome = if inline.is_ok() {
                    let (outcome, answer) = self.conclude(&id, finished, asker, stateless);
                    let _ = out.send(Outgoing::Response(answer));
                    outcome
                } else {
                    CallOutcome::Cancelled
                };
                let _ = done.send(());
                self.forget(&task).await;
                self.account(&entry, outcome, started, fuel, &origin, &client);
                return;
            }
            let rounds = match std::mem::replace(&mut asker, placeholder()) {
                Asker::Rounds(rounds) if !finished.outcome.stopped() => rounds,
                _ => break Ending::Finished(finished),
            };
            let (round_end, known, round) = rounds.end_in_task();
            match round_end {
                TaskRoundEnd::Complete => break Ending::Finished(finished),
                TaskRoundEnd::TooManyRounds(max) => {
                    break Ending::Finished(FinishedCall::failed(Failure::too_many_rounds(max)));
                }
                TaskRoundEnd::Questions(questions) => {
                    let _ = self.tasks.update(&task.id, Update::InputRequired(questions)).await;
                    self.census();
                    let given = tokio::select! {
                        given = answers.recv() => given,
                        reason = wait_cancel(&mut cancelled) => break Ending::Cancelled(reason),
                    };
                    let Some(given) = given else {
                        break Ending::Cancelled("the task's runner stopped".into());
                    };
                    let mut all = known;
                    all.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
                    asker = Asker::Rounds(Rounds::in_task(
                        capabilities.clone(),
                        all,
                        round,
                        self.options.max_input_rounds,
                    ));
                }
            }
        };
        let _ = done.send(());
        let (status, outcome, task_end, message) = match end {
            Ending::Cancelled(reason) => {
                (TaskStatus::Cancelled, CallOutcome::Cancelled, None, Some(reason.to_string()))
            }
            Ending::Finished(finished) => {
                let (status, task_end, message) = settle(&finished, stateless);
                (status, finished.outcome, Some(task_end), message)
            }
        };
        let update = Update::End { status, end: task_end, message: message.clone() };
        if let Err(err) = self.tasks.update(&task.id, update).await {
            tracing::warn!(task = %task.id, "task end not stored: {err}");
        }
        self.running.remove(&task.id);
        self.census();
        let age = SystemTime::now().duration_since(task.created_at).unwrap_or_default();
        self.metrics.record_task_end(status, age);
        self.account(&entry, outcome, started, fuel, &origin, &client);
        tracing::info!(
            target: "corral::audit",
            task = %task.id,
            tool = %entry.name,
            status = status.as_str(),
            outcome = outcome.as_str(),
            duration_ms = age.as_secs_f64() * 1e3,
            fuel,
            owner = %task.owner,
            message = message.as_deref().unwrap_or(""),
            "task ended"
        );
    }

    /// Drops a task no client saw (its call was answered inline).
    async fn forget(&self, task: &Task) {
        self.tasks.discard(&task.id).await;
        self.running.remove(&task.id);
        self.census();
    }

    /// One event of a task's call: into its output, and to the client
    /// while the call is still inline.
    #[allow(clippy::too_many_arguments)]
    async fn task_event(
        &self,
        task: &Task,
        event: GuestEvent,
        inline: bool,
        out: &mpsc::UnboundedSender<Outgoing>,
        closed: &mpsc::UnboundedSender<Outgoing>,
        logs: &LogFloor,
        entry: &ToolEntry,
        progress_token: Option<&Value>,
        asker: &mut Asker,
    ) {
        let update = match &event {
            GuestEvent::Log { level, message } => {
                Some(Update::Output(format!("[{}] {message}", level.as_str())))
            }
            GuestEvent::Progress { done, total, message } => {
                let mut text = match total {
                    Some(total) => format!("{done}/{total}"),
                    None => format!("{done}"),
                };
                if let Some(message) = message {
                    text = format!("{message} ({text})");
                }
                Some(Update::Progress(text))
            }
            _ => None,
        };
        if let Some(update) = update {
            let _ = self.tasks.update(&task.id, update).await;
        }
        let mut relay = Relay {
            logs,
            logger: &entry.name,
            progress_token,
            out: if inline { out } else { closed },
            asker,
            source: &entry.source,
            registry: &self.registry,
        };
        relay.event(event);
    }

    /// A round's stdout and stderr, into the task's output.
    async fn task_stdio(&self, task: &Task, entry: &ToolEntry, finished: &FinishedCall) {
        super::tools::log_stdio(&entry.name, finished);
        for (stream, bytes) in
            [("stdout", &finished.stdio.stdout), ("stderr", &finished.stdio.stderr)]
        {
            if !bytes.is_empty() {
                let text = String::from_utf8_lossy(bytes);
                let lines: String =
                    text.lines().map(|line| format!("[{stream}] {line}\n")).collect();
                let _ = self.tasks.update(&task.id, Update::Output(lines)).await;
            }
        }
    }

    /// The metric and audit line of a task's call, as for any call.
    fn account(
        &self,
        entry: &ToolEntry,
        outcome: CallOutcome,
        started: Instant,
        fuel: u64,
        origin: &Origin,
        client: &str,
    ) {
        let wall = started.elapsed();
        self.metrics.record_call(&entry.name, outcome, wall, fuel);
        tracing::info!(
            target: "corral::audit",
            tool = %entry.name,
            outcome = outcome.as_str(),
            duration_ms = wall.as_secs_f64() * 1e3,
            fuel,
            session = %origin,
            client,
            "tool call"
        );
    }

    /// Sets `corral_tasks` from the store.
    pub(super) fn census(&self) {
        self.metrics.set_tasks(self.tasks.census());
    }

    /// `tasks/get`.
    pub(super) fn get_task(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
        stateless: bool,
    ) -> Result<Reply, McpError> {
        let task_id = task_id(params)?;
        let requested = params.get("_meta").and_then(|meta| meta.get(META_TASK_OUTPUT_LINES));
        let lines = match requested {
            None => TAIL_LINES,
            Some(lines) => lines
                .as_u64()
                .filter(|n| *n as usize <= MAX_TAIL_LINES)
                .ok_or_else(|| {
                    McpError::InvalidParams(format!(
                        "_meta {META_TASK_OUTPUT_LINES:?} must be an integer of 0..={MAX_TAIL_LINES}"
                    ))
                })? as usize,
        };
        let server = self.clone();
        Ok(later(id, stateless, async move {
            let task = server.tasks.get(&owner, &task_id).await.map_err(task_error)?;
            let tail = server.tasks.tail(&owner, &task_id, lines).await.map_err(task_error)?;
            let mut body = task_json(&task);
            if stateless {
                body.insert("resultType".into(), "complete".into());
                inline_end(&mut body, &task);
            }
            let mut meta = if stateless {
                serde_json::from_str::<Map<String, Value>>(protocol::result_meta().get())
                    .unwrap_or_default()
            } else {
                Map::new()
            };
            meta.insert(META_TASK_OUTPUT.into(), tail.into());
            body.insert("_meta".into(), Value::Object(meta));
            Ok(Value::Object(body))
        }))
    }

    /// `tasks/update` (2026-07-28): answers to a task's questions.
    pub(super) fn update_task(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
    ) -> Result<Reply, McpError> {
        let task_id = task_id(params)?;
        let responses = match params.get("inputResponses") {
            Some(Value::Object(responses)) => {
                if let Some((key, _)) = responses.iter().find(|(_, response)| !response.is_object())
                {
                    return Err(McpError::InvalidParams(format!(
                        "inputResponses[{key:?}] must be an object (the client's result for that \
                         input request)"
                    )));
                }
                responses.clone()
            }
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                return Err(McpError::InvalidParams(
                    "inputResponses must be an object mapping input request keys to results".into(),
                ));
            }
        };
        let server = self.clone();
        Ok(later(id, true, async move {
            server.tasks.answer(&owner, &task_id, &responses).await.map_err(task_error)?;
            Ok(complete())
        }))
    }

    /// `tasks/cancel`.
    pub(super) fn cancel_task(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
        stateless: bool,
    ) -> Result<Reply, McpError> {
        let task_id = task_id(params)?;
        let server = self.clone();
        Ok(later(id, stateless, async move {
            let before = server.tasks.get(&owner, &task_id).await.map_err(task_error)?;
            if before.status.is_final() {
                if stateless {
                    return Ok(complete());
                }
                return Err(McpError::InvalidParams(format!(
                    "cannot cancel task {task_id:?}: it already ended {}",
                    before.status.as_str()
                )));
            }
            let task = server
                .tasks
                .cancel(&owner, &task_id, "cancelled by the client (tasks/cancel)")
                .await
                .map_err(task_error)?;
            // Answered once the call has stopped, when it runs here: its
            // slot is then free for the client's next call.
            server.running.gone(&task_id, CANCEL_WAIT).await;
            tracing::info!(target: "corral::audit", task = %task.id, tool = %task.tool, owner = %owner, "task cancelled by its client");
            Ok(if stateless { complete() } else { Value::Object(task_json(&task)) })
        }))
    }

    /// `tasks/result` (2025-11-25): waits for the task's end.
    pub(super) fn task_result(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
    ) -> Result<Reply, McpError> {
        let task_id = task_id(params)?;
        let server = self.clone();
        Ok(later(id, false, async move {
            let mut signals = server.tasks.signals();
            let task = loop {
                let task = server.tasks.get(&owner, &task_id).await.map_err(task_error)?;
                if task.status.is_final() {
                    break task;
                }
                loop {
                    match signals.recv().await {
                        Ok(Signal::Changed(changed)) if *changed.id == *task_id => break,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                            return Err(McpError::Internal("the task store closed".into()));
                        }
                    }
                }
            };
            match &task.end {
                Some(TaskEnd::Result(result)) => {
                    let mut result = (**result).clone();
                    if let Value::Object(map) = &mut result {
                        let meta = map.entry("_meta").or_insert_with(|| json!({}));
                        meta[META_RELATED_TASK] = json!({ "taskId": &*task.id });
                    }
                    Ok(result)
                }
                Some(TaskEnd::Error(error)) => Err(McpError::Internal(
                    error.get("message").and_then(Value::as_str).unwrap_or("failed").to_owned(),
                )),
                None => Err(McpError::InvalidParams(format!(
                    "task {task_id:?} was cancelled: it has no result ({})",
                    task.status_message.as_deref().unwrap_or("cancelled")
                ))),
            }
        }))
    }

    /// `tasks/list` (2025-11-25): the client's tasks, oldest first.
    pub(super) fn list_tasks(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
    ) -> Result<Reply, McpError> {
        let after = match params.get("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::String(cursor)) => Some(
                super::tools::cursor(params)
                    .map_err(|_| McpError::InvalidParams(format!("invalid cursor {cursor:?}")))?,
            ),
            Some(_) => return Err(McpError::InvalidParams("cursor must be a string".into())),
        };
        let server = self.clone();
        let page = self.options.page_size;
        Ok(later(id, false, async move {
            let (tasks, next) =
                server.tasks.list(&owner, after.as_deref(), page).await.map_err(task_error)?;
            let mut result = json!({
                "tasks": tasks.iter().map(|t| Value::Object(task_json(t))).collect::<Vec<_>>(),
            });
            if let Some(next) = next {
                result["nextCursor"] = super::tools::next_cursor(&next).into();
            }
            Ok(result)
        }))
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

/// How a task's call ended.
enum Ending {
    Finished(FinishedCall),
    Cancelled(Arc<str>),
}

/// Cancels a promotable call whose request went away before it became a task.
struct InlineGuard<'a> {
    server: &'a Arc<McpServer>,
    task: &'a Task,
    phase: &'a AtomicU8,
}

impl InlineGuard<'_> {
    fn cancel(&self) {
        if self.phase.compare_exchange(INLINE, DROPPED, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            self.server.running.cancel(&self.task.id, &Arc::from("the request was cancelled"));
        }
    }
}

impl Drop for InlineGuard<'_> {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Resolves with the reason once `cancelled` carries one.
async fn wait_cancel(cancelled: &mut watch::Receiver<Option<Arc<str>>>) -> Arc<str> {
    let reason = match cancelled.wait_for(Option::is_some).await {
        Ok(reason) => reason.clone(),
        // Nobody can cancel it any more.
        Err(_) => None,
    };
    match reason {
        Some(reason) => reason,
        None => std::future::pending().await,
    }
}

/// An asker that asks nothing, for the moment between two rounds.
fn placeholder() -> Asker {
    Asker::Rounds(Rounds::in_task(json!({}), Map::new(), 0, 0))
}

/// A finished task call's status, end and message, by revision.
fn settle(
    finished: &FinishedCall,
    stateless: Option<Stateless>,
) -> (TaskStatus, TaskEnd, Option<String>) {
    let failure = match &finished.output {
        ToolOutput::Failure(failure) => Some(failure),
        _ => None,
    };
    if stateless.is_some()
        && let Some(failure) = failure
        && (finished.outcome.stopped() || failure.capability.is_some())
    {
        let code = if failure.capability.is_some() { -32021 } else { -32603 };
        let error = json!({
            "code": code,
            "message": failure.message,
            "data": { "outcome": finished.outcome.as_str() },
        });
        return (
            TaskStatus::Failed,
            TaskEnd::Error(Arc::new(error)),
            Some(failure.message.clone()),
        );
    }
    let result = CallToolResult { output: &finished.output, stateless };
    let result = serde_json::to_value(&result).unwrap_or_else(|_| json!({}));
    let is_error = result.get("isError") == Some(&Value::Bool(true));
    let status =
        if is_error && stateless.is_none() { TaskStatus::Failed } else { TaskStatus::Completed };
    let message = failure.map(|failure| failure.message.clone());
    (status, TaskEnd::Result(Arc::new(result)), message)
}

/// The params of a task's status notification: the task, and for
/// 2026-07-28 (`notifications/tasks`) what `tasks/get` inlines.
pub(super) fn status_params(task: &Task) -> Value {
    let mut body = task_json(task);
    if task.stateless {
        inline_end(&mut body, task);
    }
    Value::Object(body)
}

/// Inlines a 2026-07-28 task's `inputRequests`, `result` or `error`.
fn inline_end(body: &mut Map<String, Value>, task: &Task) {
    match (&task.status, &task.end) {
        (TaskStatus::InputRequired, _) => {
            body.insert("inputRequests".into(), Value::Object(task.input_requests.clone()));
        }
        (TaskStatus::Completed | TaskStatus::Failed, Some(TaskEnd::Result(result))) => {
            body.insert("result".into(), (**result).clone());
        }
        (TaskStatus::Failed, Some(TaskEnd::Error(error))) => {
            body.insert("error".into(), (**error).clone());
        }
        _ => {}
    }
}

/// The created-task answer: flat with `resultType: "task"` (2026-07-28),
/// or `{"task": {...}}` (2025-11-25).
fn created_answer(id: &RequestId, task: &Task, stateless: Option<Stateless>) -> Answer {
    let mut body = task_json(task);
    match stateless {
        Some(_) => {
            body.insert("resultType".into(), "task".into());
            let meta: Map<String, Value> =
                serde_json::from_str(protocol::result_meta().get()).unwrap_or_default();
            body.insert("_meta".into(), Value::Object(meta));
            Answer::result(id, &body, true)
        }
        None => Answer::result(id, &json!({ "task": body }), false),
    }
}

/// A task's own members, as the revision that made it names them.
fn task_json(task: &Task) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("taskId".into(), (*task.id).into());
    body.insert("status".into(), task.status.as_str().into());
    if let Some(message) = &task.status_message {
        body.insert("statusMessage".into(), message.clone().into());
    }
    body.insert("createdAt".into(), rfc3339(task.created_at).into());
    body.insert("lastUpdatedAt".into(), rfc3339(task.last_updated_at).into());
    let ttl = task.ttl.as_millis() as u64;
    let poll = task.poll_interval.as_millis() as u64;
    if task.stateless {
        body.insert("ttlMs".into(), ttl.into());
        body.insert("pollIntervalMs".into(), poll.into());
    } else {
        body.insert("ttl".into(), ttl.into());
        body.insert("pollInterval".into(), poll.into());
    }
    body
}

/// Who owns the tasks a request makes (see [`crate::tasks`]): its bearer
/// token, else its 2025-11-25 session, else its peer address, or the stdio
/// connection.
pub(super) fn owner_of(client: &str, origin: &Origin) -> Arc<str> {
    if client.starts_with("token#") {
        return client.into();
    }
    match origin {
        Origin::Session(session) if !session.id().is_empty() => {
            format!("session:{}", session.id()).into()
        }
        Origin::Http => format!("peer:{client}").into(),
        Origin::Session(_) | Origin::Stdio => "stdio".into(),
    }
}

/// Hands the store's signals to the tasks this replica runs, and keeps
/// `corral_tasks` current, until the server is dropped.
pub(super) async fn route_signals(server: std::sync::Weak<McpServer>) {
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

fn audit_start(task: &Task) {
    tracing::info!(target: "corral::audit", task = %task.id, tool = %task.tool, owner = %task.owner, "task started");
}

/// `{"resultType": "complete"}`, with the server's `_meta`.
fn complete() -> Value {
    json!({ "resultType": "complete", "_meta": protocol::result_meta() })
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

/// A reply answered once `answer` resolves.
fn later(
    id: &RequestId,
    stateless: bool,
    answer: impl Future<Output = Result<Value, McpError>> + Send + 'static,
) -> Reply {
    let (tx, rx) = mpsc::unbounded_channel();
    let id = id.clone();
    let task = async move {
        let answer = match answer.await {
            Ok(result) => Answer::result(&id, &result, stateless),
            Err(error) => Answer::error(Some(&id), error, stateless),
        };
        let _ = tx.send(Outgoing::Response(answer));
    };
    Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true })
}
