//! 2025-11-25 sessions shared between replicas (`[cluster] redis_url`):
//! any replica serves any session.
//!
//! A session lives where it is used: the replica that started it, and any
//! replica a later request of it reaches, holds a local [`Session`] (its
//! calls in flight, the questions it awaits answers to, its streams). What
//! every copy must agree on is in Redis, and what one copy must tell
//! another goes by pub/sub:
//!
//! | what | how |
//! | --- | --- |
//! | revision, client capabilities, log level | the hash `<prefix>:sess:<id>`, written at `initialize` (before its answer leaves) and at `logging/setLevel`; it expires `session_idle_timeout_secs` after the last request on any replica |
//! | a request of a session this replica does not hold | the door adopts it from Redis first ([`McpServer::find_session`]) |
//! | `notifications/cancelled` for a call running on another replica | published; the replica running it stops it |
//! | the client's answer to a question another replica asked | published; the replica waiting for it takes it |
//! | `DELETE` of the session | its key removed; published: every replica ends its copy, cancelling its calls and closing its streams |
//! | `logging/setLevel` | published: every copy filters by the new level |
//!
//! A standalone `GET` stream is held by the replica it reached: it hears
//! that replica's list changes (replicas serve the same config, so they
//! change alike) and the session's task status notifications (which every
//! replica hears through the task store). Resource subscriptions are not
//! shared yet: `resources/subscribe` is known to the copy it reached.
//!
//! While Redis cannot be reached, a session this replica holds goes on;
//! one it does not hold answers `-32000` "session store unavailable" (HTTP
//! 503), and a new session starts but is served only here.

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::Value;

use super::jsonrpc::{McpError, RequestId};
use super::protocol;
use super::server::McpServer;
use super::session::Session;
use crate::cluster::{Cluster, ClusterError};

/// The pub/sub channel (after the prefix).
const CHANNEL: &str = "sessions";

/// What one replica tells the others about a session.
#[derive(serde::Serialize, serde::Deserialize)]
struct Note {
    /// The replica that sent it.
    from: String,
    session: String,
    #[serde(flatten)]
    what: What,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum What {
    /// The client deleted it.
    Ended,
    /// `notifications/cancelled` for the request `request`.
    Cancel { request: Value },
    /// The client's answer to the question `request` (its result, or its
    /// error object).
    Answer { request: String, result: Option<Value>, error: Option<Value> },
    /// `logging/setLevel`.
    Level { rank: u8 },
}

/// The sessions' shared part.
pub struct SharedSessions {
    cluster: Arc<Cluster>,
    idle: Duration,
    replica: String,
}

impl SharedSessions {
    /// Sessions shared through `cluster`, each kept `idle` after its last
    /// request.
    pub fn new(cluster: Arc<Cluster>, idle: Duration) -> Arc<SharedSessions> {
        Arc::new(SharedSessions { cluster, idle, replica: crate::tasks::new_id().to_string() })
    }

    fn key(&self, id: &str) -> String {
        self.cluster.key(&format!("sess:{id}"))
    }

    /// Writes `session` (at its start, or when its level changed).
    pub async fn save(&self, session: &Session) -> Result<(), ClusterError> {
        let key = self.key(session.id());
        let capabilities = session.capabilities().to_string();
        let (version, rank) = (session.protocol_version(), session.min_log_rank());
        let idle = self.idle.as_millis() as u64;
        self.cluster
            .run("sessions", |mut conn| async move {
                redis::pipe()
                    .hset_multiple(
                        &key,
                        &[
                            ("version", version.to_owned()),
                            ("capabilities", capabilities),
                            ("rank", rank.to_string()),
                        ],
                    )
                    .ignore()
                    .pexpire(&key, idle as i64)
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await
    }

    /// The session `id` as stored (revision, capabilities, log rank), its
    /// time to live renewed; `None` if there is none.
    async fn load(&self, id: &str) -> Result<Option<(&'static str, Value, u8)>, ClusterError> {
        let key = self.key(id);
        let idle = self.idle.as_millis() as i64;
        let (fields, _): (std::collections::HashMap<String, String>, i64) = self
            .cluster
            .run("sessions", |mut conn| async move {
                redis::pipe().hgetall(&key).pexpire(&key, idle).query_async(&mut conn).await
            })
            .await?;
        let Some(version) = fields.get("version") else { return Ok(None) };
        if !protocol::is_session_version(version) {
            return Ok(None);
        }
        let capabilities = fields
            .get("capabilities")
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_else(|| Value::Object(Default::default()));
        let rank = fields.get("rank").and_then(|r| r.parse().ok()).unwrap_or(0);
        Ok(Some((protocol::negotiate(Some(version)), capabilities, rank)))
    }

    /// Renews the time to live of `id` (every request of it, anywhere).
    fn touch(self: &Arc<Self>, id: &str) {
        let (shared, key) = (self.clone(), self.key(id));
        tokio::spawn(async move {
            let idle = shared.idle.as_millis() as i64;
            let _ = shared
                .cluster
                .run("sessions", |mut conn| async move {
                    redis::cmd("PEXPIRE").arg(key).arg(idle).query_async::<()>(&mut conn).await
                })
                .await;
        });
    }

    /// Tells the other replicas `what` about `session`, in the background.
    fn tell(self: &Arc<Self>, session: &str, what: What) {
        let note = Note { from: self.replica.clone(), session: session.to_owned(), what };
        let Ok(text) = serde_json::to_string(&note) else { return };
        let shared = self.clone();
        tokio::spawn(async move {
            if let Err(err) = shared.cluster.publish(CHANNEL, text).await {
                tracing::warn!(error = %err, "a session note to the other replicas was lost");
            }
        });
    }
}

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
}

/// Hands every session note from other replicas to `server`, until it is
/// dropped.
pub(super) async fn listen(server: Weak<McpServer>) {
    let Some(cluster) = server.upgrade().and_then(|s| s.shared.as_ref().map(|s| s.cluster.clone()))
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
