//! What a request carries through the core once it is routed: its id and
//! revision, who sent it, which of its notifications the client wants, how
//! it can be cancelled and how its questions reach the client. The router
//! ([`super::server`]) builds one [`Request`] per request, the same way for
//! every method; the doors build none of it.

use std::sync::Arc;

use serde_json::Value;

use super::exchange::{Connection, HttpFacts};
use super::jsonrpc::RequestId;
use super::protocol::Revision;
use super::session::{InFlight, Session};

/// One routed request.
pub(super) struct Request<'a> {
    /// Its JSON-RPC id.
    pub id: RequestId,
    /// Which generation serves it.
    pub revision: Revision,
    /// Its params (an object, or `Null`).
    pub params: Value,
    /// Who sent it.
    pub caller: Caller,
    /// Which log messages its client gets.
    pub logs: LogFloor,
    /// Where `notifications/cancelled` finds it; `None` for 2026-07-28
    /// over HTTP, which a client cancels by closing the response stream.
    pub canceller: Option<Canceller>,
    /// 2026-07-28 over HTTP: the request's MCP headers (`Mcp-Param-*`).
    pub http: Option<&'a HttpFacts>,
    /// How its questions reach the client.
    pub asking: AskVia,
}

impl Request<'_> {
    /// Whether the client closing the response stream cancels the request:
    /// 2026-07-28 over HTTP (a 2025-11-25 disconnect is not a cancellation,
    /// and stdio's stream closes only when the process ends).
    pub fn cancel_on_close(&self) -> bool {
        self.revision == Revision::Stateless && self.canceller.is_none()
    }
}

/// Who sent a request: what its audit line names and its tasks belong to.
#[derive(Clone)]
pub struct Caller {
    /// `token#N` with bearer tokens, else the peer's address; `stdio`.
    pub client: Arc<str>,
    /// The session or door it came through.
    pub origin: Origin,
}

impl Caller {
    /// Who owns the tasks the request makes (see [`crate::task_store`]): its
    /// bearer token, else its 2025-11-25 session, else its peer address,
    /// or the stdio connection.
    pub fn owner(&self) -> Arc<str> {
        if self.client.starts_with("token#") {
            return self.client.clone();
        }
        match &self.origin {
            Origin::Session(session) if !session.id().is_empty() => {
                format!("session:{}", session.id()).into()
            }
            Origin::Http => format!("peer:{}", self.client).into(),
            Origin::Session(_) | Origin::Stdio => "stdio".into(),
        }
    }
}

/// Whose call it is, for its audit line and span: the session's id, `-`
/// for a 2026-07-28 request over HTTP, `stdio` on stdio.
#[derive(Clone)]
pub enum Origin {
    /// A 2025-11-25 session (over stdio its id is empty).
    Session(Arc<Session>),
    /// A 2026-07-28 request over HTTP.
    Http,
    /// A 2026-07-28 request on the stdio connection.
    Stdio,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Session(session) if !session.id().is_empty() => f.write_str(session.id()),
            Origin::Http => f.write_str("-"),
            Origin::Session(_) | Origin::Stdio => f.write_str("stdio"),
        }
    }
}

/// Which log messages a request's client gets.
#[derive(Clone)]
pub enum LogFloor {
    /// The session's level (`logging/setLevel`), read as each message comes.
    Session(Arc<Session>),
    /// A 2026-07-28 request's `_meta` level; `None`: no log messages.
    Request(Option<u8>),
}

impl LogFloor {
    /// Whether a message of severity `rank` goes to the client.
    pub fn wants(&self, rank: u8) -> bool {
        match self {
            LogFloor::Session(session) => session.wants_log(rank),
            LogFloor::Request(floor) => floor.is_some_and(|floor| rank >= floor),
        }
    }
}

/// Where a request registers so that `notifications/cancelled` can stop it.
#[derive(Clone)]
pub enum Canceller {
    /// An HTTP session's requests.
    Session(Arc<Session>),
    /// A stdio connection's requests.
    Connection(Arc<Connection>),
}

impl Canceller {
    /// The requests in flight there.
    pub fn in_flight(&self) -> &InFlight {
        match self {
            Canceller::Session(session) => session.in_flight(),
            Canceller::Connection(connection) => connection.in_flight(),
        }
    }
}

/// How a request's questions reach its client.
pub enum AskVia {
    /// 2025-11-25: the session's client is asked during the request.
    Session(Arc<Session>),
    /// 2026-07-28: the request carries the capabilities, and its retry the
    /// answers.
    Request {
        /// The `_meta` `clientCapabilities`.
        capabilities: Value,
    },
}

impl AskVia {
    /// Whether the client asks for a `tools/call` to run as a task:
    /// 2025-11-25 with `task` in its params, 2026-07-28 by declaring the
    /// tasks extension.
    pub fn asks_for_task(&self, params: &Value) -> bool {
        match self {
            AskVia::Request { capabilities } => super::protocol::declares_tasks(capabilities),
            AskVia::Session(_) => params.get("task").is_some_and(|task| !task.is_null()),
        }
    }
}
