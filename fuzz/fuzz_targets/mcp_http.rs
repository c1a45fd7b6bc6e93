//! The HTTP door and the MCP core behind it: one request with arbitrary
//! method, path, MCP headers and body, answered as a connection would be
//! (`Server::respond`). A 2025-11-25 session the host handed out earlier in
//! the run can be named, so that session paths are reached too.
//!
//! Checked: no panic; a JSON answer is JSON; every SSE event's data is JSON.
//!
//! The target is [`corral_fuzz::targets::mcp_http`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: corral_fuzz::targets::mcp_http::init(),
    |data: &[u8]| corral_fuzz::targets::mcp_http::run(data)
);
