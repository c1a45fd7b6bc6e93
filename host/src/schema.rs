//! A tool's `inputSchema`, compiled once when the tool is installed: the
//! validator its arguments are checked against before any backend runs,
//! and the `x-mcp-header` parameters it declares.
//!
//! Validation:
//!
//! - The draft is the schema's `$schema`, else JSON Schema 2020-12 (the MCP
//!   default dialect).
//! - Remote `$ref`s are never fetched (the crate's HTTP and file resolvers
//!   are compiled out), so a schema cannot make the host reach the network.
//! - A mismatch is reported to the model as an `isError` result listing up
//!   to [`MAX_REPORTED_ERRORS`] problems with their JSON pointers; the tool
//!   never runs.
//!
//! `x-mcp-header` (MCP 2026-07-28, Streamable HTTP): a property may ask
//! clients to mirror its value into an `Mcp-Param-<token>` header, so that
//! proxies can route on it. A declaration is valid only when
//!
//! - it sits on a property reached from the root through `properties`
//!   alone (not under `items`, `allOf`, `$defs` and the like);
//! - the token is an RFC 9110 token (`A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~`);
//! - the property's `type` is `string`, `integer` or `boolean`;
//! - no other declaration uses the same token, ignoring case.
//!
//! A schema breaking one of these is refused with the reason ([`SchemaError`]),
//! as clients would drop the tool. The walk over the schema never follows a
//! `$ref` and uses an explicit stack, so any finite JSON terminates.

use serde_json::{Map, Value};

/// Problems listed in one validation failure message.
pub const MAX_REPORTED_ERRORS: usize = 5;

/// The schema annotation that declares an `Mcp-Param-*` header.
pub const X_MCP_HEADER: &str = "x-mcp-header";

/// A tool's `inputSchema` cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    /// It is not a JSON Schema the validator accepts.
    #[error("inputSchema is not a valid JSON Schema: {0}")]
    Invalid(String),
    /// An `x-mcp-header` declaration breaks the rules in the module doc.
    #[error("inputSchema: {0}")]
    Header(String),
}

/// The JSON type of a property carrying `x-mcp-header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `"type": "string"`.
    String,
    /// `"type": "integer"`.
    Integer,
    /// `"type": "boolean"`.
    Boolean,
}

/// One `x-mcp-header` declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamHeader {
    /// The property names from the root to the annotated property.
    pub path: Vec<String>,
    /// The header as declared: `Mcp-Param-<token>`.
    pub header: String,
    /// The property's type.
    pub kind: ParamType,
}

/// A compiled `inputSchema`.
pub struct InputSchema {
    validator: Option<jsonschema::Validator>,
    params: Vec<ParamHeader>,
}

impl std::fmt::Debug for InputSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSchema")
            .field("checked", &self.validator.is_some())
            .field("params", &self.params)
            .finish()
    }
}

impl InputSchema {
    /// Compiles `schema` and reads its `x-mcp-header` declarations.
    pub fn compile(schema: &Value) -> Result<InputSchema, SchemaError> {
        let params = param_headers(schema).map_err(SchemaError::Header)?;
        let validator =
            jsonschema::validator_for(schema).map_err(|e| SchemaError::Invalid(e.to_string()))?;
        Ok(InputSchema { validator: Some(validator), params })
    }

    /// A schema that checks nothing: for a native server's tool whose
    /// schema does not compile (logged where it is installed).
    pub fn unchecked() -> InputSchema {
        InputSchema { validator: None, params: Vec::new() }
    }

    /// The `x-mcp-header` declarations.
    pub fn params(&self) -> &[ParamHeader] {
        &self.params
    }

    /// Checks `arguments`; `Err` is the message for the `isError` result.
    pub fn check(&self, tool: &str, arguments: &Value) -> Result<(), String> {
        let Some(validator) = &self.validator else { return Ok(()) };
        // The usual case, answered without collecting anything.
        if validator.is_valid(arguments) {
            return Ok(());
        }
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
}

/// The `x-mcp-header` declarations of `schema`, or why one is invalid.
pub fn param_headers(schema: &Value) -> Result<Vec<ParamHeader>, String> {
    let mut found: Vec<ParamHeader> = Vec::new();
    // (path from the root through `properties` only, or None once another
    // applicator was crossed; the schema at that position)
    let mut stack: Vec<(Option<Vec<String>>, &Value)> = vec![(Some(Vec::new()), schema)];
    while let Some((path, node)) = stack.pop() {
        let Value::Object(node) = node else { continue };
        if let Some(token) = node.get(X_MCP_HEADER) {
            found.push(declaration(path.as_deref(), token, node, &found)?);
        }
        for (keyword, value) in node {
            match (keyword.as_str(), value) {
                ("properties", Value::Object(properties)) => {
                    for (name, sub) in properties {
                        let sub_path = path.as_ref().map(|p| {
                            let mut p = p.clone();
                            p.push(name.clone());
                            p
                        });
                        stack.push((sub_path, sub));
                    }
                }
                (
                    "items"
                    | "contains"
                    | "unevaluatedItems"
                    | "additionalProperties"
                    | "propertyNames"
                    | "unevaluatedProperties"
                    | "not"
                    | "if"
                    | "then"
                    | "else"
                    | "contentSchema",
                    sub,
                ) => stack.push((None, sub)),
                ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(subs)) => {
                    stack.extend(subs.iter().map(|sub| (None, sub)));
                }
                (
                    "patternProperties" | "dependentSchemas" | "$defs" | "definitions",
                    Value::Object(subs),
                ) => stack.extend(subs.values().map(|sub| (None, sub))),
                _ => {}
            }
        }
    }
    Ok(found)
}

