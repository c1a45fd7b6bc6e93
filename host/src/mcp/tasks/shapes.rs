//! Tasks as the protocol shows them: a task's own members, by the revision
//! that made it, and what a 2026-07-28 `tasks/get` or status notification
//! inlines.

use serde_json::{Map, Value, json};

use super::super::jsonrpc::RequestId;
use super::super::protocol::{self, Revision};
use super::super::reply::Answer;
use crate::task_store::{Task, TaskEnd, TaskStatus, rfc3339};

/// The params of a task's status notification: the task, and for
/// 2026-07-28 (`notifications/tasks`) what `tasks/get` inlines.
pub(crate) fn status_params(task: &Task) -> Value {
    let mut body = task_json(task);
    if task.stateless {
        inline_end(&mut body, task);
    }
    Value::Object(body)
}

/// Inlines a 2026-07-28 task's `inputRequests`, `result` or `error`.
pub(super) fn inline_end(body: &mut Map<String, Value>, task: &Task) {
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
pub(super) fn created_answer(id: &RequestId, task: &Task, revision: Revision) -> Answer {
    let mut body = task_json(task);
    match revision {
        Revision::Stateless => {
            body.insert("resultType".into(), "task".into());
            let meta: Map<String, Value> =
                serde_json::from_str(protocol::result_meta().get()).unwrap_or_default();
            body.insert("_meta".into(), Value::Object(meta));
            Answer::result(id, &body, revision)
        }
        Revision::Session => Answer::result(id, &json!({ "task": body }), revision),
    }
}

/// A task's own members, as the revision that made it names them.
pub(super) fn task_json(task: &Task) -> Map<String, Value> {
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
