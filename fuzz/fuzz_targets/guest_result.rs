//! A hostile guest's `call-result`, as any component could return it:
//! checked by the sandbox (output limit, structured content) and written as
//! an MCP `CallToolResult` for both protocol generations.
//!
//! Checked: no panic; the response is JSON; a refused result is an
//! `isError` result; an accepted one carries every content item and the
//! structured content exactly as the guest wrote it.
//!
//! The target is [`corral_fuzz::targets::guest_result`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::targets::guest_result::run(data));
