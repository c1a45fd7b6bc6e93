//! The catalogue of tools: every tool of every backend behind one seam.
//!
//! A *source* is one configured component or native server. A source
//! installs its tools here, and the MCP layer lists them, resolves a call's
//! tool once ([`Registry::resolve`]) and calls it through the
//! [`ToolEntry`], whatever backend serves it ([`Backend`]): the sandbox for
//! components ([`components`]), a supervised process for native servers
//! ([`crate::native`]). Every call ends as one [`FinishedCall`].
//!
//! Naming and collisions:
//!
//! - A tool is exposed as `<namespace>_<tool>`; a component's namespace is
//!   its name unless the config says otherwise (`""` exposes bare names), a
//!   native server's is always its name.
//! - Names are unique across the host, never shadowed. A component whose
//!   tool takes a name another component exposes fails to load with an
//!   error naming both. Components win over native servers: a native tool
//!   holding a name a component then exposes is withdrawn and listed as
//!   refused, and a native server cannot take a name already taken.
//!
//! The catalogue changes while serving: components finish loading one by
//! one after the server starts, native servers' tools come, change and go.
//! Each change is a new immutable [`Catalog`] snapshot, swapped in
//! atomically, so a lookup never waits for a writer; [`Registry::changes`]
//! tells listeners (the `list_changed` notifications) that one happened.

pub mod components;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::call::{CallOutcome, Failure};
use crate::sandbox::{CapturedStdio, EventSink, ToolResult};
use crate::schema::InputSchema;

/// What a tool call produced, in the form its backend returned it; it is
/// serialized to MCP JSON once, on the way out.
#[derive(Debug)]
pub enum ToolOutput {
    /// A component's result, checked by the sandbox.
    Component(ToolResult),
    /// A native server's `CallToolResult` members (`content`,
    /// `structuredContent`, `isError`), as the server sent them.
    Native(Map<String, Value>),
    /// The call did not produce the tool's own result.
    Failure(Failure),
}

/// Everything about one finished call, whichever backend ran it.
#[derive(Debug)]
pub struct FinishedCall {
    /// How it ended.
    pub outcome: CallOutcome,
    /// What to return to the client.
    pub output: ToolOutput,
    /// Fuel the guest consumed (0 for native servers).
    pub fuel: u64,
    /// Time the backend took, queueing included.
    pub elapsed: Duration,
    /// What a component wrote to stdout and stderr.
    pub stdio: CapturedStdio,
}

impl FinishedCall {
    /// A call that ended in `failure` without reaching a backend.
    pub fn failed(failure: Failure) -> FinishedCall {
        FinishedCall {
            outcome: failure.outcome,
            output: ToolOutput::Failure(failure),
            fuel: 0,
            elapsed: Duration::ZERO,
            stdio: CapturedStdio::default(),
        }
    }
}

/// The future of one backend call.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = FinishedCall> + Send + 'a>>;

/// What runs a source's tools.
pub trait Backend: Send + Sync {
    /// Calls `tool` (the name the source knows it by) with checked
    /// `arguments`. Guest log and progress messages go to `events`;
    /// `progress` says whether the client asked for progress. Every failure
    /// is a classified [`FinishedCall`], never an error.
    fn call<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        progress: bool,
    ) -> CallFuture<'a>;
}

/// One exposed tool.
pub struct ToolEntry {
    /// The name clients call it by.
    pub name: Arc<str>,
    /// The name its source knows it by.
    pub remote: Box<str>,
    /// The component or native server that serves it.
    pub source: Arc<str>,
    /// The MCP `Tool` object, under the exposed name, serialized once.
    pub definition: Box<RawValue>,
    /// Its compiled `inputSchema`.
    pub input: InputSchema,
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for ToolEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolEntry")
            .field("name", &self.name)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl ToolEntry {
    /// Calls the tool with arguments already checked against its schema.
    pub fn call(&self, arguments: Value, events: EventSink, progress: bool) -> CallFuture<'_> {
        self.backend.call(&self.remote, arguments, events, progress)
    }
}

/// A tool a source offers, before it is installed.
pub struct NewTool {
    /// The name the source knows it by.
    pub remote: String,
    /// The MCP `Tool` object; its `name` is replaced by the exposed name.
    pub definition: Map<String, Value>,
    /// Its compiled `inputSchema`.
    pub input: InputSchema,
}

/// Why a component's tools could not be installed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "tool name {name:?} is exposed by both component \"{first}\" and component \"{second}\"; \
     give one of them a different namespace"
)]
pub struct DuplicateTool {
    /// The clashing exposed name.
    pub name: String,
    /// The component that exposed it first.
    pub first: String,
    /// The component that tried to expose it too.
    pub second: String,
}

