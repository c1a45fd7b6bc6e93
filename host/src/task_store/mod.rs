//! Long-running calls kept as tasks: their records, their limits, and the
//! one interface ([`TaskStore`]) behind which they are stored, whatever
//! the protocol revision that made them (the MCP side is
//! [`crate::mcp::tasks`]).
//!
//! A task is created `working` by the replica that runs its call, which
//! alone changes it afterwards ([`TaskStore::update`]): progress becomes
//! its `statusMessage`, log and progress messages and the call's stdout
//! and stderr go to its output (a ring buffer of `[tasks] output_kib`),
//! questions park it `input_required`, and its end is `completed`
//! (a result), `failed` (an error) or `cancelled`. Its client reads it,
//! answers its questions ([`TaskStore::answer`]) and cancels it
//! ([`TaskStore::cancel`]); the runner hears both through
//! [`TaskStore::signals`], which is how, with a shared store, a replica
//! hears what a client asked of another.
//!
//! | status | next | kept |
//! | --- | --- | --- |
//! | `working` | `input_required`, `completed`, `failed`, `cancelled` | while it runs |
//! | `input_required` | `working` (all answered), `cancelled` | while it runs |
//! | `completed`, `failed`, `cancelled` | - (final) | `ttl_ms` from its end, or until `max_kept` newer finished tasks push it out |
//!
//! A task belongs to its owner: the bearer token that made it, else the
//! 2025-11-25 session, else the peer address (2026-07-28 over HTTP without
//! tokens), or the stdio connection. Another owner's task id is unknown to
//! a client, exactly like an id that never existed.
//!
//! The store in memory ([`MemoryStore`]) is the default; with
//! `[cluster] redis_url`, [`RedisStore`] shares tasks between replicas
//! behind the same trait.

#[cfg(test)]
mod contract;
mod memory;
mod redis_store;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

pub use self::memory::MemoryStore;
pub use self::redis_store::{LEASE, RedisStore};
use crate::config::TasksConfig;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Its call runs.
    Working,
    /// Its call waits for the client's answers.
    InputRequired,
    /// It ended with a result (which may be a tool error).
    Completed,
    /// It ended with an error.
    Failed,
    /// It was cancelled (by its client, or by the server shutting down).
    Cancelled,
}

