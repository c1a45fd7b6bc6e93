//! A loaded component: which version of the contract it was built against,
//! what it offers, and its operations, each run in a fresh instance.
//!
//! | export | version | host operation |
//! | --- | --- | --- |
//! | `corral:mcp/tools` | 0.1.0, 0.2.0 | [`Sandbox::call`] |
//! | `corral:mcp/resources` | 0.2.0 | [`Sandbox::read_resource`] |
//! | `corral:mcp/prompts` | 0.2.0 | [`Sandbox::get_prompt`] |
//! | `corral:mcp/completion` | 0.2.0 | [`Sandbox::complete`] |
//!
//! A 0.2.0 component may export any of these interfaces; each is looked up
//! on its own when the component loads. A component that exports none of
//! them but plain typed functions is served with one tool per function
//! ([`super::plain`]). What it offers (tools, resources,
//! resource templates, prompts) is listed once, at load, in one instance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wasmtime::component::{Instance, InstancePre};

use super::bindings::{v1, v2};
use super::checks::{OutputSize, output_size, structured_object, validate_offers};
use super::plain::{self, Plain};
use super::state::{CallState, CapturedStdio, EventSink};
use super::types::{
    CallError, CallResult, Completion, CompletionRequest, Offers, PromptResult, ResourceBody,
    ToolDef,
};
use super::{LoadError, Purpose, Sandbox};
use crate::call::{CallOutcome, Failure};
use crate::policy::Policy;

/// How the host reaches a component's exports.
pub(super) enum Exports {
    /// `corral:mcp@0.1.0`: tools only.
    V1 { tools: v1::exports::corral::mcp::tools::GuestIndices },
    /// `corral:mcp@0.2.0`: whichever interfaces it exports.
    V2 {
        tools: Option<v2::exports::corral::mcp::tools::GuestIndices>,
        resources: Option<v2::exports::corral::mcp::resources::GuestIndices>,
        prompts: Option<v2::exports::corral::mcp::prompts::GuestIndices>,
        completion: Option<v2::exports::corral::mcp::completion::GuestIndices>,
        execution: Option<v2::exports::corral::mcp::execution::GuestIndices>,
    },
    /// No `corral:mcp` interface: its exported functions are the tools.
    Plain(Plain),
}

/// A compiled, linked component with its policy and what it offers.
pub struct LoadedComponent {
    pub(super) name: Arc<str>,
    pub(super) pre: InstancePre<CallState>,
    pub(super) exports: Exports,
    pub(super) policy: Policy,
    pub(super) slots: Arc<Semaphore>,
    offers: Offers,
    /// Time spent compiling (or loading from cache), for metrics.
    pub compile_time: Duration,
    /// Whether the compiled artifact came from the on-disk cache.
    pub from_cache: bool,
}

impl LoadedComponent {
    /// The component's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The tools it offers, as it declared them.
    pub fn tools(&self) -> &[ToolDef] {
        &self.offers.tools
    }
    /// Everything it offers.
    pub fn offers(&self) -> &Offers {
        &self.offers
    }
    /// The grants and limits it runs under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
    /// The version of the contract it was built against.
    pub fn contract(&self) -> &'static str {
        match self.exports {
            Exports::V1 { .. } => "corral:mcp@0.1.0",
            Exports::V2 { .. } => "corral:mcp@0.2.0",
            Exports::Plain(_) => "plain WIT exports",
        }
    }
}

/// What a tool returned, checked: within the output limit, its structured
/// content a JSON object, kept as the JSON text the guest wrote so that it
/// is copied into the response, never parsed into a tree.
#[derive(Debug)]
pub struct ToolResult {
    /// The content items, as the guest returned them.
    pub content: Vec<super::types::Content>,
    /// Structured output: a JSON object, as the guest's text.
    pub structured: Option<Box<serde_json::value::RawValue>>,
    /// The tool marked the result as an error itself (MCP `isError`).
    pub is_error: bool,
}

/// Everything about one finished operation (a tool call, a resource read,
/// a prompt, a completion).
#[derive(Debug)]
pub struct Report<T> {
    /// How it ended.
    pub outcome: CallOutcome,
    /// What the component returned, or the failure that stopped it.
    pub result: Result<T, Failure>,
    /// Fuel it consumed (instantiation included).
    pub fuel_consumed: u64,
    /// Wall-clock time from slot acquired to result.
    pub elapsed: Duration,
    /// What the guest wrote to stdout and stderr.
    pub stdio: CapturedStdio,
}

/// Everything about one finished tool call.
pub type CallReport = Report<ToolResult>;

