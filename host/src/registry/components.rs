//! Components as a source of tools: reading and compiling them through
//! the sandbox, describing their tools in MCP form, and calling them.
//!
//! Loading has two halves. [`prepare`] reads each component's grants
//! (directories, secrets, network rules) while the command starts, so a
//! wrong grant stops it with an error naming the component. [`load`] then
//! compiles the components one at a time, in config order, on a blocking
//! thread, and installs what each offers the moment it is ready; a
//! component that fails (not a component, a broken tool definition, a
//! clashing name) is marked failed with the reason, and the others load and
//! serve. Compiling one component already keeps every core busy most of the
//! time (wasmtime compiles functions in parallel): two at once measured no
//! faster on two cores (fs and text cold: 4.2 s together, 4.0 s one after
//! the other), and one at a time keeps name collisions in config order.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::uri_template::{TemplateError, UriTemplate};
use super::{
    Backend, CallFuture, Finished, FinishedCall, NewOffer, NewPrompt, NewResource, NewTemplate,
    NewTool, OpFuture, OpOutput, Registry, SourceId, SourceKind, ToolOutput,
};
use crate::config::{BUILTIN_PREFIX, ComponentSource, Config, ConfigError};
use crate::metrics::Metrics;
use crate::oci::{ComponentStore, OciError};
use crate::policy::Policy;
use crate::sandbox::{
    Annotations, CompletionRequest, EventSink, LoadError, LoadedComponent, Offers, PromptDef,
    ResourceDef, ResourceTemplateDef, Sandbox, ToolDef,
};
use crate::schema::InputSchema;

/// A component whose grants are resolved, ready to compile.
pub struct Prepared {
    /// Its handle in the registry.
    pub id: SourceId,
    /// Its configured name.
    pub name: String,
    source: ComponentSource,
    store: Arc<ComponentStore>,
    policy: Policy,
    task_support: std::collections::BTreeMap<String, crate::config::TaskSupport>,
}

