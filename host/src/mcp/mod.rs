//! MCP (revision 2025-11-25) independent of any transport: JSON-RPC framing,
//! the methods, sessions, argument validation, and the protocol's JSON shapes.
//!
//! The contract, in the order a request meets it:
//!
//! - [`jsonrpc`]: one JSON-RPC 2.0 message per body; batches are refused;
//!   [`McpError::code`] is the single mapping from errors to JSON-RPC codes.
//! - [`protocol`]: revisions 2025-11-25, 2025-06-18 and 2025-03-26 are
//!   answered; `initialize` negotiates, `server/discover` (revision
//!   2026-07-28's probe) gets `-32601` listing the supported revisions.
//! - [`session`]: per-client state (revision, log level, calls in flight).
//! - [`server`]: what each method does; `tools/call` arguments are checked
//!   against the tool's `inputSchema` ([`schema`]) and a mismatch is an
//!   `isError` result, never a protocol error.
//! - [`shapes`]: tool definitions and results as MCP JSON.
//!
//! Transports ([`crate::http`]) own headers, status codes and streaming;
//! they hand this module parsed messages and get back [`Reply`]s.

pub mod jsonrpc;
pub mod protocol;
pub mod schema;
pub mod server;
pub mod session;
pub mod shapes;

pub use self::jsonrpc::{Incoming, McpError, RequestId};
pub use self::server::{CallTask, McpOptions, McpServer, Outgoing, Reply};
pub use self::session::{Session, SessionError, Sessions};
pub use self::shapes::{call_result_json, tool_json};
