//! One module per fuzz target, each a function of the input's bytes:
//! `run(data)`, and `init()` where the target builds a host first. A
//! target's input type is read from the bytes as libFuzzer's
//! `fuzz_target!` reads it ([`arbitrary`]), so an input of a committed
//! corpus means the same thing when the test build replays it.

pub mod arguments;
pub mod config;
pub mod guest_result;
pub mod mcp_http;
pub mod mcp_stdio;
pub mod native_client;
pub mod net_rules;

use arbitrary::{Arbitrary, Unstructured};

pub(crate) use super::{config as host_config, runtime};

/// A target: its name, what it does once before the first input, and what
/// it does with each input.
pub type Target = (&'static str, fn(), fn(&[u8]));

/// Every target.
pub const ALL: [Target; 7] = [
    ("arguments", || {}, arguments::run),
    ("config", || {}, config::run),
    ("guest_result", || {}, guest_result::run),
    ("mcp_http", mcp_http::init, mcp_http::run),
    ("mcp_stdio", mcp_stdio::init, mcp_stdio::run),
    ("native_client", || {}, native_client::run),
    ("net_rules", || {}, net_rules::run),
];

/// The input `fuzz_target!(|input: T| ...)` would get from `data`: `None`
/// where libfuzzer-sys skips it (too short for `T`, or not readable as one).
pub fn arbitrary<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> Option<T> {
    if data.len() < T::size_hint(0).0 {
        return None;
    }
    T::arbitrary_take_rest(Unstructured::new(data)).ok()
}
