//! Keeping a native server up: start, health pings, restarts with backoff,
//! and the circuit breaker that answers calls fast while it is down.
//!
//! | circuit | server | a call gets |
//! | --- | --- | --- |
//! | `closed` | up: initialized, tools listed, answering pings | forwarded to the server |
//! | `open` | down: start failed, connection lost or a ping unanswered; waiting out the backoff | an `isError` result at once, naming the server, its state and the last error |
//! | `half_open` | being (re)started: the trial is `initialize` and its lists | the same fast `isError` result |
//!
//! - A successful trial closes the circuit; a failed one opens it again.
//! - The wait before attempt `n` is `restart_backoff_ms * 2^(n-1)`, capped at
//!   `restart_backoff_max_ms`, times a random factor in [0.75, 1.25) so that
//!   servers that failed together do not restart in lockstep.
//! - Pings go every `health_interval_ms`; one unanswered within
//!   min(`call_timeout_ms`, 5 s) counts as a failure and the server is
//!   restarted (its container removed first).
//! - The very first start is shown as `starting` (circuit `half_open`) and
//!   does not raise `corral_circuit_open`; every later outage does.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::NativeServers;
use super::client::{Client, ClientError};
use super::launcher::{self, LaunchSpec, Launched};
use crate::config::Launcher;
use crate::lock::Locked as _;

/// Longest wait for a health ping's answer.
const MAX_PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    /// Calls go to the server.
    Closed,
    /// The server is down; calls fail fast until the next attempt.
    Open,
    /// A start is being tried; calls fail fast until it succeeds.
    HalfOpen,
}

impl Circuit {
    /// The label shown in `/readyz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Circuit::Closed => "closed",
            Circuit::Open => "open",
            Circuit::HalfOpen => "half_open",
        }
    }
}

/// What `/readyz` and a refused call say about a server.
struct Status {
    circuit: Circuit,
    /// Never been up yet.
    first_start: bool,
    client: Option<Arc<Client>>,
    container: Option<String>,
    last_error: Option<String>,
    /// Restarts after the first successful start or failed attempt.
    restarts: u64,
    next_attempt: Option<Instant>,
}

/// One configured server and its live state.
pub struct ServerSlot {
    /// How it is launched.
    pub spec: LaunchSpec,
    status: Mutex<Status>,
    /// `max_concurrency` permits.
    pub(super) slots: Arc<tokio::sync::Semaphore>,
}

impl ServerSlot {
    /// A server not started yet.
    pub fn new(spec: LaunchSpec) -> ServerSlot {
        ServerSlot {
            slots: Arc::new(tokio::sync::Semaphore::new(spec.config.max_concurrency as usize)),
            spec,
            status: Mutex::new(Status {
                circuit: Circuit::HalfOpen,
                first_start: true,
                client: None,
                container: None,
                last_error: None,
                restarts: 0,
                next_attempt: None,
            }),
        }
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.locked()
    }

    /// The connection for a call while the circuit is closed; otherwise
    /// the message of the fast `isError` answer.
    pub fn client_for_call(&self) -> Result<Arc<Client>, String> {
        let status = self.status();
        let name = &self.spec.config.name;
        match (&status.client, status.circuit) {
            (Some(client), Circuit::Closed) => Ok(client.clone()),
            (_, circuit) => {
                let state = match (circuit, status.first_start) {
                    (Circuit::HalfOpen, true) => "starting".to_owned(),
                    (Circuit::HalfOpen, false) => "circuit half-open: restarting".to_owned(),
                    (_, _) => match status.next_attempt {
                        Some(at) => format!(
                            "circuit open: next restart in {} ms",
                            at.saturating_duration_since(Instant::now()).as_millis()
                        ),
                        None => "circuit open".to_owned(),
                    },
                };
                let last = status
                    .last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default();
                Err(format!("native server {name:?} is unavailable ({state}){last}"))
            }
        }
    }

    /// The server's entry in `/readyz` (without its tools, which the
    /// registry knows).
    pub fn readiness(&self) -> Value {
        let status = self.status();
        let c = &self.spec.config;
        let state = match (status.circuit, status.first_start) {
            (Circuit::Closed, _) => "up",
            (Circuit::HalfOpen, true) => "starting",
            _ => "down",
        };
        json!({
            "name": c.name,
            "kind": "native",
            "launcher": match c.launcher { Launcher::Docker => "docker", Launcher::Process => "process" },
            "image": c.image,
            "state": state,
            "circuit": status.circuit.as_str(),
            "container": status.container,
            "restarts": status.restarts,
            "last_error": status.last_error,
        })
    }
}

