//! The native-server client: arbitrary bytes as a native MCP server's
//! stdout, line by line, while the host has an `initialize`, a
//! `tools/list`, a `tools/call` and a `resources/read` waiting for answers
//! (ids 1 to 4; a list's further pages take the next ids). The server's own
//! requests (sampling, elicitation, roots) reach the call's event sink and
//! are answered with an error, as a client without the capability would.
//!
//! Checked: no panic; every request ends (answered, refused or closed) once
//! the server's output ends; what the host writes to the server is JSON-RPC.
//!
//! The target is [`corral_fuzz::targets::native_client`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::targets::native_client::run(data));
