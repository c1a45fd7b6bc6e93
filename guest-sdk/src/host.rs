//! What a handler may ask of the host during a call: log messages,
//! progress, resource change notices, and questions to the client.
//!
//! In a component these call the `corral:mcp/host` imports. Compiled for
//! any other target (a tool crate's native unit tests), there is no host to
//! call: calls are recorded per thread instead, read back with
//! [`testing::take_events`](crate::testing::take_events), and questions get
//! the answers the test scripted (see [`testing`](crate::testing)).

use crate::ask::AskError;
use crate::types::{ElicitAnswer, ElicitRequest, LogLevel, Root, SampleAnswer, SampleRequest};

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

/// Tells clients subscribed to `uri` that the resource changed (MCP
/// `notifications/resources/updated`), typically after a tool wrote it.
///
/// The host announces only URIs this component serves (its own scheme, or
/// one of its resources or templates) and drops others, so calling it is
/// always safe.
pub fn resource_updated(uri: impl AsRef<str>) {
    sink::resource_updated(uri.as_ref());
}

pub(crate) fn elicit(request: ElicitRequest) -> Result<ElicitAnswer, AskError> {
    sink::elicit(request)
}

pub(crate) fn sample(request: SampleRequest) -> Result<SampleAnswer, AskError> {
    sink::sample(request)
}

pub(crate) fn list_roots(id: Option<String>) -> Result<Vec<Root>, AskError> {
    sink::list_roots(id)
}

#[cfg(target_arch = "wasm32")]
mod sink {
    use crate::ask::AskError;
    use crate::bindings::corral::mcp::host;
    use crate::bindings::corral::mcp::types::AskError as HostAskError;
    use crate::types::{ElicitAnswer, ElicitRequest, LogLevel, Root, SampleAnswer, SampleRequest};

    pub(super) fn log(level: LogLevel, message: &str) {
        host::log(level, message);
    }

    pub(super) fn progress(done: f64, total: Option<f64>, message: Option<&str>) {
        host::progress(done, total, message);
    }

    pub(super) fn resource_updated(uri: &str) {
        host::resource_updated(uri);
    }

    pub(super) fn elicit(request: ElicitRequest) -> Result<ElicitAnswer, AskError> {
        host::elicit(&request).map_err(from_host)
    }

    pub(super) fn sample(request: SampleRequest) -> Result<SampleAnswer, AskError> {
        host::sample(&request).map_err(from_host)
    }

    pub(super) fn list_roots(id: Option<String>) -> Result<Vec<Root>, AskError> {
        host::list_roots(id.as_deref()).map_err(from_host)
    }

    fn from_host(error: HostAskError) -> AskError {
        match error {
            HostAskError::Pending => AskError::Pending,
            HostAskError::Unsupported(capability) => AskError::Unsupported(capability),
            HostAskError::Timeout => AskError::Timeout,
            HostAskError::Invalid(message) => AskError::Invalid(message),
            HostAskError::Failed(message) => AskError::Failed(message),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod sink {
    use crate::ask::AskError;
    use crate::testing::{HostEvent, Script, record};
    use crate::types::{ElicitAnswer, ElicitRequest, LogLevel, Root, SampleAnswer, SampleRequest};

    pub(super) fn log(level: LogLevel, message: &str) {
        record(HostEvent::Log { level, message: message.to_owned() });
    }

    pub(super) fn progress(done: f64, total: Option<f64>, message: Option<&str>) {
        record(HostEvent::Progress { done, total, message: message.map(str::to_owned) });
    }

    pub(super) fn resource_updated(uri: &str) {
        record(HostEvent::ResourceUpdated { uri: uri.to_owned() });
    }

    pub(super) fn elicit(request: ElicitRequest) -> Result<ElicitAnswer, AskError> {
        record(HostEvent::Elicit(request));
        Script::next_elicit()
    }

    pub(super) fn sample(request: SampleRequest) -> Result<SampleAnswer, AskError> {
        record(HostEvent::Sample(request));
        Script::next_sample()
    }

    pub(super) fn list_roots(id: Option<String>) -> Result<Vec<Root>, AskError> {
        record(HostEvent::ListRoots { id });
        Script::next_list_roots()
    }
}
