//! Checks of what a guest hands back: its tool definitions at load, and
//! the size and shape of each result.

use super::{CallResult, Content, LoadError, ResourceContents, ToolDef};

/// Bytes a result puts on the wire, before JSON escaping.
pub(super) fn output_size(result: &CallResult) -> u64 {
    let content: usize = result
        .content
        .iter()
        .map(|c| match c {
            Content::Text(t) => t.len(),
            Content::Image(b) | Content::Audio(b) => b.data.len() * 4 / 3 + b.mime_type.len(),
            Content::Resource(r) => {
                r.uri.len()
                    + match &r.contents {
                        ResourceContents::Text(t) => t.len(),
                        ResourceContents::Blob(b) => b.len() * 4 / 3,
                    }
            }
            Content::ResourceLink(l) => l.uri.len() + l.name.len(),
        })
        .sum();
    (content + result.structured.as_ref().map_or(0, String::len)) as u64
}

/// Structured content as raw JSON, if `text` is one JSON object. The text
/// is scanned once for validity and kept as it is (no tree is built).
pub(super) fn structured_object(text: String) -> Option<Box<serde_json::value::RawValue>> {
    let raw = serde_json::value::RawValue::from_string(text).ok()?;
    raw.get().trim_start().starts_with('{').then_some(raw)
}

/// MCP tool names: 1-128 characters of `A-Z a-z 0-9 _ - .`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

pub(super) fn validate_tools(component: &str, tools: &[ToolDef]) -> Result<(), LoadError> {
    let invalid = |tool: &str, message: String| LoadError::InvalidTool {
        component: component.to_owned(),
        tool: tool.to_owned(),
        message,
    };
    let mut seen = std::collections::HashSet::new();
    for tool in tools {
        if !is_valid_tool_name(&tool.name) {
            return Err(invalid(
                &tool.name,
                "name must be 1-128 characters of A-Z, a-z, 0-9, '_', '-', '.'".into(),
            ));
        }
        if !seen.insert(tool.name.as_str()) {
            return Err(invalid(&tool.name, "declared twice".into()));
        }
        let schemas = [
            ("input-schema", Some(&tool.input_schema)),
            ("output-schema", tool.output_schema.as_ref()),
        ];
        for (field, schema) in schemas {
            let Some(schema) = schema else { continue };
            match serde_json::from_str::<serde_json::Value>(schema) {
                Ok(serde_json::Value::Object(map)) => {
                    if map.get("type").and_then(|t| t.as_str()) != Some("object") {
                        return Err(invalid(
                            &tool.name,
                            format!("{field} must have \"type\": \"object\""),
                        ));
                    }
                }
                Ok(_) => return Err(invalid(&tool.name, format!("{field} is not a JSON object"))),
                Err(err) => {
                    return Err(invalid(&tool.name, format!("{field} is not valid JSON: {err}")));
                }
            }
        }
    }
    Ok(())
}
