//! How a tool call ended, for every backend: the classified [`CallOutcome`]
//! (the `outcome` label of the call metrics and audit lines) and the
//! [`Failure`] a client reads when a call did not produce the tool's own
//! result.
//!
//! Each failure has one constructor here, and its message names the limit
//! or setting that decides it, with its value, so a reader knows what to
//! change: `tool call timed out: it ran past the 200 ms time limit
//! (timeout_ms)`. The sandbox classifies traps and the native client
//! classifies protocol errors; both end in these constructors, and the MCP
//! layer turns a failure into an `isError` result in one place
//! ([`crate::mcp::shapes`]).

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// How a tool call ended. The label is the `outcome` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The tool returned a result.
    Ok,
    /// The tool returned a result marked `isError` itself.
    ToolError,
    /// The arguments were rejected (by the host's schema check or the tool).
    InvalidArguments,
    /// No tool of that name.
    UnknownTool,
    /// The wall-clock limit was reached.
    Timeout,
    /// The fuel limit was reached.
    OutOfFuel,
    /// Linear memory growth beyond the limit was refused and the guest trapped.
    MemoryLimit,
    /// The wasm stack limit was reached.
    StackOverflow,
    /// The guest trapped (panic, `unreachable`, bad memory access...).
    Trap,
    /// The result or the log messages exceeded the output limit.
    OutputTooLarge,
    /// No concurrency slot came free, or the tool's component did not finish
    /// loading, within the queue timeout.
    Busy,
    /// The call was cancelled by the client.
    Cancelled,
    /// The host failed to run the call (instantiation failed, a native
    /// server is down); not the tool's doing.
    HostError,
    /// MCP 2026-07-28: the call ended asking the client for input; the
    /// client retries it with the answers.
    InputRequired,
    /// The tool needs a client capability (elicitation, sampling, roots)
    /// the client did not declare.
    MissingCapability,
    /// No resource at that URI, or no prompt of that name.
    NotFound,
    /// The tool is quarantined: its definition or component is not the
    /// approved one (see [`crate::pins`]).
    Quarantined,
}

impl CallOutcome {
    /// Every outcome, for pre-registering metric label sets.
    pub const ALL: [CallOutcome; 17] = [
        CallOutcome::Ok,
        CallOutcome::ToolError,
        CallOutcome::InvalidArguments,
        CallOutcome::UnknownTool,
        CallOutcome::Timeout,
        CallOutcome::OutOfFuel,
        CallOutcome::MemoryLimit,
        CallOutcome::StackOverflow,
        CallOutcome::Trap,
        CallOutcome::OutputTooLarge,
        CallOutcome::Busy,
        CallOutcome::Cancelled,
        CallOutcome::HostError,
        CallOutcome::InputRequired,
        CallOutcome::MissingCapability,
        CallOutcome::NotFound,
        CallOutcome::Quarantined,
    ];

    /// Whether the call was stopped, or never ran, rather than returning
    /// (a limit, a trap, the host, a queue): what the guest asked the
    /// client before then is moot.
    pub fn stopped(self) -> bool {
        matches!(
            self,
            CallOutcome::Timeout
                | CallOutcome::OutOfFuel
                | CallOutcome::MemoryLimit
                | CallOutcome::StackOverflow
                | CallOutcome::Trap
                | CallOutcome::OutputTooLarge
                | CallOutcome::Busy
                | CallOutcome::Cancelled
                | CallOutcome::HostError
        )
    }

    /// The snake_case label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::ToolError => "tool_error",
            CallOutcome::InvalidArguments => "invalid_arguments",
            CallOutcome::UnknownTool => "unknown_tool",
            CallOutcome::Timeout => "timeout",
            CallOutcome::OutOfFuel => "out_of_fuel",
            CallOutcome::MemoryLimit => "memory_limit",
            CallOutcome::StackOverflow => "stack_overflow",
            CallOutcome::Trap => "trap",
            CallOutcome::OutputTooLarge => "output_too_large",
            CallOutcome::Busy => "busy",
            CallOutcome::Cancelled => "cancelled",
            CallOutcome::HostError => "host_error",
            CallOutcome::InputRequired => "input_required",
            CallOutcome::MissingCapability => "missing_capability",
            CallOutcome::NotFound => "not_found",
            CallOutcome::Quarantined => "quarantined",
        }
    }
}

