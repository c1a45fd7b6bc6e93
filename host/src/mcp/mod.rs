//! MCP independent of any transport: JSON-RPC, both revisions of the
//! protocol (2026-07-28 stateless, 2025-11-25 with sessions), the methods,
//! and the protocol's JSON shapes.
//!
//! The contract, in the order a message meets it:
//!
//! - [`jsonrpc`]: one JSON-RPC 2.0 message at a time; batches are refused;
//!   [`McpError::code`] is the single mapping from errors to JSON-RPC codes.
//! - [`server`]: which revision serves a request ([`protocol::Revision`],
//!   decided once), the request's [`context`], and what each method does,
//!   in one table; the transport hands over the message and an
//!   [`Exchange`] (who sent it, through which door, with which headers).
//! - [`envelope`]: the checks every 2026-07-28 request passes first.
//! - [`session`]: 2025-11-25 sessions, and the requests in flight a client
//!   may cancel; [`shared_sessions`] and [`session_sharing`]: sessions
//!   shared between replicas.
//! - [`invocation`]: the one pipeline of every request that runs a backend
//!   (slot, cancellation, target, run, events, accounting), which
//!   [`tools`] (`tools/call`), [`offers`] (resources, prompts, completion)
//!   and [`tasks`] (a call run as a task) build on; [`asking`]: questions
//!   for the client, live (2025-11-25) or as `input_required` rounds
//!   (2026-07-28).
//! - [`lists`]: the four lists, answered once every source has loaded.
//! - [`subscriptions`]: `subscriptions/listen`; [`changes`]: what listeners
//!   are told.
//! - [`shapes`]: results as MCP JSON, serialized once; [`reply`]: what the
//!   doors get back.
//!
//! The doors ([`crate::http`], [`crate::stdio`]) own framing, headers,
//! status codes and streaming; they get back [`Reply`]s.

pub mod asking;
pub mod changes;
pub mod context;
pub mod envelope;
pub mod exchange;
pub mod invocation;
pub mod jsonrpc;
pub mod lists;
pub mod offers;
pub mod protocol;
pub mod reply;
pub mod server;
pub mod session;
pub mod session_sharing;
pub mod shapes;
pub mod shared_sessions;
pub mod subscriptions;
pub mod tasks;
pub mod tools;

pub use self::exchange::{Connection, Door, Exchange, HttpFacts};
pub use self::jsonrpc::{Incoming, McpError, RequestId};
pub use self::protocol::Revision;
pub use self::reply::{Answer, Outgoing, Reply, Stream, StreamTask};
pub use self::server::{McpOptions, McpServer};
pub use self::session::{Session, SessionError, Sessions};
