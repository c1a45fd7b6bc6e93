//! Running a task's call: made in the store, answered at once (2025-11-25)
//! or inline until `promote_after_ms` (2026-07-28), then round after round
//! in a fresh instance each, until it ends, is cancelled or the server
//! stops. Its events go to its output (and, while it is still inline, to
//! its client); its questions park it `input_required` until `tasks/update`
//! answers them.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument as _;

use super::super::asking::{Asker, Rounds, TaskRoundEnd};
use super::super::context::{Canceller, LogFloor, Origin};
use super::super::invocation::{Accounting, ClientRelay, Invocation, Listener, Slot, drive};
use super::super::jsonrpc::RequestId;
use super::super::protocol::Revision;
use super::super::reply::Outgoing;
use super::super::server::McpServer;
use super::running::{AnswersRx, CancelRx};
use super::shapes::created_answer;
use super::{Mode, audit_start, settle, task_error};
use crate::call::{CallOutcome, Failure};
use crate::lock::Locked as _;
use crate::registry::{FinishedCall, ToolEntry};
use crate::sandbox::GuestEvent;
use crate::task_store::{Task, TaskError, TaskStatus, Update};

/// Where a promotable call is: inline (its request waits), a task, answered
/// inline, or cancelled while inline (its request went away).
const INLINE: u8 = 0;
const PROMOTED: u8 = 1;
const DONE: u8 = 2;
const DROPPED: u8 = 3;

/// The request's id, registered for `notifications/cancelled` until the
/// request is answered: by the run (inline) or by the request (the created
/// task), whichever answers first forgets it.
#[derive(Clone, Default)]
struct Registration(Arc<Mutex<Option<(Canceller, RequestId)>>>);

impl Registration {
    fn forget(&self) {
        let taken = self.0.locked().take();
        if let Some((canceller, id)) = taken {
            canceller.in_flight().end(&id);
        }
    }
}

/// A task's call, past its request.
struct TaskRun {
    id: RequestId,
    revision: Revision,
    logs: LogFloor,
    progress_token: Option<Value>,
    asker: Asker,
    /// The slot of the round that runs.
    slot: Option<Slot>,
    accounting: Accounting,
    entry: Arc<ToolEntry>,
    arguments: Value,
    /// 2026-07-28: the request's `clientCapabilities`, for later rounds.
    capabilities: Value,
    task: Task,
    phase: Arc<AtomicU8>,
    out: mpsc::UnboundedSender<Outgoing>,
    registration: Registration,
    cancelled: CancelRx,
    answers: AnswersRx,
    done: oneshot::Sender<()>,
}

/// How a task's call ended.
enum Ending {
    Finished(FinishedCall),
    Cancelled(Arc<str>),
}