/// Whatever `run` returns: the value, or the failure with what was spent.
type Run<R> = Result<(R, u64, CapturedStdio), (Failure, Option<(u64, CapturedStdio)>)>;

impl Sandbox {
    /// Links a compiled component and lists what it offers, under at least
    /// the default limits.
    pub(super) async fn link(
        &self,
        name: &str,
        component: &wasmtime::component::Component,
        policy: Policy,
        compile_time: Duration,
        from_cache: bool,
        docs: Option<serde_json::Value>,
    ) -> Result<LoadedComponent, LoadError> {
        let link_error = |e: wasmtime::Error| LoadError::Link {
            component: name.to_owned(),
            reason: format!("{e:#}"),
        };
        let pre = self.linker.instantiate_pre(component).map_err(link_error)?;
        let v2 = (
            v2::exports::corral::mcp::tools::GuestIndices::new(&pre).ok(),
            v2::exports::corral::mcp::resources::GuestIndices::new(&pre).ok(),
            v2::exports::corral::mcp::prompts::GuestIndices::new(&pre).ok(),
            v2::exports::corral::mcp::completion::GuestIndices::new(&pre).ok(),
        );
        let exports = match v2 {
            (None, None, None, None) => {
                match v1::exports::corral::mcp::tools::GuestIndices::new(&pre) {
                    Ok(tools) => Exports::V1 { tools },
                    Err(_) => {
                        let plain = plain::discover(&self.engine, component, docs.as_ref());
                        if plain.functions.is_empty() {
                            return Err(link_error(wasmtime::Error::msg(no_tools_message(&plain))));
                        }
                        Exports::Plain(plain)
                    }
                }
            }
            (tools, resources, prompts, completion) => Exports::V2 {
                tools,
                resources,
                prompts,
                completion,
                execution: v2::exports::corral::mcp::execution::GuestIndices::new(&pre).ok(),
            },
        };
        let mut loaded = LoadedComponent {
            name: name.into(),
            pre,
            exports,
            slots: Arc::new(Semaphore::new(policy.limits.max_concurrency as usize)),
            policy,
            offers: Offers::default(),
            compile_time,
            from_cache,
        };
        let offers = self
            .run(&loaded, Purpose::List, None, async |store, instance, exports| {
                list_offers(store, instance, exports).await
            })
            .await
            .map_err(|(failure, _)| LoadError::List {
                component: name.to_owned(),
                message: failure.message,
            })?
            .0;
        validate_offers(name, &offers)?;
        loaded.offers = offers;
        Ok(loaded)
    }

    /// Runs one tool call in a fresh instance and reports how it ended.
    /// Never fails: every failure is a classified [`CallReport`].
    pub async fn call(
        &self,
        component: &LoadedComponent,
        tool: &str,
        arguments: &str,
        events: EventSink,
    ) -> CallReport {
        self.call_as(component, tool, arguments, events, Purpose::Call).await
    }

    /// [`Sandbox::call`] under the component's task limits (`task_timeout_ms`,
    /// `task_fuel`): the call of a task.
    pub async fn call_task(
        &self,
        component: &LoadedComponent,
        tool: &str,
        arguments: &str,
        events: EventSink,
    ) -> CallReport {
        self.call_as(component, tool, arguments, events, Purpose::Task).await
    }

    async fn call_as(
        &self,
        component: &LoadedComponent,
        tool: &str,
        arguments: &str,
        events: EventSink,
        purpose: Purpose,
    ) -> CallReport {
        let started = Instant::now();
        let run = self
            .run(component, purpose, events, async |store, instance, exports| {
                Ok(match exports {
                    Exports::V1 { tools } => {
                        let tools = tools.load(&mut *store, instance)?;
                        tools.call_call_tool(store, tool, arguments).await?.map(Into::into).map_err(Into::into)
                    }
                    Exports::V2 { tools: Some(tools), .. } => {
                        let tools = tools.load(&mut *store, instance)?;
                        tools.call_call_tool(store, tool, arguments).await?.map(Into::into).map_err(Into::into)
                    }
                    Exports::V2 { tools: None, .. } => Err(CallError::Unknown(format!(
                        "this component has no tools (it does not export corral:mcp/tools), so no {tool:?}"
                    ))),
                    Exports::Plain(plain) => match plain.function(tool) {
                        Some(function) => function.call(store, instance, arguments).await?,
                        None => Err(CallError::Unknown(String::new())),
                    },
                })
            })
            .await;
        let limits = component.policy.limits;
        report(
            run,
            started,
            |result: CallResult| check_result(result, limits.output_bytes),
            |e| tool_failure(tool, e),
        )
    }

