//! Checks of what a guest hands back: what it offers, at load, and the
//! size and shape of each result.

use super::LoadError;
use super::types::Offers;
use super::types::{Completion, Content, PromptResult, ResourceBody, ResourceContents};

/// Bytes a result puts on the wire, before JSON escaping; binary counts
/// as its base64.
pub(super) fn output_size(content: &[Content]) -> u64 {
    content.iter().map(content_size).sum()
}

fn content_size(content: &Content) -> u64 {
    let bytes = match content {
        Content::Text(t) => t.len(),
        Content::Image(b) | Content::Audio(b) => b.data.len() * 4 / 3 + b.mime_type.len(),
        Content::Resource(r) => r.uri.len() + contents_size(&r.contents),
        Content::ResourceLink(l) => l.uri.len() + l.name.len(),
    };
    bytes as u64
}

fn contents_size(contents: &ResourceContents) -> usize {
    match contents {
        ResourceContents::Text(t) => t.len(),
        ResourceContents::Blob(b) => b.len() * 4 / 3,
    }
}

/// What a resource read, prompt or completion puts on the wire, for the
/// output limit.
pub(super) trait OutputSize {
    fn output_size(&self) -> u64;
}

impl OutputSize for Vec<ResourceBody> {
    fn output_size(&self) -> u64 {
        self.iter().map(|b| (b.uri.len() + contents_size(&b.contents)) as u64).sum()
    }
}

impl OutputSize for PromptResult {
    fn output_size(&self) -> u64 {
        self.messages.iter().map(|m| content_size(&m.content)).sum::<u64>()
            + self.description.as_ref().map_or(0, |d| d.len() as u64)
    }
}

impl OutputSize for Completion {
    fn output_size(&self) -> u64 {
        self.values.iter().map(|v| v.len() as u64).sum()
    }
}

/// Structured content as raw JSON, if `text` is one JSON object. The text
/// is scanned once for validity and kept as it is (no tree is built).
pub(super) fn structured_object(text: String) -> Option<Box<serde_json::value::RawValue>> {
    let raw = serde_json::value::RawValue::from_string(text).ok()?;
    raw.get().trim_start().starts_with('{').then_some(raw)
}

/// MCP tool (and prompt) names: 1-128 characters of `A-Z a-z 0-9 _ - .`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Checks what a component declared: names well formed and unique per
/// kind, schemas JSON objects with `"type": "object"`, resource URIs and
/// templates non-empty. Whether URIs fit the component's namespace is the
/// registry's concern (it knows the namespace).
pub(super) fn validate_offers(component: &str, offers: &Offers) -> Result<(), LoadError> {
    let invalid = |what: String, message: String| LoadError::Invalid {
        component: component.to_owned(),
        what,
        message,
    };
    let mut seen = std::collections::HashSet::new();
    for tool in &offers.tools {
        let what = format!("tool {:?}", tool.name);
        if !is_valid_tool_name(&tool.name) {
            return Err(invalid(
                what,
                "name must be 1-128 characters of A-Z, a-z, 0-9, '_', '-', '.'".into(),
            ));
        }
        if !seen.insert(tool.name.as_str()) {
            return Err(invalid(what, "declared twice".into()));
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
                            what,
                            format!("{field} must have \"type\": \"object\""),
                        ));
                    }
                }
                Ok(_) => return Err(invalid(what, format!("{field} is not a JSON object"))),
                Err(err) => return Err(invalid(what, format!("{field} is not valid JSON: {err}"))),
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for prompt in &offers.prompts {
        let what = format!("prompt {:?}", prompt.name);
        if !is_valid_tool_name(&prompt.name) {
            return Err(invalid(
                what,
                "name must be 1-128 characters of A-Z, a-z, 0-9, '_', '-', '.'".into(),
            ));
        }
        if !seen.insert(prompt.name.as_str()) {
            return Err(invalid(what, "declared twice".into()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for resource in &offers.resources {
        let what = format!("resource {:?}", resource.uri);
        if resource.uri.is_empty() || resource.name.is_empty() {
            return Err(invalid(what, "uri and name must not be empty".into()));
        }
        if !seen.insert(resource.uri.as_str()) {
            return Err(invalid(what, "declared twice".into()));
        }
    }
    for template in &offers.templates {
        if template.uri_template.is_empty() || template.name.is_empty() {
            return Err(invalid(
                format!("resource template {:?}", template.uri_template),
                "uriTemplate and name must not be empty".into(),
            ));
        }
    }
    Ok(())
}
