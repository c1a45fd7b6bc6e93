//! Tasks kept in this process's memory: the default store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use tokio::sync::broadcast;

use super::{Signal, Task, TaskError, TaskLimits, TaskStatus, TaskStore, Update, new_id};
use crate::lock::Locked as _;

/// How often expired tasks are dropped when nothing else touches the store.
const SWEEP_PERIOD: Duration = Duration::from_secs(1);

/// Tasks in memory, behind one lock (every operation is a few map
/// lookups; none waits while holding it).
pub struct MemoryStore {
    limits: TaskLimits,
    inner: Mutex<Inner>,
    signals: broadcast::Sender<Signal>,
}

#[derive(Default)]
struct Inner {
    tasks: HashMap<Arc<str>, Entry>,
    /// Finished tasks, in the order they ended (so also of expiry).
    finished: VecDeque<(SystemTime, Arc<str>)>,
    /// Running tasks per owner.
    running: HashMap<Arc<str>, u32>,
    running_total: u32,
    census: [u64; 5],
    next_seq: u64,
}

struct Entry {
    task: Task,
    seq: u64,
    output: Output,
    /// Answers given so far to the open questions.
    answers: Map<String, Value>,
}

/// A ring buffer of lines, bounded in bytes.
struct Output {
    lines: VecDeque<String>,
    bytes: usize,
    cap: usize,
}

impl Output {
    fn push(&mut self, text: &str) {
        for line in text.lines() {
            let mut line = line.to_owned();
            if line.len() > self.cap {
                let mut cut = self.cap;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
            }
            self.bytes += line.len() + 1;
            self.lines.push_back(line);
            while self.bytes > self.cap {
                let Some(old) = self.lines.pop_front() else { break };
                self.bytes -= old.len() + 1;
            }
        }
    }