    /// Reads a resource (or one of a template's family) in a fresh instance.
    pub async fn read_resource(
        &self,
        component: &LoadedComponent,
        uri: &str,
        events: EventSink,
    ) -> Report<Vec<ResourceBody>> {
        let started = Instant::now();
        let run = self
            .run(component, Purpose::Call, events, async |store, instance, exports| {
                let Exports::V2 { resources: Some(resources), .. } = exports else {
                    return Ok(Err(CallError::Unknown(uri.to_owned())));
                };
                let resources = resources.load(&mut *store, instance)?;
                Ok(resources
                    .call_read_resource(store, uri)
                    .await?
                    .map(|bodies| bodies.into_iter().map(Into::into).collect())
                    .map_err(Into::into))
            })
            .await;
        let limit = component.policy.limits.output_bytes;
        report(
            run,
            started,
            |bodies: Vec<ResourceBody>| check_size(bodies, limit),
            |e| resource_failure(uri, e),
        )
    }

    /// Fills in a prompt in a fresh instance; `arguments` is a JSON object
    /// of strings, as text.
    pub async fn get_prompt(
        &self,
        component: &LoadedComponent,
        prompt: &str,
        arguments: &str,
        events: EventSink,
    ) -> Report<PromptResult> {
        let started = Instant::now();
        let run = self
            .run(component, Purpose::Call, events, async |store, instance, exports| {
                let Exports::V2 { prompts: Some(prompts), .. } = exports else {
                    return Ok(Err(CallError::Unknown(prompt.to_owned())));
                };
                let prompts = prompts.load(&mut *store, instance)?;
                Ok(prompts
                    .call_get_prompt(store, prompt, arguments)
                    .await?
                    .map(Into::into)
                    .map_err(Into::into))
            })
            .await;
        let limit = component.policy.limits.output_bytes;
        report(
            run,
            started,
            |result: PromptResult| check_size(result, limit),
            |e| prompt_failure(prompt, e),
        )
    }

    /// Asks a component to complete a value, in a fresh instance.
    pub async fn complete(
        &self,
        component: &LoadedComponent,
        request: CompletionRequest,
    ) -> Report<Completion> {
        let started = Instant::now();
        let run = self
            .run(component, Purpose::Call, None, async |store, instance, exports| {
                let Exports::V2 { completion: Some(completion), .. } = exports else {
                    return Ok(Ok(Completion::default()));
                };
                let completion = completion.load(&mut *store, instance)?;
                Ok(completion
                    .call_complete(store, &request.into())
                    .await?
                    .map(Into::into)
                    .map_err(CallError::Failed))
            })
            .await;
        let limit = component.policy.limits.output_bytes;
        report(
            run,
            started,
            |completion: Completion| check_size(completion, limit),
            |e| match e {
                CallError::Failed(message) => {
                    Failure::tool_failed(format!("completion failed: {message}"))
                }
                other => tool_failure("completion", other),
            },
        )
    }
}

/// Lists what a component offers, in one instance.
async fn list_offers(
    store: &mut wasmtime::Store<CallState>,
    instance: &Instance,
    exports: &Exports,
) -> wasmtime::Result<Offers> {
    let mut offers = Offers::default();
    match exports {
        Exports::V1 { tools } => {
            let tools = tools.load(&mut *store, instance)?;
            offers.tools =
                tools.call_list_tools(store).await?.into_iter().map(Into::into).collect();
        }
        Exports::V2 { tools, resources, prompts, completion, execution } => {
            if let Some(tools) = tools {
                let tools = tools.load(&mut *store, instance)?;
                offers.tools =
                    tools.call_list_tools(&mut *store).await?.into_iter().map(Into::into).collect();
            }
            if let Some(resources) = resources {
                let resources = resources.load(&mut *store, instance)?;
                offers.resources = resources
                    .call_list_resources(&mut *store)
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect();
                offers.templates = resources
                    .call_list_resource_templates(&mut *store)
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect();
            }
            if let Some(prompts) = prompts {
                let prompts = prompts.load(&mut *store, instance)?;
                offers.prompts = prompts
                    .call_list_prompts(&mut *store)
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect();
            }
            offers.completion = completion.is_some();
            if let Some(execution) = execution {
                use v2::exports::corral::mcp::execution::TaskSupport as Declared;
                let execution = execution.load(&mut *store, instance)?;
                for (tool, support) in execution.call_list_task_support(&mut *store).await? {
                    let support = match support {
                        Declared::Forbidden => crate::config::TaskSupport::Forbidden,
                        Declared::Optional => crate::config::TaskSupport::Optional,
                        Declared::Required => crate::config::TaskSupport::Required,
                    };
                    offers.task_support.insert(tool, support);
                }
            }
        }
        Exports::Plain(plain) => {
            offers.tools = plain.tools.clone();
            offers.refused = plain.refused.clone();
        }
    }
    Ok(offers)
}

