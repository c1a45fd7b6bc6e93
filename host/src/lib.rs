//! Corral: a host for MCP tools that runs every tool as a WebAssembly
//! component under capability grants and limits.
//!
//! The call path, top-down: [`config`] is parsed, [`policy`] resolves what
//! each component is granted, [`registry`] loads the components through the
//! [`sandbox`] and names their tools, and [`mcp`] turns results into the
//! protocol's JSON.

pub mod bundled;
pub mod config;
pub mod mcp;
pub mod policy;
pub mod registry;
pub mod sandbox;
