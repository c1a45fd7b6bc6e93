//! A component of the old contract, `corral:mcp@0.1.0` world `tool`
//! (`guest-sdk/wit-0.1.0`), written against `wit-bindgen` directly rather
//! than the SDK (which follows the current contract), as a fixture for the
//! host's test that 0.1.0 components still load and run.
//!
//! | tool | does |
//! | --- | --- |
//! | `echo {text}` | returns `text` |
//! | `log {message}` | logs `message` at `info` through the 0.1.0 `host` import, returns `logged` |

mod bindings {
    // Generated code: its items carry the WIT doc comments, not ours.
    #![allow(missing_docs, clippy::all)]

    wit_bindgen::generate!({
        path: "../../guest-sdk/wit-0.1.0",
        world: "tool",
    });
}

use bindings::corral::mcp::host;
use bindings::corral::mcp::types::{
    Annotations, CallError, CallResult, Content, LogLevel, ToolDef,
};
use bindings::exports::corral::mcp::tools::Guest;
use serde_json::Value;

/// Implements `corral:mcp/tools@0.1.0`.
pub struct LegacyTool;

impl Guest for LegacyTool {
    fn list_tools() -> Vec<ToolDef> {
        vec![
            definition("echo", "Return the text given", "text", "The text to return"),
            definition(
                "log",
                "Log a message at info level, then answer `logged`",
                "message",
                "What to log",
            ),
        ]
    }

    fn call_tool(name: String, arguments: String) -> Result<CallResult, CallError> {
        match name.as_str() {
            "echo" => Ok(text_result(string_argument(&arguments, "text")?)),
            "log" => {
                host::log(LogLevel::Info, &string_argument(&arguments, "message")?);
                Ok(text_result("logged".to_owned()))
            }
            other => Err(CallError::UnknownTool(format!(
                "no tool named `{other}` in this component; it has: echo, log"
            ))),
        }
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(LegacyTool with_types_in bindings);

/// A tool taking one required string argument.
fn definition(name: &str, description: &str, argument: &str, about: &str) -> ToolDef {
    let schema = serde_json::json!({
        "type": "object",
        "properties": { argument: { "type": "string", "description": about } },
        "required": [argument],
    });
    ToolDef {
        name: name.to_owned(),
        title: None,
        description: description.to_owned(),
        input_schema: schema.to_string(),
        output_schema: None,
        annotations: Annotations {
            read_only: Some(true),
            destructive: None,
            idempotent: Some(true),
            open_world: Some(false),
        },
    }
}

/// The string argument `name` of a call's JSON arguments.
fn string_argument(arguments: &str, name: &str) -> Result<String, CallError> {
    let arguments: Value = serde_json::from_str(arguments)
        .map_err(|error| CallError::InvalidArguments(format!("arguments are not JSON: {error}")))?;
    match arguments.get(name) {
        Some(Value::String(value)) => Ok(value.clone()),
        Some(other) => {
            Err(CallError::InvalidArguments(format!("`{name}` must be a string, not {other}")))
        }
        None => Err(CallError::InvalidArguments(format!("missing field `{name}`"))),
    }
}

fn text_result(text: String) -> CallResult {
    CallResult { content: vec![Content::Text(text)], structured: None, is_error: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_returns_its_text() {
        let result = LegacyTool::call_tool("echo".into(), r#"{"text": "hi"}"#.into()).unwrap();
        assert!(matches!(result.content.as_slice(), [Content::Text(text)] if text == "hi"));
    }

    #[test]
    fn echo_without_text_is_invalid_arguments() {
        let error = LegacyTool::call_tool("echo".into(), "{}".into()).unwrap_err();
        assert!(
            matches!(error, CallError::InvalidArguments(message) if message == "missing field `text`")
        );
    }

    #[test]
    fn unknown_tools_are_named() {
        let error = LegacyTool::call_tool("nope".into(), "{}".into()).unwrap_err();
        assert!(
            matches!(error, CallError::UnknownTool(message) if message.starts_with("no tool named `nope`"))
        );
    }

    #[test]
    fn both_tools_are_listed_with_object_schemas() {
        let definitions = LegacyTool::list_tools();
        let names: Vec<_> = definitions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["echo", "log"]);
        for definition in definitions {
            let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
            assert_eq!(schema["type"], "object");
        }
    }
}
