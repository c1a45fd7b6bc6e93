//! Calling a loaded component and reading its answer, shared by the test
//! crates that drive the sandbox directly (`tests/sandbox.rs`,
//! `tests/network.rs`).

use corral::sandbox::{CallReport, Content, LoadedComponent, Sandbox};
use serde_json::Value;

/// Calls `tool` with `args` in a fresh instance.
pub async fn call(sandbox: &Sandbox, c: &LoadedComponent, tool: &str, args: Value) -> CallReport {
    sandbox.call(c, tool, &args.to_string(), None).await
}

/// The text items of a call's result, one per line; a failure's message.
pub fn text(report: &CallReport) -> String {
    match &report.result {
        Ok(result) => result_text(&result.content),
        Err(failure) => failure.message.clone(),
    }
}

/// The text items of `content`, one per line.
pub fn result_text(content: &[Content]) -> String {
    content
        .iter()
        .filter_map(|c| match c {
            Content::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the call's result is an error (the tool's own, or a failure).
#[allow(dead_code)]
pub fn is_error(report: &CallReport) -> bool {
    report.result.as_ref().map_or(true, |result| result.is_error)
}

/// The call's structured content; panics if there is none.
#[allow(dead_code)]
pub fn structured(report: &CallReport) -> Value {
    let result = report.result.as_ref().expect("the tool returned a result");
    let raw = result.structured.as_ref().expect("structured content");
    serde_json::from_str(raw.get()).expect("structured content is JSON")
}