impl TaskStatus {
    /// Every status, in the order of [`TaskStatus::index`].
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Working,
        TaskStatus::InputRequired,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
    ];

    /// Its MCP name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Working => "working",
            TaskStatus::InputRequired => "input_required",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Its position in [`TaskStatus::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the task has ended.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled)
    }
}

/// One task, as a client sees it.
#[derive(Debug, Clone)]
pub struct Task {
    /// Its id: 128 random bits, base64url.
    pub id: Arc<str>,
    /// Who may see it (see the module doc).
    pub owner: Arc<str>,
    /// The tool it calls, by its exposed name.
    pub tool: Arc<str>,
    /// Whether a 2026-07-28 request made it (the shapes of its answers differ).
    pub stateless: bool,
    /// 2025-11-25: the session that made it (`stdio` for the stdio
    /// connection's), whose stream hears `notifications/tasks/status`.
    pub session: Option<Arc<str>>,
    /// Its status.
    pub status: TaskStatus,
    /// The latest progress message, or why it ended.
    pub status_message: Option<String>,
    /// When it was made.
    pub created_at: SystemTime,
    /// When its status or message last changed.
    pub last_updated_at: SystemTime,
    /// How long it is kept once finished.
    pub ttl: Duration,
    /// How often its client is asked to poll.
    pub poll_interval: Duration,
    /// `input_required`: the questions awaiting answers, by key, as MCP
    /// `inputRequests` entries.
    pub input_requests: Map<String, Value>,
    /// How it ended, once finished (none when cancelled).
    pub end: Option<TaskEnd>,
}

impl Task {
    /// A new `working` task `id` of `owner` calling `tool`, made at `now`
    /// under `limits`.
    pub fn working(
        id: Arc<str>,
        owner: Arc<str>,
        tool: &str,
        stateless: bool,
        session: Option<&str>,
        now: SystemTime,
        limits: &TaskLimits,
    ) -> Task {
        Task {
            id,
            owner,
            tool: tool.into(),
            stateless,
            session: session.map(Arc::from),
            status: TaskStatus::Working,
            status_message: None,
            created_at: now,
            last_updated_at: now,
            ttl: limits.ttl,
            poll_interval: limits.poll_interval,
            input_requests: Map::new(),
            end: None,
        }
    }
}

/// How a finished task ended, as the JSON it is sent as: written once,
/// when the call ended, and embedded as it is in every answer that carries
/// it (and stored as this text in Redis).
#[derive(Debug, Clone)]
pub enum TaskEnd {
    /// The call's result (`completed`; with 2025-11-25, `failed` when it
    /// is a tool error), as the revision shapes it: a JSON object.
    Result(Arc<RawValue>),
    /// A JSON-RPC error object (`failed`).
    Error(Arc<RawValue>),
}

impl TaskEnd {
    /// Its JSON text.
    pub fn json(&self) -> &RawValue {
        match self {
            TaskEnd::Result(json) | TaskEnd::Error(json) => json,
        }
    }
}

impl PartialEq for TaskEnd {
    fn eq(&self, other: &TaskEnd) -> bool {
        matches!(
            (self, other),
            (TaskEnd::Result(_), TaskEnd::Result(_)) | (TaskEnd::Error(_), TaskEnd::Error(_))
        ) && self.json().get() == other.json().get()
    }
}

/// A change to a running task, made by the replica that runs it.
#[derive(Debug, Clone)]
pub enum Update {
    /// A progress message: the new `statusMessage`.
    Progress(String),
    /// Lines for its output.
    Output(String),
    /// Questions: the task waits for their answers.
    InputRequired(Map<String, Value>),
    /// It ended.
    End {
        /// `completed`, `failed` or `cancelled`.
        status: TaskStatus,
        /// Its result or error.
        end: Option<TaskEnd>,
        /// Why, for `statusMessage`.
        message: Option<String>,
    },
}

/// What a task's runner hears from its clients.
#[derive(Debug, Clone)]
pub enum Signal {
    /// Its client cancelled it; the store has marked it `cancelled`.
    Cancel(Arc<str>),
    /// Its client answered every open question: the answers, by key.
    Answered(Arc<str>, Arc<Map<String, Value>>),
    /// It changed (for status notifications and waiting readers): the task
    /// as it is now.
    Changed(Arc<Task>),
    /// Finished tasks were dropped past their time.
    Dropped,
}

/// Why a task operation was refused. Each message names the cause.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TaskError {
    /// No task of this client has the id: it never existed, belongs to
    /// another client, or was dropped after its `ttlMs`.
    #[error(
        "unknown task {0:?}: no task of this client has that id (it never existed, belongs to \
         another client, or was dropped after its ttlMs)"
    )]
    Unknown(String),
    /// The client already runs its most tasks.
    #[error(
        "too many tasks: this client already runs {limit} (tasks.max_tasks_per_client); wait \
         for one to end or cancel one"
    )]
    TooManyForClient {
        /// The limit.
        limit: u32,
    },
    /// The server already runs its most tasks.
    #[error("too many tasks: the server already runs {limit} (tasks.max_tasks); retry later")]
    TooMany {
        /// The limit.
        limit: u32,
    },
    /// A `tasks/list` cursor this store did not issue.
    #[error("invalid cursor {0:?}: pass the nextCursor of the previous page")]
    BadCursor(String),
    /// The store failed (a shared store that cannot be reached).
    #[error("task store unavailable: {0}")]
    Unavailable(String),
}

/// The limits a store enforces and the values it gives new tasks.
#[derive(Debug, Clone, Copy)]
pub struct TaskLimits {
    /// Running tasks, all owners.
    pub max_tasks: u32,
    /// Running tasks of one owner.
    pub max_per_owner: u32,
    /// Finished tasks kept.
    pub max_kept: u32,
    /// How long a finished task is kept.
    pub ttl: Duration,
    /// The poll interval clients are told.
    pub poll_interval: Duration,
    /// Bytes of output kept per task.
    pub output_bytes: usize,
}

impl TaskLimits {
    /// The limits `[tasks]` sets.
    pub fn from_config(config: &TasksConfig) -> TaskLimits {
        TaskLimits {
            max_tasks: config.max_tasks,
            max_per_owner: config.max_tasks_per_client,
            max_kept: config.max_kept,
            ttl: Duration::from_millis(config.ttl_ms),
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            output_bytes: (config.output_kib as usize) << 10,
        }
    }
}

/// Where tasks are kept. Every method is scoped to the task's owner where
/// a client asks, so one client never reaches another's task.
#[async_trait::async_trait]
pub trait TaskStore: Send + Sync {
    /// A new `working` task of `owner` calling `tool`, made by a 2026-07-28
    /// request (`stateless`) or in the 2025-11-25 `session`, within the
    /// limits.
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        stateless: bool,
        session: Option<&str>,
    ) -> Result<Task, TaskError>;

    /// The task `id` of `owner`.
    async fn get(&self, owner: &str, id: &str) -> Result<Task, TaskError>;

    /// A page of `owner`'s tasks, oldest first, after the task `after`
    /// (`None`: from the start); and the id to continue after, if more.
    async fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Task>, Option<String>), TaskError>;

    /// The last `lines` lines of the task's output.
    async fn tail(&self, owner: &str, id: &str, lines: usize) -> Result<String, TaskError>;

    /// Applies `update` to the running task `id` (from its runner). A task
    /// already finished (cancelled meanwhile) is left as it is.
    async fn update(&self, id: &str, update: Update) -> Result<(), TaskError>;

    /// Records `owner`'s answers to open questions of task `id`: answers
    /// to questions it is not waiting for are ignored; once none is open,
    /// the task is `working` again and its runner gets every answer.
    async fn answer(
        &self,
        owner: &str,
        id: &str,
        responses: &Map<String, Value>,
    ) -> Result<(), TaskError>;

    /// Cancels `owner`'s task `id`: a running one becomes `cancelled` (its
    /// runner hears it); a finished one stays as it is. Returns the task.
    async fn cancel(&self, owner: &str, id: &str, reason: &str) -> Result<Task, TaskError>;

    /// Removes a task whose call was answered inline before anyone saw it.
    async fn discard(&self, id: &str);

    /// What runners and readers hear.
    fn signals(&self) -> broadcast::Receiver<Signal>;

    /// Tasks by status ([`TaskStatus::index`]), for the metrics.
    fn census(&self) -> [u64; 5];

    /// Whether the store answered its last operation (a shared store may
    /// not); calls that need not be tasks run inline while it does not.
    fn available(&self) -> bool {
        true
    }
}

/// A fresh task id: 128 random bits, base64url.
pub fn new_id() -> Arc<str> {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    // The system's randomness was checked when the server started (the
    // request-state key); a failure here leaves an id still unique enough
    // in this process, but never silently predictable: it is logged.
    if let Err(err) = getrandom::fill(&mut bytes) {
        tracing::error!("no system randomness for a task id: {err}");
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        bytes = nanos.to_le_bytes();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes).into()
}

/// `time` in RFC 3339, UTC, to the millisecond: `2026-11-29T20:41:07.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_984_867_123);
        assert_eq!(rfc3339(t), "2026-11-29T20:41:07.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn ids_are_distinct_and_url_safe() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
