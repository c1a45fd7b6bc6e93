//! Native MCP servers: programs that exist only as native code, run in a
//! hardened container and presented beside the components' tools.
//!
//! | part | file |
//! | --- | --- |
//! | the `[[native]]` config entries and their checks | [`config`] |
//! | what a server is granted: env with secrets read, directories checked | [`spec`] |
//! | `docker run` with its hardening flags, secrets as files, leftovers | [`launcher`] |
//! | newline-delimited JSON-RPC over the server's stdio | [`client`] |
//! | health pings, restarts with backoff, the circuit breaker | [`supervisor`] |
//!
//! Tools are exposed as `<server>_<tool>`. A name that a component already
//! exposes, or that another native server took first, is refused (logged,
//! and listed under `refused_tools` in `/readyz`), never shadowed. A
//! server's tools stay listed while it restarts, so calls get a fast
//! `isError` answer naming the server and its state rather than "unknown
//! tool"; the list changes (and `notifications/tools/list_changed` is sent)
//! when a start lists a different set of tools.
//!
//! Arguments are checked against the tool's `inputSchema` like a
//! component's; a schema that does not compile leaves that tool unchecked
//! (with a warning), it does not stop the host.
//!
//! What the container does not isolate: it shares the host's kernel (a
//! kernel exploit escapes it), and a granted network or directory is the
//! server's to use as it likes. The `process` launcher isolates nothing.

pub mod client;
pub mod config;
pub mod launcher;
pub mod spec;
pub mod supervisor;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Map, Value, json};

use self::client::ClientError;
pub use self::config::{Launcher, NativeConfig};
use self::launcher::LaunchSpec;
use self::supervisor::ServerSlot;
use crate::config::ConfigError;
use crate::metrics::Metrics;
use crate::sandbox::{CallOutcome, EventSink};

/// Called when the set of native tools changes.
pub type ToolsChanged = Arc<dyn Fn() + Send + Sync>;

/// One exposed native tool.
struct NativeTool {
    server: usize,
    /// The name the server knows it by.
    remote: String,
    /// The MCP `Tool` object, renamed to the exposed name.
    json: Value,
    validator: Option<Arc<jsonschema::Validator>>,
}

/// How a native call ended: its outcome and the `CallToolResult`.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeCall {
    /// The classified outcome.
    pub outcome: CallOutcome,
    /// The MCP `CallToolResult` object.
    pub result: Value,
}