/// A source's handle in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceId(usize);

impl SourceId {
    /// The source's position in [`Registry::status`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// What kind of source, for naming and precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A wasm component with this tool namespace.
    Component {
        /// The prefix of its tools' exposed names (`""`: bare names).
        namespace: String,
    },
    /// A native MCP server (its namespace is its name).
    Native,
}

/// Where a source stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceState {
    /// A component still compiling; calls to it wait.
    Loading,
    /// Serving (a native server may still be starting: see its own state).
    Ready,
    /// A component that did not load: why.
    Failed(String),
}

/// A source as `/readyz` and `corral check` show it.
#[derive(Debug, Clone)]
pub struct SourceStatus {
    /// The component's or native server's name.
    pub name: Arc<str>,
    /// Component or native server.
    pub kind: SourceKind,
    /// Loading, ready or failed.
    pub state: SourceState,
    /// Its exposed tools, by name.
    pub tools: Vec<Arc<str>>,
    /// Tools refused because their name was taken.
    pub refused: Vec<String>,
    /// Time to compile (or load from the cache), for a loaded component.
    pub compile_time: Option<Duration>,
    /// Whether the compiled component came from the on-disk cache.
    pub from_cache: bool,
}

/// The outcome of a name lookup.
#[derive(Debug)]
pub enum Lookup {
    /// The tool.
    Found(Arc<ToolEntry>),
    /// No tool of that name yet, but this component, still loading, may
    /// expose it.
    Loading {
        /// The component.
        component: Arc<str>,
        /// How long a call may wait for it (its `queue_timeout_ms`).
        queue_timeout: Duration,
    },
    /// No tool of that name, and no loading component could expose it.
    Unknown,
}

/// One immutable view of every exposed tool.
#[derive(Default)]
pub struct Catalog {
    tools: BTreeMap<Arc<str>, Arc<ToolEntry>>,
    /// Components still loading: (name, namespace, queue timeout).
    loading: Vec<(Arc<str>, String, Duration)>,
    /// Counts the changes of the tool list itself (names and definitions),
    /// which clients are told of; loading progress alone does not count.
    revision: u64,
}

impl Catalog {
    /// The number of changes to the tool list so far.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Every exposed tool, ordered by name.
    pub fn tools(&self) -> impl ExactSizeIterator<Item = &Arc<ToolEntry>> {
        self.tools.values()
    }

    /// The tools from the first name `>= after` on, ordered by name.
    pub fn tools_from(&self, after: &str) -> impl Iterator<Item = &Arc<ToolEntry>> {
        self.tools
            .range::<str, _>((std::ops::Bound::Included(after), std::ops::Bound::Unbounded))
            .map(|(_, entry)| entry)
    }

    /// The tool exposed as `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<ToolEntry>> {
        self.tools.get(name)
    }

    /// Whether components are still loading (the list is incomplete).
    pub fn is_loading(&self) -> bool {
        !self.loading.is_empty()
    }

    fn lookup(&self, name: &str) -> Lookup {
        if let Some(entry) = self.tools.get(name) {
            return Lookup::Found(entry.clone());
        }
        let owner = self.loading.iter().find(|(_, namespace, _)| {
            namespace.is_empty()
                || name.strip_prefix(namespace.as_str()).is_some_and(|rest| rest.starts_with('_'))
        });
        match owner {
            Some((component, _, queue_timeout)) => {
                Lookup::Loading { component: component.clone(), queue_timeout: *queue_timeout }
            }
            None => Lookup::Unknown,
        }
    }
}

struct Source {
    name: Arc<str>,
    kind: SourceKind,
    state: SourceState,
    queue_timeout: Duration,
    tools: Vec<Arc<ToolEntry>>,
    refused: Vec<String>,
    compile_time: Option<Duration>,
    from_cache: bool,
}

impl Source {
    /// The prefix of its tools' exposed names.
    fn namespace(&self) -> &str {
        match &self.kind {
            SourceKind::Component { namespace } => namespace,
            SourceKind::Native => &self.name,
        }
    }
}

/// The live catalogue.
pub struct Registry {
    catalog: ArcSwap<Catalog>,
    sources: Mutex<Vec<Source>>,
    changes: watch::Sender<u64>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty catalogue.
    pub fn new() -> Registry {
        Registry {
            catalog: ArcSwap::from_pointee(Catalog::default()),
            sources: Mutex::new(Vec::new()),
            changes: watch::Sender::new(0),
        }
    }

