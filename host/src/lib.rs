//! Corral: a host for MCP tools that runs every tool as a WebAssembly
//! component under capability grants and limits.
//!
//! The shape, top-down: the doors ([`http`], [`stdio`]) hand messages to
//! one MCP core ([`mcp`]), which resolves each call's tool once in the
//! [`registry`] and calls it through its backend: a component in the
//! [`sandbox`] (under the grants [`policy`] resolved from [`config`]), or a
//! native server ([`native`]); in search mode ([`search`]) the host's own
//! `search_tools` ranks them. Every call ends as one classified outcome
//! ([`call`]), counted in [`metrics`]. [`app`] assembles all of it from a
//! config, for every command.

pub mod app;
pub mod bundled;
pub mod call;
pub mod cluster;
pub mod config;
pub mod framing;
pub mod http;
pub mod local;
pub mod lock;
pub mod mcp;
pub mod metrics;
pub mod native;
pub mod network;
pub mod oci;
pub mod pins;
pub mod policy;
pub mod rate_limit;
pub mod registry;
pub mod sandbox;
pub mod schema;
pub mod search;
pub mod stdio;
pub mod task_store;
