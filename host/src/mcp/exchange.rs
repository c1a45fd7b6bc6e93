//! What a transport hands the MCP core with each message, besides the
//! message itself: who sent it, and the transport facts the protocol
//! decides on. The core never sees a transport type.

use std::sync::{Arc, Mutex};

use super::session::{InFlight, Session};
use crate::lock::Locked as _;

/// One message's context.
pub struct Exchange<'a> {
    /// Who sent it, for audit lines and limits: `token#N` with bearer
    /// tokens, else the peer's IP address; `stdio` on stdio.
    pub client: Arc<str>,
    /// The door it came through.
    pub door: Door<'a>,
}

/// The transport a message came through.
pub enum Door<'a> {
    /// Streamable HTTP: the MCP headers of the request.
    Http(&'a HttpFacts),
    /// stdio: the connection, which is the session of a 2025-11-25 client.
    Stdio(&'a Arc<Connection>),
}

/// The MCP headers of one HTTP request, read by the transport: values are
/// trimmed of surrounding whitespace (RFC 9110 §5.5), and a header sent
/// twice is reported rather than guessed at.
#[derive(Debug, Clone, Default)]
pub struct HttpFacts {
    /// `Mcp-Session-Id`.
    pub session_id: Option<String>,
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    /// `Mcp-Method`.
    pub method: Option<String>,
    /// `Mcp-Name`.
    pub name: Option<String>,
    /// Every `Mcp-Param-*` header: (name in lowercase, value).
    pub params: Vec<(String, String)>,
    /// A routing header (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`)
    /// that appeared more than once.
    pub repeated: Option<&'static str>,
}

/// A long-lived connection (stdio): one client, its requests in flight
/// (which `notifications/cancelled` names), and its session once a
/// 2025-11-25 client has sent `initialize`.
#[derive(Default)]
pub struct Connection {
    session: Mutex<Option<Arc<Session>>>,
    in_flight: InFlight,
}

impl Connection {
    /// A new connection, with no session.
    pub fn new() -> Connection {
        Connection::default()
    }

    /// Its requests in flight.
    pub fn in_flight(&self) -> &InFlight {
        &self.in_flight
    }

    /// The session `initialize` started on this connection.
    pub fn session(&self) -> Option<Arc<Session>> {
        self.lock().clone()
    }

    /// Starts (or, on a second `initialize`, keeps) the connection's session.
    pub(super) fn start_session(
        &self,
        version: &'static str,
        capabilities: serde_json::Value,
    ) -> Arc<Session> {
        self.lock()
            .get_or_insert_with(|| Arc::new(Session::connection(version, capabilities)))
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Session>>> {
        self.session.locked()
    }
}
