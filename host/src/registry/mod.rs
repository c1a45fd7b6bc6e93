//! The catalogue: every tool, resource, resource template and prompt of
//! every backend behind one seam.
//!
//! A *source* is one configured component or native server. A source
//! installs what it offers here ([`NewOffer`]), and the MCP layer lists it,
//! resolves a request's target once ([`Registry::resolve`] and friends) and
//! reaches it through the entry, whatever backend serves it ([`Backend`]):
//! the sandbox for components ([`components`]), a supervised process for
//! native servers ([`crate::native`]). Every operation ends as one
//! [`Finished`].
//!
//! Naming and collisions:
//!
//! - A tool or prompt is exposed as `<namespace>_<name>`; a component's
//!   namespace is its name unless the config says otherwise (`""` exposes
//!   bare names), a native server's is always its name.
//! - Resource URIs are the source's own, never rewritten (clients and
//!   guests pass them around in content). A component's URIs and templates
//!   must use its namespace as their scheme (`notes://...` for namespace
//!   `notes`, with `_` written `-`), so a component cannot serve another's
//!   URIs; a component with the empty namespace may use any scheme.
//! - Names and URIs are unique across the host, never shadowed. A
//!   component that offers one another component offers fails to load with
//!   an error naming both. Components win over native servers: a native
//!   item holding a name or URI a component then offers is withdrawn and
//!   listed as refused, and a native server cannot take one already taken.
//! - A URI is read from the resource of that URI, else from the first
//!   template (in source order) whose family it is in.
//!
//! The catalogue changes while serving: components finish loading one by
//! one after the server starts, native servers' lists come, change and go.
//! Each change is a new immutable [`Catalog`] snapshot, swapped in
//! atomically, so a lookup never waits for a writer; [`Registry::changes`]
//! tells listeners (the `list_changed` notifications) that one happened,
//! and [`Catalog::revisions`] which lists changed.

pub mod components;
mod entries;
pub mod uri_template;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, watch};

pub use self::entries::*;
use self::uri_template::scheme;
use crate::call::Failure;
use crate::lock::Locked as _;
use crate::pins::Trust;

/// Why a component's offer could not be installed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InstallError {
    /// Another component offers the same name or URI.
    #[error(
        "{kind} {name:?} is offered by both component \"{first}\" and component \"{second}\"; \
         give one of them a different namespace"
    )]
    Duplicate {
        /// `tool`, `prompt`, `resource` or `resource template`.
        kind: &'static str,
        /// The clashing exposed name or URI.
        name: String,
        /// The component that offered it first.
        first: String,
        /// The component that tried to offer it too.
        second: String,
    },
    /// A resource URI or template outside the component's namespace.
    #[error(
        "component \"{component}\": {kind} {uri:?} is outside its namespace: \
         its URIs must start with \"{scheme}:\" (the scheme is the component's namespace)"
    )]
    OutsideNamespace {
        /// The component.
        component: String,
        /// `resource` or `resource template`.
        kind: &'static str,
        /// The URI or template.
        uri: String,
        /// The scheme it must use.
        scheme: String,
    },
}

/// A tool's MCP `Tool` object with the source that offers it.
pub type SourcedTool = (Arc<str>, Map<String, Value>);

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
    /// A wasm component with this namespace.
    Component {
        /// The prefix of its tools' and prompts' exposed names and the
        /// scheme of its URIs (`""`: bare names, any scheme).
        namespace: String,
    },
    /// A native MCP server (its namespace is its name).
    Native,
    /// Corral's own tools (`search_tools`): bare names, installed before
    /// any component, so no component can take them.
    Host,
}

/// Where a source stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceState {
    /// A component still compiling, or a native server not started yet:
    /// requests that it may serve wait for it (`server.load_timeout_ms`).
    Loading,
    /// Serving (a native server may be restarting: see its own state).
    Ready,
    /// A component that did not load, or a native server whose first
    /// start failed (its supervisor tries again): why.
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
    /// Its exposed prompts, by name.
    pub prompts: Vec<Arc<str>>,
    /// Its resources' URIs.
    pub resources: Vec<Arc<str>>,
    /// Its resource templates.
    pub templates: Vec<String>,
    /// Names and URIs refused because another source had them.
    pub refused: Vec<String>,
    /// Its quarantined tools: (exposed name, why).
    pub quarantined: Vec<(Arc<str>, Arc<str>)>,
    /// Time to compile (or load from the cache), for a loaded component.
    pub compile_time: Option<Duration>,
    /// Whether the compiled component came from the on-disk cache.
    pub from_cache: bool,
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum Lookup<T = Arc<ToolEntry>> {
    /// Found.
    Found(T),
    /// Not there yet, but this source, still loading, may offer it.
    Loading {
        /// The component or native server.
        source: Arc<str>,
    },
    /// Not there, and no loading component could offer it.
    Unknown,
    /// A tool that is offered but quarantined (see [`crate::pins`]): why.
    Quarantined(Arc<str>),
}

/// What serves a resource URI.
#[derive(Clone)]
pub enum ResourceTarget {
    /// A listed resource.
    Resource(Arc<ResourceEntry>),
    /// A template whose family the URI is in.
    Template(Arc<TemplateEntry>),
}

impl ResourceTarget {
    /// Who serves it.
    pub fn served(&self) -> &Served {
        match self {
            ResourceTarget::Resource(entry) => &entry.served,
            ResourceTarget::Template(entry) => &entry.served,
        }
    }
}

