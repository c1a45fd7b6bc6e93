//! What the MCP core does with 2025-11-25 sessions shared between replicas
//! ([`super::shared_sessions`] has the shared store and the notes the
//! replicas exchange): adopting a session another replica started, sharing
//! one this replica started, and passing cancels, answers, log levels and
//! ends to the replica concerned.

use std::sync::{Arc, Weak};

use serde_json::Value;

use super::jsonrpc::{McpError, RequestId};
use super::server::McpServer;
use super::session::Session;
use super::shared_sessions::{CHANNEL, Note, What};

impl McpServer {
    /// Makes the session `id` servable here: with `[cluster]`, a session
    /// another replica started is adopted from the shared store. Without
    /// it, or for a session unknown everywhere, nothing happens (the
    /// request is then answered "session not found").
    pub async fn find_session(&self, id: &str) -> Result<(), McpError> {
        let Some(shared) = &self.shared else { return Ok(()) };
        if self.sessions().contains(id) {
            shared.touch(id);
            return Ok(());
        }
        match shared.load(id).await {
            Ok(Some((version, capabilities, rank))) => {
                self.sessions().adopt(id, version, capabilities, rank);
                tracing::debug!(session = id, "session adopted from the shared store");
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(err) => {
                Err(McpError::StateUnavailable(format!("session store unavailable: {err}")))
            }
        }
    }

    /// Shares a session `initialize` just started, before its answer
    /// leaves, so the client's next request may reach any replica.
    pub async fn share_session(&self, session: &Session) {
        let Some(shared) = &self.shared else { return };
        if let Err(err) = shared.save(session).await {
            tracing::warn!(session = session.id(), error = %err, "session not shared: only this replica serves it");
        }
    }

    /// Ends the session `id` on every replica (the client deleted it here).
    pub async fn forget_session(&self, id: &str) {
        let Some(shared) = &self.shared else { return };
        let key = shared.key(id);
        let _ = shared
            .cluster
            .run("sessions", |mut conn| async move {
                redis::cmd("DEL").arg(key).query_async::<()>(&mut conn).await
            })
            .await;
        shared.tell(id, What::Ended);
    }

    /// A cancel for a request not running here: to the replica running it.
    pub(super) fn share_cancel(&self, session: &str, request: &RequestId) {
        if let Some(shared) = &self.shared {
            shared.tell(session, What::Cancel { request: request.as_value().clone() });
        }
    }

    /// An answer to a question not asked here: to the replica that asked.
    pub(super) fn share_answer(&self, session: &str, request: &str, outcome: Result<Value, Value>) {
        if let Some(shared) = &self.shared {
            let (result, error) = match outcome {
                Ok(result) => (Some(result), None),
                Err(error) => (None, Some(error)),
            };
            shared.tell(session, What::Answer { request: request.to_owned(), result, error });
        }
    }

    /// A new log level: stored, and to every copy of the session.
    pub(super) fn share_level(&self, session: &Arc<Session>) {
        let Some(shared) = &self.shared else { return };
        shared.tell(session.id(), What::Level { rank: session.min_log_rank() });
        let (shared, session) = (shared.clone(), session.clone());
        tokio::spawn(async move {
            let _ = shared.save(&session).await;
        });
    }

    /// Acts on what another replica tells about a session held here.
    fn heard(&self, payload: &[u8]) {
        let Some(shared) = &self.shared else { return };
        let Ok(note) = serde_json::from_slice::<Note>(payload) else { return };
        if note.from == shared.replica || !self.sessions().contains(&note.session) {
            return;
        }
        let Ok(session) = self.sessions().get(&note.session) else { return };
        match note.what {
            What::Ended => {
                let _ = self.sessions().remove(&note.session);
                tracing::info!(session = note.session, "session ended on another replica");
            }
            What::Cancel { request } => {
                if let Ok(id) = RequestId::from_value(request) {
                    let found = session.in_flight().cancel(&id);
                    tracing::debug!(session = note.session, request = %id, found, "cancel from another replica");
                }
            }
            What::Answer { request, result, error } => {
                let outcome = match (result, error) {
                    (Some(result), _) => Ok(result),
                    (None, error) => Err(error.unwrap_or(Value::Null)),
                };
                session.asks().answer(&request, outcome);
            }
            What::Level { rank } => session.set_min_log_rank(rank),
        }
    }

    /// Hands every session note from other replicas to `server`, until it
    /// is dropped.
    pub(super) async fn hear_replicas(server: Weak<McpServer>) {
        let Some(cluster) =
            server.upgrade().and_then(|s| s.shared.as_ref().map(|s| s.cluster.clone()))
        else {
            return;
        };
        cluster
            .subscribe(
                CHANNEL,
                move |payload| match server.upgrade() {
                    Some(server) => {
                        server.heard(payload);
                        true
                    }
                    None => false,
                },
                || {},
            )
            .await;
    }
}