/// A report from what `run` gave: `check` turns the component's value into
/// the reported one (or a failure), `fail` the component's own error.
fn report<T, U>(
    run: Run<Result<T, CallError>>,
    started: Instant,
    check: impl FnOnce(T) -> Result<U, Failure>,
    fail: impl FnOnce(CallError) -> Failure,
) -> Report<U>
where
    U: IsError,
{
    let (result, fuel_consumed, stdio) = match run {
        Ok((Ok(value), fuel, stdio)) => (check(value), fuel, stdio),
        Ok((Err(error), fuel, stdio)) => (Err(fail(error)), fuel, stdio),
        Err((failure, spent)) => {
            let (fuel, stdio) = spent.unwrap_or_default();
            (Err(failure), fuel, stdio)
        }
    };
    let outcome = match &result {
        Ok(value) if value.is_error() => CallOutcome::ToolError,
        Ok(_) => CallOutcome::Ok,
        Err(failure) => failure.outcome,
    };
    Report { outcome, result, fuel_consumed, elapsed: started.elapsed(), stdio }
}

/// Whether a component's value is an error it reports itself.
pub(super) trait IsError {
    fn is_error(&self) -> bool {
        false
    }
}

impl IsError for ToolResult {
    fn is_error(&self) -> bool {
        self.is_error
    }
}
impl IsError for Vec<ResourceBody> {}
impl IsError for PromptResult {}
impl IsError for Completion {}

fn tool_failure(tool: &str, error: CallError) -> Failure {
    match error {
        CallError::Unknown(message) if message.is_empty() => Failure::unknown_tool(tool),
        CallError::Unknown(message) => Failure::unknown_tool(&message),
        CallError::InvalidArguments(message) => {
            Failure::invalid_arguments(format!("invalid arguments: {message}"))
        }
        CallError::Failed(message) => Failure::tool_failed(format!("tool failed: {message}")),
        CallError::MissingCapability(capability) => {
            Failure::missing_capability(capability.as_str())
        }
    }
}

fn resource_failure(uri: &str, error: CallError) -> Failure {
    match error {
        CallError::Unknown(_) => Failure::resource_not_found(uri),
        CallError::InvalidArguments(message) | CallError::Failed(message) => {
            Failure::tool_failed(format!("reading {uri} failed: {message}"))
        }
        CallError::MissingCapability(capability) => {
            Failure::missing_capability(capability.as_str())
        }
    }
}

fn prompt_failure(prompt: &str, error: CallError) -> Failure {
    match error {
        CallError::Unknown(_) => Failure::unknown_prompt(prompt),
        CallError::InvalidArguments(message) => Failure::invalid_arguments(format!(
            "invalid arguments for prompt {prompt:?}: {message}"
        )),
        CallError::Failed(message) => {
            Failure::tool_failed(format!("prompt {prompt:?} failed: {message}"))
        }
        CallError::MissingCapability(capability) => {
            Failure::missing_capability(capability.as_str())
        }
    }
}

/// Checks what a tool returned against the output limit (`output_bytes`)
/// and the shape of structured content; the structured text is validated
/// once and kept as it came. Public for the fuzz target that plays a
/// hostile guest.
pub fn check_result(result: CallResult, output_bytes: u64) -> Result<ToolResult, Failure> {
    let size =
        output_size(&result.content) + result.structured.as_ref().map_or(0, |s| s.len() as u64);
    if size > output_bytes {
        return Err(Failure::result_too_large(size, output_bytes));
    }
    let structured = match result.structured {
        None => None,
        Some(text) => Some(structured_object(text).ok_or_else(Failure::structured_not_an_object)?),
    };
    Ok(ToolResult { content: result.content, structured, is_error: result.is_error })
}

/// Checks a resource read, prompt or completion against the output limit.
fn check_size<T: OutputSize>(value: T, limit: u64) -> Result<T, Failure> {
    let size = value.output_size();
    if size > limit {
        return Err(Failure::result_too_large(size, limit));
    }
    Ok(value)
}

/// Why a component with no contract interface and no servable function
/// cannot load: it names the functions refused, if any.
fn no_tools_message(plain: &Plain) -> String {
    let mut message = String::from(
        "it exports no interface of corral:mcp (0.1.0 or 0.2.0) and no function that can be a tool",
    );
    for refused in &plain.refused {
        message.push_str(&format!("; {} is refused: {}", refused.function, refused.reason));
    }
    message
}
