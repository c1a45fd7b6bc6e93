//! The configuration file: arbitrary text parsed and validated as `corral
//! check` and `corral serve` do, then every component's grants resolved.
//!
//! Checked: no panic; a refused file has an error message that names where.
//!
//! The target is [`corral_fuzz::targets::config`]; the test build replays
//! its corpus through the same function.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::targets::config::run(data));
