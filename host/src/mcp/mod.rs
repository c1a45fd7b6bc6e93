//! MCP independent of any transport: JSON-RPC, both generations of the
//! protocol (2026-07-28 stateless, 2025-11-25 with sessions), the methods,
//! and the protocol's JSON shapes.
//!
//! The contract, in the order a message meets it:
//!
//! - [`jsonrpc`]: one JSON-RPC 2.0 message at a time; batches are refused;
//!   [`McpError::code`] is the single mapping from errors to JSON-RPC codes.
//! - [`server`]: which generation serves a request ([`protocol`]), and what
//!   each method does; the transport hands over the message and an
//!   [`Exchange`] (who sent it, through which door, with which headers).
//! - [`envelope`]: the checks every 2026-07-28 request passes first.
//! - [`session`]: 2025-11-25 sessions, and the requests in flight a client
//!   may cancel.
//! - [`tools`]: `tools/list` and `tools/call`; [`offers`]: resources,
//!   prompts and completion; [`subscriptions`]: `subscriptions/listen`.
//! - [`running`]: what every request that runs a backend shares (its
//!   events, cancellation); [`asking`]: questions for the client, live
//!   (2025-11-25) or as `input_required` rounds (2026-07-28).
//! - [`tasks`]: `tools/call` as a task, and the `tasks/*` methods of both
//!   revisions, over the store of [`crate::tasks`].
//! - [`shapes`]: results as MCP JSON, serialized once; [`reply`]: what the
//!   doors get back.
//!
//! The doors ([`crate::http`], [`crate::stdio`]) own framing, headers,
//! status codes and streaming; they get back [`Reply`]s.

pub mod asking;
pub mod envelope;
pub mod exchange;
pub mod jsonrpc;
pub mod offers;
pub mod protocol;
pub mod reply;
pub mod running;
pub mod server;
pub mod session;
pub mod shapes;
pub mod shared;
pub mod subscriptions;
pub mod tasks;
pub mod tools;

pub use self::exchange::{Connection, Door, Exchange, HttpFacts};
pub use self::jsonrpc::{Incoming, McpError, RequestId};
pub use self::reply::{Answer, Outgoing, Reply, Stream, StreamTask};
pub use self::server::{McpOptions, McpServer};
pub use self::session::{Session, SessionError, Sessions};
