//! Sessions (MCP 2025-11-25 and earlier): what the server remembers about
//! one client between requests, and the requests in flight that a client
//! may cancel.
//!
//! - A session starts with `initialize` and gets a random 128-bit id (32 hex
//!   digits), which the HTTP transport sends as `Mcp-Session-Id`. Over
//!   stdio the connection is the session: it is not kept in [`Sessions`].
//! - It holds the negotiated revision, the capabilities the client declared
//!   at `initialize`, the minimum log level the client asked for with
//!   `logging/setLevel` (default: `debug`, so every message is sent), the
//!   requests in flight, so `notifications/cancelled` can stop one, the
//!   requests the server sent the client and awaits answers to
//!   ([`Asks`]), and the resource URIs it subscribed to.
//! - It ends when the client deletes it, or after `idle_timeout` without a
//!   request and with no call in flight (checked when it is looked up, and
//!   for all sessions at most every [`SWEEP_INTERVAL`]). Ending a session
//!   cancels its calls in flight and closes its streams.
//! - At most `max_sessions` exist at once; beyond that, the least recently
//!   used idle one is ended to make room.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{oneshot, watch};

use super::jsonrpc::RequestId;
use crate::lock::Locked as _;

/// The longest time between sweeps of expired sessions; sweeping on every
/// request would cost O(sessions) per request.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Why a session could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// No session with that id: never created, deleted or expired.
    #[error("session not found: it was never created, was deleted, or expired; initialize again")]
    Unknown,
    /// No session could be created: the random source failed.
    #[error("cannot create a session id: {0}")]
    Entropy(String),
}

/// A request id that is already in flight.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("request id {0} is already in flight; use a new id for each request")]
pub struct DuplicateRequestId(pub String);

/// The requests in flight of one session or connection, by id, so that
/// `notifications/cancelled` can stop one.
#[derive(Default)]
pub struct InFlight {
    requests: Mutex<HashMap<String, oneshot::Sender<()>>>,
}

impl InFlight {
    /// Registers a request; the receiver fires when it is cancelled.
    pub fn begin(&self, id: &RequestId) -> Result<oneshot::Receiver<()>, DuplicateRequestId> {
        let mut requests = lock(&self.requests);
        let key = id.key();
        if requests.contains_key(&key) {
            return Err(DuplicateRequestId(key));
        }
        let (tx, rx) = oneshot::channel();
        requests.insert(key, tx);
        Ok(rx)
    }

    /// Forgets a finished request.
    pub fn end(&self, id: &RequestId) {
        lock(&self.requests).remove(&id.key());
    }

    /// Cancels the request with `id`; `false` if there is none (it
    /// finished already, or never existed: both are normal races).
    pub fn cancel(&self, id: &RequestId) -> bool {
        lock(&self.requests).remove(&id.key()).is_some_and(|tx| tx.send(()).is_ok())
    }

    /// Cancels every request.
    pub fn cancel_all(&self) {
        for (_, tx) in lock(&self.requests).drain() {
            let _ = tx.send(());
        }
    }

    /// Number of requests in flight.
    pub fn len(&self) -> usize {
        lock(&self.requests).len()
    }

    /// Whether no request is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The client's answer to a request the server sent it: its `result`, or
/// its `error` object.
pub type ClientAnswer = Result<Value, Value>;

/// Requests this server sent a client and awaits answers to, by the id it
/// gave them (`corral-<n>`, never reused within the session).
#[derive(Default)]
pub struct Asks {
    next: AtomicU64,
    waiting: Mutex<HashMap<String, oneshot::Sender<ClientAnswer>>>,
}

impl Asks {
    /// A new id, and the receiver its answer will come to.
    pub fn begin(&self) -> (String, oneshot::Receiver<ClientAnswer>) {
        let id = format!("corral-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert(id.clone(), tx);
        (id, rx)
    }

    /// Forgets a request that will not be answered (timed out, abandoned).
    pub fn end(&self, id: &str) {
        lock(&self.waiting).remove(id);
    }

    /// Hands the client's answer to the request `id`; `false` if none
    /// awaits it (never sent, answered already, or given up on).
    pub fn answer(&self, id: &str, answer: ClientAnswer) -> bool {
        lock(&self.waiting).remove(id).is_some_and(|tx| tx.send(answer).is_ok())
    }

    /// Requests still awaiting answers.
    pub fn len(&self) -> usize {
        lock(&self.waiting).len()
    }

    /// Whether no request awaits an answer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One client's session.
pub struct Session {
    id: String,
    protocol_version: &'static str,
    capabilities: Value,
    min_log_rank: AtomicU8,
    in_flight: InFlight,
    asks: Asks,
    subscriptions: Mutex<HashSet<String>>,
    last_seen: Mutex<Instant>,
    closed: watch::Sender<bool>,
    /// Standalone streams open.
    streams: Arc<AtomicUsize>,
}

/// One of a session's standalone streams: its slot frees when this drops.
#[derive(Debug)]
pub struct OpenStream(Arc<AtomicUsize>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Session {
    /// The `Mcp-Session-Id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The revision negotiated at `initialize`.
    pub fn protocol_version(&self) -> &'static str {
        self.protocol_version
    }

    /// The capabilities the client declared at `initialize`.
    pub fn capabilities(&self) -> &Value {
        &self.capabilities
    }

    /// The requests sent to the client that await its answers.
    pub fn asks(&self) -> &Asks {
        &self.asks
    }

    /// Subscribes to updates of the resource at `uri`.
    pub fn subscribe(&self, uri: &str) {
        lock(&self.subscriptions).insert(uri.to_owned());
    }

    /// Ends the subscription to `uri`, if there was one.
    pub fn unsubscribe(&self, uri: &str) {
        lock(&self.subscriptions).remove(uri);
    }

    /// Whether the client subscribed to `uri`.
    pub fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.subscriptions).contains(uri)
    }