impl McpServer {
    /// Runs `call` of `entry` as a task (`mode` is not inline): answers
    /// with the created task (2025-11-25), or, 2026-07-28, with the call's
    /// own answer if it ends within `promote_after_ms`, else the created
    /// task. The call goes on after the answer, until it ends.
    pub(in super::super) async fn run_task(
        self: Arc<Self>,
        mut call: Invocation,
        entry: Arc<ToolEntry>,
        arguments: Value,
        mode: Mode,
        out: mpsc::UnboundedSender<Outgoing>,
    ) {
        let (promotable, capabilities) = match mode {
            Mode::Promotable { capabilities } => (true, capabilities),
            Mode::Legacy | Mode::Inline => (false, json!({})),
        };
        // A 2025-11-25 task's notifications go to its session's stream.
        let session = match (&call.caller.origin, promotable) {
            (Origin::Session(session), false) if session.id().is_empty() => {
                Some("stdio".to_owned())
            }
            (Origin::Session(session), false) => Some(session.id().to_owned()),
            _ => None,
        };
        let owner = call.caller.owner();
        let created = self.tasks.create(&owner, &entry.name, promotable, session.as_deref()).await;
        let task = match created {
            Ok(task) => task,
            Err(err) => {
                let outcome = match err {
                    TaskError::TooMany { .. } | TaskError::TooManyForClient { .. } => {
                        self.metrics.record_task_refused();
                        CallOutcome::Busy
                    }
                    _ => CallOutcome::HostError,
                };
                tracing::info!(tool = %entry.name, session = %call.caller.origin, "task refused: {err}");
                return call.fail(&out, outcome, task_error(err));
            }
        };
        self.census();
        call.accounting.task = Some(task.id.clone());
        let (cancelled, answers) = self.running.add(&task.id);
        let phase = Arc::new(AtomicU8::new(if promotable { INLINE } else { PROMOTED }));
        let (done_tx, mut done_rx) = oneshot::channel::<()>();
        let registration = Registration::default();
        let Invocation {
            id,
            revision,
            caller,
            logs,
            progress_token,
            asker,
            slot,
            mut cancel,
            accounting,
        } = call;
        *registration.0.locked() = cancel.registration();
        // 2025-11-25: the task's client cannot answer questions during it.
        let asker = match promotable {
            true => asker,
            false => Asker::Rounds(Rounds::in_task(json!({}), Map::new(), 0, 0)),
        };
        let span = tracing::info_span!("task", task = %task.id, tool = %entry.name, session = %caller.origin);
        let run = TaskRun {
            id: id.clone(),
            revision,
            logs,
            progress_token,
            asker,
            slot,
            accounting,
            entry,
            arguments,
            capabilities,
            task: task.clone(),
            phase: phase.clone(),
            out: out.clone(),
            registration: registration.clone(),
            cancelled,
            answers,
            done: done_tx,
        };
        tokio::spawn(self.clone().run_rounds(run).instrument(span));
        if !promotable {
            audit_start(&task);
            registration.forget();
            let _ = out.send(Outgoing::Response(created_answer(&id, &task, revision)));
            return;
        }
        // Inline until promoted: a client gone (its stream dropped or
        // closed) or a cancel before then stops the call, as for any call.
        let guard = InlineGuard { server: &self, task: &task, phase: &phase };
        tokio::select! {
            () = tokio::time::sleep(self.options.task_promote_after) => {
                if phase.compare_exchange(INLINE, PROMOTED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    audit_start(&task);
                    registration.forget();
                    let _ = out.send(Outgoing::Response(created_answer(&id, &task, revision)));
                } else {
                    // The run answered (or is answering) inline.
                    let _ = (&mut done_rx).await;
                }
            }
            _ = &mut done_rx => {}
            () = cancel.cancelled(&out) => guard.cancel(),
        }
        drop(guard);
    }