/// Every configured native server, their supervisors and their tools.
pub struct NativeServers {
    servers: Vec<Arc<ServerSlot>>,
    tools: RwLock<BTreeMap<String, NativeTool>>,
    /// Names the components expose: refused to native servers.
    reserved: HashSet<String>,
    metrics: Arc<Metrics>,
    on_change: ToolsChanged,
    instance: String,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl NativeServers {
    /// Resolves every server's secrets and directories, then starts one
    /// supervisor per server (after removing containers left by an earlier
    /// crash). `component_tools` are the names the components expose;
    /// `on_change` is called when native tools come or go. Must be called
    /// within a tokio runtime. Servers come up in the background: their
    /// state is in [`NativeServers::readiness`].
    pub fn start(
        configs: &[NativeConfig],
        base_dir: &Path,
        component_tools: impl IntoIterator<Item = String>,
        metrics: Arc<Metrics>,
        on_change: ToolsChanged,
    ) -> Result<Arc<NativeServers>, ConfigError> {
        let mut id = [0u8; 6];
        let _ = getrandom::fill(&mut id);
        let instance: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let mut servers = Vec::with_capacity(configs.len());
        for config in configs {
            if config.launcher == Launcher::Process {
                tracing::warn!(
                    server = %config.name,
                    "native server uses the process launcher: it runs unconfined, with the host's user and network (development and tests only)"
                );
            }
            servers
                .push(Arc::new(ServerSlot::new(LaunchSpec::resolve(config, base_dir, &instance)?)));
        }
        for slot in &servers {
            metrics.set_native_server_up(&slot.spec.config.name, false);
            metrics.set_circuit_open(&slot.spec.config.name, false);
        }
        let native = Arc::new(NativeServers {
            servers,
            tools: RwLock::new(BTreeMap::new()),
            reserved: component_tools.into_iter().collect(),
            metrics,
            on_change,
            instance,
            tasks: Mutex::new(Vec::new()),
        });
        let uses_docker = configs.iter().any(|c| c.launcher == Launcher::Docker);
        if uses_docker {
            match launcher::remove_leftover_secrets() {
                0 => {}
                n => tracing::info!(removed = n, "removed secret files left by an earlier run"),
            }
        }
        let mut tasks = Vec::with_capacity(configs.len());
        for index in 0..native.servers.len() {
            let weak = Arc::downgrade(&native);
            let slot = native.servers[index].clone();
            tasks.push(tokio::spawn(async move {
                if uses_docker && index == 0 {
                    match launcher::remove_leftovers().await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(removed = n, "removed containers left by an earlier run")
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "could not look for leftover containers")
                        }
                    }
                }
                supervisor::supervise(weak, slot, index).await;
            }));
        }
        *lock(&native.tasks) = tasks;
        Ok(native)
    }

    /// Every native tool as `(exposed name, MCP Tool object)`, by name.
    pub fn tools(&self) -> Vec<(String, Value)> {
        read(&self.tools).iter().map(|(name, tool)| (name.clone(), tool.json.clone())).collect()
    }

    /// Whether `name` is an exposed native tool.
    pub fn has_tool(&self, name: &str) -> bool {
        read(&self.tools).contains_key(name)
    }

    /// Checks `arguments` against the tool's `inputSchema`; `Err` is the
    /// message for the `isError` result.
    pub fn check_arguments(&self, tool: &str, arguments: &Value) -> Result<(), String> {
        let validator = read(&self.tools).get(tool).and_then(|t| t.validator.clone());
        match validator {
            Some(validator) => crate::mcp::schema::check_arguments(&validator, tool, arguments),
            None => Ok(()),
        }
    }

    /// Calls the native tool exposed as `tool`; with `progress`, the
    /// server is asked for progress notifications (to `events`). A server
    /// that is down answers at once with an `isError` result naming it and
    /// its state.
    pub async fn call(
        &self,
        tool: &str,
        arguments: Value,
        events: EventSink,
        progress: bool,
    ) -> NativeCall {
        let Some((index, remote)) =
            read(&self.tools).get(tool).map(|t| (t.server, t.remote.clone()))
        else {
            return failure(CallOutcome::UnknownTool, format!("unknown tool: {tool}"));
        };
        let slot = &self.servers[index];
        let name = &slot.spec.config.name;
        let config = &slot.spec.config;
        // A server that is down answers at once, without waiting for a slot.
        if let Err(why) = slot.client_for_call() {
            return failure(CallOutcome::HostError, why);
        }
        let queue_timeout = Duration::from_millis(config.queue_timeout_ms);
        let _permit = match tokio::time::timeout(queue_timeout, slot.slots.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => permit,
            _ => {
                return failure(
                    CallOutcome::Busy,
                    format!(
                        "server busy: no slot for native server {name:?} came free within {} ms (queue_timeout_ms; max_concurrency = {})",
                        config.queue_timeout_ms, config.max_concurrency
                    ),
                );
            }
        };
        // The server may have gone down while this call waited.
        let client = match slot.client_for_call() {
            Ok(client) => client,
            Err(why) => return failure(CallOutcome::HostError, why),
        };
        let timeout = Duration::from_millis(config.call_timeout_ms);
        match client.call_tool(&remote, arguments, events, progress, timeout).await {
            Ok(result) => {
                let is_error = result.get("isError") == Some(&Value::Bool(true));
                let mut out = Map::new();
                for key in ["content", "structuredContent"] {
                    if let Some(value) = result.get(key) {
                        out.insert(key.into(), value.clone());
                    }
                }
                out.insert("isError".into(), is_error.into());
                let outcome = if is_error { CallOutcome::ToolError } else { CallOutcome::Ok };
                NativeCall { outcome, result: Value::Object(out) }
            }
            Err(ClientError::Timeout { after, .. }) => failure(
                CallOutcome::Timeout,
                format!(
                    "native server {name:?}: tool call timed out: no answer within {} ms (call_timeout_ms); the server was sent notifications/cancelled",
                    after.as_millis()
                ),
            ),
            Err(err @ ClientError::MessageTooLarge { .. }) => failure(
                CallOutcome::OutputTooLarge,
                format!("native server {name:?}: {err}; the server is being restarted"),
            ),
            Err(err @ ClientError::Rpc { code: -32602, .. }) => {
                failure(CallOutcome::InvalidArguments, format!("native server {name:?}: {err}"))
            }
            Err(err @ ClientError::Rpc { .. }) => {
                failure(CallOutcome::ToolError, format!("native server {name:?}: {err}"))
            }
            Err(err @ (ClientError::Closed(_) | ClientError::Protocol { .. })) => failure(
                CallOutcome::HostError,
                format!(
                    "native server {name:?} failed during the call: {err}; it is being restarted"
                ),
            ),
        }
    }

    /// Every server's state for `/readyz`.
    pub fn readiness(&self) -> Vec<Value> {
        let tools = read(&self.tools);
        self.servers
            .iter()
            .enumerate()
            .map(|(index, slot)| {
                let names: Vec<&str> = tools
                    .iter()
                    .filter(|(_, t)| t.server == index)
                    .map(|(n, _)| n.as_str())
                    .collect();
                let mut state = slot.readiness();
                if let Value::Object(map) = &mut state {
                    map.insert("tools".into(), json!(names));
                }
                state
            })
            .collect()
    }

    /// Stops every supervisor and removes this host's containers.
    pub async fn shutdown(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        if self.servers.iter().any(|s| s.spec.config.launcher == Launcher::Docker)
            && let Err(err) = launcher::remove_instance(&self.instance).await
        {
            tracing::warn!(error = %err, "could not remove the native servers' containers");
        }
    }

    /// Replaces server `index`'s tools with `listed` (a `tools/list`
    /// result); refused names are returned and logged. Calls `on_change`
    /// when the exposed set differs.
    fn install_tools(&self, index: usize, listed: &[Value]) -> Vec<String> {
        let server = &self.servers[index].spec.config.name;
        let mut refused = Vec::new();
        let mut fresh = BTreeMap::new();
        let mut tools = write(&self.tools);
        for tool in listed {
            let Some(remote) = tool.get("name").and_then(Value::as_str) else {
                tracing::warn!(server = %server, "native server listed a tool without a name; skipped");
                continue;
            };
            let exposed = crate::registry::exposed_name(server, remote);
            let taken_by_other = tools.get(&exposed).is_some_and(|t| t.server != index);
            if self.reserved.contains(&exposed) || taken_by_other || fresh.contains_key(&exposed) {
                tracing::error!(
                    server = %server,
                    tool = remote,
                    exposed = %exposed,
                    "native tool refused: its exposed name is already taken by a component or another server"
                );
                refused.push(exposed);
                continue;
            }
            let mut json = tool.clone();
            json["name"] = exposed.clone().into();
            let validator = match tool.get("inputSchema") {
                Some(schema @ Value::Object(_)) => match jsonschema::validator_for(schema) {
                    Ok(v) => Some(Arc::new(v)),
                    Err(err) => {
                        tracing::warn!(server = %server, tool = remote, error = %err, "inputSchema does not compile; arguments go unchecked");
                        None
                    }
                },
                _ => {
                    tracing::warn!(server = %server, tool = remote, "inputSchema is missing or not an object; arguments go unchecked");
                    json["inputSchema"] = json!({ "type": "object" });
                    None
                }
            };
            fresh.insert(
                exposed,
                NativeTool { server: index, remote: remote.to_owned(), json, validator },
            );
        }
        let old: Vec<(&String, &Value)> =
            tools.iter().filter(|(_, t)| t.server == index).map(|(n, t)| (n, &t.json)).collect();
        let new: Vec<(&String, &Value)> = fresh.iter().map(|(n, t)| (n, &t.json)).collect();
        let changed = old != new;
        if changed {
            tools.retain(|_, t| t.server != index);
            self.metrics.register_tools(fresh.keys().map(String::as_str));
            tools.extend(fresh);
        }
        drop(tools);
        if changed {
            (self.on_change)();
        }
        refused
    }
}