/// How many times each list has changed; clients are told of each change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revisions {
    /// The tool list.
    pub tools: u64,
    /// The resource and resource template lists.
    pub resources: u64,
    /// The prompt list.
    pub prompts: u64,
}

/// One immutable view of everything exposed.
#[derive(Default)]
pub struct Catalog {
    tools: BTreeMap<Arc<str>, Arc<ToolEntry>>,
    prompts: BTreeMap<Arc<str>, Arc<PromptEntry>>,
    resources: BTreeMap<Arc<str>, Arc<ResourceEntry>>,
    templates: Vec<Arc<TemplateEntry>>,
    /// Quarantined tools, by exposed name: why each is.
    quarantined: BTreeMap<Arc<str>, Arc<str>>,
    /// Sources still loading: (name, namespace).
    loading: Vec<(Arc<str>, String)>,
    /// Whether a source failed to load (the lists lack what it offers).
    failed: bool,
    revisions: Revisions,
}

/// The entries of `map` from the first key `>= after` on.
fn from_key<'a, T>(
    map: &'a BTreeMap<Arc<str>, T>,
    after: &str,
) -> impl Iterator<Item = &'a T> + use<'a, T> {
    map.range::<str, _>((Bound::Included(after), Bound::Unbounded)).map(|(_, entry)| entry)
}

impl Catalog {
    /// How many times each list has changed.
    pub fn revisions(&self) -> Revisions {
        self.revisions
    }

    /// Every exposed tool, ordered by name.
    pub fn tools(&self) -> impl ExactSizeIterator<Item = &Arc<ToolEntry>> {
        self.tools.values()
    }

    /// The tools from the first name `>= after` on, ordered by name.
    pub fn tools_from(&self, after: &str) -> impl Iterator<Item = &Arc<ToolEntry>> {
        from_key(&self.tools, after)
    }

    /// The tool exposed as `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<ToolEntry>> {
        self.tools.get(name)
    }

    /// Every exposed prompt, ordered by name.
    pub fn prompts(&self) -> impl ExactSizeIterator<Item = &Arc<PromptEntry>> {
        self.prompts.values()
    }

    /// The prompts from the first name `>= after` on, ordered by name.
    pub fn prompts_from(&self, after: &str) -> impl Iterator<Item = &Arc<PromptEntry>> {
        from_key(&self.prompts, after)
    }

    /// The prompt exposed as `name`.
    pub fn prompt(&self, name: &str) -> Option<&Arc<PromptEntry>> {
        self.prompts.get(name)
    }

    /// Every resource, ordered by URI.
    pub fn resources(&self) -> impl ExactSizeIterator<Item = &Arc<ResourceEntry>> {
        self.resources.values()
    }

    /// The resources from the first URI `>= after` on, ordered by URI.
    pub fn resources_from(&self, after: &str) -> impl Iterator<Item = &Arc<ResourceEntry>> {
        from_key(&self.resources, after)
    }

    /// Every resource template, in source order.
    pub fn templates(&self) -> &[Arc<TemplateEntry>] {
        &self.templates
    }

    /// The template written exactly `template`.
    pub fn template(&self, template: &str) -> Option<&Arc<TemplateEntry>> {
        self.templates.iter().find(|entry| entry.template.as_str() == template)
    }

    /// Whether sources are still loading (the lists are incomplete).
    pub fn is_loading(&self) -> bool {
        !self.loading.is_empty()
    }

    /// Whether every source has loaded: none is loading and none failed.
    pub fn is_complete(&self) -> bool {
        self.loading.is_empty() && !self.failed
    }

    /// What serves `uri`.
    pub fn resource_target(&self, uri: &str) -> Option<ResourceTarget> {
        if let Some(entry) = self.resources.get(uri) {
            return Some(ResourceTarget::Resource(entry.clone()));
        }
        self.templates
            .iter()
            .find(|entry| entry.template.matches(uri))
            .map(|entry| ResourceTarget::Template(entry.clone()))
    }

    /// The tool exposed as `name`, once.
    pub fn lookup(&self, name: &str) -> Lookup {
        match (self.tools.get(name), self.quarantined.get(name)) {
            (Some(entry), _) => Lookup::Found(entry.clone()),
            (None, Some(reason)) => Lookup::Quarantined(reason.clone()),
            (None, None) => self.loading_owner(|namespace| name_in(namespace, name)),
        }
    }

    /// The prompt exposed as `name`, once.
    pub fn lookup_prompt(&self, name: &str) -> Lookup<Arc<PromptEntry>> {
        match self.prompts.get(name) {
            Some(entry) => Lookup::Found(entry.clone()),
            None => self.loading_owner(|namespace| name_in(namespace, name)),
        }
    }

    /// What serves `uri`, once.
    pub fn lookup_resource(&self, uri: &str) -> Lookup<ResourceTarget> {
        match self.resource_target(uri) {
            Some(target) => Lookup::Found(target),
            None => self.loading_owner(|namespace| uri_in(namespace, uri)),
        }
    }

    /// `Loading` for the first loading source whose namespace `owns` the
    /// name, else `Unknown`.
    fn loading_owner<T>(&self, owns: impl Fn(&str) -> bool) -> Lookup<T> {
        match self.loading.iter().find(|(_, namespace)| owns(namespace)) {
            Some((source, _)) => Lookup::Loading { source: source.clone() },
            None => Lookup::Unknown,
        }
    }
}

