//! Protocol revisions, and the results that describe this server.
//!
//! Corral speaks two generations of MCP on the same endpoint:
//!
//! | revision | lifecycle | chosen when |
//! | --- | --- | --- |
//! | 2026-07-28 ([`STATELESS_VERSIONS`]) | none: every request carries `_meta` with its protocol version and the client's capabilities; `server/discover` describes the server | a request's `_meta` names `io.modelcontextprotocol/protocolVersion`, or its `MCP-Protocol-Version` header names a revision that is not a session one |
//! | 2025-11-25, 2025-06-18, 2025-03-26 ([`SESSION_VERSIONS`]) | `initialize` starts a session; later requests name it (`Mcp-Session-Id` over HTTP, the connection over stdio) | anything else (`[server] legacy_sessions = false` turns it off) |
//!
//! - `initialize` negotiation: a requested revision in [`SESSION_VERSIONS`]
//!   is echoed back; any other gets [`SESSION_LATEST`], and the client
//!   decides whether it can go on.
//! - In a session, the `MCP-Protocol-Version` header must name a supported
//!   revision; a request without it is taken as 2025-03-26, as the
//!   transport specification says.
//! - `server/discover` lists only the stateless revisions: those are the
//!   ones a client can name per request.

use serde::Serialize;
use serde_json::value::RawValue;

/// Which generation of the protocol serves a request: decided once, when
/// the request is routed ([`super::server`]), and carried with it, so that
/// a `match` on it shows every place the generations differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    /// 2025-11-25 and the session revisions before it ([`SESSION_VERSIONS`]):
    /// `initialize` starts a session that later requests name.
    Session,
    /// 2026-07-28 ([`STATELESS_VERSIONS`]): every request carries its own
    /// envelope; results say `resultType` and name the server in `_meta`.
    Stateless,
}

/// The revisions served per request, without a session.
pub const STATELESS_VERSIONS: [&str; 1] = ["2026-07-28"];

/// The newest session revision, and the one offered to clients asking for
/// an unknown one.
pub const SESSION_LATEST: &str = "2025-11-25";

/// Every session revision this server answers, newest first.
pub const SESSION_VERSIONS: [&str; 3] = [SESSION_LATEST, "2025-06-18", "2025-03-26"];

/// Every revision, newest first.
pub const ALL_VERSIONS: [&str; 4] = ["2026-07-28", SESSION_LATEST, "2025-06-18", "2025-03-26"];

/// The revision assumed when a session request has no `MCP-Protocol-Version`.
pub const HEADER_DEFAULT: &str = "2025-03-26";

/// The `_meta` key naming a request's protocol version (2026-07-28).
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key carrying the client's capabilities (2026-07-28).
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The `_meta` key naming the client (2026-07-28, optional).
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// The `_meta` key asking for log messages at and above a level (2026-07-28).
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// The `_meta` key naming the server in a result (2026-07-28).
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// The 2026-07-28 extension of tasks (SEP-2663), as the client declares it
/// in `clientCapabilities.extensions` and the server in its capabilities.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// The `_meta` key naming the task a 2025-11-25 `tasks/result` answer is of.
pub const META_RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
/// The `_meta` key of `tasks/get` answers carrying the tail of a task's
/// output (Corral's own: see [`super::tasks`]).
pub const META_TASK_OUTPUT: &str = "dev.corral/output";
/// The `_meta` key of a `tasks/get` request asking for that many lines of
/// output (default [`super::tasks::TAIL_LINES`]).
pub const META_TASK_OUTPUT_LINES: &str = "dev.corral/outputLines";
/// The `_meta` key tying a notification to its `subscriptions/listen` stream.
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// What the server says to clients about itself.
const INSTRUCTIONS: &str = "Every tool runs as a sandboxed WebAssembly component with only the \
                            files, network and environment its configuration grants.";

/// The session revision to answer a client that asked for `requested`.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|r| SESSION_VERSIONS.iter().copied().find(|v| *v == r))
        .unwrap_or(SESSION_LATEST)
}

/// Whether `version` is a session revision.
pub fn is_session_version(version: &str) -> bool {
    SESSION_VERSIONS.contains(&version)
}

/// Whether `version` names any revision this server speaks.
pub fn is_known_version(version: &str) -> bool {
    ALL_VERSIONS.contains(&version)
}

/// `serverInfo`: the implementation's name and version.
#[derive(Debug, Serialize)]
pub struct ServerInfo {
    name: &'static str,
    title: &'static str,
    version: &'static str,
}

/// This server.
pub const SERVER_INFO: ServerInfo =
    ServerInfo { name: "corral", title: "Corral", version: env!("CARGO_PKG_VERSION") };

/// The `_meta` of a 2026-07-28 result: the server names itself, as the
/// revision asks of every response. Written once.
pub fn result_meta() -> &'static RawValue {
    static META: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    META.get_or_init(|| {
        #[derive(Serialize)]
        struct Meta {
            #[serde(rename = "io.modelcontextprotocol/serverInfo")]
            server_info: ServerInfo,
        }
        serde_json::value::to_raw_value(&Meta { server_info: SERVER_INFO })
            .expect("a static struct serializes")
    })
}

/// The capabilities of this server, the same in both generations: every
/// feature is offered whether or not a source offers anything of it yet
/// (sources load, and native servers' lists change, while serving; the
/// lists say what there is).
#[derive(Debug, Serialize)]
pub struct Capabilities {
    tools: ListChanged,
    resources: ResourcesCapability,
    prompts: ListChanged,
    completions: Empty,
    logging: Empty,
    /// 2025-11-25: tasks of `tools/call`, listed and cancellable.
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<TasksCapability>,
    /// 2026-07-28: the tasks extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Extensions>,
}