impl Drop for NativeServers {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn failure(outcome: CallOutcome, message: String) -> NativeCall {
    NativeCall {
        outcome,
        result: json!({ "content": [{ "type": "text", "text": message }], "isError": true }),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::config::Config;

    /// Servers `a` and `b` (never started), the component tool `a_taken`,
    /// and a counter of change notifications.
    fn servers() -> (NativeServers, Arc<AtomicUsize>) {
        let toml =
            "[[native]]\nname = \"a\"\nimage = \"x\"\n[[native]]\nname = \"a_b\"\nimage = \"x\"\n";
        let config = Config::from_toml(toml, Path::new("t"), Path::new(".")).unwrap();
        let changes = Arc::new(AtomicUsize::new(0));
        let counter = changes.clone();
        let native = NativeServers {
            servers: config
                .native
                .iter()
                .map(|c| {
                    Arc::new(ServerSlot::new(LaunchSpec::resolve(c, Path::new("."), "t").unwrap()))
                })
                .collect(),
            tools: RwLock::new(BTreeMap::new()),
            reserved: HashSet::from(["a_taken".to_owned()]),
            metrics: Arc::new(Metrics::new()),
            on_change: Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
            instance: "t".into(),
            tasks: Mutex::new(Vec::new()),
        };
        (native, changes)
    }

    fn tool(name: &str) -> Value {
        json!({ "name": name, "inputSchema": { "type": "object", "properties": { "n": { "type": "integer" } } } })
    }

    #[test]
    fn a_name_a_component_exposes_is_refused_not_shadowed() {
        let (native, _) = servers();
        let refused = native.install_tools(0, &[tool("taken"), tool("free")]);
        assert_eq!(refused, vec!["a_taken".to_owned()]);
        assert!(!native.has_tool("a_taken"));
        assert_eq!(native.tools()[0].1["name"], "a_free");
    }

    #[test]
    fn a_name_another_server_took_first_is_refused() {
        let (native, _) = servers();
        native.install_tools(0, &[tool("b_c")]);
        let refused = native.install_tools(1, &[tool("c"), tool("d")]);
        assert_eq!(refused, vec!["a_b_c".to_owned()]);
        assert_eq!(read(&native.tools)["a_b_c"].server, 0);
        assert!(native.has_tool("a_b_d"));
    }

    #[test]
    fn change_is_notified_only_when_the_tool_set_differs() {
        let (native, changes) = servers();
        native.install_tools(0, &[tool("x")]);
        native.install_tools(0, &[tool("x")]);
        assert_eq!(changes.load(Ordering::SeqCst), 1);
        native.install_tools(0, &[tool("x"), tool("y")]);
        assert_eq!(changes.load(Ordering::SeqCst), 2);
        native.install_tools(0, &[]);
        assert_eq!(changes.load(Ordering::SeqCst), 3);
        assert!(native.tools().is_empty());
    }

    #[test]
    fn a_schema_that_does_not_compile_leaves_the_tool_unchecked() {
        let (native, _) = servers();
        let broken = json!({ "name": "odd", "inputSchema": { "type": "object", "properties": { "n": { "type": 12 } } } });
        native.install_tools(0, &[broken, tool("ok")]);
        assert!(native.has_tool("a_odd"));
        assert_eq!(native.check_arguments("a_odd", &json!({ "n": "anything" })), Ok(()));
        let err = native.check_arguments("a_ok", &json!({ "n": "text" })).unwrap_err();
        assert!(err.starts_with("invalid arguments for tool \"a_ok\""), "{err}");
    }

    #[tokio::test]
    async fn a_call_to_a_server_not_yet_up_is_refused_at_once_naming_it() {
        let (native, _) = servers();
        native.install_tools(0, &[tool("x")]);
        let call = native.call("a_x", json!({}), None, false).await;
        assert_eq!(call.outcome, CallOutcome::HostError);
        assert_eq!(
            call.result["content"][0]["text"],
            "native server \"a\" is unavailable (starting)"
        );
    }
}
