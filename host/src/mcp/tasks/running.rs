//! The tasks this replica runs: how to stop each, and where its answers
//! go. The store ([`crate::task_store`]) knows every task of every replica; this
//! knows the calls running here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::lock::Locked as _;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

/// The tasks this replica runs: how to stop each, and where its answers go.
#[derive(Default)]
pub struct Running {
    tasks: Mutex<HashMap<Arc<str>, Local>>,
    /// Tells waiters when the last one ended.
    pub(super) idle: watch::Sender<usize>,
}

struct Local {
    cancel: watch::Sender<Option<Arc<str>>>,
    answers: mpsc::UnboundedSender<Arc<Map<String, Value>>>,
}

/// Where a running task hears its cancel (with the reason).
pub(super) type CancelRx = watch::Receiver<Option<Arc<str>>>;
/// Where a running task gets its client's answers.
pub(super) type AnswersRx = mpsc::UnboundedReceiver<Arc<Map<String, Value>>>;

impl Running {
    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Local>> {
        self.tasks.locked()
    }

    pub(super) fn add(&self, id: &Arc<str>) -> (CancelRx, AnswersRx) {
        let (cancel, cancelled) = watch::channel(None);
        let (answers, answered) = mpsc::unbounded_channel();
        let mut tasks = self.lock();
        tasks.insert(id.clone(), Local { cancel, answers });
        self.idle.send_replace(tasks.len());
        (cancelled, answered)
    }

    pub(super) fn remove(&self, id: &str) {
        let mut tasks = self.lock();
        tasks.remove(id);
        self.idle.send_replace(tasks.len());
    }

    pub(super) fn cancel(&self, id: &str, reason: &Arc<str>) {
        if let Some(local) = self.lock().get(id) {
            local.cancel.send_replace(Some(reason.clone()));
        }
    }

    pub(super) fn cancel_all(&self, reason: &Arc<str>) {
        for local in self.lock().values() {
            local.cancel.send_replace(Some(reason.clone()));
        }
    }

    /// Waits (at most `limit`) until the task `id` no longer runs here:
    /// its instance dropped, its slots free.
    pub(super) async fn gone(&self, id: &str, limit: Duration) {
        let mut changes = self.idle.subscribe();
        let _ = tokio::time::timeout(limit, async {
            while self.lock().contains_key(id) {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    pub(super) fn answered(&self, id: &str, answers: Arc<Map<String, Value>>) {
        if let Some(local) = self.lock().get(id) {
            let _ = local.answers.send(answers);
        }
    }
}