/// Whether an exposed tool or prompt name is under `namespace`.
fn name_in(namespace: &str, name: &str) -> bool {
    namespace.is_empty() || name.strip_prefix(namespace).is_some_and(|rest| rest.starts_with('_'))
}

/// The URI scheme of a component's namespace: the namespace with `_`
/// written `-` (schemes have no `_`).
pub fn namespace_scheme(namespace: &str) -> String {
    namespace.replace('_', "-")
}

/// Whether a URI (or a template's literal start) is under `namespace`.
fn uri_in(namespace: &str, uri: &str) -> bool {
    namespace.is_empty() || scheme(uri).is_some_and(|s| s == namespace_scheme(namespace))
}

/// What one source exposes.
#[derive(Default)]
struct Exposed {
    tools: Vec<Arc<ToolEntry>>,
    prompts: Vec<Arc<PromptEntry>>,
    resources: Vec<Arc<ResourceEntry>>,
    templates: Vec<Arc<TemplateEntry>>,
    /// Tools offered but not approved: their names stay taken.
    quarantined: Vec<Quarantined>,
}

/// A tool that is offered but not served, and why.
#[derive(Clone)]
pub struct Quarantined {
    /// The tool, as it would be served.
    pub entry: Arc<ToolEntry>,
    /// Why it is quarantined (what changed, or what looks like poisoning).
    pub reason: Arc<str>,
}

impl Exposed {
    /// Every name and URI, with its kind.
    fn keys(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let tools = self
            .tools
            .iter()
            .chain(self.quarantined.iter().map(|q| &q.entry))
            .map(|t| ("tool", &*t.name));
        let prompts = self.prompts.iter().map(|p| ("prompt", &*p.name));
        let resources = self.resources.iter().map(|r| ("resource", &*r.uri));
        let templates = self.templates.iter().map(|t| ("resource template", t.template.as_str()));
        tools.chain(prompts).chain(resources).chain(templates)
    }

    fn has(&self, kind: &str, key: &str) -> bool {
        self.keys().any(|(k, name)| k == kind && name == key)
    }

    /// Withdraws the item `kind`/`key`, if this source has it.
    fn withdraw(&mut self, kind: &str, key: &str) -> bool {
        let before = self.len();
        match kind {
            "tool" => {
                self.tools.retain(|t| &*t.name != key);
                self.quarantined.retain(|q| &*q.entry.name != key);
            }
            "prompt" => self.prompts.retain(|p| &*p.name != key),
            "resource" => self.resources.retain(|r| &*r.uri != key),
            _ => self.templates.retain(|t| t.template.as_str() != key),
        }
        self.len() != before
    }

    fn len(&self) -> usize {
        self.tools.len()
            + self.quarantined.len()
            + self.prompts.len()
            + self.resources.len()
            + self.templates.len()
    }
}

struct Source {
    name: Arc<str>,
    kind: SourceKind,
    /// For a loaded component: `sha256:<hex>` of its `.wasm`.
    digest: Option<String>,
    state: SourceState,
    exposed: Exposed,
    refused: Vec<String>,
    compile_time: Option<Duration>,
    from_cache: bool,
}

impl Source {
    /// The prefix of its tools' and prompts' exposed names.
    fn namespace(&self) -> &str {
        match &self.kind {
            SourceKind::Component { namespace } => namespace,
            SourceKind::Native => &self.name,
            SourceKind::Host => "",
        }
    }
}

/// The live catalogue.
pub struct Registry {
    catalog: ArcSwap<Catalog>,
    sources: Mutex<Vec<Source>>,
    /// What every tool is checked against as it is installed.
    trust: Mutex<Arc<Trust>>,
    /// The longest a request waits for a source still loading
    /// (`server.load_timeout_ms`).
    load_timeout: Duration,
    changes: watch::Sender<u64>,
    updates: broadcast::Sender<Arc<str>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(Duration::from_millis(crate::config::ServerConfig::default().load_timeout_ms))
    }
}

impl Registry {
    /// An empty catalogue, whose requests wait at most `load_timeout` for a
    /// source still loading.
    pub fn new(load_timeout: Duration) -> Registry {
        Registry {
            catalog: ArcSwap::from_pointee(Catalog::default()),
            sources: Mutex::new(Vec::new()),
            trust: Mutex::new(Arc::new(Trust::default())),
            load_timeout,
            changes: watch::Sender::new(0),
            updates: broadcast::channel(256).0,
        }
    }

    /// Sets what tools installed from now on are checked against: the lock
    /// file and the poisoning scan ([`crate::pins`]).
    pub fn set_trust(&self, trust: Trust) {
        *self.trust.locked() = Arc::new(trust);
    }

    /// What tools are checked against.
    fn trust(&self) -> Arc<Trust> {
        self.trust.locked().clone()
    }

    /// Adds a source: a component or native server starts
    /// [`SourceState::Loading`] with nothing exposed (until it is installed
    /// or fails), the host's own tools [`SourceState::Ready`].
    pub fn add_source(&self, name: &str, kind: SourceKind) -> SourceId {
        let mut sources = self.lock();
        let state = match kind {
            SourceKind::Component { .. } | SourceKind::Native => SourceState::Loading,
            SourceKind::Host => SourceState::Ready,
        };
        sources.push(Source {
            name: name.into(),
            kind,
            digest: None,
            state,
            exposed: Exposed::default(),
            refused: Vec::new(),
            compile_time: None,
            from_cache: false,
        });
        let id = SourceId(sources.len() - 1);
        self.publish(&sources);
        id
    }

