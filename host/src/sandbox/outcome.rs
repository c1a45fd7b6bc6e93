//! Classifying a failed guest: the one place where a wasmtime error and the
//! store's accounting become a [`Failure`] that names the limit hit.

use wasmtime::Trap;

use super::state::{CallState, OutputLimitExceeded};
use crate::call::Failure;
use crate::policy::Limits;

/// Classifies an error raised while instantiating or running a guest.
pub(super) fn classify(
    err: &wasmtime::Error,
    state: &CallState,
    limits: &Limits,
    stack_kib: u32,
) -> Failure {
    if state.output_exceeded || err.is::<OutputLimitExceeded>() {
        return Failure::messages_too_large(limits.output_bytes);
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Failure::out_of_fuel(limits.fuel, limits.names.fuel),
        Some(Trap::Interrupt) => Failure::timeout(limits.timeout, limits.names.timeout),
        Some(Trap::StackOverflow) => Failure::stack_overflow(stack_kib),
        // Allocators abort (an `unreachable` trap) when growth is refused, so
        // any trap after a refused growth is the memory limit's doing.
        Some(_) if state.memory.hit => Failure::memory_limit(limits.memory_bytes),
        Some(trap) => match panic_message(&state.stderr_text()) {
            Some(panic) => Failure::panicked(&panic),
            None => Failure::trapped(trap),
        },
        None if state.memory.hit => Failure::memory_limit(limits.memory_bytes),
        None => Failure::host_error(format!("tool could not be run: {err:#}")),
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
}
