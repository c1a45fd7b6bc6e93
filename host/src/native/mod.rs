//! Native MCP servers: programs that exist only as native code, run in a
//! hardened container and presented beside the components' tools.
//!
//! | part | file |
//! | --- | --- |
//! | the `[[native]]` config entries and their checks | [`crate::config::native`] |
//! | what a server is granted: env with secrets read, directories checked | [`spec`] |
//! | `docker run` with its hardening flags, secrets as files, leftovers | [`launcher`] |
//! | newline-delimited JSON-RPC over the server's stdio | [`client`] |
//! | health pings, restarts with backoff, the circuit breaker | [`supervisor`] |
//!
//! Tools and prompts are installed in the [`Registry`] as `<server>_<name>`,
//! resources and templates under their own URIs, beside the components'. A
//! name or URI that a component offers, or that another native server took
//! first, is refused (logged, and listed under `refused_tools` in
//! `/readyz`), never shadowed. Reads, prompts and completions are passed
//! through; the server's `notifications/resources/updated` reach the
//! clients subscribed to that URI, and its requests to the client
//! (elicitation, sampling, roots) are relayed (see [`client`]). A server's tools stay listed while it
//! restarts, so calls get a fast `isError` answer naming the server and its
//! state rather than "unknown tool"; the list changes (and clients are told)
//! when a start, or the server's own `notifications/tools/list_changed`,
//! lists a different set of tools.
//!
//! Arguments are checked against the tool's `inputSchema` like a
//! component's; a schema that does not compile leaves that tool unchecked
//! (with a warning), it does not stop the host.
//!
//! What the container does not isolate: it shares the host's kernel (a
//! kernel exploit escapes it), and a granted network or directory is the
//! server's to use as it likes. The `process` launcher isolates nothing.

pub mod client;
pub mod launcher;
pub mod spec;
pub mod supervisor;

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use self::client::ClientError;
use self::launcher::LaunchSpec;
use self::supervisor::Lists;
use self::supervisor::ServerSlot;
use crate::call::Failure;
use crate::config::ConfigError;
pub use crate::config::{Launcher, NativeConfig};
use crate::lock::Locked as _;
use crate::metrics::Metrics;
use crate::registry::uri_template::UriTemplate;
use crate::registry::{
    Backend, CallFuture, Finished, FinishedCall, FinishedOp, NewOffer, NewPrompt, NewResource,
    NewTemplate, NewTool, OpFuture, OpOutput, Registry, SourceId, SourceKind, ToolOutput,
};
use crate::sandbox::{
    CallOutcome, CapturedStdio, CompletionRef, CompletionRequest, EventSink, PromptArgument,
};
use crate::schema::InputSchema;