    /// Installs a loaded component's offer, all or none: a URI outside its
    /// namespace, or a name or URI another component offers, fails it (and
    /// the error is returned); one a native server holds is taken from it.
    pub fn install_component(
        &self,
        id: SourceId,
        offer: NewOffer,
        backend: Arc<dyn Backend>,
        compile_time: Duration,
        from_cache: bool,
    ) -> Result<(), InstallError> {
        let mut sources = self.lock();
        let name = sources[id.0].name.clone();
        let namespace = sources[id.0].namespace().to_owned();
        let failed = |sources: &mut Vec<Source>, error: InstallError| {
            sources[id.0].state = SourceState::Failed(error.to_string());
            self.publish(sources);
            Err(error)
        };
        let outside = offer
            .resources
            .iter()
            .map(|r| ("resource", r.uri.as_str()))
            .chain(offer.templates.iter().map(|t| ("resource template", t.template.as_str())))
            .find(|(_, uri)| !uri_in(&namespace, uri));
        if let Some((kind, uri)) = outside {
            let error = InstallError::OutsideNamespace {
                component: name.to_string(),
                kind,
                uri: uri.to_owned(),
                scheme: namespace_scheme(&namespace),
            };
            return failed(&mut sources, error);
        }
        let digest = offer.digest.clone();
        let mut exposed = expose(&name, &namespace, offer, &backend);
        if sources[id.0].kind != SourceKind::Host {
            quarantine(&self.trust(), &name, digest.as_deref(), &mut exposed);
        }
        for (kind, key) in exposed.keys() {
            let clash = sources.iter().enumerate().find(|(index, other)| {
                *index != id.0 && other.kind != SourceKind::Native && other.exposed.has(kind, key)
            });
            if let Some((_, other)) = clash {
                let error = InstallError::Duplicate {
                    kind,
                    name: key.to_owned(),
                    first: other.name.to_string(),
                    second: name.to_string(),
                };
                return failed(&mut sources, error);
            }
        }
        for (kind, key) in exposed.keys() {
            for other in sources.iter_mut().filter(|s| s.kind == SourceKind::Native) {
                if other.exposed.withdraw(kind, key) {
                    tracing::error!(
                        server = %other.name,
                        kind,
                        name = key,
                        component = %name,
                        "native {kind} withdrawn: component \"{name}\" offers the same"
                    );
                    other.refused.push(key.to_owned());
                }
            }
        }
        let source = &mut sources[id.0];
        source.exposed = exposed;
        source.digest = digest;
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
        sources[id.0].exposed = Exposed::default();
        self.publish(&sources);
    }

    /// A native server's start failed: one that never started is failed
    /// (requests stop waiting for it); one that served before keeps what it
    /// offered (its calls answer that it is down).
    pub fn native_down(&self, id: SourceId, why: &str) {
        let mut sources = self.lock();
        if sources[id.0].state == SourceState::Loading {
            sources[id.0].state = SourceState::Failed(why.to_owned());
            self.publish(&sources);
        }
    }

    /// Replaces a native server's offer with `offer`; names and URIs
    /// already taken (by a component, another server, or twice in `offer`)
    /// are refused and returned. Listeners hear of it only when what is
    /// exposed differs.
    pub fn install_native(
        &self,
        id: SourceId,
        offer: NewOffer,
        backend: Arc<dyn Backend>,
    ) -> Vec<String> {
        let mut sources = self.lock();
        let name = sources[id.0].name.clone();
        let namespace = sources[id.0].namespace().to_owned();
        let offered = expose(&name, &namespace, offer, &backend);
        let mut kept = Exposed::default();
        let mut refused = Vec::new();
        let taken = |sources: &[Source], kept: &Exposed, kind: &str, key: &str| {
            sources.iter().enumerate().any(|(index, s)| index != id.0 && s.exposed.has(kind, key))
                || kept.has(kind, key)
        };
        macro_rules! keep {
            ($field:ident, $kind:literal, $entry:ident => $key:expr) => {
                for $entry in offered.$field {
                    let key: &str = $key;
                    if taken(&sources, &kept, $kind, key) {
                        tracing::error!(
                            server = %name,
                            name = key,
                            "native {} refused: {key:?} is already offered by a component or another server",
                            $kind
                        );
                        refused.push(key.to_owned());
                    } else {
                        kept.$field.push($entry);
                    }
                }
            };
        }
        keep!(tools, "tool", entry => &entry.name);
        keep!(prompts, "prompt", entry => &entry.name);
        keep!(resources, "resource", entry => &entry.uri);
        keep!(templates, "resource template", entry => entry.template.as_str());
        quarantine(&self.trust(), &name, None, &mut kept);
        let source = &mut sources[id.0];
        let same = same_exposed(&source.exposed, &kept) && source.state == SourceState::Ready;
        source.refused = refused.clone();
        source.state = SourceState::Ready;
        if !same {
            source.exposed = kept;
            self.publish(&sources);
        }
        refused
    }

    /// The current catalogue.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Looks the tool `name` up once.
    pub fn lookup(&self, name: &str) -> Lookup {
        self.catalog.load().lookup(name)
    }

    /// Looks the prompt `name` up once.
    pub fn lookup_prompt(&self, name: &str) -> Lookup<Arc<PromptEntry>> {
        self.catalog.load().lookup_prompt(name)
    }