    /// Sets the minimum severity rank of log messages sent to this client.
    pub fn set_min_log_rank(&self, rank: u8) {
        self.min_log_rank.store(rank, Ordering::Relaxed);
    }

    /// The minimum severity rank of log messages sent to this client.
    pub fn min_log_rank(&self) -> u8 {
        self.min_log_rank.load(Ordering::Relaxed)
    }

    /// Whether a message of severity `rank` is to be sent.
    pub fn wants_log(&self, rank: u8) -> bool {
        rank >= self.min_log_rank.load(Ordering::Relaxed)
    }

    /// Its requests in flight.
    pub fn in_flight(&self) -> &InFlight {
        &self.in_flight
    }

    /// Number of requests in flight.
    pub fn requests_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Takes one of `limit` standalone stream slots, if one is free.
    pub fn open_stream(&self, limit: usize) -> Option<OpenStream> {
        self.streams
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                (open < limit).then_some(open + 1)
            })
            .ok()
            .map(|_| OpenStream(self.streams.clone()))
    }

    /// A receiver that turns `true` when the session ends.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// A session that is not kept in [`Sessions`]: a stdio connection's.
    pub fn connection(protocol_version: &'static str, capabilities: Value) -> Session {
        Session::new(String::new(), protocol_version, capabilities)
    }

    fn new(id: String, protocol_version: &'static str, capabilities: Value) -> Session {
        Session {
            id,
            protocol_version,
            capabilities,
            min_log_rank: AtomicU8::new(0),
            in_flight: InFlight::default(),
            asks: Asks::default(),
            subscriptions: Mutex::new(HashSet::new()),
            last_seen: Mutex::new(Instant::now()),
            closed: watch::Sender::new(false),
            streams: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn close(&self) {
        self.in_flight.cancel_all();
        self.closed.send_replace(true);
    }

    fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(*lock(&self.last_seen))
    }

    fn expired(&self, now: Instant, idle_timeout: Duration) -> bool {
        self.requests_in_flight() == 0 && self.idle_for(now) >= idle_timeout
    }
}

/// The sessions alive now.
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    max_sessions: usize,
    idle_timeout: Duration,
    next_sweep: Mutex<Instant>,
}

impl Sessions {
    /// An empty table holding at most `max_sessions`, each ended after
    /// `idle_timeout` without a request.
    pub fn new(max_sessions: usize, idle_timeout: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max_sessions: max_sessions.max(1),
            idle_timeout,
            next_sweep: Mutex::new(Instant::now()),
        }
    }

    /// Starts a session speaking `protocol_version` with a client that
    /// declared `capabilities`.
    pub fn create(
        &self,
        protocol_version: &'static str,
        capabilities: Value,
    ) -> Result<Arc<Session>, SessionError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|err| SessionError::Entropy(err.to_string()))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let session = Arc::new(Session::new(id, protocol_version, capabilities));
        self.insert(session.clone());
        Ok(session)
    }

    /// The session `id` that another replica started, as the shared store
    /// keeps it (`[cluster]`): the local one if there is one, else a new
    /// local copy with its revision, capabilities and log level.
    pub fn adopt(
        &self,
        id: &str,
        protocol_version: &'static str,
        capabilities: Value,
        min_log_rank: u8,
    ) -> Arc<Session> {
        if let Some(session) = lock(&self.map).get(id) {
            return session.clone();
        }
        let session = Arc::new(Session::new(id.to_owned(), protocol_version, capabilities));
        session.set_min_log_rank(min_log_rank);
        self.insert(session.clone());
        session
    }

    /// Whether the session `id` is held here.
    pub fn contains(&self, id: &str) -> bool {
        lock(&self.map).contains_key(id)
    }

    fn insert(&self, session: Arc<Session>) {
        let mut map = lock(&self.map);
        let now = Instant::now();
        let full = map.len() >= self.max_sessions;
        self.sweep(&mut map, now, full);
        if map.len() >= self.max_sessions {
            // Evict the least recently used session with nothing in flight;
            // if every session is busy, the oldest one anyway.
            let victim = map
                .values()
                .max_by_key(|s| (s.requests_in_flight() == 0, s.idle_for(now)))
                .map(|s| s.id.clone());
            if let Some(victim) = victim.and_then(|id| map.remove(&id)) {
                victim.close();
            }
        }
        map.insert(session.id.clone(), session);
    }

    /// The live session with `id`, marked as just used.
    pub fn get(&self, id: &str) -> Result<Arc<Session>, SessionError> {
        let mut map = lock(&self.map);
        let now = Instant::now();
        self.sweep(&mut map, now, false);
        let session = map.get(id).cloned().ok_or(SessionError::Unknown)?;
        if session.expired(now, self.idle_timeout) {
            map.remove(id);
            session.close();
            return Err(SessionError::Unknown);
        }
        session.touch();
        Ok(session)
    }

    /// Ends the session with `id`, cancelling its calls in flight.
    pub fn remove(&self, id: &str) -> Result<(), SessionError> {
        let session = lock(&self.map).remove(id).ok_or(SessionError::Unknown)?;
        session.close();
        Ok(())
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// Whether there are no live sessions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends every session (at shutdown), closing their streams.
    pub fn close_all(&self) {
        for (_, session) in lock(&self.map).drain() {
            session.closed.send_replace(true);
        }
    }

    /// Ends expired sessions, if a sweep is due or `force`d.
    fn sweep(&self, map: &mut HashMap<String, Arc<Session>>, now: Instant, force: bool) {
        let mut next = lock(&self.next_sweep);
        if !force && now < *next {
            return;
        }
        *next = now + SWEEP_INTERVAL.min(self.idle_timeout);
        map.retain(|_, s| {
            let expired = s.expired(now, self.idle_timeout);
            if expired {
                s.close();
            }
            !expired
        });
    }
}

