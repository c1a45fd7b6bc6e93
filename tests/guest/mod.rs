//! Calling a loaded component and reading its answer, shared by the test
//! crates that drive the sandbox directly (`tests/sandbox.rs`,
//! `tests/network.rs`).

use corral::sandbox::{CallReport, CallResult, Content, LoadedComponent, Sandbox};
use serde_json::Value;

/// Calls `tool` with `args` in a fresh instance.
pub async fn call(sandbox: &Sandbox, c: &LoadedComponent, tool: &str, args: Value) -> CallReport {
    sandbox.call(c, tool, &args.to_string(), None).await
}

/// The text items of a call's result, one per line.
pub fn text(report: &CallReport) -> String {
    result_text(&report.result)
}

/// The text items of `result`, one per line.
pub fn result_text(result: &CallResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| match c {
            Content::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
