//! The stdio door and the MCP core behind it: arbitrary bytes as a desktop
//! client's stdin (both protocol generations, any framing), until EOF.
//!
//! Checked: no panic; every line the host writes is one JSON-RPC message.
//!
//! The target is [`corral_fuzz::targets::mcp_stdio`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: corral_fuzz::targets::mcp_stdio::init(),
    |data: &[u8]| corral_fuzz::targets::mcp_stdio::run(data)
);
