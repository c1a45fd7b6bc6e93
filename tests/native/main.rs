//! Native MCP servers through `corral serve`, with a real Docker engine and
//! a locally built image (nothing is pulled): listing and calling, the
//! hardening flags read back with `docker inspect`, restarts and the
//! circuit breaker, timeouts, oversized messages, a missing image, leftover
//! containers, and the `process` launcher against the official Python SDK.
//!
//! These tests need `docker info` to succeed (`bash .ci/run` installs and
//! starts an engine) and the `x86_64-unknown-linux-musl` Rust target; they
//! fail, never skip, without them.
//!
//! | file | what it specifies |
//! | --- | --- |
//! | `cli.rs` | `corral check` and `corral serve` with native servers |
//! | `docker.rs` | the docker launcher end to end |
//! | `process.rs` | the process launcher with a third-party server |
//! | `engine.rs` | a private docker engine a test may stop and start |
//! | `fixture.rs` | the native-echo binary and image, configs, waiting for states |

mod cli;
mod docker;
mod engine;
mod fixture;
mod process;
#[allow(dead_code)]
#[path = "../http/support.rs"]
mod support;