    fn tail(&self, lines: usize) -> String {
        let skip = self.lines.len().saturating_sub(lines);
        let mut text = String::new();
        for line in self.lines.iter().skip(skip) {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

impl MemoryStore {
    /// An empty store under `limits`. Within a tokio runtime, a task drops
    /// expired tasks every second until the store is dropped.
    pub fn new(limits: TaskLimits) -> Arc<MemoryStore> {
        let store = Arc::new(MemoryStore {
            limits,
            inner: Mutex::new(Inner::default()),
            signals: broadcast::channel(1024).0,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweeper(Arc::downgrade(&store)));
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.locked()
    }

    fn changed(&self, id: &Arc<str>) {
        let task = self.lock().tasks.get(id).map(|entry| Arc::new(entry.task.clone()));
        if let Some(task) = task {
            let _ = self.signals.send(Signal::Changed(task));
        }
    }
}

async fn sweeper(store: Weak<MemoryStore>) {
    let mut tick = tokio::time::interval(SWEEP_PERIOD);
    loop {
        tick.tick().await;
        let Some(store) = store.upgrade() else { return };
        let limits = store.limits;
        if store.lock().sweep(&limits, SystemTime::now()) > 0 {
            let _ = store.signals.send(Signal::Dropped);
        }
    }
}

impl Inner {
    /// Drops finished tasks past their time, and the oldest past
    /// `max_kept`; how many.
    fn sweep(&mut self, limits: &TaskLimits, now: SystemTime) -> usize {
        let mut dropped = 0;
        while let Some((ended, id)) = self.finished.front() {
            let expired = now.duration_since(*ended).is_ok_and(|age| age >= limits.ttl);
            if !expired && self.finished.len() <= limits.max_kept as usize {
                break;
            }
            let id = id.clone();
            self.finished.pop_front();
            if let Some(entry) = self.tasks.remove(&id) {
                self.census[entry.task.status.index()] -= 1;
                dropped += 1;
            }
        }
        // Shrink the maps after a burst, so memory goes back.
        if self.tasks.capacity() > 64 && self.tasks.len() < self.tasks.capacity() / 4 {
            self.tasks.shrink_to_fit();
            self.finished.shrink_to_fit();
            self.running.shrink_to_fit();
        }
        dropped
    }

    fn owned(&mut self, owner: &str, id: &str) -> Result<&mut Entry, TaskError> {
        match self.tasks.get_mut(id) {
            Some(entry) if &*entry.task.owner == owner => Ok(entry),
            _ => Err(TaskError::Unknown(id.to_owned())),
        }
    }

    /// Moves `id` to `status`, keeping the counts.
    fn set_status(&mut self, id: &Arc<str>, status: TaskStatus, now: SystemTime) {
        let Some(entry) = self.tasks.get_mut(id) else { return };
        let was = entry.task.status;
        if was == status {
            entry.task.last_updated_at = now;
            return;
        }
        entry.task.status = status;
        entry.task.last_updated_at = now;
        self.census[was.index()] -= 1;
        self.census[status.index()] += 1;
        if status.is_final() && !was.is_final() {
            let owner = entry.task.owner.clone();
            if let Some(running) = self.running.get_mut(&owner) {
                *running -= 1;
                if *running == 0 {
                    self.running.remove(&owner);
                }
            }
            self.running_total -= 1;
            self.finished.push_back((now, id.clone()));
        }
    }
}

#[async_trait::async_trait]
impl TaskStore for MemoryStore {
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        stateless: bool,
        session: Option<&str>,
    ) -> Result<Task, TaskError> {
        let now = SystemTime::now();
        let mut inner = self.lock();
        let _ = inner.sweep(&self.limits, now);
        if inner.running_total >= self.limits.max_tasks {
            return Err(TaskError::TooMany { limit: self.limits.max_tasks });
        }
        let owner: Arc<str> = owner.into();
        if inner.running.get(&owner).copied().unwrap_or(0) >= self.limits.max_per_owner {
            return Err(TaskError::TooManyForClient { limit: self.limits.max_per_owner });
        }
        let task =
            Task::working(new_id(), owner.clone(), tool, stateless, session, now, &self.limits);
        *inner.running.entry(owner).or_default() += 1;
        inner.running_total += 1;
        inner.census[TaskStatus::Working.index()] += 1;
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let output =
            Output { lines: VecDeque::new(), bytes: 0, cap: self.limits.output_bytes.max(1) };
        inner.tasks.insert(
            task.id.clone(),
            Entry { task: task.clone(), seq, output, answers: Map::new() },
        );
        Ok(task)
    }

    async fn get(&self, owner: &str, id: &str) -> Result<Task, TaskError> {
        let mut inner = self.lock();
        let _ = inner.sweep(&self.limits, SystemTime::now());
        Ok(inner.owned(owner, id)?.task.clone())
    }

    async fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Task>, Option<String>), TaskError> {
        let after = match after {
            None => None,
            Some(text) => {
                Some(text.parse::<u64>().map_err(|_| TaskError::BadCursor(text.to_owned()))?)
            }
        };
        let mut inner = self.lock();
        let _ = inner.sweep(&self.limits, SystemTime::now());
        let mut mine: Vec<&Entry> = inner
            .tasks
            .values()
            .filter(|e| &*e.task.owner == owner && after.is_none_or(|after| e.seq > after))
            .collect();
        mine.sort_by_key(|e| e.seq);
        let more = mine.len() > limit;
        mine.truncate(limit);
        let next = more.then(|| mine.last().map(|e| e.seq.to_string())).flatten();
        Ok((mine.into_iter().map(|e| e.task.clone()).collect(), next))
    }

    async fn tail(&self, owner: &str, id: &str, lines: usize) -> Result<String, TaskError> {
        let mut inner = self.lock();
        Ok(inner.owned(owner, id)?.output.tail(lines))
    }

    async fn update(&self, id: &str, update: Update) -> Result<(), TaskError> {
        let now = SystemTime::now();
        let mut inner = self.lock();
        let Some(entry) = inner.tasks.get_mut(id) else {
            return Err(TaskError::Unknown(id.to_owned()));
        };
        let id = entry.task.id.clone();
        match update {
            Update::Output(text) => {
                entry.output.push(&text);
                return Ok(());
            }
            _ if entry.task.status.is_final() => return Ok(()),
            Update::Progress(message) => {
                entry.output.push(&format!("[progress] {message}"));
                entry.task.status_message = Some(message);
                entry.task.last_updated_at = now;
            }
            Update::InputRequired(requests) => {
                entry.task.input_requests = requests;
                entry.answers.clear();
                inner.set_status(&id, TaskStatus::InputRequired, now);
            }
            Update::End { status, end, message } => {
                entry.task.input_requests.clear();
                entry.answers = Map::new();
                entry.task.end = end;
                if message.is_some() {
                    entry.task.status_message = message;
                }
                inner.set_status(&id, status, now);
            }
        }
        drop(inner);
        self.changed(&id);
        Ok(())
    }

    async fn answer(
        &self,
        owner: &str,
        id: &str,
        responses: &Map<String, Value>,
    ) -> Result<(), TaskError> {
        let now = SystemTime::now();
        let mut inner = self.lock();
        let entry = inner.owned(owner, id)?;
        if entry.task.status != TaskStatus::InputRequired {
            return Ok(());
        }
        let mut answered = false;
        for (key, response) in responses {
            if entry.task.input_requests.remove(key).is_some() {
                entry.answers.insert(key.clone(), response.clone());
                answered = true;
            }
        }
        if !answered {
            return Ok(());
        }
        let id = entry.task.id.clone();
        entry.task.last_updated_at = now;
        let done = entry.task.input_requests.is_empty().then(|| std::mem::take(&mut entry.answers));
        if let Some(answers) = done {
            inner.set_status(&id, TaskStatus::Working, now);
            drop(inner);
            let _ = self.signals.send(Signal::Answered(id.clone(), Arc::new(answers)));
        } else {
            drop(inner);
        }
        self.changed(&id);
        Ok(())
    }

    async fn cancel(&self, owner: &str, id: &str, reason: &str) -> Result<Task, TaskError> {
        let now = SystemTime::now();
        let mut inner = self.lock();
        let entry = inner.owned(owner, id)?;
        if entry.task.status.is_final() {
            return Ok(entry.task.clone());
        }
        entry.task.input_requests.clear();
        entry.task.status_message = Some(reason.to_owned());
        entry.output.push(&format!("[cancelled] {reason}"));
        let id = entry.task.id.clone();
        inner.set_status(&id, TaskStatus::Cancelled, now);
        let task = inner.tasks[&id].task.clone();
        drop(inner);
        let _ = self.signals.send(Signal::Cancel(id.clone()));
        self.changed(&id);
        Ok(task)
    }

    async fn discard(&self, id: &str) {
        let mut inner = self.lock();
        let Some(entry) = inner.tasks.remove(id) else { return };
        let status = entry.task.status;
        inner.census[status.index()] -= 1;
        if status.is_final() {
            inner.finished.retain(|(_, finished)| **finished != *id);
        } else {
            let owner = entry.task.owner;
            if let Some(running) = inner.running.get_mut(&owner) {
                *running -= 1;
                if *running == 0 {
                    inner.running.remove(&owner);
                }
            }
            inner.running_total -= 1;
        }
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }

    fn census(&self) -> [u64; 5] {
        self.lock().census
    }
}

/// What is particular to this store; what every store does is tested in
/// [`super::contract`].
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::task_store::TaskEnd;

    fn limits() -> TaskLimits {
        TaskLimits {
            max_tasks: 3,
            max_per_owner: 2,
            max_kept: 2,
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(500),
            output_bytes: 32,
        }
    }

    fn end(status: TaskStatus) -> Update {
        Update::End {
            status,
            end: Some(TaskEnd::Result(Arc::from(
                serde_json::value::to_raw_value(&json!({})).unwrap(),
            ))),
            message: None,
        }
    }

    #[tokio::test]
    async fn finished_tasks_expire_and_are_capped() {
        let store = MemoryStore::new(TaskLimits { ttl: Duration::from_millis(1), ..limits() });
        let task = store.create("a", "t", true, None).await.unwrap();
        store.update(&task.id, end(TaskStatus::Failed)).await.unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(store.get("a", &task.id).await.is_err());
        assert_eq!(store.census(), [0; 5]);
        let store = MemoryStore::new(limits());
        let mut ids = Vec::new();
        for _ in 0..3 {
            let task = store.create("a", "t", true, None).await.unwrap();
            store.update(&task.id, end(TaskStatus::Completed)).await.unwrap();
            ids.push(task.id);
        }
        store.create("a", "t", true, None).await.unwrap();
        assert!(store.get("a", &ids[0]).await.is_err(), "past max_kept, the oldest goes");
        assert!(store.get("a", &ids[2]).await.is_ok());
    }
}
