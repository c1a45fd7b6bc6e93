//! A tool's arguments checked against its `inputSchema`, and its
//! `x-mcp-header` declarations against a request's `Mcp-Param-*` headers.
//! The schema is one of the shapes tools declare (with header
//! declarations) or arbitrary JSON, as a native server could send it; the
//! arguments and headers are a client's.
//!
//! Checked: no panic; a refused schema or mismatch is an error with a message.
//!
//! The target is [`corral_fuzz::targets::arguments`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::targets::arguments::run(data));
