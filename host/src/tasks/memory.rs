//! Tasks kept in this process's memory: the default store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use tokio::sync::broadcast;

use super::{Signal, Task, TaskError, TaskLimits, TaskStatus, TaskStore, Update, new_id};

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
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tasks::TaskEnd;

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
        Update::End { status, end: Some(TaskEnd::Result(Arc::new(json!({})))), message: None }
    }

    #[tokio::test]
    async fn limits_per_owner_and_in_all() {
        let store = MemoryStore::new(limits());
        let a1 = store.create("a", "t", true, None).await.unwrap();
        store.create("a", "t", true, None).await.unwrap();
        assert_eq!(
            store.create("a", "t", true, None).await.unwrap_err(),
            TaskError::TooManyForClient { limit: 2 }
        );
        store.create("b", "t", true, None).await.unwrap();
        assert_eq!(
            store.create("c", "t", true, None).await.unwrap_err(),
            TaskError::TooMany { limit: 3 }
        );
        // A finished task frees its slot.
        store.update(&a1.id, end(TaskStatus::Completed)).await.unwrap();
        store.create("a", "t", true, None).await.unwrap();
        assert_eq!(store.census(), [3, 0, 1, 0, 0]);
    }

    #[tokio::test]
    async fn another_owners_task_is_unknown() {
        let store = MemoryStore::new(limits());
        let task = store.create("a", "t", true, None).await.unwrap();
        assert!(matches!(store.get("b", &task.id).await, Err(TaskError::Unknown(_))));
        assert!(matches!(store.cancel("b", &task.id, "x").await, Err(TaskError::Unknown(_))));
        assert_eq!(store.get("a", &task.id).await.unwrap().status, TaskStatus::Working);
    }

    #[tokio::test]
    async fn cancel_is_final_and_signalled() {
        let store = MemoryStore::new(limits());
        let mut signals = store.signals();
        let task = store.create("a", "t", true, None).await.unwrap();
        let cancelled = store.cancel("a", &task.id, "asked").await.unwrap();
        assert_eq!(cancelled.status, TaskStatus::Cancelled);
        assert!(matches!(signals.recv().await.unwrap(), Signal::Cancel(id) if id == task.id));
        // The runner's late end does not change it.
        store.update(&task.id, end(TaskStatus::Completed)).await.unwrap();
        let again = store.cancel("a", &task.id, "again").await.unwrap();
        assert_eq!((again.status, again.end), (TaskStatus::Cancelled, None));
    }

    #[tokio::test]
    async fn answers_are_taken_key_by_key() {
        let store = MemoryStore::new(limits());
        let mut signals = store.signals();
        let task = store.create("a", "t", true, None).await.unwrap();
        let questions = json!({ "q1": {}, "q2": {} }).as_object().unwrap().clone();
        store.update(&task.id, Update::InputRequired(questions)).await.unwrap();
        let one = json!({ "q1": { "action": "accept" }, "nope": {} });
        store.answer("a", &task.id, one.as_object().unwrap()).await.unwrap();
        let now = store.get("a", &task.id).await.unwrap();
        assert_eq!(now.status, TaskStatus::InputRequired);
        assert_eq!(now.input_requests.keys().collect::<Vec<_>>(), ["q2"]);
        let two = json!({ "q2": { "action": "decline" } });
        store.answer("a", &task.id, two.as_object().unwrap()).await.unwrap();
        assert_eq!(store.get("a", &task.id).await.unwrap().status, TaskStatus::Working);
        let answered = loop {
            if let Signal::Answered(id, answers) = signals.recv().await.unwrap() {
                assert_eq!(id, task.id);
                break answers;
            }
        };
        assert_eq!(answered.len(), 2);
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

    #[tokio::test]
    async fn output_keeps_the_last_lines_within_its_bytes() {
        let store = MemoryStore::new(limits());
        let task = store.create("a", "t", true, None).await.unwrap();
        for n in 0..10 {
            store.update(&task.id, Update::Output(format!("line {n}"))).await.unwrap();
        }
        let tail = store.tail("a", &task.id, 100).await.unwrap();
        assert!(tail.len() <= 32 && tail.ends_with("line 9\n"), "{tail:?}");
        assert_eq!(store.tail("a", &task.id, 1).await.unwrap(), "line 9\n");
    }

    #[tokio::test]
    async fn pages_follow_creation_order() {
        let store = MemoryStore::new(TaskLimits { max_per_owner: 3, ..limits() });
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(store.create("a", "t", true, None).await.unwrap().id);
        }
        let (page, next) = store.list("a", None, 2).await.unwrap();
        assert_eq!(page.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), ids[..2]);
        let (rest, none) = store.list("a", next.as_deref(), 2).await.unwrap();
        assert_eq!((rest.len(), none), (1, None));
        assert!(matches!(store.list("a", Some("x"), 2).await, Err(TaskError::BadCursor(_))));
    }
}
