//! Tasks kept in Redis, shared by every replica of a deployment
//! (`[cluster] redis_url`).
//!
//! A task is created by the replica that runs its call; any replica reads,
//! answers and cancels it. Every change that must be atomic (the limits at
//! creation, an end racing a cancel, answers key by key) is one Lua script,
//! and Redis's clock stamps every time, so replicas' clocks need not agree.
//!
//! | key (after `<prefix>:`) | what |
//! | --- | --- |
//! | `t:<id>` | the task: a hash of its fields |
//! | `t:<id>:req`, `t:<id>:ans` | open questions and the answers given so far, by key |
//! | `t:<id>:out` | its output, the last `output_kib` of whole lines |
//! | `running` | running tasks, scored by their lease: the runner renews it every second |
//! | `running:<owner>`, `owner:<owner>` | an owner's running tasks; all its tasks by creation |
//! | `waiting` | tasks in `input_required` |
//! | `done:<status>` | finished tasks by end time, for the TTL and `max_kept` |
//!
//! A replica that dies stops renewing its tasks' leases: past
//! [`LEASE`], any replica ends them `failed`, saying so. Signals
//! (`Cancel`, `Answered`, `Changed`) go on the channel `<prefix>:signals`;
//! a replica also re-reads its own running tasks every second, so a cancel
//! or an answer published while it could not hear still arrives. Redis
//! Cluster (sharded) is not supported: the scripts touch keys they derive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::{Signal, Task, TaskEnd, TaskError, TaskLimits, TaskStatus, TaskStore, Update, new_id};
use crate::cluster::{Cluster, ClusterError};
use crate::lock::Locked as _;

/// How long a running task stays alive without its runner renewing it.
pub const LEASE: Duration = Duration::from_secs(10);

/// How often leases are renewed, finished tasks expired and the counts read.
const TICK: Duration = Duration::from_secs(1);

/// The pub/sub channel (after the prefix).
const CHANNEL: &str = "signals";

/// Shared by every script: Redis's clock in ms, ending a task, dropping one.
const LIB: &str = include_str!("lua/lib.lua");

/// ARGV: P, id, owner, tool, stateless, session, ttl, poll, max_tasks,
/// max_per_owner. Returns `{'ok', now}`, `{'too_many'}` or
/// `{'too_many_for_client'}`.
const CREATE: &str = include_str!("lua/create.lua");

/// ARGV: P, id, kind, then per kind: `output` text cap; `progress`
/// message cap; `input` then key, request pairs; `end` status message
/// ending ttl max_kept. Returns 1 when the task changed, 0 when it had
/// already ended (or is gone).
const UPDATE: &str = include_str!("lua/update.lua");

/// ARGV: P, id, owner, then key, response pairs. Returns -1 (not this
/// owner's), 0 (nothing answered), 1 (some answered), 2 (all answered:
/// working again).
const ANSWER: &str = include_str!("lua/answer.lua");

/// ARGV: P, id. The answers of a task working again, once: taken away.
const TAKE_ANSWERS: &str = include_str!("lua/take_answers.lua");

/// ARGV: P, id, owner, reason, ttl, max_kept, cap. Returns -1 (not this
/// owner's), 0 (already ended), 1 (cancelled now).
const CANCEL: &str = include_str!("lua/cancel.lua");

/// ARGV: P, id. Drops a task answered inline before anyone saw it.
const DISCARD: &str = include_str!("lua/discard.lua");

/// ARGV: P, ttl, max_kept, lease, lost message, lost error, then the ids
/// this replica runs. Renews their leases, ends the tasks whose runner
/// stopped renewing, drops finished tasks past their TTL. Returns
/// `{working, input_required, completed, failed, cancelled, dropped, lost ids...}`.
const TICK_SCRIPT: &str = include_str!("lua/tick.lua");

/// What a replica publishes for the others.
#[derive(serde::Serialize, serde::Deserialize)]
struct Message {
    /// The replica that sent it (which has already delivered it locally).
    from: String,
    /// `cancel`, `answered` or `changed`.
    kind: String,
    id: String,
    /// `changed`: the task's fields and open questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task: Option<(HashMap<String, String>, HashMap<String, String>)>,
}

/// A task this replica runs.
#[derive(Default)]
struct Local {
    /// It waits for answers (so a `working` status means they are in).
    waiting: bool,
}

/// The scripts, each prefixed with [`LIB`].
struct Scripts {
    create: Script,
    update: Script,
    answer: Script,
    take_answers: Script,
    cancel: Script,
    discard: Script,
    tick: Script,
}