    /// Adds a source: a component starts [`SourceState::Loading`], a native
    /// server [`SourceState::Ready`] with no tools. `queue_timeout` bounds
    /// how long a call waits for a loading component.
    pub fn add_source(&self, name: &str, kind: SourceKind, queue_timeout: Duration) -> SourceId {
        let mut sources = self.lock();
        let state = match kind {
            SourceKind::Component { .. } => SourceState::Loading,
            SourceKind::Native => SourceState::Ready,
        };
        sources.push(Source {
            name: name.into(),
            kind,
            state,
            queue_timeout,
            tools: Vec::new(),
            refused: Vec::new(),
            compile_time: None,
            from_cache: false,
        });
        let id = SourceId(sources.len() - 1);
        self.publish(&sources);
        id
    }

    /// Installs a loaded component's tools, all or none: a name another
    /// component exposes fails it (and the error is returned); a name a
    /// native server holds is taken from it.
    pub fn install_component(
        &self,
        id: SourceId,
        tools: Vec<NewTool>,
        backend: Arc<dyn Backend>,
        compile_time: Duration,
        from_cache: bool,
    ) -> Result<(), DuplicateTool> {
        let mut sources = self.lock();
        let name = sources[id.0].name.clone();
        let entries = entries(&name, sources[id.0].namespace(), tools, &backend);
        for entry in &entries {
            for (index, other) in sources.iter().enumerate() {
                if index == id.0 || !other.tools.iter().any(|t| t.name == entry.name) {
                    continue;
                }
                if matches!(other.kind, SourceKind::Component { .. }) {
                    let error = DuplicateTool {
                        name: entry.name.to_string(),
                        first: other.name.to_string(),
                        second: name.to_string(),
                    };
                    sources[id.0].state = SourceState::Failed(error.to_string());
                    self.publish(&sources);
                    return Err(error);
                }
            }
        }
        for entry in &entries {
            for other in sources.iter_mut().filter(|s| s.kind == SourceKind::Native) {
                if let Some(at) = other.tools.iter().position(|t| t.name == entry.name) {
                    tracing::error!(
                        server = %other.name,
                        tool = %entry.name,
                        component = %name,
                        "native tool withdrawn: component \"{name}\" exposes the same name"
                    );
                    other.tools.remove(at);
                    other.refused.push(entry.name.to_string());
                }
            }
        }
        let source = &mut sources[id.0];
        source.tools = entries;
        source.state = SourceState::Ready;
        source.compile_time = Some(compile_time);
        source.from_cache = from_cache;
        self.publish(&sources);
        Ok(())
    }

    /// Marks a component as failed to load, with the reason.
    pub fn fail(&self, id: SourceId, why: String) {
        let mut sources = self.lock();
        sources[id.0].state = SourceState::Failed(why);
        sources[id.0].tools.clear();
        self.publish(&sources);
    }

    /// Replaces a native server's tools with `tools`; names already taken
    /// (by a component, another server, or twice in `tools`) are refused and
    /// returned. Listeners hear of it only when the exposed set differs.
    pub fn install_native(
        &self,
        id: SourceId,
        tools: Vec<NewTool>,
        backend: Arc<dyn Backend>,
    ) -> Vec<String> {
        let mut sources = self.lock();
        let name = sources[id.0].name.clone();
        let mut kept: Vec<Arc<ToolEntry>> = Vec::new();
        let mut refused = Vec::new();
        for entry in entries(&name, sources[id.0].namespace(), tools, &backend) {
            let taken =
                sources.iter().enumerate().any(|(index, s)| {
                    index != id.0 && s.tools.iter().any(|t| t.name == entry.name)
                }) || kept.iter().any(|t| t.name == entry.name);
            if taken {
                tracing::error!(
                    server = %name,
                    tool = %entry.remote,
                    exposed = %entry.name,
                    "native tool refused: its exposed name is already taken by a component or another server"
                );
                refused.push(entry.name.to_string());
            } else {
                kept.push(entry);
            }
        }
        let source = &mut sources[id.0];
        let same = source.tools.len() == kept.len()
            && source
                .tools
                .iter()
                .zip(&kept)
                .all(|(a, b)| a.name == b.name && a.definition.get() == b.definition.get());
        source.refused = refused.clone();
        if !same {
            source.tools = kept;
            self.publish(&sources);
        }
        refused
    }

    /// The current catalogue.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Looks `name` up once.
    pub fn lookup(&self, name: &str) -> Lookup {
        self.catalog.load().lookup(name)
    }