    /// Looks up what serves `uri`, once.
    pub fn lookup_resource(&self, uri: &str) -> Lookup<ResourceTarget> {
        self.catalog.load().lookup_resource(uri)
    }

    /// The tool exposed as `name`, waiting while a source that may expose
    /// it is still loading, for at most `server.load_timeout_ms`.
    pub async fn resolve(&self, name: &str) -> Result<Arc<ToolEntry>, Failure> {
        self.wait_for(|catalog| catalog.lookup(name), || Failure::unknown_tool(name)).await
    }

    /// The prompt exposed as `name`, waiting as [`Registry::resolve`] does.
    pub async fn resolve_prompt(&self, name: &str) -> Result<Arc<PromptEntry>, Failure> {
        self.wait_for(|catalog| catalog.lookup_prompt(name), || Failure::unknown_prompt(name)).await
    }

    /// What serves `uri`, waiting as [`Registry::resolve`] does.
    pub async fn resolve_resource(&self, uri: &str) -> Result<ResourceTarget, Failure> {
        self.wait_for(|catalog| catalog.lookup_resource(uri), || Failure::resource_not_found(uri))
            .await
    }

    /// What `find` finds, waiting while a source that may serve it is
    /// still loading, for at most `server.load_timeout_ms`; `unknown` is
    /// the failure when nothing serves it.
    pub async fn wait_for<T>(
        &self,
        find: impl Fn(&Catalog) -> Lookup<T>,
        unknown: impl FnOnce() -> Failure,
    ) -> Result<T, Failure> {
        let mut changes = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + self.load_timeout;
        loop {
            let found = find(&self.catalog.load());
            match found {
                Lookup::Found(entry) => return Ok(entry),
                Lookup::Unknown => return Err(unknown()),
                Lookup::Quarantined(reason) => return Err(Failure::quarantined(&reason)),
                Lookup::Loading { source } => {
                    let changed = tokio::time::timeout_at(deadline, changes.changed()).await;
                    if !matches!(changed, Ok(Ok(()))) {
                        return Err(Failure::still_loading(&source, self.load_timeout));
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
                tools: s.exposed.tools.iter().map(|t| t.name.clone()).collect(),
                prompts: s.exposed.prompts.iter().map(|p| p.name.clone()).collect(),
                resources: s.exposed.resources.iter().map(|r| r.uri.clone()).collect(),
                templates: s.exposed.templates.iter().map(|t| t.template.to_string()).collect(),
                refused: s.refused.clone(),
                quarantined: s
                    .exposed
                    .quarantined
                    .iter()
                    .map(|q| (q.entry.name.clone(), q.reason.clone()))
                    .collect(),
                compile_time: s.compile_time,
                from_cache: s.from_cache,
            })
            .collect()
    }

    /// What a lock file pins: every tool of every component and native
    /// server, served or quarantined, as (source, MCP `Tool` object), and
    /// every loaded component's digest. The host's own tools are not pinned.
    pub fn pinnable(&self) -> (Vec<SourcedTool>, Vec<(Arc<str>, String)>) {
        let sources = self.lock();
        let mut tools = Vec::new();
        let mut digests = Vec::new();
        for source in sources.iter().filter(|s| s.kind != SourceKind::Host) {
            let entries = source.exposed.tools.iter();
            for entry in entries.chain(source.exposed.quarantined.iter().map(|q| &q.entry)) {
                let definition = serde_json::from_str(entry.definition.get()).unwrap_or_default();
                tools.push((source.name.clone(), definition));
            }
            if let Some(digest) = &source.digest {
                digests.push((source.name.clone(), digest.clone()));
            }
        }
        (tools, digests)
    }

    /// The exposed names of a source's tools.
    pub fn tools_of(&self, id: SourceId) -> Vec<Arc<str>> {
        self.lock()[id.0].exposed.tools.iter().map(|t| t.name.clone()).collect()
    }

    /// Whether the source named `source` serves `uri`: a resource or
    /// template of it, or (for a component) a URI under its namespace. A
    /// guest may announce updates only of URIs its component serves.
    pub fn serves(&self, source: &str, uri: &str) -> bool {
        let sources = self.lock();
        let Some(s) = sources.iter().find(|s| &*s.name == source) else { return false };
        let namespaced = matches!(&s.kind, SourceKind::Component { namespace }
            if !namespace.is_empty() && uri_in(namespace, uri));
        namespaced
            || s.exposed.resources.iter().any(|r| &*r.uri == uri)
            || s.exposed.templates.iter().any(|t| t.template.matches(uri))
    }

    /// Tells subscribers that the resource at `uri`, served by `source`,
    /// changed; an announcement of a URI the source does not serve is
    /// dropped (and logged), so one source cannot speak for another's.
    /// Returns whether it went out.
    pub fn announce(&self, source: &str, uri: &str) -> bool {
        if !self.serves(source, uri) {
            tracing::warn!(
                source,
                uri,
                "resource update dropped: the source does not serve this URI"
            );
            return false;
        }
        // No subscriber is not an error.
        let _ = self.updates.send(uri.into());
        true
    }

    /// The URIs of resources announced as changed, as they come.
    pub fn resource_updates(&self) -> broadcast::Receiver<Arc<str>> {
        self.updates.subscribe()
    }

    /// Whether no source is still loading.
    pub fn settled(&self) -> bool {
        !self.catalog.load().is_loading()
    }

    /// Resolves once no source is still loading.
    pub async fn wait_settled(&self) {
        let mut changes = self.changes.subscribe();
        while !self.settled() {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Resolves once no source is still loading, or at
    /// `server.load_timeout_ms`, whichever comes first.
    pub async fn settled_or_timeout(&self) {
        let _ = tokio::time::timeout(self.load_timeout, self.wait_settled()).await;
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Source>> {
        // Every critical section leaves the sources consistent.
        self.sources.locked()
    }

    /// Builds and swaps in the snapshot of `sources`, then tells listeners.
    fn publish(&self, sources: &[Source]) {
        let previous = self.catalog.load();
        let mut catalog = Catalog::default();
        for source in sources {
            let exposed = &source.exposed;
            for tool in &exposed.tools {
                catalog.tools.insert(tool.name.clone(), tool.clone());
            }
            for quarantined in &exposed.quarantined {
                catalog
                    .quarantined
                    .insert(quarantined.entry.name.clone(), quarantined.reason.clone());
            }
            for prompt in &exposed.prompts {
                catalog.prompts.insert(prompt.name.clone(), prompt.clone());
            }
            for resource in &exposed.resources {
                catalog.resources.insert(resource.uri.clone(), resource.clone());
            }
            catalog.templates.extend(exposed.templates.iter().cloned());
            match &source.state {
                SourceState::Loading => {
                    catalog.loading.push((source.name.clone(), source.namespace().to_owned()));
                }
                SourceState::Failed(_) => catalog.failed = true,
                SourceState::Ready => {}
            }
        }
        let changed = |same: bool| u64::from(!same);
        catalog.revisions = Revisions {
            tools: previous.revisions.tools
                + changed(same_definitions(
                    previous.tools.values().map(|t| (&*t.name, t.definition.get())),
                    catalog.tools.values().map(|t| (&*t.name, t.definition.get())),
                )),
            prompts: previous.revisions.prompts
                + changed(same_definitions(
                    previous.prompts.values().map(|p| (&*p.name, p.served.definition.get())),
                    catalog.prompts.values().map(|p| (&*p.name, p.served.definition.get())),
                )),
            resources: previous.revisions.resources
                + changed(
                    same_definitions(
                        previous.resources.values().map(|r| (&*r.uri, r.served.definition.get())),
                        catalog.resources.values().map(|r| (&*r.uri, r.served.definition.get())),
                    ) && same_definitions(
                        previous
                            .templates
                            .iter()
                            .map(|t| (t.template.as_str(), t.served.definition.get())),
                        catalog
                            .templates
                            .iter()
                            .map(|t| (t.template.as_str(), t.served.definition.get())),
                    ),
                ),
        };
        self.catalog.store(Arc::new(catalog));
        self.changes.send_modify(|n| *n += 1);
    }
}

/// Whether two lists of (key, definition) are the same.
fn same_definitions<'a>(
    a: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
    b: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
) -> bool {
    a.len() == b.len() && a.zip(b).all(|(a, b)| a == b)
}

fn same_exposed(a: &Exposed, b: &Exposed) -> bool {
    same_definitions(
        a.quarantined.iter().map(|q| (&*q.entry.name, q.entry.definition.get())),
        b.quarantined.iter().map(|q| (&*q.entry.name, q.entry.definition.get())),
    ) && same_definitions(
        a.tools.iter().map(|t| (&*t.name, t.definition.get())),
        b.tools.iter().map(|t| (&*t.name, t.definition.get())),
    ) && same_definitions(
        a.prompts.iter().map(|p| (&*p.name, p.served.definition.get())),
        b.prompts.iter().map(|p| (&*p.name, p.served.definition.get())),
    ) && same_definitions(
        a.resources.iter().map(|r| (&*r.uri, r.served.definition.get())),
        b.resources.iter().map(|r| (&*r.uri, r.served.definition.get())),
    ) && same_definitions(
        a.templates.iter().map(|t| (t.template.as_str(), t.served.definition.get())),
        b.templates.iter().map(|t| (t.template.as_str(), t.served.definition.get())),
    )
}

/// Moves the tools of `exposed` that `trust` does not approve to its
/// quarantine, logging why.
fn quarantine(trust: &Trust, source: &str, digest: Option<&str>, exposed: &mut Exposed) {
    let tools = std::mem::take(&mut exposed.tools);
    for tool in tools {
        let definition: Map<String, Value> =
            serde_json::from_str(tool.definition.get()).unwrap_or_default();
        match trust.verdict(source, digest, &definition) {
            Ok(()) => exposed.tools.push(tool),
            Err(reason) => {
                tracing::warn!(source, tool = %tool.name, "tool quarantined: {reason}");
                exposed.quarantined.push(Quarantined { entry: tool, reason: reason.into() });
            }
        }
    }
}

/// The entries of `offer`, from source `source` under `namespace`.
fn expose(
    source: &Arc<str>,
    namespace: &str,
    offer: NewOffer,
    backend: &Arc<dyn Backend>,
) -> Exposed {
    let NewOffer { tools, resources, templates, prompts, completes, digest: _ } = offer;
    let tools = tools
        .into_iter()
        .map(|tool| {
            let name: Arc<str> = exposed_name(namespace, &tool.remote).into();
            let mut definition = tool.definition;
            definition.insert("name".into(), Value::String(name.to_string()));
            let task_support = declared_task_support(&definition).unwrap_or_default();
            let served = Served::new(source, &definition, backend);
            Arc::new(ToolEntry {
                name,
                remote: tool.remote.into(),
                source: served.source,
                definition: served.definition,
                input: tool.input,
                task_support,
                backend: served.backend,
            })
        })
        .collect();
    let prompts = prompts
        .into_iter()
        .map(|prompt| {
            let name: Arc<str> = exposed_name(namespace, &prompt.remote).into();
            let mut definition = prompt.definition;
            definition.insert("name".into(), Value::String(name.to_string()));
            Arc::new(PromptEntry {
                name,
                remote: prompt.remote.into(),
                arguments: prompt.arguments,
                served: Served::new(source, &definition, backend),
                completes,
            })
        })
        .collect();
    let resources = resources
        .into_iter()
        .map(|resource| {
            Arc::new(ResourceEntry {
                uri: resource.uri.into(),
                served: Served::new(source, &resource.definition, backend),
            })
        })
        .collect();
    let templates = templates
        .into_iter()
        .map(|template| {
            Arc::new(TemplateEntry {
                template: template.template,
                served: Served::new(source, &template.definition, backend),
                completes,
            })
        })
        .collect();
    Exposed { tools, prompts, resources, templates, quarantined: Vec::new() }
}

/// `<namespace>_<name>`, or the bare name for an empty namespace.
pub fn exposed_name(namespace: &str, name: &str) -> String {
    if namespace.is_empty() { name.to_owned() } else { format!("{namespace}_{name}") }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::call::CallOutcome;
    use crate::registry::uri_template::UriTemplate;
    use crate::sandbox::{CompletionRequest, EventSink};
    use crate::schema::InputSchema;

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

        fn read_resource<'a>(&'a self, uri: &'a str, _events: EventSink) -> OpFuture<'a> {
            Box::pin(async move { FinishedOp::failed(Failure::resource_not_found(uri)) })
        }

        fn get_prompt<'a>(
            &'a self,
            prompt: &'a str,
            _arguments: Map<String, Value>,
            _events: EventSink,
        ) -> OpFuture<'a> {
            Box::pin(async move { FinishedOp::failed(Failure::unknown_prompt(prompt)) })
        }

        fn complete(&self, _request: CompletionRequest) -> OpFuture<'_> {
            Box::pin(async move { FinishedOp::failed(Failure::tool_failed("no")) })
        }

        fn subscribe(&self, _uri: &str) {}
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
        registry.add_source(name, SourceKind::Component { namespace: namespace.into() })
    }