/// Tasks in Redis.
pub struct RedisStore {
    cluster: Arc<Cluster>,
    limits: TaskLimits,
    scripts: Scripts,
    replica: String,
    signals: broadcast::Sender<Signal>,
    local: Mutex<HashMap<Arc<str>, Local>>,
    census: Mutex<[u64; 5]>,
}

impl RedisStore {
    /// The store of `cluster`, under `limits`. Must be called within a
    /// tokio runtime: a task renews this replica's leases, expires tasks
    /// and counts them every second, and another listens for signals.
    pub fn new(cluster: Arc<Cluster>, limits: TaskLimits) -> Arc<RedisStore> {
        let script = |body: &str| Script::new(&format!("{LIB}\n{body}"));
        let store = Arc::new(RedisStore {
            scripts: Scripts {
                create: script(CREATE),
                update: script(UPDATE),
                answer: script(ANSWER),
                take_answers: script(TAKE_ANSWERS),
                cancel: script(CANCEL),
                discard: script(DISCARD),
                tick: script(TICK_SCRIPT),
            },
            replica: new_id().to_string(),
            signals: broadcast::channel(1024).0,
            local: Mutex::new(HashMap::new()),
            census: Mutex::new([0; 5]),
            cluster: cluster.clone(),
            limits,
        });
        tokio::spawn(ticker(Arc::downgrade(&store)));
        let weak = Arc::downgrade(&store);
        let resubscribed = weak.clone();
        tokio::spawn(cluster.subscribe(
            CHANNEL,
            move |payload| match weak.upgrade() {
                Some(store) => {
                    store.heard(payload);
                    true
                }
                None => false,
            },
            move || {
                // Catch up on what was missed while not subscribed.
                if let Some(store) = resubscribed.upgrade() {
                    tokio::spawn(async move { store.tick().await });
                }
            },
        ));
        store
    }

    fn prefix(&self) -> String {
        self.cluster.key("").trim_end_matches(':').to_owned()
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Local>> {
        self.local.locked()
    }

    async fn script<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[&str],
    ) -> Result<T, TaskError> {
        let prefix = self.prefix();
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(prefix.as_str());
        all.extend_from_slice(args);
        self.cluster.script("tasks", script, &[], &all).await.map_err(unavailable)
    }

