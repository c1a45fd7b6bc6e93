//! `corral serve` over real HTTP on an ephemeral loopback port: every error
//! path of the Streamable HTTP transport (status and JSON-RPC code), the
//! MCP flow of both revisions (2025-11-25 sessions: initialize, list, call,
//! progress, logging, cancellation; 2026-07-28: discover, envelope and
//! header checks, listen streams), the operational endpoints, shutdown,
//! network rules through the `fetch` tool, tools in Python, JavaScript and
//! plain WIT, and the official Python MCP SDK and rmcp as clients.
//!
//! Requests are written by hand over `std::net::TcpStream`, so a test
//! controls every header (a forged `Host`, a missing `Accept`) and sees the
//! exact bytes of SSE streams.
//!
//! | file | what it specifies |
//! | --- | --- |
//! | `transport.rs` | every refusal of the transport: status and JSON-RPC code |
//! | `flow.rs` | the 2025-11-25 methods: initialize, list, call, progress, logging, cancellation |
//! | `stateless.rs` | 2026-07-28: discover, `_meta` and `Mcp-*` header checks, logs by request, listen streams, cancel by closing |
//! | `network.rs` | the `fetch` tool under network rules, and its metrics |
//! | `offers.rs` | resources, prompts, completion, and asking the client: live in a session, `input_required` rounds in 2026-07-28 |
//! | `operations.rs` | `/healthz`, `/readyz`, `/metrics`, shutdown, the `serve` binary |
//! | `python_sdk.rs` | the official Python MCP SDK as the client |
//! | `pinning.rs` | the lock file: changed and new tools quarantined, refused, shown, approved |
//! | `search.rs` | tool search: the listed tools, BM25 ranking, calls by name, quality on 1,000 tools |
//! | `languages.rs` | tools in any language: a plain-WIT Rust component, Python and JavaScript tools, their limits |
//! | `rmcp.rs` | rmcp (the Rust SDK) as the client, Discover and initialize lifecycles |
//! | `tls.rs` | HTTPS: served as HTTP; plain HTTP and stalled handshakes cut off; bad certificates named |
//! | `support.rs` | server fixtures and the raw HTTP client |

mod flow;
mod languages;
#[path = "../loopback/mod.rs"]
mod loopback;
mod network;
mod offers;
mod operations;
mod pinning;
mod python_sdk;
mod rmcp;
mod search;
mod stateless;
mod support;
mod task_notifications;
mod tasks;
mod tls;
mod transport;