impl std::fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call that did not produce the tool's own result: reported to the
/// client as an `isError` result carrying `message`, counted as `outcome`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The classified outcome.
    pub outcome: CallOutcome,
    /// What happened, naming the limit and its value where one was hit.
    pub message: String,
    /// For [`CallOutcome::MissingCapability`]: the client capability
    /// (`elicitation`, `sampling`, `roots`) the call needs.
    pub capability: Option<&'static str>,
}

impl Failure {
    fn new(outcome: CallOutcome, message: impl Into<String>) -> Self {
        Failure { outcome, message: message.into(), capability: None }
    }

    /// The call did not finish within the wall-clock limit `limit`, set by
    /// the setting `key` (`timeout_ms`, a native server's `call_timeout_ms`).
    pub fn timeout(limit: Duration, key: &str) -> Self {
        Failure::new(
            CallOutcome::Timeout,
            format!(
                "tool call timed out: it ran past the {} ms time limit ({key})",
                limit.as_millis()
            ),
        )
    }

    /// The guest used all `fuel` units it was given.
    pub fn out_of_fuel(fuel: u64, key: &str) -> Self {
        Failure::new(
            CallOutcome::OutOfFuel,
            format!("tool ran out of fuel: it used all {fuel} units allowed ({key})"),
        )
    }

    /// A linear-memory growth past `bytes` was refused.
    pub fn memory_limit(bytes: u64) -> Self {
        Failure::new(
            CallOutcome::MemoryLimit,
            format!(
                "tool exceeded its memory limit: growth past {} MiB was refused (memory_mib)",
                bytes >> 20
            ),
        )
    }

    /// The guest used more than `stack_kib` of wasm stack.
    pub fn stack_overflow(stack_kib: u32) -> Self {
        Failure::new(
            CallOutcome::StackOverflow,
            format!(
                "tool overflowed its stack: more than {stack_kib} KiB of wasm stack (engine.max_wasm_stack_kib)"
            ),
        )
    }

    /// The guest panicked with `panic` (its message and location).
    pub fn panicked(panic: &str) -> Self {
        Failure::new(CallOutcome::Trap, format!("tool panicked: {panic}"))
    }

    /// The guest trapped for `reason`, without a panic message.
    pub fn trapped(reason: impl std::fmt::Display) -> Self {
        Failure::new(CallOutcome::Trap, format!("tool trapped: {reason}"))
    }

    /// The result was `size` bytes, over `limit`.
    pub fn result_too_large(size: u64, limit: u64) -> Self {
        Failure::new(
            CallOutcome::OutputTooLarge,
            format!(
                "tool output too large: the result is {size} bytes, over the {limit} byte output limit (output_kib)"
            ),
        )
    }

    /// Log and progress messages passed `limit` bytes during the call.
    pub fn messages_too_large(limit: u64) -> Self {
        Failure::new(
            CallOutcome::OutputTooLarge,
            format!(
                "tool output too large: log and progress messages exceeded the {limit} byte output limit (output_kib)"
            ),
        )
    }

    /// A native server sent a message over its `max_message_kib` limit.
    pub fn message_too_large(server: &str, why: impl std::fmt::Display) -> Self {
        Failure::new(
            CallOutcome::OutputTooLarge,
            format!("native server {server:?}: {why}; the server is being restarted"),
        )
    }