    #[test]
    fn namespace_prefixes_tool_names() {
        assert_eq!(exposed_name("fs", "read_file"), "fs_read_file");
        assert_eq!(exposed_name("", "read_file"), "read_file");
    }

    #[test]
    fn an_installed_tool_is_found_under_its_exposed_name() {
        let registry = Registry::new(Duration::from_millis(50));
        let fs = component(&registry, "fs", "fs");
        registry
            .install_component(
                fs,
                NewOffer::tools(vec![tool("read")]),
                Arc::new(Echo),
                Duration::ZERO,
                false,
            )
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
        let registry = Registry::new(Duration::from_millis(50));
        component(&registry, "fs", "fs");
        assert!(matches!(registry.lookup("fs_read"), Lookup::Loading { .. }));
        assert!(matches!(registry.lookup("fsx_read"), Lookup::Unknown));
        assert!(matches!(registry.lookup("text_count"), Lookup::Unknown));
        component(&registry, "bare", "");
        assert!(matches!(registry.lookup("anything"), Lookup::Loading { .. }));
    }

    #[tokio::test]
    async fn resolve_waits_for_a_loading_component_then_finds_its_tool() {
        let registry = Arc::new(Registry::new(Duration::from_millis(50)));
        let fs = component(&registry, "fs", "fs");
        let waiting = tokio::spawn({
            let registry = registry.clone();
            async move { registry.resolve("fs_read").await.map(|e| e.name.to_string()) }
        });
        tokio::task::yield_now().await;
        registry
            .install_component(
                fs,
                NewOffer::tools(vec![tool("read")]),
                Arc::new(Echo),
                Duration::ZERO,
                false,
            )
            .unwrap();
        assert_eq!(waiting.await.unwrap(), Ok("fs_read".to_owned()));
    }

