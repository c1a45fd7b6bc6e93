//! What the catalogue holds: one entry per exposed tool, resource, resource
//! template and prompt, each pointing at the [`Backend`] that serves it, and
//! what a backend gives back ([`Finished`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::uri_template::UriTemplate;
use crate::call::{CallOutcome, Failure};
use crate::config::TaskSupport;
use crate::sandbox::{
    CapturedStdio, Completion, CompletionRequest, EventSink, PromptArgument, PromptResult,
    ResourceBody, ToolResult,
};
use crate::schema::InputSchema;

/// What a tool call produced, in the form its backend returned it; it is
/// serialized to MCP JSON once, on the way out.
#[derive(Debug)]
pub enum ToolOutput {
    /// A component's result, checked by the sandbox.
    Component(ToolResult),
    /// A `CallToolResult`'s members (`content`, `structuredContent`,
    /// `isError`) as their maker wrote them: a native server, or the host's
    /// own `search_tools`.
    Members(Map<String, Value>),
    /// The call did not produce the tool's own result.
    Failure(Failure),
}

/// What reading a resource, getting a prompt or completing a value produced.
#[derive(Debug)]
pub enum OpOutput {
    /// A component's resource contents.
    Resource(Vec<ResourceBody>),
    /// A component's filled-in prompt.
    Prompt(PromptResult),
    /// A component's suggestions.
    Completion(Completion),
    /// A result's members as their maker wrote them (a native server).
    Members(Map<String, Value>),
    /// It did not produce a result.
    Failure(Failure),
}

impl OpOutput {
    /// The output of a finished operation, or its failure.
    pub fn from_result<T>(result: Result<T, Failure>, wrap: impl FnOnce(T) -> OpOutput) -> Self {
        match result {
            Ok(value) => wrap(value),
            Err(failure) => OpOutput::Failure(failure),
        }
    }
}

/// Everything about one finished operation, whichever backend ran it.
#[derive(Debug)]
pub struct Finished<T> {
    /// How it ended.
    pub outcome: CallOutcome,
    /// What to return to the client.
    pub output: T,
    /// Fuel the guest consumed (0 for native servers).
    pub fuel: u64,
    /// Time the backend took, queueing included.
    pub elapsed: Duration,
    /// What a component wrote to stdout and stderr.
    pub stdio: CapturedStdio,
}

/// A finished tool call.
pub type FinishedCall = Finished<ToolOutput>;
/// A finished resource read, prompt or completion.
pub type FinishedOp = Finished<OpOutput>;

impl FinishedCall {
    /// A call that ended in `failure` without reaching a backend.
    pub fn failed(failure: Failure) -> FinishedCall {
        Finished::new(failure.outcome, ToolOutput::Failure(failure))
    }
}

impl FinishedOp {
    /// An operation that ended in `failure` without reaching a backend.
    pub fn failed(failure: Failure) -> FinishedOp {
        Finished::new(failure.outcome, OpOutput::Failure(failure))
    }
}

impl<T> Finished<T> {
    fn new(outcome: CallOutcome, output: T) -> Finished<T> {
        Finished {
            outcome,
            output,
            fuel: 0,
            elapsed: Duration::ZERO,
            stdio: CapturedStdio::default(),
        }
    }
}

/// The future of one backend call.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = FinishedCall> + Send + 'a>>;
/// The future of one backend operation other than a tool call.
pub type OpFuture<'a> = Pin<Box<dyn Future<Output = FinishedOp> + Send + 'a>>;

/// What runs a source's tools, resources, prompts and completions. Every
/// failure is a classified [`Finished`], never an error.
pub trait Backend: Send + Sync {
    /// Calls `tool` (the name the source knows it by) with checked
    /// `arguments`. Log and progress messages and questions for the client
    /// go to `events`; `progress` says whether the client asked for
    /// progress.
    fn call<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        progress: bool,
    ) -> CallFuture<'a>;

    /// Calls `tool` as [`Backend::call`] does, as a task: under the
    /// source's task limits (longer time, more fuel). Default: the same as
    /// a call.
    fn call_task<'a>(
        &'a self,
        tool: &'a str,
        arguments: Value,
        events: EventSink,
        progress: bool,
    ) -> CallFuture<'a> {
        self.call(tool, arguments, events, progress)
    }

    /// Reads the resource at `uri` (one the source listed, or of one of its
    /// templates).
    fn read_resource<'a>(&'a self, uri: &'a str, events: EventSink) -> OpFuture<'a>;

    /// Fills in `prompt` (the name the source knows it by) with `arguments`
    /// (an object of strings).
    fn get_prompt<'a>(
        &'a self,
        prompt: &'a str,
        arguments: Map<String, Value>,
        events: EventSink,
    ) -> OpFuture<'a>;

    /// Suggests values for a prompt argument or template variable; the
    /// reference names the prompt as the source knows it.
    fn complete(&self, request: CompletionRequest) -> OpFuture<'_>;

    /// A client subscribed to `uri`, which the source serves: a source
    /// that sends updates only for subscribed URIs is to start. Components
    /// announce updates whenever they make them, so for them this does
    /// nothing.
    fn subscribe(&self, uri: &str);
}

