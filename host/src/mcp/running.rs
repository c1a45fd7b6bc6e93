//! What every request that runs a backend shares (`tools/call`,
//! `resources/read`, `prompts/get`): how its events reach the client, how
//! it is cancelled, and how its questions are answered.
//!
//! | event | becomes |
//! | --- | --- |
//! | `log` | `notifications/message`, at or above the session's level or the request's `_meta` level (none for a 2026-07-28 request without one) |
//! | `progress` | `notifications/progress`, when the request carried `_meta.progressToken` |
//! | a question (`elicit`, `sample`, `list-roots`, or a native server's request) | asked through the request's [`Asker`] |
//! | `resource-updated` | a resource update for subscribers, if the source serves the URI |

use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

use super::asking::{Asker, Rounds};
use super::jsonrpc::{self, McpError};
use super::protocol;
use super::reply::Outgoing;
use super::server::{LogFloor, McpServer};
use super::session::Session;
use crate::registry::Registry;
use crate::sandbox::GuestEvent;

/// How a request's questions reach its client.
pub(super) enum AskVia {
    /// 2025-11-25: the session's client is asked during the request.
    Session(Arc<Session>),
    /// 2026-07-28: the request carries the capabilities, and its retry the
    /// answers.
    Request {
        /// The `_meta` `clientCapabilities`.
        capabilities: Value,
    },
}

impl McpServer {
    /// The asker of a request to `method` on `target` with `arguments`:
    /// live for a session, else a round from the request's
    /// `inputResponses` and `requestState` (which may be refused).
    pub(super) fn asker(
        &self,
        via: AskVia,
        params: &Value,
        method: &str,
        target: &str,
        arguments: &impl serde::Serialize,
    ) -> Result<Asker, McpError> {
        Ok(match via {
            AskVia::Session(session) => {
                Asker::Live { session, timeout: self.options.input_timeout }
            }
            AskVia::Request { capabilities } => Asker::Rounds(Rounds::start(
                &self.state_key,
                params,
                super::asking::binding(method, target, arguments),
                capabilities,
                self.options.max_input_rounds,
            )?),
        })
    }
}

/// Where a running request's events go.
pub(super) struct Relay<'a> {
    /// Which log messages the client gets.
    pub logs: &'a LogFloor,
    /// The `logger` of its log messages (the tool, prompt or URI).
    pub logger: &'a str,
    /// The request's progress token, if it asked for progress.
    pub progress_token: Option<&'a Value>,
    /// The request's stream.
    pub out: &'a mpsc::UnboundedSender<Outgoing>,
    /// Who answers its questions.
    pub asker: &'a mut Asker,
    /// The source that serves it, which may announce updates of its own
    /// resources only.
    pub source: &'a str,
    /// Where resource updates are announced.
    pub registry: &'a Registry,
}

impl Relay<'_> {
    pub(super) fn event(&mut self, event: GuestEvent) {
        match event {
            GuestEvent::Log { level, message } => {
                let Some(rank) = protocol::log_level_rank(level.as_str()) else { return };
                if self.logs.wants(rank) {
                    let note = jsonrpc::notification(
                        "notifications/message",
                        &json!({ "level": level.as_str(), "logger": self.logger, "data": message }),
                    );
                    let _ = self.out.send(Outgoing::Notification(note));
                }
            }
            GuestEvent::Progress { done, total, message } => {
                let Some(token) = self.progress_token else { return };
                let mut params = Map::new();
                params.insert("progressToken".into(), token.clone());
                params.insert("progress".into(), json!(done));
                if let Some(total) = total {
                    params.insert("total".into(), json!(total));
                }
                if let Some(message) = message {
                    params.insert("message".into(), message.into());
                }
                let note = jsonrpc::notification("notifications/progress", &params);
                let _ = self.out.send(Outgoing::Notification(note));
            }
            GuestEvent::Ask { request, reply } => self.asker.ask(request, reply, self.out),
            GuestEvent::ResourceUpdated { uri } => {
                self.registry.announce(self.source, &uri);
            }
        }
    }
}

/// Runs `running` to its end while relaying its `events`; `None` if
/// `cancelled` fires first (dropping `running` stops the work: the store
/// is dropped and the wasm interrupted, or a native server is sent
/// `notifications/cancelled`).
///
/// The work is polled first: one that finishes in its first poll (the
/// usual case) then never registers the cancel and event wakers, so its own
/// end (the event sender dropped with the store) does not wake this task
/// again, and tokio does not wake another worker for that needless poll. A
/// cancel is seen as soon as the work is pending: at its next fuel yield or
/// host wait.
pub(super) async fn drive<T>(
    running: impl Future<Output = T>,
    mut events: mpsc::UnboundedReceiver<GuestEvent>,
    relay: &mut Relay<'_>,
    cancelled: impl Future<Output = ()>,
) -> Option<T> {
    tokio::pin!(running);
    tokio::pin!(cancelled);
    let done = loop {
        tokio::select! {
            biased;
            done = &mut running => break done,
            () = &mut cancelled => return None,
            Some(event) = events.recv() => relay.event(event),
        }
    };
    while let Ok(event) = events.try_recv() {
        relay.event(event);
    }
    Some(done)
}

/// Resolves when a request is cancelled: by `notifications/cancelled`
/// (`cancel`), or by its client closing the stream when `on_close`.
pub(super) async fn cancellation(
    cancel: Option<oneshot::Receiver<()>>,
    out: &mpsc::UnboundedSender<Outgoing>,
    on_close: bool,
) {
    let by_notification = async {
        match cancel {
            Some(rx) => {
                let _ = rx.await;
            }
            None => std::future::pending().await,
        }
    };
    let by_disconnect =
        async { if on_close { out.closed().await } else { std::future::pending().await } };
    tokio::select! {
        () = by_notification => {}
        () = by_disconnect => {}
    }
}
