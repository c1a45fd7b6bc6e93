//! Network rules: arbitrary `network = [...]` entries parsed, then names
//! and addresses checked against them as the sandbox does on every request.
//!
//! Checked: no panic, and the rules' documented semantics: no rules reach
//! nothing; names match ignoring case and one trailing dot; an IPv4-mapped
//! IPv6 address is judged as the IPv4 address it carries.
//!
//! The target is [`corral_fuzz::targets::net_rules`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::targets::net_rules::run(data));