/// The delay before restart attempt `failures` (1-based), jitter included.
pub fn backoff(first: Duration, max: Duration, failures: u32, jitter: f64) -> Duration {
    let doubled = first.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    doubled.min(max).mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A random number in [0, 1).
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs server `index` until `servers` is dropped or its task aborted.
pub(super) async fn supervise(servers: Weak<NativeServers>, slot: Arc<ServerSlot>, index: usize) {
    let name = slot.spec.config.name.clone();
    let config = &slot.spec.config;
    let mut failures: u32 = 0;
    loop {
        {
            let mut status = slot.status();
            status.circuit = Circuit::HalfOpen;
            status.next_attempt = None;
        }
        let reason = match start(&slot).await {
            Ok((launched, client, lists)) => {
                let Some(native) = servers.upgrade() else { return };
                let tools = lists.tools.len();
                let capabilities = lists.capabilities.clone();
                failures = 0;
                // Up before its tools are listed: a client that hears of
                // them may call one at once.
                {
                    let mut status = slot.status();
                    status.circuit = Circuit::Closed;
                    status.first_start = false;
                    status.client = Some(client.clone());
                    status.container = launched.container.clone();
                }
                native.install_lists(index, lists);
                native.metrics.set_native_server_up(&name, true);
                native.metrics.set_circuit_open(&name, false);
                tracing::info!(server = %name, container = ?launched.container, tools, "native server up");
                drop(native);
                let reason = watch(&servers, &slot, index, &client, &capabilities).await;
                client.close(&reason);
                let reason = match launched.stderr_summary() {
                    Some(stderr) => format!("{reason}; stderr: {stderr}"),
                    None => reason,
                };
                launched.stop().await;
                reason
            }
            Err(reason) => reason,
        };
        failures = failures.saturating_add(1);
        let delay = backoff(
            Duration::from_millis(config.restart_backoff_ms),
            Duration::from_millis(config.restart_backoff_max_ms),
            failures,
            unit_random(),
        );
        {
            let mut status = slot.status();
            status.circuit = Circuit::Open;
            status.first_start = false;
            status.client = None;
            status.container = None;
            status.last_error = Some(reason.clone());
            status.restarts += 1;
            status.next_attempt = Some(Instant::now() + delay);
        }
        let Some(native) = servers.upgrade() else { return };
        native.down(index, &reason);
        native.metrics.set_native_server_up(&name, false);
        native.metrics.set_circuit_open(&name, true);
        drop(native);
        tracing::error!(server = %name, error = %reason, retry_in_ms = delay.as_millis() as u64, "native server down");
        tokio::time::sleep(delay).await;
    }
}

/// Launches the server and runs the trial: `initialize` and the lists it
/// declares (`tools/list`, and `resources/list`, `resources/templates/list`
/// and `prompts/list` when it offers them) within `start_timeout_ms`.
async fn start(slot: &ServerSlot) -> Result<(Launched, Arc<Client>, Lists), String> {
    let config = &slot.spec.config;
    let mut launched = launcher::launch(&slot.spec)
        .map_err(|err| describe_launch_error(&slot.spec, &err.to_string()))?;
    let (Some(stdout), Some(stdin)) = (launched.stdout.take(), launched.stdin.take()) else {
        launched.stop().await;
        return Err("the server's stdio could not be piped".into());
    };
    let max_message = usize::try_from(config.max_message_kib << 10).unwrap_or(usize::MAX);
    let client = Arc::new(Client::start(&config.name, stdout, stdin, max_message));
    let timeout = Duration::from_millis(config.start_timeout_ms);
    let trial = async {
        let initialized = client.initialize(timeout).await?;
        let capabilities = initialized.get("capabilities").cloned().unwrap_or_default();
        Lists::fetch(&client, capabilities, timeout).await
    };
    let err = match tokio::time::timeout(timeout, trial).await {
        Ok(Ok(lists)) => return Ok((launched, client, lists)),
        Ok(Err(ClientError::Timeout { .. })) | Err(_) => format!(
            "no answer to initialize and its lists within {} ms (start_timeout_ms)",
            timeout.as_millis()
        ),
        Ok(Err(err)) => err.to_string(),
    };
    // A server that closed its output has likely exited and says why on
    // stderr: give it a moment to finish.
    let exit = match client.close_reason() {
        Some(_) => launched.wait_exit(Duration::from_secs(2)).await,
        None => None,
    };
    if exit.is_some() {
        launched.drain_stderr(Duration::from_secs(1)).await;
    }
    let stderr = launched.stderr_summary();
    launched.stop().await;
    let mut message = match exit {
        Some(code) => format!(
            "start failed: exited with status {} before answering ({err})",
            code.map_or("none (killed by a signal)".to_owned(), |c| c.to_string())
        ),
        None => format!("start failed: {err}"),
    };
    if let Some(stderr) = stderr {
        message = describe_launch_error(&slot.spec, &format!("{message}; stderr: {stderr}"));
    }
    Err(message)
}

/// Names the usual docker failures plainly, keeping the original text.
fn describe_launch_error(spec: &LaunchSpec, message: &str) -> String {
    if spec.config.launcher != Launcher::Docker {
        return message.to_owned();
    }
    let image = spec.config.image.as_deref().unwrap_or_default();
    if message.contains("No such image") || message.contains("Unable to find image") {
        format!(
            "image {image:?} is not present on the docker engine (it is never pulled; build or load it first): {message}"
        )
    } else if message.contains("Cannot connect to the Docker daemon")
        || message.contains("cannot run docker")
    {
        format!("docker engine unreachable: {message}")
    } else {
        message.to_owned()
    }
}

/// Watches a live server until it fails; the reason.
async fn watch(
    servers: &Weak<NativeServers>,
    slot: &ServerSlot,
    index: usize,
    client: &Client,
    capabilities: &Value,
) -> String {
    let config = &slot.spec.config;
    let period = Duration::from_millis(config.health_interval_ms);
    let ping_timeout = Duration::from_millis(config.call_timeout_ms).min(MAX_PING_TIMEOUT);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut updates = client.take_resource_updates();
    loop {
        let update = async {
            match &mut updates {
                Some(updates) => updates.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            reason = client.closed() => return format!("connection lost: {reason}"),
            () = client.lists_changed().notified() => {
                let timeout = ping_timeout.max(Duration::from_secs(1));
                match Lists::fetch(client, capabilities.clone(), timeout).await {
                    Ok(lists) => {
                        let Some(native) = servers.upgrade() else { return "host stopping".into() };
                        native.install_lists(index, lists);
                    }
                    Err(err) => return format!("listing after list_changed failed: {err}"),
                }
            }
            Some(uri) = update => {
                let Some(native) = servers.upgrade() else { return "host stopping".into() };
                native.resource_updated(index, &uri);
            }
            _ = ticks.tick() => {
                if let Err(err) = client.ping(ping_timeout).await {
                    // A ping in flight when the connection dropped reports the drop.
                    return match client.close_reason() {
                        Some(reason) => format!("connection lost: {reason}"),
                        None => format!("health ping failed: {err}"),
                    };
                }
            }
        }
    }
}

/// What a native server offers, as it listed it.
pub(super) struct Lists {
    /// Its `initialize` result's `capabilities`.
    pub capabilities: Value,
    pub tools: Vec<Value>,
    pub resources: Vec<Value>,
    pub templates: Vec<Value>,
    pub prompts: Vec<Value>,
}

impl Lists {
    /// Lists what the server's `capabilities` say it offers.
    async fn fetch(
        client: &Client,
        capabilities: Value,
        timeout: Duration,
    ) -> Result<Lists, ClientError> {
        let offers = |capability: &str| capabilities.get(capability).is_some_and(Value::is_object);
        let tools = client.list("tools/list", "tools", timeout).await?;
        let (resources, templates) = if offers("resources") {
            (
                client.list("resources/list", "resources", timeout).await?,
                client.list("resources/templates/list", "resourceTemplates", timeout).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let prompts = if offers("prompts") {
            client.list("prompts/list", "prompts", timeout).await?
        } else {
            Vec::new()
        };
        Ok(Lists { capabilities, tools, resources, templates, prompts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_within_a_quarter() {
        let (first, max) = (Duration::from_millis(100), Duration::from_millis(1000));
        assert_eq!(backoff(first, max, 1, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(first, max, 2, 0.5), Duration::from_millis(200));
        assert_eq!(backoff(first, max, 3, 0.5), Duration::from_millis(400));
        assert_eq!(backoff(first, max, 5, 0.5), Duration::from_millis(1000));
        assert_eq!(backoff(first, max, 500, 0.5), Duration::from_millis(1000));
        assert_eq!(backoff(first, max, 1, 0.0), Duration::from_millis(75));
        assert_eq!(backoff(first, max, 1, 1.0), Duration::from_millis(125));
    }

    #[test]
    fn random_factor_is_in_the_unit_interval() {
        for _ in 0..100 {
            let r = unit_random();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }
}
