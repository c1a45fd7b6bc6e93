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

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::protocol;
use super::session::Session;
use crate::cluster::{Cluster, ClusterError};

/// The pub/sub channel (after the prefix).
pub(super) const CHANNEL: &str = "sessions";

/// What one replica tells the others about a session.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Note {
    /// The replica that sent it.
    pub from: String,
    /// The session.
    pub session: String,
    /// What happened.
    #[serde(flatten)]
    pub what: What,
}

/// What happened to a session.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum What {
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
    pub(super) cluster: Arc<Cluster>,
    idle: Duration,
    /// This replica's name in its notes.
    pub(super) replica: String,
}

impl SharedSessions {
    /// Sessions shared through `cluster`, each kept `idle` after its last
    /// request.
    pub fn new(cluster: Arc<Cluster>, idle: Duration) -> Arc<SharedSessions> {
        Arc::new(SharedSessions { cluster, idle, replica: crate::task_store::new_id().to_string() })
    }

    pub(super) fn key(&self, id: &str) -> String {
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
    pub(super) async fn load(
        &self,
        id: &str,
    ) -> Result<Option<(&'static str, Value, u8)>, ClusterError> {
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
    pub(super) fn touch(self: &Arc<Self>, id: &str) {
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
    pub(super) fn tell(self: &Arc<Self>, session: &str, what: What) {
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