/// Locks a mutex, recovering the data if a holder panicked: every critical
/// section here leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.locked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(n: i64) -> RequestId {
        RequestId::from_value(json!(n)).unwrap()
    }

    #[test]
    fn session_ids_are_32_hex_digits_and_distinct() {
        let sessions = Sessions::new(10, Duration::from_secs(60));
        let a = sessions.create("2025-11-25", json!({})).unwrap();
        let b = sessions.create("2025-11-25", json!({})).unwrap();
        assert_eq!(a.id().len(), 32);
        assert!(a.id().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn a_removed_session_is_unknown() {
        let sessions = Sessions::new(10, Duration::from_secs(60));
        let s = sessions.create("2025-11-25", json!({})).unwrap();
        sessions.remove(s.id()).unwrap();
        assert_eq!(sessions.get(s.id()).err(), Some(SessionError::Unknown));
        assert_eq!(sessions.remove(s.id()), Err(SessionError::Unknown));
    }

    #[test]
    fn an_idle_session_expires() {
        let sessions = Sessions::new(10, Duration::ZERO);
        let s = sessions.create("2025-11-25", json!({})).unwrap();
        assert_eq!(sessions.get(s.id()).err(), Some(SessionError::Unknown));
    }

    #[test]
    fn the_session_limit_evicts_the_least_recently_used() {
        let sessions = Sessions::new(2, Duration::from_secs(60));
        let first = sessions.create("2025-11-25", json!({})).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let second = sessions.create("2025-11-25", json!({})).unwrap();
        let _third = sessions.create("2025-11-25", json!({})).unwrap();
        assert_eq!(sessions.len(), 2);
        assert!(sessions.get(first.id()).is_err());
        assert!(sessions.get(second.id()).is_ok());
    }

    #[test]
    fn cancel_fires_the_request_receiver_once() {
        let sessions = Sessions::new(10, Duration::from_secs(60));
        let s = sessions.create("2025-11-25", json!({})).unwrap();
        let mut rx = s.in_flight().begin(&id(1)).unwrap();
        assert!(s.in_flight().cancel(&id(1)));
        assert!(rx.try_recv().is_ok());
        assert!(!s.in_flight().cancel(&id(1)));
    }

    #[test]
    fn a_duplicate_request_id_in_flight_is_refused() {
        let sessions = Sessions::new(10, Duration::from_secs(60));
        let s = sessions.create("2025-11-25", json!({})).unwrap();
        let _rx = s.in_flight().begin(&id(1)).unwrap();
        assert!(matches!(s.in_flight().begin(&id(1)), Err(DuplicateRequestId(_))));
        s.in_flight().end(&id(1));
        assert!(s.in_flight().begin(&id(1)).is_ok());
    }

    #[test]
    fn log_level_filter_passes_equal_or_more_severe() {
        let sessions = Sessions::new(10, Duration::from_secs(60));
        let s = sessions.create("2025-11-25", json!({})).unwrap();
        assert!(s.wants_log(0));
        s.set_min_log_rank(3);
        assert!(!s.wants_log(1));
        assert!(s.wants_log(3));
        assert!(s.wants_log(7));
    }
}
