//! Tasks as the protocol shows them, written straight from the stored task:
//! its own members, named as the revision that made it names them, and what
//! a 2026-07-28 `tasks/get` or status notification inlines (its questions,
//! or its result or error, embedded as the JSON text written when it ended).

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::super::jsonrpc::RequestId;
use super::super::protocol::{self, Revision};
use super::super::reply::Answer;
use crate::task_store::{Task, TaskEnd, TaskStatus, rfc3339};

/// A task as an answer or notification carries it.
pub(crate) struct TaskView<'a> {
    task: &'a Task,
    /// 2026-07-28 `resultType`: `task` when it is made, `complete` for
    /// `tasks/get`.
    result_type: Option<&'static str>,
    /// Inline its questions, result or error (2026-07-28).
    inline: bool,
    /// `_meta`: the server's name (2026-07-28), and the output's tail.
    server_meta: bool,
    output: Option<&'a str>,
}

impl<'a> TaskView<'a> {
    /// The task's own members.
    pub(crate) fn of(task: &'a Task) -> TaskView<'a> {
        TaskView { task, result_type: None, inline: false, server_meta: false, output: None }
    }

    /// As a 2026-07-28 status notification (`notifications/tasks`) carries
    /// it: with what `tasks/get` inlines; as a 2025-11-25 one, the task.
    pub(crate) fn notification(task: &'a Task) -> TaskView<'a> {
        TaskView { inline: task.stateless, ..TaskView::of(task) }
    }

    /// As `tasks/get` answers in `revision`, with the last lines of its
    /// output in `_meta`.
    pub(super) fn get(task: &'a Task, revision: Revision, output: &'a str) -> TaskView<'a> {
        let stateless = revision == Revision::Stateless;
        TaskView {
            result_type: stateless.then_some("complete"),
            inline: stateless,
            server_meta: stateless,
            output: Some(output),
            ..TaskView::of(task)
        }
    }
}

impl Serialize for TaskView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let task = self.task;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("taskId", &*task.id)?;
        map.serialize_entry("status", task.status.as_str())?;
        if let Some(message) = &task.status_message {
            map.serialize_entry("statusMessage", message)?;
        }
        map.serialize_entry("createdAt", &rfc3339(task.created_at))?;
        map.serialize_entry("lastUpdatedAt", &rfc3339(task.last_updated_at))?;
        let (ttl, poll) = (task.ttl.as_millis() as u64, task.poll_interval.as_millis() as u64);
        if task.stateless {
            map.serialize_entry("ttlMs", &ttl)?;
            map.serialize_entry("pollIntervalMs", &poll)?;
        } else {
            map.serialize_entry("ttl", &ttl)?;
            map.serialize_entry("pollInterval", &poll)?;
        }
        if let Some(result_type) = self.result_type {
            map.serialize_entry("resultType", result_type)?;
        }
        if self.inline {
            match (&task.status, &task.end) {
                (TaskStatus::InputRequired, _) => {
                    map.serialize_entry("inputRequests", &task.input_requests)?;
                }
                (TaskStatus::Completed | TaskStatus::Failed, Some(TaskEnd::Result(result))) => {
                    map.serialize_entry("result", &**result)?;
                }
                (TaskStatus::Failed, Some(TaskEnd::Error(error))) => {
                    map.serialize_entry("error", &**error)?;
                }
                _ => {}
            }
        }
        if self.server_meta || self.output.is_some() {
            map.serialize_entry("_meta", &Meta { server: self.server_meta, output: self.output })?;
        }
        map.end()
    }
}

/// A task answer's `_meta`: the server's name, the output's tail.
struct Meta<'a> {
    server: bool,
    output: Option<&'a str>,
}

impl Serialize for Meta<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if self.server {
            map.serialize_entry(protocol::META_SERVER_INFO, &protocol::SERVER_INFO)?;
        }
        if let Some(output) = self.output {
            map.serialize_entry(protocol::META_TASK_OUTPUT, output)?;
        }
        map.end()
    }
}

/// The params of a task's status notification.
pub(crate) fn status_params(task: &Task) -> Value {
    serde_json::to_value(TaskView::notification(task)).unwrap_or_else(|_| Value::Object(Map::new()))
}

/// The created-task answer: flat with `resultType: "task"` (2026-07-28),
/// or `{"task": {...}}` (2025-11-25).
pub(super) fn created_answer(id: &RequestId, task: &Task, revision: Revision) -> Answer {
    match revision {
        Revision::Stateless => {
            let view =
                TaskView { result_type: Some("task"), server_meta: true, ..TaskView::of(task) };
            Answer::result(id, &view, revision)
        }
        Revision::Session => Answer::result(id, &Wrapped { task: TaskView::of(task) }, revision),
    }
}

/// `{"task": ...}`, the 2025-11-25 created-task answer.
#[derive(Serialize)]
struct Wrapped<'a> {
    task: TaskView<'a>,
}

/// A finished task's result as 2025-11-25 `tasks/result` answers it: the
/// stored result's members as they were written, with `_meta` naming the
/// task added. `None` when the stored text is not a JSON object (it always
/// is).
pub(super) fn related_result<'a>(
    result: &'a RawValue,
    task_id: &'a str,
) -> Option<impl Serialize + 'a> {
    let members: BTreeMap<String, &RawValue> = serde_json::from_str(result.get()).ok()?;
    Some(Related { members, task_id })
}

struct Related<'a> {
    members: BTreeMap<String, &'a RawValue>,
    task_id: &'a str,
}

impl Serialize for Related<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut meta: Map<String, Value> = self
            .members
            .get("_meta")
            .and_then(|meta| serde_json::from_str(meta.get()).ok())
            .unwrap_or_default();
        meta.insert(
            protocol::META_RELATED_TASK.into(),
            serde_json::json!({ "taskId": self.task_id }),
        );
        for (key, value) in self.members.iter().filter(|(key, _)| *key != "_meta") {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("_meta", &meta)?;
        map.end()
    }
}
