//! `subscriptions/listen` (2026-07-28): a request whose answer is a
//! stream of the notifications the client asked for.
//!
//! - `params.notifications` says what the client wants:
//!   `toolsListChanged`, `resourcesListChanged`, `promptsListChanged`,
//!   `resourceSubscriptions` (URIs, at most [`MAX_RESOURCE_SUBSCRIPTIONS`])
//!   and `taskIds` (the tasks extension: `notifications/tasks` for each
//!   change of those of the client's tasks, at most [`MAX_TASK_IDS`];
//!   `-32021` without the extension declared);
//!   the acknowledgement names what is honored (all of it), and the stream
//!   carries nothing else.
//! - The first message is `notifications/subscriptions/acknowledged` with
//!   the honored filter; every notification on the stream carries
//!   `_meta` `io.modelcontextprotocol/subscriptionId`, the id of the listen
//!   request.
//! - The stream lasts until the client closes it (HTTP), cancels it with
//!   `notifications/cancelled` (stdio), or the server shuts down; then, and
//!   only then, the request gets its result (`resultType: "complete"`, the
//!   subscription id in `_meta`).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, mpsc};

use super::changes::Change;
use super::context::Canceller;
use super::jsonrpc::{self, McpError, RequestId};
use super::protocol::{self, META_SERVER_INFO, META_SUBSCRIPTION_ID, Revision};
use super::reply::{Answer, Outgoing, Reply, Stream};
use super::server::McpServer;

/// The most resource URIs one listen stream may subscribe to.
pub const MAX_RESOURCE_SUBSCRIPTIONS: usize = 1000;
/// The most task ids one listen stream may follow.
pub const MAX_TASK_IDS: usize = 1000;

/// What a listen stream asked for.
struct Filter {
    tools: bool,
    resources: bool,
    prompts: bool,
    uris: HashSet<String>,
    tasks: HashSet<String>,
    /// Whose tasks the listener may hear of.
    owner: Arc<str>,
}

/// A filter member that lists strings, at most `max`.
fn strings(
    filter: &Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<HashSet<String>, McpError> {
    match filter.get(key) {
        None | Some(Value::Null) => Ok(HashSet::new()),
        Some(Value::Array(items)) => {
            if items.len() > max {
                return Err(McpError::InvalidParams(format!(
                    "{key} names {} items; at most {max} per stream",
                    items.len()
                )));
            }
            items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| McpError::InvalidParams(format!("{key} must be strings")))
        }
        Some(_) => Err(McpError::InvalidParams(format!("{key} must be an array of strings"))),
    }
}

impl Filter {
    fn parse(
        filter: &Map<String, Value>,
        capabilities: &Value,
        owner: Arc<str>,
    ) -> Result<Filter, McpError> {
        let flag = |key: &str| filter.get(key) == Some(&Value::Bool(true));
        let uris = strings(filter, "resourceSubscriptions", MAX_RESOURCE_SUBSCRIPTIONS)?;
        let tasks = strings(filter, "taskIds", MAX_TASK_IDS)?;
        if !tasks.is_empty() && !protocol::declares_tasks(capabilities) {
            return Err(McpError::MissingExtension {
                extension: protocol::TASKS_EXTENSION,
                message: "taskIds are part of the tasks extension".into(),
            });
        }
        Ok(Filter {
            tools: flag("toolsListChanged"),
            resources: flag("resourcesListChanged"),
            prompts: flag("promptsListChanged"),
            uris,
            tasks,
            owner,
        })
    }

    /// The filter as acknowledged.
    fn honored(&self) -> Value {
        let mut honored = Map::new();
        for (key, on) in [
            ("toolsListChanged", self.tools),
            ("resourcesListChanged", self.resources),
            ("promptsListChanged", self.prompts),
        ] {
            if on {
                honored.insert(key.into(), true.into());
            }
        }
        for (key, set) in [("resourceSubscriptions", &self.uris), ("taskIds", &self.tasks)] {
            if !set.is_empty() {
                let mut items: Vec<&String> = set.iter().collect();
                items.sort();
                honored.insert(key.into(), json!(items));
            }
        }
        Value::Object(honored)
    }

    fn wants(&self, change: &Change) -> bool {
        match change {
            Change::ToolsListChanged => self.tools,
            Change::ResourcesListChanged => self.resources,
            Change::PromptsListChanged => self.prompts,
            Change::ResourceUpdated(uri) => self.uris.contains(&**uri),
            Change::Task(task) => {
                task.stateless && task.owner == self.owner && self.tasks.contains(&*task.id)
            }
        }
    }
}

impl McpServer {
    /// Opens a `subscriptions/listen` stream.
    pub(super) fn listen(
        &self,
        id: &RequestId,
        params: &Value,
        canceller: Option<Canceller>,
        capabilities: &Value,
        owner: Arc<str>,
    ) -> Result<Reply, McpError> {
        let filter = params.get("notifications").and_then(Value::as_object).ok_or_else(|| {
            McpError::InvalidParams(
                "\"notifications\" must be an object naming the notifications to receive".into(),
            )
        })?;
        let filter = Filter::parse(filter, capabilities, owner)?;
        let mut cancel = match &canceller {
            Some(canceller) => Some(
                canceller
                    .in_flight()
                    .begin(id)
                    .map_err(|err| McpError::InvalidRequest(err.to_string()))?,
            ),
            None => None,
        };
        let mut changes = self.changes.subscribe();
        let mut shutdown = self.shutdown.subscribe();
        let closing = id.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        let meta = json!({ META_SUBSCRIPTION_ID: id.as_value() });
        let ack = jsonrpc::notification(
            "notifications/subscriptions/acknowledged",
            &json!({ "notifications": filter.honored(), "_meta": meta }),
        );
        let task = async move {
            if tx.send(Outgoing::Notification(ack)).is_err() {
                return;
            }
            let cancelled = async {
                match cancel.take() {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(cancelled);
            loop {
                let change = tokio::select! {
                    () = &mut cancelled => break,
                    () = tx.closed() => break,
                    _ = shutdown.wait_for(|down| *down) => {
                        let result = json!({
                            "resultType": "complete",
                            "_meta": {
                                META_SUBSCRIPTION_ID: closing.as_value(),
                                META_SERVER_INFO: protocol::SERVER_INFO,
                            },
                        });
                        let _ = tx.send(Outgoing::Response(Answer::result(&closing, &result, Revision::Stateless)));
                        break;
                    }
                    change = changes.recv() => change,
                };
                let changes = match change {
                    Ok(change) => vec![change],
                    // Missed changes: list changes are idempotent, so one of
                    // each will do; missed resource updates are lost.
                    Err(broadcast::error::RecvError::Lagged(_)) => vec![
                        Change::ToolsListChanged,
                        Change::ResourcesListChanged,
                        Change::PromptsListChanged,
                    ],
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                for change in changes.iter().filter(|change| filter.wants(change)) {
                    let params = change.params(Some(("_meta", meta.clone())));
                    let note = jsonrpc::notification(change.method(), &params);
                    if tx.send(Outgoing::Notification(note)).is_err() {
                        return;
                    }
                }
            }
            if let Some(canceller) = &canceller {
                canceller.in_flight().end(&closing);
            }
        };
        Ok(Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true }))
    }
}
