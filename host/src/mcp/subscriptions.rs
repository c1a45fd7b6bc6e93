//! `subscriptions/listen` (2026-07-28): a request whose answer is a
//! stream of the notifications the client asked for.
//!
//! - `params.notifications` says what the client wants; only
//!   `toolsListChanged` is offered (Corral has no prompts or resources), so
//!   the acknowledgement names that, or nothing.
//! - The first message is `notifications/subscriptions/acknowledged` with
//!   the honored filter; every notification on the stream carries
//!   `_meta` `io.modelcontextprotocol/subscriptionId`, the id of the listen
//!   request.
//! - The stream lasts until the client closes it (HTTP), cancels it with
//!   `notifications/cancelled` (stdio), or the server shuts down; then, and
//!   only then, the request gets its result (`resultType: "complete"`, the
//!   subscription id in `_meta`).

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::jsonrpc::{self, McpError, RequestId};
use super::protocol::{self, META_SERVER_INFO, META_SUBSCRIPTION_ID};
use super::reply::{Answer, Outgoing, Reply, Stream};
use super::server::{Canceller, Change, McpServer};

impl McpServer {
    /// Opens a `subscriptions/listen` stream.
    pub(super) fn listen(
        &self,
        id: &RequestId,
        params: &Value,
        canceller: Option<Canceller>,
    ) -> Result<Reply, McpError> {
        let filter = params.get("notifications").and_then(Value::as_object).ok_or_else(|| {
            McpError::InvalidParams(
                "\"notifications\" must be an object naming the notifications to receive".into(),
            )
        })?;
        let tools = filter.get("toolsListChanged") == Some(&Value::Bool(true));
        let honored = if tools { json!({ "toolsListChanged": true }) } else { json!({}) };
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
        let tagged = |mut params: Value| -> Value {
            params["_meta"] = json!({ META_SUBSCRIPTION_ID: id.as_value() });
            params
        };
        let list_changed =
            Arc::new(jsonrpc::notification("notifications/tools/list_changed", &tagged(json!({}))));
        let ack = jsonrpc::notification(
            "notifications/subscriptions/acknowledged",
            &tagged(json!({ "notifications": honored })),
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
                        let _ = tx.send(Outgoing::Response(Answer::result(&closing, &result, true)));
                        break;
                    }
                    change = changes.recv() => change,
                };
                let send = match change {
                    Ok(Change::ToolsListChanged) => tools,
                    // Missed changes: a list change is idempotent, one will do.
                    Err(broadcast::error::RecvError::Lagged(_)) => tools,
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if send && tx.send(Outgoing::Notification((*list_changed).clone())).is_err() {
                    break;
                }
            }
            if let Some(canceller) = &canceller {
                canceller.in_flight().end(&closing);
            }
        };
        Ok(Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop: true }))
    }
}
