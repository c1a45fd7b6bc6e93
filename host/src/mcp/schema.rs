//! Argument validation: every tool's `inputSchema`, compiled once at start.
//!
//! - The draft is the schema's `$schema`, else JSON Schema 2020-12 (the MCP
//!   2025-11-25 default dialect).
//! - Remote `$ref`s are never fetched (the crate's HTTP and file resolvers
//!   are compiled out), so a schema cannot make the host reach the network.
//! - A schema that does not compile is a start-up error naming the tool.
//! - A mismatch is reported to the model as an `isError` result listing up
//!   to [`MAX_REPORTED_ERRORS`] problems with their JSON pointers; the guest
//!   never runs.

use std::collections::HashMap;

use serde_json::Value;

use crate::registry::Registry;

/// Problems listed in one validation failure message.
pub const MAX_REPORTED_ERRORS: usize = 5;

/// A tool's `inputSchema` is not a usable JSON Schema.
#[derive(Debug, thiserror::Error)]
#[error("tool {tool:?}: inputSchema is not a valid JSON Schema: {message}")]
pub struct SchemaError {
    /// The exposed tool name.
    pub tool: String,
    /// What the schema compiler said.
    pub message: String,
}

/// The compiled `inputSchema` of every tool.
pub struct ArgumentValidators {
    by_tool: HashMap<String, jsonschema::Validator>,
}

impl ArgumentValidators {
    /// Compiles every tool's `inputSchema`.
    pub fn compile(registry: &Registry) -> Result<ArgumentValidators, SchemaError> {
        let mut by_tool = HashMap::new();
        for entry in registry.tools() {
            let schema: Value = serde_json::from_str(&entry.def.input_schema).map_err(|err| {
                SchemaError { tool: entry.name.clone(), message: err.to_string() }
            })?;
            let validator = jsonschema::validator_for(&schema).map_err(|err| SchemaError {
                tool: entry.name.clone(),
                message: err.to_string(),
            })?;
            by_tool.insert(entry.name.clone(), validator);
        }
        Ok(ArgumentValidators { by_tool })
    }

    /// Checks `arguments` against `tool`'s schema; `Err` is the message for
    /// the `isError` result. A tool without a compiled schema passes.
    pub fn check(&self, tool: &str, arguments: &Value) -> Result<(), String> {
        match self.by_tool.get(tool) {
            Some(validator) => check_arguments(validator, tool, arguments),
            None => Ok(()),
        }
    }
}

/// Checks `arguments` against one compiled schema; `Err` is the message for
/// the `isError` result, listing up to [`MAX_REPORTED_ERRORS`] problems.
pub fn check_arguments(
    validator: &jsonschema::Validator,
    tool: &str,
    arguments: &Value,
) -> Result<(), String> {
    let problems: Vec<String> = validator
        .iter_errors(arguments)
        .take(MAX_REPORTED_ERRORS + 1)
        .map(|err| {
            let path = err.instance_path().to_string();
            if path.is_empty() { err.to_string() } else { format!("{path}: {err}") }
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    let shown = problems.len().min(MAX_REPORTED_ERRORS);
    let more = if problems.len() > MAX_REPORTED_ERRORS { "; ..." } else { "" };
    Err(format!(
        "invalid arguments for tool {tool:?} (they do not match its inputSchema): {}{more}",
        problems[..shown].join("; ")
    ))
}