    /// The tool exposed as `name`, waiting while a component that may
    /// expose it is still loading, for at most its `queue_timeout_ms`.
    pub async fn resolve(&self, name: &str) -> Result<Arc<ToolEntry>, Failure> {
        let mut changes = self.changes.subscribe();
        let mut deadline = None;
        loop {
            match self.lookup(name) {
                Lookup::Found(entry) => return Ok(entry),
                Lookup::Unknown => return Err(Failure::unknown_tool(name)),
                Lookup::Loading { component, queue_timeout } => {
                    let until = *deadline
                        .get_or_insert_with(|| tokio::time::Instant::now() + queue_timeout);
                    let changed = tokio::time::timeout_at(until, changes.changed()).await;
                    if !matches!(changed, Ok(Ok(()))) {
                        return Err(Failure::still_loading(&component, queue_timeout));
                    }
                }
            }
        }
    }

    /// Resolves when the catalogue changes; the value counts the changes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Every source and where it stands, in the order they were added.
    pub fn status(&self) -> Vec<SourceStatus> {
        self.lock()
            .iter()
            .map(|s| SourceStatus {
                name: s.name.clone(),
                kind: s.kind.clone(),
                state: s.state.clone(),
                tools: s.tools.iter().map(|t| t.name.clone()).collect(),
                refused: s.refused.clone(),
                compile_time: s.compile_time,
                from_cache: s.from_cache,
            })
            .collect()
    }

    /// The exposed names of a source's tools.
    pub fn tools_of(&self, id: SourceId) -> Vec<Arc<str>> {
        self.lock()[id.0].tools.iter().map(|t| t.name.clone()).collect()
    }

    /// Whether no component is still loading.
    pub fn settled(&self) -> bool {
        !self.catalog.load().is_loading()
    }

