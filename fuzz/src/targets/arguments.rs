//! A tool's arguments checked against its `inputSchema`, and its
//! `x-mcp-header` declarations against a request's `Mcp-Param-*` headers.
//! The schema is one of the shapes tools declare (with header
//! declarations) or arbitrary JSON, as a native server could send it; the
//! arguments and headers are a client's.
//!
//! Checked: no panic; a refused schema or mismatch is an error with a message.

use arbitrary::Arbitrary;
use corral::mcp::HttpFacts;
use corral::mcp::envelope::check_param_headers;
use corral::schema::InputSchema;
use serde_json::{Value, json};

#[derive(Arbitrary, Debug)]
enum Schema {
    Fixed(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    schema: Schema,
    arguments: String,
    headers: Vec<(String, String)>,
}

fn fixed(which: u8) -> Value {
    match which % 4 {
        0 => json!({
            "type": "object",
            "properties": {
                "region": { "type": "string", "x-mcp-header": "Region" },
                "count": { "type": "integer", "minimum": 0, "x-mcp-header": "Count" },
                "dry_run": { "type": "boolean", "x-mcp-header": "Dry-Run" },
                "nested": { "type": "object", "properties": {
                    "zone": { "type": "string", "x-mcp-header": "Zone" }
                }}
            },
            "required": ["region"]
        }),
        1 => json!({
            "type": "object",
            "properties": {
                "path": { "type": "string", "maxLength": 4096 },
                "lines": { "type": "array", "items": { "type": "integer" }, "maxItems": 8 },
                "mode": { "enum": ["read", "write"] }
            },
            "required": ["path"],
            "additionalProperties": false
        }),
        2 => json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "definitions": { "item": { "type": ["string", "null"], "pattern": "^[a-z]+$" } },
            "properties": { "items": { "type": "array", "items": { "$ref": "#/definitions/item" } } }
        }),
        _ => json!({ "type": "object" }),
    }
}

/// One input, as libFuzzer hands it to the target.
pub fn run(data: &[u8]) {
    let Some(input) = super::arbitrary::<Input>(data) else { return };
    let schema = match input.schema {
        Schema::Fixed(which) => fixed(which),
        Schema::Text(text) => match serde_json::from_str(&text) {
            Ok(schema) => schema,
            Err(_) => return,
        },
    };
    let compiled = match InputSchema::compile(&schema) {
        Ok(compiled) => compiled,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    let Ok(arguments) = serde_json::from_str::<Value>(&input.arguments) else { return };
    if let Err(message) = compiled.check("tool", &arguments) {
        assert!(message.starts_with("invalid arguments for tool \"tool\""), "{message}");
    }
    let facts = HttpFacts {
        session_id: None,
        protocol_version: Some("2026-07-28".into()),
        method: Some("tools/call".into()),
        name: Some("tool".into()),
        params: input
            .headers
            .into_iter()
            .map(|(name, value)| (format!("mcp-param-{}", name.to_ascii_lowercase()), value))
            .collect(),
        repeated: None,
    };
    let _ = check_param_headers(compiled.params(), &arguments, &facts);
}
