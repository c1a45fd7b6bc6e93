//! JSON Schemas derived from Rust types, in the shape MCP requires.
//!
//! - Dialect: JSON Schema draft 2020-12, stated in `$schema` (the MCP
//!   default dialect since 2025-11-25, and the one schemars emits).
//! - Self-contained: nested types live under the root's `$defs` and are
//!   referenced as `#/$defs/Name`; nothing points outside the document.
//! - An object at the top: MCP requires `"type": "object"` for both
//!   `inputSchema` and `outputSchema`. A schema with no `type` at its root
//!   (an enum of structs, say) gets `"type": "object"` added, which only
//!   narrows what it accepts to what MCP can send anyway. A root of any
//!   other type (a string, an array) is an error the tool author must fix.
//! - No root `title` or `description`: schemars fills them from the Rust
//!   type's name and doc comment, which are written for Rust readers (and
//!   may hold code examples); the model reads the tool's own name, title
//!   and description instead. Field doc comments stay: they are what the
//!   model reads about each argument, so write them for it.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};
use std::fmt;

/// The schema of `T` as a JSON value, before the object check.
pub(crate) fn schema_of<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>().to_value()
}

/// A derived schema whose root cannot describe a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnObject {
    /// The root `type` the schema declared instead (`"string"`, `["array", "null"]`, ...).
    pub found: String,
}

impl fmt::Display for NotAnObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MCP needs a JSON object here, but the Rust type's schema has type {}; \
             use a struct (or a map) instead",
            self.found
        )
    }
}

/// Ensures the schema's root says `"type": "object"`, as described in the module docs.
pub(crate) fn into_object_schema(schema: Value) -> Result<Value, NotAnObject> {
    let mut root = match schema {
        Value::Object(root) => root,
        // `true` is the schema that accepts anything; MCP still wants an object.
        Value::Bool(_) => Map::new(),
        other => {
            return Err(NotAnObject { found: other.to_string() });
        }
    };
    root.remove("title");
    root.remove("description");
    match root.get("type") {
        None => {
            root.insert("type".into(), Value::String("object".into()));
        }
        Some(Value::String(kind)) if kind == "object" => {}
        Some(other) => {
            return Err(NotAnObject { found: other.to_string() });
        }
    }
    Ok(Value::Object(root))
}

/// A property of a derived schema as it reads once the indirections of
/// schemars are undone: a `$ref` into the root's `$defs` is replaced by the
/// definition (the property's own keywords, such as the field's description
/// or default, win over the definition's), and the `null` alternative an
/// `Option` adds is removed (an `anyOf` with a `{"type": "null"}` branch, a
/// `"null"` in a type list, a `null` in an `enum`).
///
/// Whether the property was optional is what `required` says; it is not
/// recovered here.
pub(crate) fn resolve_property(property: &Value, defs: Option<&Map<String, Value>>) -> Value {
    let Value::Object(object) = property else {
        return property.clone();
    };
    let mut resolved = match object.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let definition = reference
                .strip_prefix("#/$defs/")
                .and_then(|name| defs.and_then(|defs| defs.get(name)));
            match definition {
                Some(definition) => overlay(resolve_property(definition, defs), object, "$ref"),
                // A reference outside `$defs` is left for the caller to refuse.
                None => return property.clone(),
            }
        }
        None => object.clone(),
    };
    for combinator in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = resolved.get(combinator) else {
            continue;
        };
        let is_null = |branch: &Value| branch.get("type").and_then(Value::as_str) == Some("null");
        if let [first, second] = branches.as_slice() {
            let other = match (is_null(first), is_null(second)) {
                (true, false) => second.clone(),
                (false, true) => first.clone(),
                _ => continue,
            };
            let outer = resolved.clone();
            let Value::Object(inner) = resolve_property(&other, defs) else {
                continue;
            };
            resolved = overlay(Value::Object(inner), &outer, combinator);
        }
    }
    if let Some(Value::Array(types)) = resolved.get("type") {
        let types: Vec<Value> = types.iter().filter(|kind| *kind != "null").cloned().collect();
        let kind = match <[Value; 1]>::try_from(types) {
            Ok([single]) => single,
            Err(several) => Value::Array(several),
        };
        resolved.insert("type".into(), kind);
    }
    if let Some(Value::Array(values)) = resolved.get_mut("enum") {
        values.retain(|value| !value.is_null());
    }
    Value::Object(resolved)
}

/// `base` with every keyword of `outer` but `skip` written over it.
fn overlay(base: Value, outer: &Map<String, Value>, skip: &str) -> Map<String, Value> {
    let mut merged = match base {
        Value::Object(base) => base,
        _ => Map::new(),
    };
    for (key, value) in outer {
        if key != skip {
            merged.insert(key.clone(), value.clone());
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Address {
        street: String,
    }

    /// Arguments with a nested type, an optional field and a doc comment.
    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Args {
        /// Where to send it.
        address: Address,
        limit: Option<u32>,
    }

    fn object_schema_of<T: JsonSchema>() -> Result<Value, NotAnObject> {
        into_object_schema(schema_of::<T>())
    }

    #[test]
    fn struct_schema_is_a_draft_2020_12_object() {
        let schema = object_schema_of::<Args>().unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }

    #[test]
    fn nested_types_are_defined_inside_the_schema() {
        let schema = object_schema_of::<Args>().unwrap();
        let reference = schema["properties"]["address"]["$ref"].as_str().unwrap();
        assert_eq!(reference, "#/$defs/Address");
        assert_eq!(schema["$defs"]["Address"]["type"], "object");
    }

    #[test]
    fn doc_comments_become_descriptions_and_options_are_not_required() {
        let schema = object_schema_of::<Args>().unwrap();
        assert_eq!(schema["properties"]["address"]["description"], "Where to send it.");
        assert_eq!(schema["required"], json!(["address"]));
    }

    #[test]
    fn deny_unknown_fields_forbids_additional_properties() {
        let schema = object_schema_of::<Args>().unwrap();
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn root_title_and_description_are_dropped_but_nested_ones_kept() {
        /// Rust-facing documentation of the type.
        #[allow(dead_code)]
        #[derive(JsonSchema)]
        struct Titled {
            #[schemars(title = "Nested title")]
            field: u8,
        }
        let schema = object_schema_of::<Titled>().unwrap();
        assert_eq!(schema.get("title"), None);
        assert_eq!(schema.get("description"), None);
        assert_eq!(schema["properties"]["field"]["title"], "Nested title");
    }

    #[test]
    fn untyped_root_is_declared_an_object() {
        #[allow(dead_code)]
        #[derive(JsonSchema)]
        #[serde(tag = "kind")]
        enum Shape {
            Circle { radius: f64 },
            Square { side: f64 },
        }
        let schema = object_schema_of::<Shape>().unwrap();
        assert_eq!(schema["type"], "object");
        assert!(schema.get("oneOf").is_some());
    }

    #[test]
    fn non_object_root_is_refused_with_its_type() {
        let error = object_schema_of::<String>().unwrap_err();
        assert_eq!(error.found, "\"string\"");
        assert!(error.to_string().contains("use a struct"));
    }

    #[test]
    fn array_root_is_refused() {
        let error = object_schema_of::<Vec<Address>>().unwrap_err();
        assert_eq!(error.found, "\"array\"");
    }

    #[test]
    fn optional_struct_root_is_narrowed_to_the_object() {
        // MCP never sends `null` arguments (the SDK reads absent ones as
        // `{}`), so declaring the root an object loses nothing.
        let schema = object_schema_of::<Option<Address>>().unwrap();
        assert_eq!(schema["type"], "object");
    }
}