/// `{"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}`.
#[derive(Debug, Serialize)]
struct TasksCapability {
    list: Empty,
    cancel: Empty,
    requests: TaskRequests,
}

#[derive(Debug, Serialize)]
struct TaskRequests {
    tools: ToolsCall,
}

#[derive(Debug, Serialize)]
struct ToolsCall {
    call: Empty,
}

/// `{"io.modelcontextprotocol/tasks": {}}`.
#[derive(Debug, Serialize)]
struct Extensions {
    #[serde(rename = "io.modelcontextprotocol/tasks")]
    tasks: Empty,
}

#[derive(Debug, Serialize)]
struct ListChanged {
    #[serde(rename = "listChanged")]
    list_changed: bool,
}

#[derive(Debug, Serialize)]
struct ResourcesCapability {
    #[serde(rename = "listChanged")]
    list_changed: bool,
    subscribe: bool,
}

/// `{}`.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// This server's capabilities (in a session of a revision before
/// 2025-11-25, which has no tasks).
pub const CAPABILITIES: Capabilities = Capabilities {
    tools: ListChanged { list_changed: true },
    resources: ResourcesCapability { list_changed: true, subscribe: true },
    prompts: ListChanged { list_changed: true },
    completions: Empty {},
    logging: Empty {},
    tasks: None,
    extensions: None,
};

/// The capabilities of a session speaking `version`: 2025-11-25 adds tasks.
fn session_capabilities(version: &str) -> Capabilities {
    Capabilities {
        tasks: (version == SESSION_LATEST).then_some(TasksCapability {
            list: Empty {},
            cancel: Empty {},
            requests: TaskRequests { tools: ToolsCall { call: Empty {} } },
        }),
        ..CAPABILITIES
    }
}

/// The capabilities `server/discover` shows (2026-07-28): the tasks
/// extension, and no `tasks` member (that is 2025-11-25's).
fn stateless_capabilities() -> Capabilities {
    Capabilities { extensions: Some(Extensions { tasks: Empty {} }), ..CAPABILITIES }
}

/// Whether 2026-07-28 `capabilities` (a request's `clientCapabilities`)
/// declare the tasks extension.
pub fn declares_tasks(capabilities: &serde_json::Value) -> bool {
    capabilities
        .get("extensions")
        .and_then(|extensions| extensions.get(TASKS_EXTENSION))
        .is_some_and(|tasks| !tasks.is_null())
}

/// The `initialize` result for a session speaking `version`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    protocol_version: &'static str,
    capabilities: Capabilities,
    server_info: ServerInfo,
    instructions: &'static str,
}

/// The `initialize` result for `version`.
pub fn initialize_result(version: &'static str) -> InitializeResult {
    InitializeResult {
        protocol_version: version,
        capabilities: session_capabilities(version),
        server_info: SERVER_INFO,
        instructions: INSTRUCTIONS,
    }
}

/// Whether a cached answer may be shared across authorization contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Any cache may serve it to anyone: no bearer tokens are configured.
    Public,
    /// Only caches within one authorization context: tokens are configured.
    Private,
}

/// The `server/discover` result (2026-07-28).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    result_type: &'static str,
    supported_versions: [&'static str; 1],
    capabilities: Capabilities,
    instructions: &'static str,
    ttl_ms: u64,
    cache_scope: CacheScope,
    #[serde(rename = "_meta")]
    meta: &'static RawValue,
}

/// The `server/discover` result, cacheable for `ttl_ms` within `scope`.
pub fn discover_result(ttl_ms: u64, scope: CacheScope) -> DiscoverResult {
    DiscoverResult {
        result_type: "complete",
        supported_versions: STATELESS_VERSIONS,
        capabilities: stateless_capabilities(),
        instructions: INSTRUCTIONS,
        ttl_ms,
        cache_scope: scope,
        meta: result_meta(),
    }
}

/// MCP log levels (syslog severities), least severe first.
pub const LOG_LEVELS: [&str; 8] =
    ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/// The severity rank of a level name (`debug` = 0), or `None` for an unknown name.
pub fn log_level_rank(level: &str) -> Option<u8> {
    LOG_LEVELS.iter().position(|l| *l == level).and_then(|p| u8::try_from(p).ok())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_supported_requested_version_is_echoed() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
    }

    #[test]
    fn an_unknown_requested_version_gets_the_latest_session_one() {
        assert_eq!(negotiate(Some("2024-11-05")), SESSION_LATEST);
        assert_eq!(negotiate(Some("2026-07-28")), SESSION_LATEST);
        assert_eq!(negotiate(None), SESSION_LATEST);
    }

    #[test]
    fn log_levels_rank_by_severity() {
        assert_eq!(log_level_rank("debug"), Some(0));
        assert_eq!(log_level_rank("emergency"), Some(7));
        assert!(log_level_rank("warning") > log_level_rank("info"));
        assert_eq!(log_level_rank("verbose"), None);
    }

    #[test]
    fn discover_has_every_required_member() {
        let result: Value =
            serde_json::to_value(discover_result(5000, CacheScope::Public)).unwrap();
        assert_eq!(result["resultType"], "complete");
        assert_eq!(result["supportedVersions"], json!(["2026-07-28"]));
        assert_eq!(
            result["capabilities"],
            json!({
                "tools": { "listChanged": true },
                "resources": { "listChanged": true, "subscribe": true },
                "prompts": { "listChanged": true },
                "completions": {},
                "logging": {},
                "extensions": { "io.modelcontextprotocol/tasks": {} },
            })
        );
        assert_eq!(result["ttlMs"], 5000);
        assert_eq!(result["cacheScope"], "public");
        assert_eq!(result["_meta"][META_SERVER_INFO]["name"], "corral");
    }
}