    /// Resolves once no component is still loading.
    pub async fn wait_settled(&self) {
        let mut changes = self.changes.subscribe();
        while !self.settled() {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Source>> {
        // Every critical section leaves the sources consistent.
        self.sources.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Builds and swaps in the snapshot of `sources`, then tells listeners.
    fn publish(&self, sources: &[Source]) {
        let previous = self.catalog.load();
        let mut catalog = Catalog::default();
        for source in sources {
            for tool in &source.tools {
                catalog.tools.insert(tool.name.clone(), tool.clone());
            }
            if let (SourceState::Loading, SourceKind::Component { namespace }) =
                (&source.state, &source.kind)
            {
                catalog.loading.push((
                    source.name.clone(),
                    namespace.clone(),
                    source.queue_timeout,
                ));
            }
        }
        let same = previous.tools.len() == catalog.tools.len()
            && previous
                .tools
                .values()
                .zip(catalog.tools.values())
                .all(|(a, b)| a.name == b.name && a.definition.get() == b.definition.get());
        catalog.revision = previous.revision + u64::from(!same);
        self.catalog.store(Arc::new(catalog));
        self.changes.send_modify(|n| *n += 1);
    }
}

/// The entries for `tools` of source `source` under `namespace`.
fn entries(
    source: &Arc<str>,
    namespace: &str,
    tools: Vec<NewTool>,
    backend: &Arc<dyn Backend>,
) -> Vec<Arc<ToolEntry>> {
    tools
        .into_iter()
        .map(|tool| {
            let name: Arc<str> = exposed_name(namespace, &tool.remote).into();
            let mut definition = tool.definition;
            definition.insert("name".into(), Value::String(name.to_string()));
            // A map of JSON values always serializes.
            let definition = serde_json::value::to_raw_value(&definition)
                .unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("valid JSON"));
            Arc::new(ToolEntry {
                name,
                remote: tool.remote.into(),
                source: source.clone(),
                definition,
                input: tool.input,
                backend: backend.clone(),
            })
        })
        .collect()
}

/// `<namespace>_<tool>`, or the bare tool name for an empty namespace.
pub fn exposed_name(namespace: &str, tool: &str) -> String {
    if namespace.is_empty() { tool.to_owned() } else { format!("{namespace}_{tool}") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Echo;

    impl Backend for Echo {
        fn call<'a>(
            &'a self,
            tool: &'a str,
            _arguments: Value,
            _events: EventSink,
            _progress: bool,
        ) -> CallFuture<'a> {
            Box::pin(async move { FinishedCall::failed(Failure::tool_failed(tool)) })
        }
    }

    fn tool(name: &str) -> NewTool {
        NewTool {
            remote: name.into(),
            definition: json!({ "name": name, "inputSchema": { "type": "object" } })
                .as_object()
                .unwrap()
                .clone(),
            input: InputSchema::unchecked(),
        }
    }

    fn component(registry: &Registry, name: &str, namespace: &str) -> SourceId {
        registry.add_source(
            name,
            SourceKind::Component { namespace: namespace.into() },
            Duration::from_millis(50),
        )
    }

    #[test]
    fn namespace_prefixes_tool_names() {
        assert_eq!(exposed_name("fs", "read_file"), "fs_read_file");
        assert_eq!(exposed_name("", "read_file"), "read_file");
    }

    #[test]
    fn an_installed_tool_is_found_under_its_exposed_name() {
        let registry = Registry::new();
        let fs = component(&registry, "fs", "fs");
        registry
            .install_component(fs, vec![tool("read")], Arc::new(Echo), Duration::ZERO, false)
            .unwrap();
        let Lookup::Found(entry) = registry.lookup("fs_read") else { panic!("not found") };
        assert_eq!(&*entry.remote, "read");
        assert_eq!(
            serde_json::from_str::<Value>(entry.definition.get()).unwrap()["name"],
            "fs_read"
        );
    }

    #[test]
    fn a_name_under_a_loading_namespace_is_loading_not_unknown() {
        let registry = Registry::new();
        component(&registry, "fs", "fs");
        assert!(matches!(registry.lookup("fs_read"), Lookup::Loading { .. }));
        assert!(matches!(registry.lookup("fsx_read"), Lookup::Unknown));
        assert!(matches!(registry.lookup("text_count"), Lookup::Unknown));
        component(&registry, "bare", "");
        assert!(matches!(registry.lookup("anything"), Lookup::Loading { .. }));
    }

    #[tokio::test]
    async fn resolve_waits_for_a_loading_component_then_finds_its_tool() {
        let registry = Arc::new(Registry::new());
        let fs = component(&registry, "fs", "fs");
        let waiting = tokio::spawn({
            let registry = registry.clone();
            async move { registry.resolve("fs_read").await.map(|e| e.name.to_string()) }
        });
        tokio::task::yield_now().await;
        registry
            .install_component(fs, vec![tool("read")], Arc::new(Echo), Duration::ZERO, false)
            .unwrap();
        assert_eq!(waiting.await.unwrap(), Ok("fs_read".to_owned()));
    }

    #[tokio::test]
    async fn resolve_gives_up_naming_the_component_still_loading() {
        let registry = Registry::new();
        component(&registry, "fs", "fs");
        let failure = registry.resolve("fs_read").await.unwrap_err();
        assert_eq!(failure.outcome, CallOutcome::Busy);
        assert!(
            failure.message.contains("component \"fs\" is still loading"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn two_components_exposing_one_name_fail_the_second() {
        let registry = Registry::new();
        let a = component(&registry, "a", "");
        let b = component(&registry, "b", "");
        registry
            .install_component(a, vec![tool("x")], Arc::new(Echo), Duration::ZERO, false)
            .unwrap();
        let err = registry
            .install_component(b, vec![tool("x")], Arc::new(Echo), Duration::ZERO, false)
            .unwrap_err();
        assert_eq!((err.first.as_str(), err.second.as_str()), ("a", "b"));
        assert!(matches!(registry.status()[1].state, SourceState::Failed(_)));
    }

    #[test]
    fn a_native_tool_cannot_take_a_component_name_and_yields_to_a_later_one() {
        let registry = Registry::new();
        let comp = component(&registry, "git", "git");
        let native = registry.add_source("git2", SourceKind::Native, Duration::ZERO);
        // The native server exposes git2_x; the component later exposes git2_x too.
        assert!(registry.install_native(native, vec![tool("x")], Arc::new(Echo)).is_empty());
        let late = component(&registry, "late", "git2");
        registry
            .install_component(late, vec![tool("x")], Arc::new(Echo), Duration::ZERO, false)
            .unwrap();
        let status = registry.status();
        assert!(status[1].tools.is_empty());
        assert_eq!(status[1].refused, vec!["git2_x".to_owned()]);
        registry
            .install_component(comp, vec![tool("y")], Arc::new(Echo), Duration::ZERO, false)
            .unwrap();
        assert_eq!(
            registry.install_native(native, vec![tool("x")], Arc::new(Echo)),
            vec!["git2_x"]
        );
    }

    #[test]
    fn listeners_hear_of_a_native_change_only_when_the_set_differs() {
        let registry = Registry::new();
        let native = registry.add_source("n", SourceKind::Native, Duration::ZERO);
        let changes = registry.changes();
        let before = *changes.borrow();
        registry.install_native(native, vec![tool("x")], Arc::new(Echo));
        registry.install_native(native, vec![tool("x")], Arc::new(Echo));
        assert_eq!(*changes.borrow(), before + 1);
        registry.install_native(native, vec![], Arc::new(Echo));
        assert_eq!(*changes.borrow(), before + 2);
    }
}
