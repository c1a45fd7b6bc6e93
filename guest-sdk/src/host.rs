//! What a tool may ask of the host during a call: log messages and progress.
//!
//! In a component these call the `corral:mcp/host` imports. Compiled for
//! any other target (a tool crate's native unit tests), there is no host to
//! call, so they are recorded per thread instead and read back with
//! [`testing::take_events`](crate::testing::take_events).

use crate::types::LogLevel;

/// Sends a log message to the client (MCP `notifications/message`).
///
/// The host bounds how much a call may log; past that, messages are
/// dropped or the call fails, as its policy says. For the common levels,
/// [`log::info`](crate::log::info) and its siblings read better.
pub fn log(level: LogLevel, message: impl AsRef<str>) {
    sink::log(level, message.as_ref());
}

/// Reports progress (MCP `notifications/progress`): `done` out of `total`
/// if known, with an optional message.
///
/// The host forwards it only when the client asked for progress on this
/// call; otherwise it is dropped, so calling it is always safe. MCP wants
/// `done` to increase from one report to the next.
pub fn progress(done: f64, total: Option<f64>, message: Option<&str>) {
    sink::progress(done, total, message);
}

#[cfg(target_arch = "wasm32")]
mod sink {
    use crate::bindings::corral::mcp::host;
    use crate::types::LogLevel;

    pub(super) fn log(level: LogLevel, message: &str) {
        host::log(level, message);
    }

    pub(super) fn progress(done: f64, total: Option<f64>, message: Option<&str>) {
        host::progress(done, total, message);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod sink {
    use crate::testing::{HostEvent, record};
    use crate::types::LogLevel;

    pub(super) fn log(level: LogLevel, message: &str) {
        record(HostEvent::Log { level, message: message.to_owned() });
    }

    pub(super) fn progress(done: f64, total: Option<f64>, message: Option<&str>) {
        record(HostEvent::Progress { done, total, message: message.map(str::to_owned) });
    }
}