    /// The task `id` as stored, whoever owns it.
    async fn load(&self, id: &str) -> Result<Option<Task>, TaskError> {
        let key = self.cluster.key(&format!("t:{id}"));
        let (fields, requests): (HashMap<String, String>, HashMap<String, String>) = self
            .cluster
            .run("tasks", |mut conn| async move {
                redis::pipe()
                    .hgetall(&key)
                    .hgetall(format!("{key}:req"))
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(unavailable)?;
        Ok(task_of(id, &fields, &requests))
    }

    /// Tells this replica's runners and readers, then the others.
    async fn announce(&self, kind: &str, id: &str, signal: Signal) {
        let task = match &signal {
            Signal::Changed(task) => Some(fields_of(task)),
            _ => None,
        };
        let _ = self.signals.send(signal);
        let message =
            Message { from: self.replica.clone(), kind: kind.to_owned(), id: id.to_owned(), task };
        if let Ok(text) = serde_json::to_string(&message) {
            // Lost while Redis is down: the runner's tick finds the state.
            let _ = self.cluster.publish(CHANNEL, text).await;
        }
    }

    async fn changed(&self, id: &str) {
        if let Ok(Some(task)) = self.load(id).await {
            self.announce("changed", id, Signal::Changed(Arc::new(task))).await;
        }
    }

    /// A message from another replica.
    fn heard(self: &Arc<Self>, payload: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Message>(payload) else { return };
        if message.from == self.replica {
            return;
        }
        let id: Arc<str> = message.id.as_str().into();
        match message.kind.as_str() {
            "cancel" if self.local().contains_key(&id) => {
                self.local().remove(&id);
                let _ = self.signals.send(Signal::Cancel(id));
            }
            "answered" if self.local().contains_key(&id) => {
                let store = self.clone();
                tokio::spawn(async move { store.take_answers(&id).await });
            }
            "changed" => {
                if let Some(task) =
                    message.task.and_then(|(fields, requests)| task_of(&id, &fields, &requests))
                {
                    let _ = self.signals.send(Signal::Changed(Arc::new(task)));
                }
            }
            _ => {}
        }
    }

    /// Hands this replica's runner the answers of `id`, once.
    async fn take_answers(&self, id: &Arc<str>) {
        let Ok(pairs) = self.script::<Vec<String>>(&self.scripts.take_answers, &[id]).await else {
            return;
        };
        if pairs.is_empty() {
            return;
        }
        let mut answers = Map::new();
        for pair in pairs.chunks(2) {
            if let [key, value] = pair {
                answers.insert(key.clone(), serde_json::from_str(value).unwrap_or(Value::Null));
            }
        }
        if let Some(local) = self.local().get_mut(id) {
            local.waiting = false;
        }
        let _ = self.signals.send(Signal::Answered(id.clone(), Arc::new(answers)));
    }

    /// Renews leases, ends lost tasks, drops expired ones, counts; then
    /// catches up on this replica's tasks' cancels and answers.
    async fn tick(&self) {
        let ids: Vec<Arc<str>> = self.local().keys().cloned().collect();
        let ttl = self.limits.ttl.as_millis().to_string();
        let max_kept = self.limits.max_kept.to_string();
        let lease = LEASE.as_millis().to_string();
        let lost = "the replica running this task stopped (no lease renewal)";
        let lost_error =
            json!({ "error": { "code": -32603, "message": lost, "data": { "outcome": "lost" } } })
                .to_string();
        let mut args = vec![ttl.as_str(), max_kept.as_str(), lease.as_str(), lost, &lost_error];
        args.extend(ids.iter().map(|id| &**id));
        let Ok(counts) = self.script::<Vec<redis::Value>>(&self.scripts.tick, &args).await else {
            return;
        };
        let number = |i: usize| match counts.get(i) {
            Some(redis::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        *self.census.locked() = [number(0), number(1), number(2), number(3), number(4)];
        if number(5) > 0 {
            let _ = self.signals.send(Signal::Dropped);
        }
        for lost in counts.iter().skip(6) {
            if let redis::Value::BulkString(id) = lost {
                let id = String::from_utf8_lossy(id).into_owned();
                tracing::warn!(task = %id, "task ended failed: the replica running it stopped");
                self.changed(&id).await;
            }
        }
        // What this replica may have missed: a cancel, or answers.
        for id in ids {
            let waiting = self.local().get(&id).is_some_and(|l| l.waiting);
            let key = self.cluster.key(&format!("t:{id}"));
            let status = self
                .cluster
                .run("tasks", |mut conn| async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg("status")
                        .query_async::<Option<String>>(&mut conn)
                        .await
                })
                .await;
            match status.ok().flatten().as_deref() {
                Some("working") if waiting => self.take_answers(&id).await,
                Some("completed" | "failed" | "cancelled") | None
                    if self.local().remove(&id).is_some() =>
                {
                    let _ = self.signals.send(Signal::Cancel(id));
                }
                _ => {}
            }
        }
    }
}

async fn ticker(store: Weak<RedisStore>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(store) = store.upgrade() else { return };
        store.tick().await;
    }
}

fn unavailable(err: ClusterError) -> TaskError {
    TaskError::Unavailable(err.to_string())
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

fn time_of(ms: &str) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.parse().unwrap_or(0))
}

fn status_of(name: &str) -> Option<TaskStatus> {
    TaskStatus::ALL.into_iter().find(|s| s.as_str() == name)
}

/// A task from its stored fields; `None` when it is gone.
fn task_of(
    id: &str,
    fields: &HashMap<String, String>,
    requests: &HashMap<String, String>,
) -> Option<Task> {
    let field = |name: &str| fields.get(name).map(String::as_str);
    let status = status_of(field("status")?)?;
    let end = field("end").and_then(|text| serde_json::from_str::<StoredEnd>(text).ok()).and_then(
        |end| match (end.result, end.error) {
            (Some(result), _) => Some(TaskEnd::Result(Arc::from(result))),
            (None, Some(error)) => Some(TaskEnd::Error(Arc::from(error))),
            (None, None) => None,
        },
    );
    let input_requests = requests
        .iter()
        .map(|(key, text)| (key.clone(), serde_json::from_str(text).unwrap_or(Value::Null)))
        .collect();
    Some(Task {
        id: id.into(),
        owner: field("owner")?.into(),
        tool: field("tool").unwrap_or_default().into(),
        stateless: field("stateless") == Some("1"),
        session: field("session").map(Arc::from),
        status,
        status_message: field("message").map(str::to_owned),
        created_at: time_of(field("created").unwrap_or("0")),
        last_updated_at: time_of(field("updated").unwrap_or("0")),
        ttl: Duration::from_millis(field("ttl").and_then(|t| t.parse().ok()).unwrap_or(0)),
        poll_interval: Duration::from_millis(
            field("poll").and_then(|t| t.parse().ok()).unwrap_or(0),
        ),
        input_requests,
        end,
    })
}

/// A task's stored fields (for a `changed` message).
fn fields_of(task: &Task) -> (HashMap<String, String>, HashMap<String, String>) {
    let mut fields = HashMap::from([
        ("owner".to_owned(), task.owner.to_string()),
        ("tool".to_owned(), task.tool.to_string()),
        ("stateless".to_owned(), if task.stateless { "1" } else { "0" }.to_owned()),
        ("status".to_owned(), task.status.as_str().to_owned()),
        ("created".to_owned(), millis(task.created_at).to_string()),
        ("updated".to_owned(), millis(task.last_updated_at).to_string()),
        ("ttl".to_owned(), task.ttl.as_millis().to_string()),
        ("poll".to_owned(), task.poll_interval.as_millis().to_string()),
    ]);
    if let Some(session) = &task.session {
        fields.insert("session".to_owned(), session.to_string());
    }
    if let Some(message) = &task.status_message {
        fields.insert("message".to_owned(), message.clone());
    }
    if let Some(end) = &task.end {
        fields.insert("end".to_owned(), end_json(end));
    }
    let requests =
        task.input_requests.iter().map(|(key, value)| (key.clone(), value.to_string())).collect();
    (fields, requests)
}

/// A task's end as stored: `{"result": ...}` or `{"error": ...}`, the JSON
/// kept as it was written.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredEnd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<Box<RawValue>>,
}