/// Every configured native server and its supervisor; their tools live in
/// the [`Registry`] beside the components'.
pub struct NativeServers {
    servers: Vec<Arc<ServerSlot>>,
    sources: Vec<SourceId>,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    instance: String,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl NativeServers {
    /// Resolves every server's secrets and directories, adds each to the
    /// registry as a source, then starts one supervisor per server (after
    /// removing containers left by an earlier crash). Must be called within
    /// a tokio runtime. Servers come up in the background: their state is
    /// in [`NativeServers::readiness`], their tools in the registry.
    pub fn start(
        configs: &[NativeConfig],
        base_dir: &Path,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<NativeServers>, ConfigError> {
        let mut id = [0u8; 6];
        let _ = getrandom::fill(&mut id);
        let instance: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let mut servers = Vec::with_capacity(configs.len());
        for config in configs {
            servers
                .push(Arc::new(ServerSlot::new(LaunchSpec::resolve(config, base_dir, &instance)?)));
        }
        for config in configs {
            if config.launcher == Launcher::Process {
                tracing::warn!(
                    server = %config.name,
                    "native server uses the process launcher: it runs unconfined, with the host's user and network (development and tests only)"
                );
            }
            metrics.set_native_server_up(&config.name, false);
            metrics.set_circuit_open(&config.name, false);
        }
        let sources =
            configs.iter().map(|c| registry.add_source(&c.name, SourceKind::Native)).collect();
        let native = Arc::new(NativeServers {
            servers,
            sources,
            registry,
            metrics,
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

    /// Calls server `index`'s tool `remote`, under `task_timeout_ms` when
    /// `task` (else `call_timeout_ms`); with `progress`, the server is asked
    /// for progress notifications (to `events`). A server that is down
    /// answers at once with an `isError` result naming it and its state.
    pub async fn call(
        &self,
        index: usize,
        remote: &str,
        arguments: Value,
        events: EventSink,
        progress: bool,
        task: bool,
    ) -> FinishedCall {
        let started = Instant::now();
        let (outcome, output) =
            match self.call_inner(index, remote, arguments, events, progress, task).await {
                Ok(result) => {
                    let is_error = result.get("isError") == Some(&Value::Bool(true));
                    let outcome = if is_error { CallOutcome::ToolError } else { CallOutcome::Ok };
                    (outcome, ToolOutput::Members(result))
                }
                Err(failure) => (failure.outcome, ToolOutput::Failure(failure)),
            };
        FinishedCall {
            outcome,
            output,
            fuel: 0,
            elapsed: started.elapsed(),
            stdio: CapturedStdio::default(),
        }
    }

    async fn call_inner(
        &self,
        index: usize,
        remote: &str,
        arguments: Value,
        events: EventSink,
        progress: bool,
        task: bool,
    ) -> Result<Map<String, Value>, Failure> {
        let slot = &self.servers[index];
        let config = &slot.spec.config;
        let name = &config.name;
        // A server that is down answers at once, without waiting for a slot.
        slot.client_for_call().map_err(Failure::host_error)?;
        let queue_timeout = Duration::from_millis(config.queue_timeout_ms);
        let _permit =
            match tokio::time::timeout(queue_timeout, slot.slots.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => return Err(Failure::native_busy(name, queue_timeout, config.max_concurrency)),
            };
        // The server may have gone down while this call waited.
        let client = slot.client_for_call().map_err(Failure::host_error)?;
        let (timeout, limit) = if task {
            (config.task_timeout_ms, "task_timeout_ms")
        } else {
            (config.call_timeout_ms, "call_timeout_ms")
        };
        let timeout = Duration::from_millis(timeout);
        match client.call_tool(remote, arguments, events, progress, timeout).await {
            Ok(Value::Object(mut result)) => {
                // Only the members of a CallToolResult go on; the server's
                // _meta and anything else stay here.
                let mut out = Map::new();
                for key in ["content", "structuredContent"] {
                    if let Some(value) = result.remove(key) {
                        out.insert(key.into(), value);
                    }
                }
                let is_error = result.get("isError") == Some(&Value::Bool(true));
                out.insert("isError".into(), is_error.into());
                Ok(out)
            }
            Ok(_) => Err(Failure::host_error(format!(
                "native server {name:?}: tools/call answered with something that is not an object"
            ))),
            Err(ClientError::Timeout { after, .. }) => {
                let mut failure = Failure::timeout(after, limit);
                failure.message = format!(
                    "native server {name:?}: {}; the server was sent notifications/cancelled",
                    failure.message
                );
                Err(failure)
            }
            Err(err @ ClientError::MessageTooLarge { .. }) => {
                Err(Failure::message_too_large(name, err))
            }
            Err(err @ ClientError::Rpc { code: -32602, .. }) => {
                Err(Failure::invalid_arguments(format!("native server {name:?}: {err}")))
            }
            Err(err @ ClientError::Rpc { .. }) => {
                Err(Failure::tool_failed(format!("native server {name:?}: {err}")))
            }
            Err(err @ (ClientError::Closed(_) | ClientError::Protocol { .. })) => {
                Err(Failure::host_error(format!(
                    "native server {name:?} failed during the call: {err}; it is being restarted"
                )))
            }
        }
    }

    /// Sends server `index` a request made for a client (`resources/read`,
    /// `prompts/get`, `completion/complete`): its result's members, `_meta`
    /// left out. `not_found` classifies a `-32602` answer.
    async fn operation(
        &self,
        index: usize,
        method: &str,
        params: Value,
        events: EventSink,
        not_found: impl FnOnce() -> Failure,
    ) -> FinishedOp {
        let started = Instant::now();
        let slot = &self.servers[index];
        let config = &slot.spec.config;
        let name = &config.name;
        let run = async {
            slot.client_for_call().map_err(Failure::host_error)?;
            let queue_timeout = Duration::from_millis(config.queue_timeout_ms);
            let _permit = tokio::time::timeout(queue_timeout, slot.slots.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| Failure::native_busy(name, queue_timeout, config.max_concurrency))?;
            let client = slot.client_for_call().map_err(Failure::host_error)?;
            let timeout = Duration::from_millis(config.call_timeout_ms);
            match client.operation(method, params, events, timeout).await {
                Ok(Value::Object(mut result)) => {
                    result.remove("_meta");
                    Ok(result)
                }
                Ok(_) => Err(Failure::host_error(format!(
                    "native server {name:?}: {method} answered with something that is not an object"
                ))),
                Err(ClientError::Rpc { code: -32602, .. }) => Err(not_found()),
                Err(ClientError::Timeout { after, .. }) => {
                    let mut failure = Failure::timeout(after, "call_timeout_ms");
                    failure.message = format!("native server {name:?}: {}", failure.message);
                    Err(failure)
                }
                Err(err @ ClientError::MessageTooLarge { .. }) => {
                    Err(Failure::message_too_large(name, err))
                }
                Err(err @ ClientError::Rpc { .. }) => {
                    Err(Failure::tool_failed(format!("native server {name:?}: {err}")))
                }
                Err(err @ (ClientError::Closed(_) | ClientError::Protocol { .. })) => {
                    Err(Failure::host_error(format!("native server {name:?} failed: {err}")))
                }
            }
        };
        let result = run.await;
        Finished {
            outcome: match &result {
                Ok(_) => CallOutcome::Ok,
                Err(failure) => failure.outcome,
            },
            output: OpOutput::from_result(result, OpOutput::Members),
            fuel: 0,
            elapsed: started.elapsed(),
            stdio: CapturedStdio::default(),
        }
    }

    /// Waits until every server has listed its tools, for at most
    /// `timeout`; a server that has not is named in a warning.
    pub async fn wait_listed(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = self.registry.status();
            let waiting: Vec<&str> = self
                .sources
                .iter()
                .filter_map(|id| status.get(id.index()))
                .filter(|s| s.tools.is_empty() && s.quarantined.is_empty())
                .map(|s| &*s.name)
                .collect();
            if waiting.is_empty() {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    "native servers with no tools listed after {timeout:?}: {}",
                    waiting.join(", ")
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every server's state for `/readyz`, with its tools.
    pub fn readiness(&self) -> Vec<Value> {
        let status = self.registry.status();
        self.servers
            .iter()
            .zip(&self.sources)
            .map(|(slot, source)| {
                let mut state = slot.readiness();
                if let (Value::Object(map), Some(source)) = (&mut state, status.get(source.index()))
                {
                    map.insert(
                        "tools".into(),
                        json!(source.tools.iter().map(|t| &**t).collect::<Vec<_>>()),
                    );
                    map.insert("refused_tools".into(), json!(source.refused));
                    if !source.quarantined.is_empty() {
                        let quarantined: Vec<Value> = source
                            .quarantined
                            .iter()
                            .map(|(tool, reason)| json!({"tool": &**tool, "reason": &**reason}))
                            .collect();
                        map.insert("quarantined_tools".into(), Value::Array(quarantined));
                    }
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
    /// result) in the registry; refused names are logged there.
    #[cfg(test)]
    fn install_tools(self: &Arc<Self>, index: usize, listed: &[Value]) {
        let lists = Lists {
            capabilities: json!({ "tools": {} }),
            tools: listed.to_vec(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
        };
        self.install_lists(index, lists);
    }

    /// Replaces what server `index` offers with what it `lists` in the
    /// registry; refused names and URIs are logged there, and items
    /// without a name or URI are skipped with a warning.
    fn install_lists(self: &Arc<Self>, index: usize, lists: Lists) {
        let server = &self.servers[index].spec.config.name;
        let mut offer = NewOffer {
            completes: lists.capabilities.get("completions").is_some_and(Value::is_object),
            ..NewOffer::default()
        };
        for tool in &lists.tools {
            let Some(remote) = tool.get("name").and_then(Value::as_str) else {
                tracing::warn!(server = %server, "native server listed a tool without a name; skipped");
                continue;
            };
            let mut definition = match tool {
                Value::Object(map) => map.clone(),
                _ => continue,
            };
            let input = match definition.get("inputSchema") {
                Some(schema @ Value::Object(_)) => match InputSchema::compile(schema) {
                    Ok(input) => input,
                    Err(err) => {
                        tracing::warn!(server = %server, tool = remote, error = %err, "arguments go unchecked");
                        InputSchema::unchecked()
                    }
                },
                _ => {
                    tracing::warn!(server = %server, tool = remote, "inputSchema is missing or not an object; arguments go unchecked");
                    definition.insert("inputSchema".into(), json!({ "type": "object" }));
                    InputSchema::unchecked()
                }
            };
            let declared = crate::registry::declared_task_support(&definition);
            let support = crate::config::TaskSupport::of(
                &self.servers[index].spec.config.task_support,
                remote,
                declared,
            );
            crate::registry::set_task_support(&mut definition, support);
            offer.tools.push(NewTool { remote: remote.to_owned(), definition, input });
        }
        for resource in &lists.resources {
            match (resource.get("uri").and_then(Value::as_str), resource) {
                (Some(uri), Value::Object(definition)) => offer
                    .resources
                    .push(NewResource { uri: uri.to_owned(), definition: definition.clone() }),
                _ => {
                    tracing::warn!(server = %server, "native server listed a resource without a uri; skipped")
                }
            }
        }
        for template in &lists.templates {
            let text = template.get("uriTemplate").and_then(Value::as_str).unwrap_or_default();
            match (UriTemplate::parse(text), template) {
                (Ok(parsed), Value::Object(definition)) => offer
                    .templates
                    .push(NewTemplate { template: parsed, definition: definition.clone() }),
                (Err(err), _) => {
                    tracing::warn!(server = %server, error = %err, "native resource template skipped")
                }
                _ => {}
            }
        }
        for prompt in &lists.prompts {
            let (Some(remote), Value::Object(definition)) =
                (prompt.get("name").and_then(Value::as_str), prompt)
            else {
                tracing::warn!(server = %server, "native server listed a prompt without a name; skipped");
                continue;
            };
            let arguments = prompt
                .get("arguments")
                .and_then(Value::as_array)
                .map(|arguments| {
                    arguments
                        .iter()
                        .filter_map(|a| {
                            Some(PromptArgument {
                                name: a.get("name")?.as_str()?.to_owned(),
                                description: None,
                                required: a.get("required").and_then(Value::as_bool) == Some(true),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            offer.prompts.push(NewPrompt {
                remote: remote.to_owned(),
                definition: definition.clone(),
                arguments,
            });
        }
        let backend = Arc::new(NativeBackend { servers: Arc::downgrade(self), index });
        let source = self.sources[index];
        self.registry.install_native(source, offer, backend);
        self.metrics.register_tools(self.registry.tools_of(source).iter().map(|t| &**t));
    }

    /// Server `index` is down, for `why`: if it never started, requests
    /// stop waiting for it.
    fn down(&self, index: usize, why: &str) {
        self.registry.native_down(self.sources[index], why);
    }

    /// Server `index` says the resource at `uri` changed.
    fn resource_updated(&self, index: usize, uri: &str) {
        self.registry.announce(&self.servers[index].spec.config.name, uri);
    }
}

/// Calls one native server's tools.
struct NativeBackend {
    servers: Weak<NativeServers>,
    index: usize,
}

impl NativeBackend {
    /// Calls `tool` on the server, under `task_timeout_ms` if `task`.
    fn run<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        progress: bool,
        task: bool,
    ) -> CallFuture<'a> {
        Box::pin(async move {
            match self.servers.upgrade() {
                Some(servers) => {
                    servers.call(self.index, tool, arguments, events, progress, task).await
                }
                None => FinishedCall::failed(Failure::host_error("the host is shutting down")),
            }
        })
    }
}

impl Backend for NativeBackend {
    fn call<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        progress: bool,
    ) -> CallFuture<'a> {
        self.run(tool, arguments, events, progress, false)
    }

    fn call_task<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        progress: bool,
    ) -> CallFuture<'a> {
        self.run(tool, arguments, events, progress, true)
    }

    fn read_resource<'a>(&'a self, uri: &'a str, events: EventSink) -> OpFuture<'a> {
        let params = json!({ "uri": uri });
        self.operation("resources/read", params, events, move || Failure::resource_not_found(uri))
    }

    fn get_prompt<'a>(
        &'a self,
        prompt: &'a str,
        arguments: Map<String, Value>,
        events: EventSink,
    ) -> OpFuture<'a> {
        let params = json!({ "name": prompt, "arguments": arguments });
        self.operation("prompts/get", params, events, move || {
            Failure::invalid_arguments(format!("native server refused prompt {prompt:?}"))
        })
    }

    fn complete(&self, request: CompletionRequest) -> OpFuture<'_> {
        let reference = match &request.reference {
            CompletionRef::Prompt(name) => json!({ "type": "ref/prompt", "name": name }),
            CompletionRef::ResourceTemplate(uri) => json!({ "type": "ref/resource", "uri": uri }),
        };
        let context: Map<String, Value> =
            request.context.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let params = json!({
            "ref": reference,
            "argument": { "name": request.argument, "value": request.value },
            "context": { "arguments": context },
        });
        self.operation("completion/complete", params, None, || {
            Failure::invalid_arguments("native server refused the completion request")
        })
    }

    fn subscribe(&self, uri: &str) {
        // The server sends updates only for URIs it was asked about. The
        // subscription is kept for the server's life: another client may
        // subscribe later, and an update nobody listens to costs one line.
        let (servers, index, uri) = (self.servers.clone(), self.index, uri.to_owned());
        tokio::spawn(async move {
            let Some(servers) = servers.upgrade() else { return };
            let params = json!({ "uri": uri });
            let done = servers
                .operation(index, "resources/subscribe", params, None, || {
                    Failure::resource_not_found(&uri)
                })
                .await;
            if let OpOutput::Failure(failure) = done.output {
                tracing::debug!(uri, error = %failure.message, "native server did not take the subscription");
            }
        });
    }
}

impl NativeBackend {
    fn operation<'a>(
        &'a self,
        method: &'static str,
        params: Value,
        events: EventSink,
        not_found: impl FnOnce() -> Failure + Send + 'a,
    ) -> OpFuture<'a> {
        Box::pin(async move {
            match self.servers.upgrade() {
                Some(servers) => {
                    servers.operation(self.index, method, params, events, not_found).await
                }
                None => FinishedOp::failed(Failure::host_error("the host is shutting down")),
            }
        })
    }
}

impl Drop for NativeServers {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.locked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Servers `a` and `a_b` (never started) and the registry, in which a
    /// component already exposes `a_taken`.
    fn servers() -> (Arc<NativeServers>, Arc<Registry>) {
        let toml =
            "[[native]]\nname = \"a\"\nimage = \"x\"\n[[native]]\nname = \"a_b\"\nimage = \"x\"\n";
        let config = Config::from_toml(toml, Path::new("t"), Path::new(".")).unwrap();
        let registry = Arc::new(Registry::default());
        let component = registry.add_source("c", SourceKind::Component { namespace: "a".into() });
        let taken = NewTool {
            remote: "taken".into(),
            definition: Map::new(),
            input: InputSchema::unchecked(),
        };
        let backend = Arc::new(NativeBackend { servers: Weak::new(), index: 0 });
        registry
            .install_component(
                component,
                NewOffer::tools(vec![taken]),
                backend,
                Duration::ZERO,
                false,
            )
            .unwrap();
        let native = Arc::new(NativeServers {
            servers: config
                .native
                .iter()
                .map(|c| {
                    Arc::new(ServerSlot::new(LaunchSpec::resolve(c, Path::new("."), "t").unwrap()))
                })
                .collect(),
            sources: config
                .native
                .iter()
                .map(|c| registry.add_source(&c.name, SourceKind::Native))
                .collect(),
            registry: registry.clone(),
            metrics: Arc::new(Metrics::new()),
            instance: "t".into(),
            tasks: Mutex::new(Vec::new()),
        });
        (native, registry)
    }

    fn tool(name: &str) -> Value {
        json!({ "name": name, "inputSchema": { "type": "object", "properties": { "n": { "type": "integer" } } } })
    }

    fn exposed(registry: &Registry, name: &str) -> bool {
        registry.catalog().get(name).is_some()
    }

    #[test]
    fn a_name_a_component_exposes_is_refused_not_shadowed() {
        let (native, registry) = servers();
        native.install_tools(0, &[tool("taken"), tool("free")]);
        assert!(exposed(&registry, "a_free"));
        assert_eq!(&*registry.catalog().get("a_taken").unwrap().source, "c");
        assert_eq!(native.readiness()[0]["refused_tools"], json!(["a_taken"]));
    }

    #[test]
    fn a_name_another_server_took_first_is_refused() {
        let (native, registry) = servers();
        native.install_tools(0, &[tool("b_c")]);
        native.install_tools(1, &[tool("c"), tool("d")]);
        assert_eq!(&*registry.catalog().get("a_b_c").unwrap().source, "a");
        assert!(exposed(&registry, "a_b_d"));
        assert_eq!(native.readiness()[1]["refused_tools"], json!(["a_b_c"]));
    }

    #[test]
    fn a_schema_that_does_not_compile_leaves_the_tool_unchecked() {
        let (native, registry) = servers();
        let broken = json!({ "name": "odd", "inputSchema": { "type": "object", "properties": { "n": { "type": 12 } } } });
        native.install_tools(0, &[broken, tool("ok")]);
        let catalog = registry.catalog();
        assert_eq!(
            catalog.get("a_odd").unwrap().input.check("a_odd", &json!({ "n": "anything" })),
            Ok(())
        );
        let err =
            catalog.get("a_ok").unwrap().input.check("a_ok", &json!({ "n": "text" })).unwrap_err();
        assert!(err.starts_with("invalid arguments for tool \"a_ok\""), "{err}");
    }

    #[tokio::test]
    async fn a_call_to_a_server_not_yet_up_is_refused_at_once_naming_it() {
        let (native, registry) = servers();
        native.install_tools(0, &[tool("x")]);
        let entry = registry.catalog().get("a_x").unwrap().clone();
        let call = entry.call(json!({}), None, false).await;
        assert_eq!(call.outcome, CallOutcome::HostError);
        let ToolOutput::Failure(failure) = call.output else { panic!("not a failure") };
        assert_eq!(failure.message, "native server \"a\" is unavailable (starting)");
    }
}
