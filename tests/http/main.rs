//! `corral serve` over real HTTP on an ephemeral loopback port: every error
//! path of the Streamable HTTP transport (status and JSON-RPC code), the
//! MCP flow (initialize, list, call, progress, logging, cancellation), the
//! operational endpoints, shutdown, network rules through the `fetch` tool,
//! and the official Python MCP SDK as a client.
//!
//! Requests are written by hand over `std::net::TcpStream`, so a test
//! controls every header (a forged `Host`, a missing `Accept`) and sees the
//! exact bytes of SSE streams.
//!
//! | file | what it specifies |
//! | --- | --- |
//! | `transport.rs` | every refusal of the transport: status and JSON-RPC code |
//! | `flow.rs` | the MCP methods: initialize, list, call, progress, logging, cancellation |
//! | `network.rs` | the `fetch` tool under network rules, and its metrics |
//! | `operations.rs` | `/healthz`, `/readyz`, `/metrics`, shutdown, the `serve` binary |
//! | `python_sdk.rs` | the official Python MCP SDK as the client |
//! | `support.rs` | server fixtures and the raw HTTP client |

mod flow;
#[path = "../loopback/mod.rs"]
mod loopback;
mod network;
mod operations;
mod python_sdk;
mod support;
mod transport;
