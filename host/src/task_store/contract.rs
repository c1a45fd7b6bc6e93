//! What every [`TaskStore`] must do, as tests run against each store: the
//! one in memory, and the Redis one with its Lua scripts (`lua/`) against a
//! real `redis-server` started here, on a Unix socket in a temporary
//! directory (`.ci/run` installs redis-server; without it these tests fail,
//! they do not skip).

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{MemoryStore, RedisStore, Signal, TaskEnd, TaskError, TaskLimits, TaskStatus};
use super::{TaskStore, Update};
use crate::cluster::Cluster;
use crate::config::ClusterConfig;
use crate::metrics::Metrics;

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
        end: Some(TaskEnd::Result(Arc::from(serde_json::value::to_raw_value(&json!({})).unwrap()))),
        message: None,
    }
}

/// One `redis-server` for the test process; each store has its own prefix.
struct Redis {
    _dir: tempfile::TempDir,
    _child: Child,
    url: String,
}

fn redis() -> &'static Redis {
    static REDIS: OnceLock<Redis> = OnceLock::new();
    REDIS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let socket = dir.path().join("redis.sock");
        let program = ["redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server"]
            .into_iter()
            .find(|p| Command::new(p).arg("--version").output().is_ok())
            .expect("redis-server is not installed (apt-get install redis-server; .ci/run does)");
        let child = Command::new(program)
            .args(["--port", "0", "--save", "", "--appendonly", "no", "--unixsocket"])
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "redis-server made no socket in 20 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        let url = format!("redis+unix://{}", socket.display());
        Redis { _dir: dir, _child: child, url }
    })
}

/// A Redis store under a prefix of its own.
fn redis_store(limits: TaskLimits) -> Arc<dyn TaskStore> {
    let config = ClusterConfig {
        redis_url: Some(redis().url.clone()),
        timeout_ms: 2000,
        key_prefix: format!("test-{}", super::new_id()),
    };
    let cluster = Cluster::from_config(&config, Arc::new(Metrics::for_cluster()))
        .expect("the URL is valid")
        .expect("a cluster");
    RedisStore::new(cluster, limits)
}

fn memory_store(limits: TaskLimits) -> Arc<dyn TaskStore> {
    MemoryStore::new(limits)
}

/// Each contract, run against each store.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::memory_store).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::redis_store).await;
                }
            )*
        }
    };
}

contract!(
    limits_hold_per_owner_and_in_all,
    another_owners_task_is_unknown,
    a_cancel_is_final_and_signalled,
    answers_are_taken_key_by_key,
    output_keeps_the_last_lines_within_its_bytes,
    pages_follow_creation_order,
    a_finished_task_keeps_its_end,
);

type Make = fn(TaskLimits) -> Arc<dyn TaskStore>;

/// The next signal that `matches`, within 10 s.
async fn signal(
    signals: &mut tokio::sync::broadcast::Receiver<Signal>,
    matches: impl Fn(&Signal) -> bool,
) -> Signal {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match signals.recv().await {
                Ok(signal) if matches(&signal) => return signal,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(err) => panic!("the signals ended: {err}"),
            }
        }
    })
    .await
    .expect("the signal within 10 s")
}

async fn limits_hold_per_owner_and_in_all(make: Make) {
    let store = make(limits());
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
}

async fn another_owners_task_is_unknown(make: Make) {
    let store = make(limits());
    let task = store.create("a", "t", true, None).await.unwrap();
    assert!(matches!(store.get("b", &task.id).await, Err(TaskError::Unknown(_))));
    assert!(matches!(store.cancel("b", &task.id, "x").await, Err(TaskError::Unknown(_))));
    let answers = json!({ "q": {} });
    let answered = store.answer("b", &task.id, answers.as_object().unwrap()).await;
    assert!(matches!(answered, Err(TaskError::Unknown(_))), "{answered:?}");
    assert_eq!(store.get("a", &task.id).await.unwrap().status, TaskStatus::Working);
}

async fn a_cancel_is_final_and_signalled(make: Make) {
    let store = make(limits());
    let mut signals = store.signals();
    let task = store.create("a", "t", true, None).await.unwrap();
    let cancelled = store.cancel("a", &task.id, "asked").await.unwrap();
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert_eq!(cancelled.status_message.as_deref(), Some("asked"));
    let id = task.id.clone();
    signal(&mut signals, |s| matches!(s, Signal::Cancel(cancelled) if *cancelled == id)).await;
    // The runner's late end does not change it.
    store.update(&task.id, end(TaskStatus::Completed)).await.unwrap();
    let again = store.cancel("a", &task.id, "again").await.unwrap();
    assert_eq!((again.status, again.end), (TaskStatus::Cancelled, None));
}

async fn answers_are_taken_key_by_key(make: Make) {
    let store = make(limits());
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
    let id = task.id.clone();
    let Signal::Answered(_, answers) =
        signal(&mut signals, |s| matches!(s, Signal::Answered(answered, _) if *answered == id))
            .await
    else {
        unreachable!()
    };
    assert_eq!(answers.len(), 2, "{answers:?}");
}

async fn output_keeps_the_last_lines_within_its_bytes(make: Make) {
    let store = make(limits());
    let task = store.create("a", "t", true, None).await.unwrap();
    for n in 0..10 {
        store.update(&task.id, Update::Output(format!("line {n}"))).await.unwrap();
    }
    let tail = store.tail("a", &task.id, 100).await.unwrap();
    assert!(tail.len() <= 32 && tail.ends_with("line 9\n"), "{tail:?}");
    assert_eq!(store.tail("a", &task.id, 1).await.unwrap(), "line 9\n");
}

async fn pages_follow_creation_order(make: Make) {
    let store = make(TaskLimits { max_per_owner: 3, ..limits() });
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(store.create("a", "t", true, None).await.unwrap().id);
        // Creation order is by time: keep the three apart.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (page, next) = store.list("a", None, 2).await.unwrap();
    assert_eq!(page.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), ids[..2]);
    let (rest, none) = store.list("a", next.as_deref(), 2).await.unwrap();
    assert_eq!((rest.len(), none), (1, None));
    assert!(matches!(store.list("a", Some("x"), 2).await, Err(TaskError::BadCursor(_))));
}

async fn a_finished_task_keeps_its_end(make: Make) {
    let store = make(limits());
    let task = store.create("a", "t", true, None).await.unwrap();
    let result = json!({ "content": [{ "type": "text", "text": "done" }] });
    let result: Arc<serde_json::value::RawValue> =
        Arc::from(serde_json::value::to_raw_value(&result).unwrap());
    let update = Update::End {
        status: TaskStatus::Completed,
        end: Some(TaskEnd::Result(result.clone())),
        message: Some("all done".into()),
    };
    store.update(&task.id, update).await.unwrap();
    let done = store.get("a", &task.id).await.unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.end, Some(TaskEnd::Result(result)));
    assert_eq!(done.status_message.as_deref(), Some("all done"));
}