    #[tokio::test]
    async fn resolve_gives_up_naming_the_source_still_loading_and_the_setting() {
        let registry = Registry::new(Duration::from_millis(50));
        component(&registry, "fs", "fs");
        let failure = registry.resolve("fs_read").await.unwrap_err();
        assert_eq!(failure.outcome, CallOutcome::Busy);
        assert_eq!(
            failure.message,
            "server busy: \"fs\" is still loading after 50 ms (server.load_timeout_ms); retry shortly"
        );
    }

    #[test]
    fn two_components_exposing_one_name_fail_the_second() {
        let registry = Registry::new(Duration::from_millis(50));
        let a = component(&registry, "a", "");
        let b = component(&registry, "b", "");
        registry
            .install_component(
                a,
                NewOffer::tools(vec![tool("x")]),
                Arc::new(Echo),
                Duration::ZERO,
                false,
            )
            .unwrap();
        let err = registry
            .install_component(
                b,
                NewOffer::tools(vec![tool("x")]),
                Arc::new(Echo),
                Duration::ZERO,
                false,
            )
            .unwrap_err();
        let InstallError::Duplicate { first, second, .. } = err else { panic!("{err}") };
        assert_eq!((first.as_str(), second.as_str()), ("a", "b"));
        assert!(matches!(registry.status()[1].state, SourceState::Failed(_)));
    }