fn end_json(end: &TaskEnd) -> String {
    let json = end.json().to_owned();
    let stored = match end {
        TaskEnd::Result(_) => StoredEnd { result: Some(json), error: None },
        TaskEnd::Error(_) => StoredEnd { result: None, error: Some(json) },
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

#[async_trait::async_trait]
impl TaskStore for RedisStore {
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        stateless: bool,
        session: Option<&str>,
    ) -> Result<Task, TaskError> {
        let id = new_id();
        let (ttl, poll) = (
            self.limits.ttl.as_millis().to_string(),
            self.limits.poll_interval.as_millis().to_string(),
        );
        let (max, per_owner) =
            (self.limits.max_tasks.to_string(), self.limits.max_per_owner.to_string());
        let lease = LEASE.as_millis().to_string();
        let reply: Vec<String> = self
            .script(
                &self.scripts.create,
                &[
                    &id,
                    owner,
                    tool,
                    if stateless { "1" } else { "0" },
                    session.unwrap_or(""),
                    &ttl,
                    &poll,
                    &max,
                    &per_owner,
                    &lease,
                ],
            )
            .await?;
        match reply.first().map(String::as_str) {
            Some("ok") => {}
            Some("too_many_for_client") => {
                return Err(TaskError::TooManyForClient { limit: self.limits.max_per_owner });
            }
            _ => return Err(TaskError::TooMany { limit: self.limits.max_tasks }),
        }
        let now = time_of(reply.get(1).map(String::as_str).unwrap_or("0"));
        self.local().insert(id.clone(), Local::default());
        Ok(Task::working(id, owner.into(), tool, stateless, session, now, &self.limits))
    }

    async fn get(&self, owner: &str, id: &str) -> Result<Task, TaskError> {
        match self.load(id).await? {
            Some(task) if &*task.owner == owner => Ok(task),
            _ => Err(TaskError::Unknown(id.to_owned())),
        }
    }

    async fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Task>, Option<String>), TaskError> {
        let after = match after {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| TaskError::BadCursor(text.to_owned()))?,
        };
        let index = self.cluster.key(&format!("owner:{owner}"));
        let ids: Vec<(String, u64)> = self
            .cluster
            .run("tasks", |mut conn| async move {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&index)
                    .arg(format!("({after}"))
                    .arg("+inf")
                    .arg("WITHSCORES")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit + 1)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(unavailable)?;
        let more = ids.len() > limit;
        let mut tasks = Vec::new();
        let mut last = None;
        for (id, seq) in ids.into_iter().take(limit) {
            last = Some(seq);
            if let Some(task) = self.load(&id).await?
                && &*task.owner == owner
            {
                tasks.push(task);
            }
        }
        Ok((tasks, more.then(|| last.map(|seq| seq.to_string())).flatten()))
    }

    async fn tail(&self, owner: &str, id: &str, lines: usize) -> Result<String, TaskError> {
        let key = self.cluster.key(&format!("t:{id}"));
        let (who, output): (Option<String>, Option<String>) = self
            .cluster
            .run("tasks", |mut conn| async move {
                redis::pipe()
                    .hget(&key, "owner")
                    .get(format!("{key}:out"))
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(unavailable)?;
        if who.as_deref() != Some(owner) {
            return Err(TaskError::Unknown(id.to_owned()));
        }
        let output = output.unwrap_or_default();
        let all: Vec<&str> = output.lines().collect();
        let mut text = String::new();
        for line in &all[all.len().saturating_sub(lines)..] {
            text.push_str(line);
            text.push('\n');
        }
        Ok(text)
    }

    async fn update(&self, id: &str, update: Update) -> Result<(), TaskError> {
        let cap = self.limits.output_bytes.max(1).to_string();
        let changed: i64 = match &update {
            Update::Output(text) => {
                let mut text = text.clone();
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                self.script(&self.scripts.update, &[id, "output", &text, &cap]).await?
            }
            Update::Progress(message) => {
                self.script(&self.scripts.update, &[id, "progress", message, &cap]).await?
            }
            Update::InputRequired(requests) => {
                let pairs: Vec<(String, String)> =
                    requests.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
                let mut args = vec![id, "input"];
                for (key, value) in &pairs {
                    args.push(key);
                    args.push(value);
                }
                let changed = self.script(&self.scripts.update, &args).await?;
                if let Some(local) = self.local().get_mut(id) {
                    local.waiting = true;
                }
                changed
            }
            Update::End { status, end, message } => {
                let (ttl, max_kept) =
                    (self.limits.ttl.as_millis().to_string(), self.limits.max_kept.to_string());
                let ending = end.as_ref().map(end_json).unwrap_or_default();
                let message = message.clone().unwrap_or_default();
                let changed = self
                    .script(
                        &self.scripts.update,
                        &[id, "end", status.as_str(), &message, &ending, &ttl, &max_kept],
                    )
                    .await?;
                self.local().remove(id);
                changed
            }
        };
        match changed {
            -1 => Err(TaskError::Unknown(id.to_owned())),
            1 => {
                self.changed(id).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn answer(
        &self,
        owner: &str,
        id: &str,
        responses: &Map<String, Value>,
    ) -> Result<(), TaskError> {
        let pairs: Vec<(String, String)> =
            responses.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        let mut args = vec![id, owner];
        for (key, value) in &pairs {
            args.push(key);
            args.push(value);
        }
        let answered: i64 = self.script(&self.scripts.answer, &args).await?;
        match answered {
            -1 => return Err(TaskError::Unknown(id.to_owned())),
            0 => return Ok(()),
            2 => {
                let id: Arc<str> = id.into();
                if self.local().contains_key(&id) {
                    self.take_answers(&id).await;
                } else {
                    let message = Message {
                        from: self.replica.clone(),
                        kind: "answered".to_owned(),
                        id: id.to_string(),
                        task: None,
                    };
                    if let Ok(text) = serde_json::to_string(&message) {
                        let _ = self.cluster.publish(CHANNEL, text).await;
                    }
                }
            }
            _ => {}
        }
        self.changed(id).await;
        Ok(())
    }

    async fn cancel(&self, owner: &str, id: &str, reason: &str) -> Result<Task, TaskError> {
        let (ttl, max_kept) =
            (self.limits.ttl.as_millis().to_string(), self.limits.max_kept.to_string());
        let cap = self.limits.output_bytes.max(1).to_string();
        let cancelled: i64 =
            self.script(&self.scripts.cancel, &[id, owner, reason, &ttl, &max_kept, &cap]).await?;
        if cancelled == -1 {
            return Err(TaskError::Unknown(id.to_owned()));
        }
        if cancelled == 1 {
            let id: Arc<str> = id.into();
            self.local().remove(&id);
            self.announce("cancel", &id, Signal::Cancel(id.clone())).await;
            self.changed(&id).await;
        }
        self.get(owner, id).await
    }

    async fn discard(&self, id: &str) {
        self.local().remove(id);
        let _ = self.script::<i64>(&self.scripts.discard, &[id]).await;
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }

    fn census(&self) -> [u64; 5] {
        *self.census.locked()
    }

    fn available(&self) -> bool {
        self.cluster.up()
    }
}