/// Common to every entry: who serves it and how it is shown.
pub struct Served {
    /// The component or native server that serves it.
    pub source: Arc<str>,
    /// Its MCP object (`Tool`, `Resource`, `ResourceTemplate`, `Prompt`),
    /// under its exposed name, serialized once.
    pub definition: Box<RawValue>,
    pub(super) backend: Arc<dyn Backend>,
}

impl Served {
    pub(super) fn new(
        source: &Arc<str>,
        definition: &Map<String, Value>,
        backend: &Arc<dyn Backend>,
    ) -> Served {
        Served {
            source: source.clone(),
            // A map of JSON values always serializes.
            definition: serde_json::value::to_raw_value(definition)
                .unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("valid JSON")),
            backend: backend.clone(),
        }
    }

    /// The backend that serves it.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }
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
    /// Whether it may run as a task (its `execution.taskSupport`).
    pub task_support: TaskSupport,
    pub(super) backend: Arc<dyn Backend>,
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

    /// Calls the tool as a task, under its source's task limits.
    pub fn call_task(&self, arguments: Value, events: EventSink, progress: bool) -> CallFuture<'_> {
        self.backend.call_task(&self.remote, arguments, events, progress)
    }
}

/// One exposed resource, by its URI (the source's own: URIs are not
/// renamed, a component's are checked to be under its namespace).
pub struct ResourceEntry {
    /// Its URI.
    pub uri: Arc<str>,
    /// Who serves it and its `Resource` object.
    pub served: Served,
}

/// One exposed resource template.
pub struct TemplateEntry {
    /// The template, parsed.
    pub template: UriTemplate,
    /// Who serves it and its `ResourceTemplate` object.
    pub served: Served,
    /// Whether its source completes its variables.
    pub completes: bool,
}

/// One exposed prompt.
pub struct PromptEntry {
    /// The name clients get it by.
    pub name: Arc<str>,
    /// The name its source knows it by.
    pub remote: Box<str>,
    /// Its arguments, for the host's check of required ones.
    pub arguments: Vec<PromptArgument>,
    /// Who serves it and its `Prompt` object.
    pub served: Served,
    /// Whether its source completes its arguments.
    pub completes: bool,
}

impl PromptEntry {
    /// Checks `arguments` against the prompt's: an object of strings with
    /// every required argument. The message names the prompt and argument.
    pub fn check(&self, arguments: &Map<String, Value>) -> Result<(), String> {
        if let Some((name, _)) = arguments.iter().find(|(_, value)| !value.is_string()) {
            return Err(format!(
                "invalid arguments for prompt {:?}: argument {name:?} must be a string",
                self.name
            ));
        }
        let missing: Vec<&str> = self
            .arguments
            .iter()
            .filter(|argument| argument.required && !arguments.contains_key(&argument.name))
            .map(|argument| argument.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "invalid arguments for prompt {:?}: missing required argument{} {}",
                self.name,
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ));
        }
        Ok(())
    }
}

/// Sets a `Tool` object's `execution.taskSupport` (absent when forbidden,
/// MCP's default).
pub fn set_task_support(definition: &mut Map<String, Value>, support: TaskSupport) {
    match support {
        TaskSupport::Forbidden => {
            definition.remove("execution");
        }
        _ => {
            let execution =
                definition.entry("execution").or_insert_with(|| Value::Object(Map::new()));
            if !execution.is_object() {
                *execution = Value::Object(Map::new());
            }
            execution["taskSupport"] = Value::String(support.as_str().to_owned());
        }
    }
}

/// The task support a `Tool` object declares (`execution.taskSupport`).
pub fn declared_task_support(definition: &Map<String, Value>) -> Option<TaskSupport> {
    let declared = definition.get("execution")?.get("taskSupport")?;
    serde_json::from_value(declared.clone()).ok()
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

/// A resource a source offers: its MCP `Resource` object (`uri` and all).
pub struct NewResource {
    /// Its URI.
    pub uri: String,
    /// The MCP `Resource` object.
    pub definition: Map<String, Value>,
}

/// A resource template a source offers.
pub struct NewTemplate {
    /// The template, parsed.
    pub template: UriTemplate,
    /// The MCP `ResourceTemplate` object.
    pub definition: Map<String, Value>,
}

/// A prompt a source offers.
pub struct NewPrompt {
    /// The name the source knows it by.
    pub remote: String,
    /// The MCP `Prompt` object; its `name` is replaced by the exposed name.
    pub definition: Map<String, Value>,
    /// Its arguments.
    pub arguments: Vec<PromptArgument>,
}

/// Everything a source offers, before it is installed.
#[derive(Default)]
pub struct NewOffer {
    /// Its tools.
    pub tools: Vec<NewTool>,
    /// Its resources.
    pub resources: Vec<NewResource>,
    /// Its resource templates.
    pub templates: Vec<NewTemplate>,
    /// Its prompts.
    pub prompts: Vec<NewPrompt>,
    /// Whether it completes prompt arguments and template variables.
    pub completes: bool,
    /// For a component: `sha256:<hex>` of its `.wasm`, checked against the
    /// lock file.
    pub digest: Option<String>,
}

impl NewOffer {
    /// An offer of tools only.
    pub fn tools(tools: Vec<NewTool>) -> NewOffer {
        NewOffer { tools, ..NewOffer::default() }
    }
}