fn declaration(
    path: Option<&[String]>,
    token: &Value,
    schema: &Map<String, Value>,
    earlier: &[ParamHeader],
) -> Result<ParamHeader, String> {
    let path = match path {
        Some(path) if !path.is_empty() => path,
        _ => {
            return Err(format!(
                "{X_MCP_HEADER} must sit on a property reached from the root through \"properties\" only"
            ));
        }
    };
    let at = path.join(".");
    let Value::String(token) = token else {
        return Err(format!("property {at:?}: {X_MCP_HEADER} must be a string"));
    };
    if !is_token(token) {
        return Err(format!("property {at:?}: {X_MCP_HEADER} {token:?} is not an RFC 9110 token"));
    }
    let kind = match schema.get("type").and_then(Value::as_str) {
        Some("string") => ParamType::String,
        Some("integer") => ParamType::Integer,
        Some("boolean") => ParamType::Boolean,
        _ => {
            return Err(format!(
                "property {at:?}: {X_MCP_HEADER} is only allowed on string, integer and boolean properties"
            ));
        }
    };
    let header = format!("Mcp-Param-{token}");
    if let Some(other) = earlier.iter().find(|p| p.header.eq_ignore_ascii_case(&header)) {
        return Err(format!(
            "property {at:?}: {X_MCP_HEADER} {token:?} is also declared on {:?}",
            other.path.join(".")
        ));
    }
    Ok(ParamHeader { path: path.to_vec(), header, kind })
}

/// RFC 9110 §5.6.2 `token`: the characters allowed in a header name.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_top_level_string_property_declares_a_header() {
        let schema = json!({ "type": "object", "properties": {
            "region": { "type": "string", "x-mcp-header": "Region" },
            "n": { "type": "integer" }
        }});
        let params = param_headers(&schema).unwrap();
        assert_eq!(
            params,
            vec![ParamHeader {
                path: vec!["region".into()],
                header: "Mcp-Param-Region".into(),
                kind: ParamType::String
            }]
        );
    }

    #[test]
    fn nested_properties_keep_their_path() {
        let schema = json!({ "type": "object", "properties": { "a": { "type": "object",
            "properties": { "b": { "type": "boolean", "x-mcp-header": "B" } } } } });
        assert_eq!(param_headers(&schema).unwrap()[0].path, vec!["a", "b"]);
    }

    #[test]
    fn a_declaration_under_items_or_defs_is_refused() {
        for schema in [
            json!({ "type": "object", "properties": { "l": { "type": "array", "items": { "type": "string", "x-mcp-header": "L" } } } }),
            json!({ "type": "object", "$defs": { "d": { "type": "string", "x-mcp-header": "D" } } }),
            json!({ "type": "object", "x-mcp-header": "Root" }),
        ] {
            let err = param_headers(&schema).unwrap_err();
            assert!(err.contains("through \"properties\" only"), "{err}");
        }
    }

    #[test]
    fn bad_tokens_types_and_duplicates_are_refused_naming_the_property() {
        let bad_token = json!({ "type": "object", "properties": { "r": { "type": "string", "x-mcp-header": "a b" } } });
        assert_eq!(
            param_headers(&bad_token).unwrap_err(),
            "property \"r\": x-mcp-header \"a b\" is not an RFC 9110 token"
        );
        let number = json!({ "type": "object", "properties": { "r": { "type": "number", "x-mcp-header": "R" } } });
        assert!(param_headers(&number).unwrap_err().contains("only allowed on string"));
        let twice = json!({ "type": "object", "properties": {
            "a": { "type": "string", "x-mcp-header": "X" },
            "b": { "type": "string", "x-mcp-header": "x" } } });
        assert!(param_headers(&twice).unwrap_err().contains("is also declared on"));
    }

    #[test]
    fn arguments_are_checked_against_the_schema() {
        let schema = json!({ "type": "object", "properties": { "n": { "type": "integer" } }, "required": ["n"] });
        let compiled = InputSchema::compile(&schema).unwrap();
        assert_eq!(compiled.check("t", &json!({ "n": 1 })), Ok(()));
        let err = compiled.check("t", &json!({ "n": "x" })).unwrap_err();
        assert!(err.starts_with("invalid arguments for tool \"t\""), "{err}");
        assert!(InputSchema::unchecked().check("t", &json!({ "n": "x" })).is_ok());
    }

    #[test]
    fn a_schema_that_does_not_compile_is_an_error() {
        let schema = json!({ "type": "object", "properties": { "n": { "type": 12 } } });
        assert!(matches!(InputSchema::compile(&schema), Err(SchemaError::Invalid(_))));
    }
}
