//! How a call ended, and the one place where every way of failing becomes a
//! classified outcome and a message that names the limit and its value.

use std::time::Duration;

use serde::Serialize;
use wasmtime::Trap;

use super::bindings::corral::mcp::types::{CallResult, Content};
use super::state::{CallState, OutputLimitExceeded};
use crate::policy::Limits;

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
    /// No concurrency slot came free within the call's timeout.
    Busy,
    /// The call was cancelled by the client.
    Cancelled,
    /// The host failed to run the call (instantiation failed); not the guest's doing.
    HostError,
}

impl CallOutcome {
    /// Every outcome, for pre-registering metric label sets.
    pub const ALL: [CallOutcome; 13] = [
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
    ];

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
        }
    }
}

impl std::fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure the host reports to the client as an `isError` result.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The classified outcome.
    pub outcome: CallOutcome,
    /// What happened, naming the limit and its value where one was hit.
    pub message: String,
}

impl Failure {
    pub(crate) fn new(outcome: CallOutcome, message: impl Into<String>) -> Self {
        Failure { outcome, message: message.into() }
    }

    /// The failure as a tool result the model can read.
    pub fn into_result(self) -> CallResult {
        CallResult { content: vec![Content::Text(self.message)], structured: None, is_error: true }
    }

    /// The call did not finish within the wall-clock limit.
    pub fn timeout(limit: Duration) -> Self {
        Failure::new(
            CallOutcome::Timeout,
            format!(
                "tool call timed out: it ran past the {} ms time limit (timeout_ms)",
                limit.as_millis()
            ),
        )
    }

    /// No concurrency slot came free in time.
    pub fn busy(component: &str, limits: &Limits, max_instances: u32) -> Self {
        Failure::new(
            CallOutcome::Busy,
            format!(
                "server busy: no slot for component \"{component}\" came free within {} ms \
                 (queue_timeout_ms; max_concurrency = {} per component, max_instances = {max_instances} in all)",
                limits.queue_timeout.as_millis(),
                limits.max_concurrency
            ),
        )
    }
}

/// Classifies an error raised while instantiating or running a guest.
pub(super) fn classify(
    err: &wasmtime::Error,
    state: &CallState,
    limits: &Limits,
    stack_kib: u32,
) -> Failure {
    if state.output_exceeded || err.is::<OutputLimitExceeded>() {
        return Failure::new(
            CallOutcome::OutputTooLarge,
            format!(
                "tool output too large: log and progress messages exceeded the {} byte output limit (output_kib)",
                limits.output_bytes
            ),
        );
    }
    let memory_limit = || {
        Failure::new(
            CallOutcome::MemoryLimit,
            format!(
                "tool exceeded its memory limit: growth past {} MiB was refused (memory_mib)",
                limits.memory_bytes >> 20
            ),
        )
    };
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Failure::new(
            CallOutcome::OutOfFuel,
            format!("tool ran out of fuel: it used all {} units allowed (fuel)", limits.fuel),
        ),
        Some(Trap::Interrupt) => Failure::timeout(limits.timeout),
        Some(Trap::StackOverflow) => Failure::new(
            CallOutcome::StackOverflow,
            format!(
                "tool overflowed its stack: more than {stack_kib} KiB of wasm stack (engine.max_wasm_stack_kib)"
            ),
        ),
        // Allocators abort (an `unreachable` trap) when growth is refused, so
        // any trap after a refused growth is the memory limit's doing.
        Some(_) if state.memory.hit => memory_limit(),
        Some(trap) => match panic_message(&state.stderr_text()) {
            Some(panic) => Failure::new(CallOutcome::Trap, format!("tool panicked: {panic}")),
            None => Failure::new(CallOutcome::Trap, format!("tool trapped: {trap}")),
        },
        None if state.memory.hit => memory_limit(),
        None => Failure::new(CallOutcome::HostError, format!("tool could not be run: {err:#}")),
    }
}

/// The location and message of a Rust panic, from the guest's stderr:
/// `thread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: ...`
/// gives `boom (at src/lib.rs:3:5)`.
fn panic_message(stderr: &str) -> Option<String> {
    let (_, rest) = stderr.split_once("panicked at ")?;
    let (location, rest) = rest.split_once(":\n").unwrap_or((rest.trim_end(), ""));
    let message: Vec<&str> = rest.lines().take_while(|l| !l.starts_with("note: ")).collect();
    let message = message.join(" ");
    let message = message.trim();
    Some(if message.is_empty() {
        format!("at {location}")
    } else {
        format!("{message} (at {location})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_has_text_and_location() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("boom (at src/lib.rs:3:5)"));
    }

    #[test]
    fn stderr_without_panic_gives_none() {
        assert_eq!(panic_message("some output\n"), None);
    }

    #[test]
    fn outcome_labels_are_snake_case_and_distinct() {
        let labels: std::collections::HashSet<_> =
            CallOutcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(labels.len(), CallOutcome::ALL.len());
        assert_eq!(CallOutcome::OutOfFuel.as_str(), "out_of_fuel");
    }
}