/// Why a component did not load. Each message names the component.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    /// The component file could not be read.
    #[error("component \"{component}\": cannot read {path}: {source}")]
    Read {
        /// The component's name.
        component: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Pulling it from its registry, or reading it from the store, failed.
    #[error("component \"{component}\": {source}")]
    Oci {
        /// The component's name.
        component: String,
        /// What failed, naming the reference.
        source: Box<OciError>,
    },
    /// Compiling, linking or listing its tools failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A tool's `inputSchema` cannot be used.
    #[error("component \"{component}\": tool {tool:?}: {error}")]
    Schema {
        /// The component's name.
        component: String,
        /// The tool's name as the component gave it.
        tool: String,
        /// What is wrong.
        error: crate::schema::SchemaError,
    },
    /// A resource template cannot be used.
    #[error("component \"{component}\": {error}")]
    Template {
        /// The component's name.
        component: String,
        /// What is wrong.
        error: TemplateError,
    },
    /// A name or URI is taken, or a URI is outside the namespace.
    #[error(transparent)]
    Install(#[from] super::InstallError),
}

/// Resolves every component's grants and adds it to `registry`, loading.
pub fn prepare(config: &Config, registry: &Registry) -> Result<Vec<Prepared>, ConfigError> {
    let store = Arc::new(ComponentStore::from_config(config));
    config
        .components
        .iter()
        .map(|entry| {
            let policy = Policy::resolve(entry, &config.base_dir, config.limits)?;
            let namespace = entry.namespace.clone().unwrap_or_else(|| entry.name.clone());
            let id = registry.add_source(&entry.name, SourceKind::Component { namespace });
            let source = entry.source(&config.base_dir)?;
            Ok(Prepared {
                id,
                name: entry.name.clone(),
                source,
                store: store.clone(),
                policy,
                task_support: entry.task_support.clone(),
            })
        })
        .collect()
}

/// What [`load`] did.
#[derive(Default)]
pub struct Loaded {
    /// The components that serve, in config order.
    pub components: Vec<Arc<LoadedComponent>>,
    /// The ones that did not load, and why.
    pub failures: Vec<ComponentError>,
}

/// Compiles the prepared components one after another, in config order,
/// and installs each one's tools as soon as it is ready; the failures are
/// logged, recorded in the registry, and returned.
pub async fn load(
    prepared: Vec<Prepared>,
    sandbox: &Arc<Sandbox>,
    registry: &Registry,
    metrics: &Metrics,
) -> Loaded {
    let mut loaded = Loaded::default();
    for component in prepared {
        let (id, name) = (component.id, component.name.clone());
        let installed = match compile(component, sandbox.clone()).await {
            Ok((component, offer)) => install(id, component, offer, sandbox, registry, metrics),
            Err(err) => Err(err),
        };
        match installed {
            Ok(component) => {
                tracing::info!(
                    component = %name,
                    compile_ms = component.compile_time.as_secs_f64() * 1e3,
                    from_cache = component.from_cache,
                    "component ready"
                );
                loaded.components.push(component);
            }
            Err(err) => {
                tracing::error!(component = %name, "component failed to load: {err}");
                registry.fail(id, err.to_string());
                loaded.failures.push(err);
            }
        }
    }
    loaded
}

/// Reads and compiles a component, and describes what it offers.
async fn compile(
    component: Prepared,
    sandbox: Arc<Sandbox>,
) -> Result<(LoadedComponent, NewOffer), ComponentError> {
    let Prepared { name, source, store, policy, task_support, .. } = component;
    let wasm = read(&name, &source, &store).await?;
    let digest = crate::pins::sha256(&wasm);
    let loaded = sandbox.load(&name, wasm, policy).await?;
    for refused in &loaded.offers().refused {
        tracing::warn!(
            component = %name,
            function = %refused.function,
            "function not served as a tool: {}",
            refused.reason
        );
    }
    let mut offer = new_offer(&name, loaded.offers())?;
    offer.digest = Some(digest);
    let declared = &loaded.offers().task_support;
    for tool in &mut offer.tools {
        let own = declared.get(&tool.remote).copied();
        let support = crate::config::TaskSupport::of(&task_support, &tool.remote, own);
        super::set_task_support(&mut tool.definition, support);
    }
    for named in task_support.keys().filter(|name| *name != "*") {
        if !offer.tools.iter().any(|tool| tool.remote == *named) {
            tracing::warn!(component = %name, tool = %named, "task_support names a tool this component does not have");
        }
    }
    Ok((loaded, offer))
}

/// Installs a compiled component's offer in the registry.
fn install(
    id: SourceId,
    component: LoadedComponent,
    offer: NewOffer,
    sandbox: &Arc<Sandbox>,
    registry: &Registry,
    metrics: &Metrics,
) -> Result<Arc<LoadedComponent>, ComponentError> {
    let (compile_time, from_cache) = (component.compile_time, component.from_cache);
    metrics.record_compile(compile_time);
    let component = Arc::new(component);
    let backend =
        Arc::new(ComponentBackend { sandbox: sandbox.clone(), component: component.clone() });
    registry.install_component(id, offer, backend, compile_time, from_cache)?;
    metrics.register_tools(registry.tools_of(id).iter().map(|t| &**t));
    Ok(component)
}

/// The bytes of a component: a bundled one, a file, or one from a
/// registry (through the store, checked against its digest).
async fn read(
    component: &str,
    source: &ComponentSource,
    store: &ComponentStore,
) -> Result<Cow<'static, [u8]>, ComponentError> {
    let read_error = |path: PathBuf, source| ComponentError::Read {
        component: component.to_owned(),
        path,
        source,
    };
    match source {
        ComponentSource::Builtin(builtin) => crate::bundled::ALL
            .iter()
            .find(|(name, _)| name == builtin)
            .map(|(_, bytes)| Cow::Borrowed(*bytes))
            .ok_or_else(|| {
                read_error(
                    PathBuf::from(format!("{BUILTIN_PREFIX}{builtin}")),
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!(
                            "no built-in tool {builtin:?} (built-in: fs, text, conformance, fetch, notes)"
                        ),
                    ),
                )
            }),
        ComponentSource::File(path) => {
            std::fs::read(path).map(Cow::Owned).map_err(|err| read_error(path.clone(), err))
        }
        ComponentSource::Oci(reference) => {
            let pulled = store.component(reference).await.map_err(|source| {
                ComponentError::Oci { component: component.to_owned(), source: Box::new(source) }
            })?;
            tracing::info!(
                component = %component,
                %reference,
                manifest = %pulled.manifest,
                from_registry = pulled.from_registry,
                "component fetched"
            );
            Ok(Cow::Owned(pulled.wasm))
        }
    }
}

