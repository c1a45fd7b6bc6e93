//! Protocol revisions and the `initialize` handshake.
//!
//! - Corral speaks revision [`LATEST`] (2025-11-25) and also answers clients
//!   of 2025-06-18 and 2025-03-26, whose messages it handles the same way.
//! - `initialize` negotiation: a requested revision in
//!   [`SUPPORTED_VERSIONS`] is echoed back; any other gets [`LATEST`], and
//!   the client decides whether it can go on.
//! - After `initialize`, the `MCP-Protocol-Version` header must name a
//!   supported revision; a request without it is taken as 2025-03-26, as
//!   the transport specification says.
//! - Revision 2026-07-28 clients probe with `server/discover`; it gets
//!   `-32601` with the supported revisions in `error.data`, from which such a
//!   client falls back to `initialize`.

use serde_json::{Value, json};

/// The newest revision, and the one offered to clients asking for an unknown one.
pub const LATEST: &str = "2025-11-25";

/// Every revision this server answers, newest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = [LATEST, "2025-06-18", "2025-03-26"];

/// The revision assumed when a request has no `MCP-Protocol-Version` header.
pub const HEADER_DEFAULT: &str = "2025-03-26";

/// The revision to answer a client that asked for `requested`.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested.and_then(|r| SUPPORTED_VERSIONS.iter().copied().find(|v| *v == r)).unwrap_or(LATEST)
}

/// Whether `version` (an `MCP-Protocol-Version` header value) is supported.
pub fn is_supported(version: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// The `initialize` result for `version`.
pub fn initialize_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": { "listChanged": true },
            "logging": {}
        },
        "serverInfo": {
            "name": "corral",
            "title": "Corral",
            "version": env!("CARGO_PKG_VERSION")
        },
        "instructions": "Every tool runs as a sandboxed WebAssembly component with only the \
                         files, network and environment its configuration grants."
    })
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
    use super::*;

    #[test]
    fn a_supported_requested_version_is_echoed() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
    }

    #[test]
    fn an_unknown_requested_version_gets_the_latest() {
        assert_eq!(negotiate(Some("2024-11-05")), LATEST);
        assert_eq!(negotiate(Some("2026-07-28")), LATEST);
        assert_eq!(negotiate(None), LATEST);
    }

    #[test]
    fn log_levels_rank_by_severity() {
        assert_eq!(log_level_rank("debug"), Some(0));
        assert_eq!(log_level_rank("emergency"), Some(7));
        assert!(log_level_rank("warning") > log_level_rank("info"));
        assert_eq!(log_level_rank("verbose"), None);
    }
}
