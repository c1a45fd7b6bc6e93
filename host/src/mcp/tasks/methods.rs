//! The `tasks/*` methods: `tasks/get` and `tasks/cancel` (both revisions),
//! `tasks/update` (2026-07-28), `tasks/result` and `tasks/list`
//! (2025-11-25). Each answers for the tasks of the caller's owner only
//! ([`super::super::context::Caller::owner`]); another owner's task is
//! unknown.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::super::jsonrpc::{McpError, RequestId};
use super::super::protocol::{META_TASK_OUTPUT_LINES, Revision};
use super::super::reply::Reply;
use super::super::server::McpServer;
use super::shapes::{TaskView, related_result};
use super::{
    CANCEL_WAIT, MAX_TAIL_LINES, TAIL_LINES, complete, later, task_error, task_id, written,
};
use crate::task_store::{Signal, TaskEnd};

impl McpServer {
    /// `tasks/get`.
    pub(in crate::mcp) fn get_task(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
        revision: Revision,
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
        Ok(later(id, revision, async move {
            let task = server.tasks.get(&owner, &task_id).await.map_err(task_error)?;
            let tail = server.tasks.tail(&owner, &task_id, lines).await.map_err(task_error)?;
            written(&TaskView::get(&task, revision, &tail))
        }))
    }

    /// `tasks/update` (2026-07-28): answers to a task's questions.
    pub(in crate::mcp) fn update_task(
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
        Ok(later(id, Revision::Stateless, async move {
            server.tasks.answer(&owner, &task_id, &responses).await.map_err(task_error)?;
            complete()
        }))
    }

    /// `tasks/cancel`.
    pub(in crate::mcp) fn cancel_task(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
        revision: Revision,
    ) -> Result<Reply, McpError> {
        let task_id = task_id(params)?;
        let server = self.clone();
        Ok(later(id, revision, async move {
            let before = server.tasks.get(&owner, &task_id).await.map_err(task_error)?;
            if before.status.is_final() {
                if revision == Revision::Stateless {
                    return complete();
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
            match revision {
                Revision::Stateless => complete(),
                Revision::Session => written(&TaskView::of(&task)),
            }
        }))
    }

    /// `tasks/result` (2025-11-25): waits for the task's end.
    pub(in crate::mcp) fn task_result(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
    ) -> Result<Reply, McpError> {
        let task_id = task_id(params)?;
        let server = self.clone();
        Ok(later(id, Revision::Session, async move {
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
                Some(TaskEnd::Result(result)) => match related_result(result, &task.id) {
                    Some(result) => written(&result),
                    None => {
                        Err(McpError::Internal("the task's stored result is not an object".into()))
                    }
                },
                Some(TaskEnd::Error(error)) => {
                    #[derive(serde::Deserialize)]
                    struct Error {
                        message: Option<String>,
                    }
                    let error: Option<Error> = serde_json::from_str(error.get()).ok();
                    let message = error.and_then(|e| e.message).unwrap_or_else(|| "failed".into());
                    Err(McpError::Internal(message))
                }
                None => Err(McpError::InvalidParams(format!(
                    "task {task_id:?} was cancelled: it has no result ({})",
                    task.status_message.as_deref().unwrap_or("cancelled")
                ))),
            }
        }))
    }

    /// `tasks/list` (2025-11-25): the client's tasks, oldest first.
    pub(in crate::mcp) fn list_tasks(
        self: &Arc<Self>,
        id: &RequestId,
        params: &Value,
        owner: Arc<str>,
    ) -> Result<Reply, McpError> {
        let after = match params.get("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::String(cursor)) => Some(
                super::super::lists::cursor(params)
                    .map_err(|_| McpError::InvalidParams(format!("invalid cursor {cursor:?}")))?,
            ),
            Some(_) => return Err(McpError::InvalidParams("cursor must be a string".into())),
        };
        let server = self.clone();
        let page = self.options.page_size;
        Ok(later(id, Revision::Session, async move {
            let (tasks, next) =
                server.tasks.list(&owner, after.as_deref(), page).await.map_err(task_error)?;
            #[derive(serde::Serialize)]
            struct Page<'a> {
                tasks: Vec<TaskView<'a>>,
                #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
                next_cursor: Option<String>,
            }
            written(&Page {
                tasks: tasks.iter().map(TaskView::of).collect(),
                next_cursor: next.map(|next| super::super::lists::next_cursor(&next)),
            })
        }))
    }
}