/// What a component offers, as MCP objects, schemas and templates parsed.
fn new_offer(component: &str, offers: &Offers) -> Result<NewOffer, ComponentError> {
    let template_error =
        |error| ComponentError::Template { component: component.to_owned(), error };
    Ok(NewOffer {
        digest: None,
        tools: offers.tools.iter().map(|def| new_tool(component, def)).collect::<Result<_, _>>()?,
        resources: offers.resources.iter().map(new_resource).collect(),
        templates: offers
            .templates
            .iter()
            .map(|def| new_template(def).map_err(template_error))
            .collect::<Result<_, _>>()?,
        prompts: offers.prompts.iter().map(new_prompt).collect(),
        completes: offers.completion,
    })
}

/// A component's tool as an MCP `Tool` object, its schema compiled.
fn new_tool(component: &str, def: &ToolDef) -> Result<NewTool, ComponentError> {
    let schema_error = |error| ComponentError::Schema {
        component: component.to_owned(),
        tool: def.name.clone(),
        error,
    };
    // The sandbox checked both schemas to be JSON objects at load.
    let input_schema: Value = serde_json::from_str(&def.input_schema).unwrap_or_default();
    let input = InputSchema::compile(&input_schema).map_err(schema_error)?;
    let mut tool = Map::new();
    tool.insert("name".into(), def.name.clone().into());
    if let Some(title) = &def.title {
        tool.insert("title".into(), title.clone().into());
    }
    tool.insert("description".into(), def.description.clone().into());
    tool.insert("inputSchema".into(), input_schema);
    if let Some(schema) = &def.output_schema {
        tool.insert("outputSchema".into(), serde_json::from_str(schema).unwrap_or_default());
    }
    if let Some(annotations) = annotations(&def.annotations) {
        tool.insert("annotations".into(), annotations);
    }
    Ok(NewTool { remote: def.name.clone(), definition: tool, input })
}

/// Inserts `key` when `value` is set.
fn optional(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        map.insert(key.into(), value.clone().into());
    }
}

/// A component's resource as an MCP `Resource` object.
fn new_resource(def: &ResourceDef) -> NewResource {
    let mut resource = Map::new();
    resource.insert("uri".into(), def.uri.clone().into());
    resource.insert("name".into(), def.name.clone().into());
    optional(&mut resource, "title", &def.title);
    optional(&mut resource, "description", &def.description);
    optional(&mut resource, "mimeType", &def.mime_type);
    if let Some(size) = def.size {
        resource.insert("size".into(), size.into());
    }
    NewResource { uri: def.uri.clone(), definition: resource }
}

/// A component's resource template as an MCP `ResourceTemplate` object.
fn new_template(def: &ResourceTemplateDef) -> Result<NewTemplate, TemplateError> {
    let template = UriTemplate::parse(&def.uri_template)?;
    let mut definition = Map::new();
    definition.insert("uriTemplate".into(), def.uri_template.clone().into());
    definition.insert("name".into(), def.name.clone().into());
    optional(&mut definition, "title", &def.title);
    optional(&mut definition, "description", &def.description);
    optional(&mut definition, "mimeType", &def.mime_type);
    Ok(NewTemplate { template, definition })
}