    /// The arguments were refused, by the host's schema check or the tool.
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Failure::new(CallOutcome::InvalidArguments, message)
    }

    /// The tool is quarantined, for `reason`.
    pub fn quarantined(reason: &str) -> Self {
        Failure::new(
            CallOutcome::Quarantined,
            format!(
                "quarantined, not served: {reason}. An operator must approve it (`corral approve`) before it runs"
            ),
        )
    }

    /// No tool of that name.
    pub fn unknown_tool(name: &str) -> Self {
        Failure::new(CallOutcome::UnknownTool, format!("unknown tool: {name}"))
    }

    /// The call needs the client's `capability`, which it did not declare.
    pub fn missing_capability(capability: &'static str) -> Self {
        let mut failure = Failure::new(
            CallOutcome::MissingCapability,
            format!(
                "this needs the client's {capability} capability, which this client did not declare"
            ),
        );
        failure.capability = Some(capability);
        failure
    }

    /// No resource at `uri`.
    pub fn resource_not_found(uri: &str) -> Self {
        Failure::new(CallOutcome::NotFound, format!("resource not found: {uri}"))
    }

    /// No prompt called `name`.
    pub fn unknown_prompt(name: &str) -> Self {
        Failure::new(CallOutcome::NotFound, format!("unknown prompt: {name}"))
    }

    /// The call asked the client questions that the client must answer
    /// first (MCP 2026-07-28 `input_required`).
    pub fn input_required() -> Self {
        Failure::new(CallOutcome::InputRequired, "the call needs input from the client")
    }

    /// A 2026-07-28 request asked for input in more rounds than `max`.
    pub fn too_many_rounds(max: u32) -> Self {
        Failure::new(
            CallOutcome::ToolError,
            format!(
                "the call asked for input in more than {max} rounds (server.max_input_rounds); \
                 it was stopped"
            ),
        )
    }

    /// The answers a 2026-07-28 request would carry in its `requestState`
    /// are over its size limit, `limit` bytes.
    pub fn state_too_large(limit: usize) -> Self {
        Failure::new(
            CallOutcome::ToolError,
            format!(
                "the answers the call gathered are over the {} KiB request state limit; it was stopped",
                limit >> 10
            ),
        )
    }

    /// The tool said it failed before producing a result.
    pub fn tool_failed(message: impl Into<String>) -> Self {
        Failure::new(CallOutcome::ToolError, message)
    }

    /// The tool returned structured content that is not a JSON object.
    pub fn structured_not_an_object() -> Self {
        Failure::tool_failed("tool returned structured content that is not a JSON object")
    }

    /// The host could not run the call: `why` says what failed.
    pub fn host_error(why: impl Into<String>) -> Self {
        Failure::new(CallOutcome::HostError, why)
    }

    /// No slot of `component` came free within `queue_timeout`.
    pub fn busy(
        component: &str,
        queue_timeout: Duration,
        max_concurrency: u32,
        max_instances: u32,
    ) -> Self {
        Failure::new(
            CallOutcome::Busy,
            format!(
                "server busy: no slot for component \"{component}\" came free within {} ms \
                 (queue_timeout_ms; max_concurrency = {max_concurrency} per component, max_instances = {max_instances} in all)",
                queue_timeout.as_millis()
            ),
        )
    }

    /// No slot of native server `server` came free within `queue_timeout`.
    pub fn native_busy(server: &str, queue_timeout: Duration, max_concurrency: u32) -> Self {
        Failure::new(
            CallOutcome::Busy,
            format!(
                "server busy: no slot for native server {server:?} came free within {} ms (queue_timeout_ms; max_concurrency = {max_concurrency})",
                queue_timeout.as_millis()
            ),
        )
    }

    /// The source (a component, a native server) that serves the request
    /// was still loading after `waited`.
    pub fn still_loading(source: &str, waited: Duration) -> Self {
        Failure::new(
            CallOutcome::Busy,
            format!(
                "server busy: \"{source}\" is still loading after {} ms (server.load_timeout_ms); retry shortly",
                waited.as_millis()
            ),
        )
    }
}

/// A request for the client made during a call (MCP `elicitation/create`,
/// `sampling/createMessage`, `roots/list`): asked by a guest, or relayed
/// from a native server.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRequest {
    /// The JSON-RPC method.
    pub method: &'static str,
    /// Its params.
    pub params: Value,
    /// Names it among the call's requests: the key of its answer in a
    /// 2026-07-28 retry's `inputResponses`.
    pub key: String,
    /// The client capability it needs (`elicitation`, `sampling`, `roots`).
    pub capability: &'static str,
    /// Whether the call can be run again with the answer (a guest's
    /// question, answered in a fresh instance), so that a 2026-07-28 client
    /// can be asked through `input_required`; a native server's request
    /// must be answered while its call waits.
    pub resumable: bool,
}

impl ClientRequest {
    /// The client capability `method` needs, for the three methods a server
    /// may send a client; `None` for any other method.
    pub fn capability_of(method: &str) -> Option<(&'static str, &'static str)> {
        Some(match method {
            "elicitation/create" => ("elicitation/create", "elicitation"),
            "sampling/createMessage" => ("sampling/createMessage", "sampling"),
            "roots/list" => ("roots/list", "roots"),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_labels_are_snake_case_and_distinct() {
        let labels: std::collections::HashSet<_> =
            CallOutcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(labels.len(), CallOutcome::ALL.len());
        assert_eq!(CallOutcome::OutOfFuel.as_str(), "out_of_fuel");
    }

    #[test]
    fn a_failure_names_the_setting_and_its_value() {
        let failure = Failure::timeout(Duration::from_millis(200), "timeout_ms");
        assert_eq!(failure.outcome, CallOutcome::Timeout);
        assert_eq!(
            failure.message,
            "tool call timed out: it ran past the 200 ms time limit (timeout_ms)"
        );
        assert!(
            Failure::memory_limit(32 << 20).message.contains("32 MiB was refused (memory_mib)")
        );
    }
}