    fn resource(uri: &str) -> NewResource {
        let definition = json!({ "uri": uri, "name": uri }).as_object().unwrap().clone();
        NewResource { uri: uri.into(), definition }
    }

    fn template(text: &str) -> NewTemplate {
        let definition = json!({ "uriTemplate": text, "name": text }).as_object().unwrap().clone();
        NewTemplate { template: UriTemplate::parse(text).unwrap(), definition }
    }

    fn install(registry: &Registry, id: SourceId, offer: NewOffer) -> Result<(), InstallError> {
        registry.install_component(id, offer, Arc::new(Echo), Duration::ZERO, false)
    }

    #[test]
    fn a_uri_outside_the_components_namespace_fails_it_naming_the_scheme() {
        let registry = Registry::new(Duration::from_millis(50));
        let notes = component(&registry, "notes", "my_notes");
        let offer = NewOffer {
            tools: vec![tool("write")],
            resources: vec![resource("my-notes://index")],
            templates: vec![template("file:///{path}")],
            ..NewOffer::default()
        };
        let err = install(&registry, notes, offer).unwrap_err();
        assert_eq!(
            err.to_string(),
            "component \"notes\": resource template \"file:///{path}\" is outside its \
             namespace: its URIs must start with \"my-notes:\" (the scheme is the component's \
             namespace)"
        );
        // All or none: its tool is not served either, and the error is shown.
        assert!(matches!(registry.lookup("my_notes_write"), Lookup::Unknown));
        let SourceState::Failed(shown) = &registry.status()[0].state else { panic!() };
        assert!(shown.contains("outside its namespace"), "{shown}");

        // A bare namespace may use any scheme; a matching one is served.
        let bare = component(&registry, "bare", "");
        install(
            &registry,
            bare,
            NewOffer { resources: vec![resource("file:///etc/motd")], ..NewOffer::default() },
        )
        .unwrap();
        let own = component(&registry, "own", "my_notes");
        install(
            &registry,
            own,
            NewOffer { templates: vec![template("my-notes://{name}")], ..NewOffer::default() },
        )
        .unwrap();
        assert!(matches!(registry.lookup_resource("my-notes://a.md"), Lookup::Found(_)));
        assert!(matches!(registry.lookup_resource("file:///etc/motd"), Lookup::Found(_)));
    }

    #[test]
    fn a_uri_or_template_two_components_offer_fails_the_second() {
        let registry = Registry::new(Duration::from_millis(50));
        let a = component(&registry, "a", "");
        let b = component(&registry, "b", "");
        let c = component(&registry, "c", "");
        install(
            &registry,
            a,
            NewOffer {
                resources: vec![resource("x://one")],
                templates: vec![template("x://t/{id}")],
                ..NewOffer::default()
            },
        )
        .unwrap();
        let err = install(
            &registry,
            b,
            NewOffer { resources: vec![resource("x://one")], ..NewOffer::default() },
        )
        .unwrap_err();
        let InstallError::Duplicate { kind, first, .. } = err else { panic!("{err}") };
        assert_eq!((kind, first.as_str()), ("resource", "a"));
        let err = install(
            &registry,
            c,
            NewOffer { templates: vec![template("x://t/{id}")], ..NewOffer::default() },
        )
        .unwrap_err();
        assert!(matches!(err, InstallError::Duplicate { kind: "resource template", .. }), "{err}");
    }

    #[test]
    fn a_native_tool_cannot_take_a_component_name_and_yields_to_a_later_one() {
        let registry = Registry::new(Duration::from_millis(50));
        let comp = component(&registry, "git", "git");
        let native = registry.add_source("git2", SourceKind::Native);
        // The native server exposes git2_x; the component later exposes git2_x too.
        assert!(
            registry
                .install_native(native, NewOffer::tools(vec![tool("x")]), Arc::new(Echo))
                .is_empty()
        );
        let late = component(&registry, "late", "git2");
        registry
            .install_component(
                late,
                NewOffer::tools(vec![tool("x")]),
                Arc::new(Echo),
                Duration::ZERO,
                false,
            )
            .unwrap();
        let status = registry.status();
        assert!(status[1].tools.is_empty());
        assert_eq!(status[1].refused, vec!["git2_x".to_owned()]);
        registry
            .install_component(
                comp,
                NewOffer::tools(vec![tool("y")]),
                Arc::new(Echo),
                Duration::ZERO,
                false,
            )
            .unwrap();
        assert_eq!(
            registry.install_native(native, NewOffer::tools(vec![tool("x")]), Arc::new(Echo)),
            vec!["git2_x"]
        );
    }

    #[test]
    fn listeners_hear_of_a_native_change_only_when_the_set_differs() {
        let registry = Registry::new(Duration::from_millis(50));
        let native = registry.add_source("n", SourceKind::Native);
        let changes = registry.changes();
        let before = *changes.borrow();
        registry.install_native(native, NewOffer::tools(vec![tool("x")]), Arc::new(Echo));
        registry.install_native(native, NewOffer::tools(vec![tool("x")]), Arc::new(Echo));
        assert_eq!(*changes.borrow(), before + 1);
        registry.install_native(native, NewOffer::tools(vec![]), Arc::new(Echo));
        assert_eq!(*changes.borrow(), before + 2);
    }
}
