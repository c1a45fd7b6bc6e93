//! Corral: a host for MCP tools that runs every tool as a WebAssembly
//! component under capability grants and limits.
//!
//! The call path, top-down: [`config`] is parsed, [`policy`] resolves what
//! each component is granted, [`registry`] loads the components through the
//! [`sandbox`] and names their tools, [`mcp`] speaks the protocol, and
//! [`http`] serves it over Streamable HTTP with [`metrics`] beside it.

pub mod bundled;
pub mod config;
pub mod http;
pub mod mcp;
pub mod metrics;
pub mod native;
pub mod network;
pub mod policy;
pub mod registry;
pub mod sandbox;
