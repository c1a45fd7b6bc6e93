//! MCP shapes: tool definitions and tool results as the protocol's JSON
//! (revision 2025-11-25), independent of any transport.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use crate::registry::ToolEntry;
use crate::sandbox::{Annotations, CallResult, Content, ResourceContents};

/// The MCP `Tool` object for an exposed tool.
pub fn tool_json(entry: &ToolEntry) -> Value {
    let def = &entry.def;
    let mut tool = Map::new();
    tool.insert("name".into(), entry.name.clone().into());
    if let Some(title) = &def.title {
        tool.insert("title".into(), title.clone().into());
    }
    tool.insert("description".into(), def.description.clone().into());
    // Schemas were checked to be JSON objects when the component loaded.
    tool.insert("inputSchema".into(), serde_json::from_str(&def.input_schema).unwrap_or_default());
    if let Some(schema) = &def.output_schema {
        tool.insert("outputSchema".into(), serde_json::from_str(schema).unwrap_or_default());
    }
    if let Some(annotations) = annotations_json(&def.annotations) {
        tool.insert("annotations".into(), annotations);
    }
    Value::Object(tool)
}

fn annotations_json(a: &Annotations) -> Option<Value> {
    let hints = [
        ("readOnlyHint", a.read_only),
        ("destructiveHint", a.destructive),
        ("idempotentHint", a.idempotent),
        ("openWorldHint", a.open_world),
    ];
    let map: Map<String, Value> =
        hints.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), Value::Bool(v)))).collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

/// The MCP `CallToolResult` object for a result.
pub fn call_result_json(result: &CallResult) -> Value {
    let content: Vec<Value> = result.content.iter().map(content_json).collect();
    let mut out = Map::new();
    out.insert("content".into(), Value::Array(content));
    if let Some(structured) = &result.structured {
        // Checked to be a JSON object when the call returned.
        out.insert(
            "structuredContent".into(),
            serde_json::from_str(structured).unwrap_or_default(),
        );
    }
    out.insert("isError".into(), Value::Bool(result.is_error));
    Value::Object(out)
}

fn content_json(content: &Content) -> Value {
    match content {
        Content::Text(text) => json!({ "type": "text", "text": text }),
        Content::Image(blob) => {
            json!({ "type": "image", "data": BASE64.encode(&blob.data), "mimeType": blob.mime_type })
        }
        Content::Audio(blob) => {
            json!({ "type": "audio", "data": BASE64.encode(&blob.data), "mimeType": blob.mime_type })
        }
        Content::Resource(r) => {
            let mut resource = Map::new();
            resource.insert("uri".into(), r.uri.clone().into());
            if let Some(mime) = &r.mime_type {
                resource.insert("mimeType".into(), mime.clone().into());
            }
            match &r.contents {
                ResourceContents::Text(text) => resource.insert("text".into(), text.clone().into()),
                ResourceContents::Blob(bytes) => {
                    resource.insert("blob".into(), BASE64.encode(bytes).into())
                }
            };
            json!({ "type": "resource", "resource": resource })
        }
        Content::ResourceLink(link) => {
            let mut out = Map::new();
            out.insert("type".into(), "resource_link".into());
            out.insert("uri".into(), link.uri.clone().into());
            out.insert("name".into(), link.name.clone().into());
            let optional = [
                ("title", link.title.clone().map(Value::from)),
                ("description", link.description.clone().map(Value::from)),
                ("mimeType", link.mime_type.clone().map(Value::from)),
                ("size", link.size.map(Value::from)),
            ];
            for (key, value) in optional {
                if let Some(value) = value {
                    out.insert(key.into(), value);
                }
            }
            Value::Object(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{Blob, EmbeddedResource};

    #[test]
    fn image_content_is_base64_with_mime_type() {
        let result = CallResult {
            content: vec![Content::Image(Blob {
                data: vec![1, 2, 3],
                mime_type: "image/png".into(),
            })],
            structured: None,
            is_error: false,
        };
        assert_eq!(
            call_result_json(&result),
            json!({ "content": [{ "type": "image", "data": "AQID", "mimeType": "image/png" }], "isError": false })
        );
    }

    #[test]
    fn embedded_text_resource_and_structured_content() {
        let result = CallResult {
            content: vec![Content::Resource(EmbeddedResource {
                uri: "test://r".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text("hi".into()),
            })],
            structured: Some(r#"{"n":1}"#.into()),
            is_error: true,
        };
        assert_eq!(
            call_result_json(&result),
            json!({
                "content": [{ "type": "resource", "resource": { "uri": "test://r", "mimeType": "text/plain", "text": "hi" } }],
                "structuredContent": { "n": 1 },
                "isError": true
            })
        );
    }
}