    /// Runs a task's call, round after round, to its end.
    async fn run_rounds(self: Arc<Self>, mut run: TaskRun) {
        let closed = mpsc::unbounded_channel().0;
        let end = loop {
            if run.slot.is_none() {
                let waited = tokio::select! {
                    slot = self.wait_for_slot() => Ok(slot),
                    reason = wait_cancel(&mut run.cancelled) => Err(reason),
                };
                match waited {
                    Ok(slot) => run.slot = Some(slot),
                    Err(reason) => break Ending::Cancelled(reason),
                }
            }
            let (events_tx, events) = mpsc::unbounded_channel();
            let running = run.entry.call_task(
                run.arguments.clone(),
                Some(events_tx),
                run.progress_token.is_some(),
            );
            let mut listener = TaskListener {
                server: &self,
                task: &run.task,
                phase: &run.phase,
                out: &run.out,
                closed: &closed,
                relay: ClientRelay::new(
                    &run.logs,
                    &run.entry.name,
                    run.progress_token.as_ref(),
                    &run.out,
                    &mut run.asker,
                    &run.entry.source,
                    &self.registry,
                ),
            };
            let cancelled = async {
                wait_cancel(&mut run.cancelled).await;
            };
            let stopped = drive(running, events, &mut listener, cancelled).await.ok_or(());
            let finished = match stopped {
                Ok(finished) => finished,
                Err(()) if run.phase.load(Ordering::Acquire) == DROPPED => {
                    // Never a task: a call cancelled like any other, with
                    // no response and no task to keep.
                    self.forget(&run.task).await;
                    let _ = run.done.send(());
                    return;
                }
                Err(()) => {
                    let reason =
                        run.cancelled.borrow().clone().unwrap_or_else(|| "cancelled".into());
                    break Ending::Cancelled(reason);
                }
            };
            run.slot = None;
            run.accounting.fuel += finished.fuel;
            self.task_stdio(&run.task, &run.entry, &finished).await;
            // Still inline: answered as any call, and no task was seen.
            let inline =
                run.phase.compare_exchange(INLINE, DONE, Ordering::AcqRel, Ordering::Acquire);
            if inline.is_ok() || inline == Err(DROPPED) {
                if inline.is_ok() {
                    let (outcome, answer) =
                        self.call_answer(&run.id, finished, run.asker.take(), run.revision);
                    run.accounting.outcome = outcome;
                    run.registration.forget();
                    let _ = run.out.send(Outgoing::Response(answer));
                }
                let _ = run.done.send(());
                self.forget(&run.task).await;
                return;
            }
            let rounds = match run.asker.take() {
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
                    let _ = self.tasks.update(&run.task.id, Update::InputRequired(questions)).await;
                    self.census();
                    let given = tokio::select! {
                        given = run.answers.recv() => given,
                        reason = wait_cancel(&mut run.cancelled) => break Ending::Cancelled(reason),
                    };
                    let Some(given) = given else {
                        break Ending::Cancelled("the task's runner stopped".into());
                    };
                    let mut all = known;
                    all.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
                    run.asker = Asker::Rounds(Rounds::in_task(
                        run.capabilities.clone(),
                        all,
                        round,
                        self.options.max_input_rounds,
                    ));
                }
            }
        };
        run.slot = None;
        let _ = run.done.send(());
        let (status, outcome, task_end, message) = match end {
            Ending::Cancelled(reason) => {
                (TaskStatus::Cancelled, CallOutcome::Cancelled, None, Some(reason.to_string()))
            }
            Ending::Finished(finished) => {
                let (status, task_end, message) = settle(&finished, run.revision);
                (status, finished.outcome, Some(task_end), message)
            }
        };
        run.accounting.outcome = outcome;
        let update = Update::End { status, end: task_end, message: message.clone() };
        if let Err(err) = self.tasks.update(&run.task.id, update).await {
            tracing::warn!(task = %run.task.id, "task end not stored: {err}");
        }
        self.running.remove(&run.task.id);
        self.census();
        let age = SystemTime::now().duration_since(run.task.created_at).unwrap_or_default();
        self.metrics.record_task_end(status, age);
        tracing::info!(
            target: "corral::audit",
            task = %run.task.id,
            tool = %run.entry.name,
            status = status.as_str(),
            outcome = outcome.as_str(),
            duration_ms = age.as_secs_f64() * 1e3,
            fuel = run.accounting.fuel,
            owner = %run.task.owner,
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

    /// A round's stdout and stderr, into the task's output.
    async fn task_stdio(&self, task: &Task, entry: &ToolEntry, finished: &FinishedCall) {
        super::super::invocation::log_stdio(&entry.name, finished);
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
}

/// A task's events: into its output, and to its client while the call is
/// still inline.
struct TaskListener<'a> {
    server: &'a McpServer,
    task: &'a Task,
    phase: &'a AtomicU8,
    /// The request's stream, and a closed one for once it is answered.
    out: &'a mpsc::UnboundedSender<Outgoing>,
    closed: &'a mpsc::UnboundedSender<Outgoing>,
    relay: ClientRelay<'a>,
}

impl Listener for TaskListener<'_> {
    async fn event(&mut self, event: GuestEvent) {
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
            let _ = self.server.tasks.update(&self.task.id, update).await;
        }
        let inline = self.phase.load(Ordering::Acquire) == INLINE;
        self.relay.out = if inline { self.out } else { self.closed };
        self.relay.relay(event);
    }
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