/// A component's prompt as an MCP `Prompt` object.
fn new_prompt(def: &PromptDef) -> NewPrompt {
    let mut prompt = Map::new();
    prompt.insert("name".into(), def.name.clone().into());
    optional(&mut prompt, "title", &def.title);
    optional(&mut prompt, "description", &def.description);
    if !def.arguments.is_empty() {
        let arguments: Vec<Value> = def
            .arguments
            .iter()
            .map(|argument| {
                let mut map = Map::new();
                map.insert("name".into(), argument.name.clone().into());
                optional(&mut map, "description", &argument.description);
                map.insert("required".into(), argument.required.into());
                Value::Object(map)
            })
            .collect();
        prompt.insert("arguments".into(), arguments.into());
    }
    NewPrompt { remote: def.name.clone(), definition: prompt, arguments: def.arguments.clone() }
}

fn annotations(a: &Annotations) -> Option<Value> {
    let hints = [
        ("readOnlyHint", a.read_only),
        ("destructiveHint", a.destructive),
        ("idempotentHint", a.idempotent),
        ("openWorldHint", a.open_world),
    ];
    let map: Map<String, Value> =
        hints.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), json!(v)))).collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

/// Runs a component's tools, resource reads, prompts and completions,
/// each in a fresh instance.
pub struct ComponentBackend {
    sandbox: Arc<Sandbox>,
    component: Arc<LoadedComponent>,
}

/// A finished operation from a sandbox report.
fn finished<T>(
    report: crate::sandbox::Report<T>,
    wrap: impl FnOnce(T) -> OpOutput,
) -> Finished<OpOutput> {
    Finished {
        outcome: report.outcome,
        output: OpOutput::from_result(report.result, wrap),
        fuel: report.fuel_consumed,
        elapsed: report.elapsed,
        stdio: report.stdio,
    }
}

impl ComponentBackend {
    /// Calls `tool` in a fresh instance, under the task limits if `task`.
    fn run<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        task: bool,
    ) -> CallFuture<'a> {
        Box::pin(async move {
            let arguments = arguments.to_string();
            let report = if task {
                self.sandbox.call_task(&self.component, tool, &arguments, events).await
            } else {
                self.sandbox.call(&self.component, tool, &arguments, events).await
            };
            FinishedCall {
                outcome: report.outcome,
                output: match report.result {
                    Ok(result) => ToolOutput::Component(result),
                    Err(failure) => ToolOutput::Failure(failure),
                },
                fuel: report.fuel_consumed,
                elapsed: report.elapsed,
                stdio: report.stdio,
            }
        })
    }
}

impl Backend for ComponentBackend {
    fn call<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        _progress: bool,
    ) -> CallFuture<'a> {
        self.run(tool, arguments, events, false)
    }

    fn call_task<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        _progress: bool,
    ) -> CallFuture<'a> {
        self.run(tool, arguments, events, true)
    }

    fn read_resource<'a>(&'a self, uri: &'a str, events: EventSink) -> OpFuture<'a> {
        Box::pin(async move {
            let report = self.sandbox.read_resource(&self.component, uri, events).await;
            finished(report, OpOutput::Resource)
        })
    }

    fn get_prompt<'a>(
        &'a self,
        prompt: &'a str,
        arguments: Map<String, Value>,
        events: EventSink,
    ) -> OpFuture<'a> {
        Box::pin(async move {
            let arguments = Value::Object(arguments).to_string();
            let report = self.sandbox.get_prompt(&self.component, prompt, &arguments, events).await;
            finished(report, OpOutput::Prompt)
        })
    }

    fn complete(&self, request: CompletionRequest) -> OpFuture<'_> {
        Box::pin(async move {
            let report = self.sandbox.complete(&self.component, request).await;
            finished(report, OpOutput::Completion)
        })
    }

    fn subscribe(&self, _uri: &str) {
        // A component announces its updates through `resource-updated`
        // whether or not anyone subscribed.
    }
}
