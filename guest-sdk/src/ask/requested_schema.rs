//! The form of an elicitation, derived from the answer's Rust type in the
//! restricted shape MCP allows.
//!
//! See [`requested_schema`] for the form and how each field is sent.

use super::AskError;
use crate::schema::{resolve_property, schema_of};
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

/// The requested schema an elicitation with answer type `T` sends.
///
/// MCP elicitation forms are a flat object whose properties are primitive:
///
/// | Rust field | property sent |
/// | --- | --- |
/// | `String` | `{"type": "string"}`, with `format`, `minLength`, `maxLength` if the schema says |
/// | integers | `{"type": "integer"}`, with `minimum`, `maximum` |
/// | `f32`, `f64` | `{"type": "number"}`, with `minimum`, `maximum` |
/// | `bool` | `{"type": "boolean"}` |
/// | an enum of unit variants | `{"type": "string", "enum": [...]}`, or `"oneOf": [{"const", "title"}]` when a variant has `#[schemars(title = "...")]` |
/// | `Vec` (or a set) of such an enum | `{"type": "array", "items": {"type": "string", "enum": [...]}}`, or `"items": {"anyOf": [{"const", "title"}]}` |
/// | `Option<T>` | as `T`, and not in `required` |
///
/// Every property keeps its `title`, `description` (from the field's doc
/// comment) and `default` (from `#[serde(default = ...)]`). The root keeps
/// only `type`, `properties` and `required`: its `$schema`, `title`,
/// `description` and `$defs` are dropped, enums are written inline, and
/// keywords MCP does not define for a form (`format: "uint32"`,
/// `uniqueItems`, `additionalProperties`) are left out. Anything else (a
/// nested struct, a list of strings, a map) cannot be asked, and is refused
/// with a message naming the field.
///
/// Properties are listed in the order `serde_json` keeps them, which is
/// sorted by name unless its `preserve_order` feature is on.
///
/// Public so that a tool's tests can check the form it asks for:
///
/// ```
/// use corral_sdk::requested_schema;
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use serde_json::json;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Confirm {
///     /// Check to go ahead.
///     confirm: bool,
/// }
///
/// assert_eq!(
///     requested_schema::<Confirm>().unwrap(),
///     json!({
///         "type": "object",
///         "properties": {
///             "confirm": { "type": "boolean", "description": "Check to go ahead." }
///         },
///         "required": ["confirm"]
///     })
/// );
/// ```
pub fn requested_schema<T: JsonSchema>() -> Result<Value, AskError> {
    restrict(&schema_of::<T>())
}

/// The restricted form of a derived root schema.
fn restrict(root: &Value) -> Result<Value, AskError> {
    if root.get("type").and_then(Value::as_str) != Some("object") {
        return Err(AskError::InvalidQuestion(format!(
            "an elicitation asks for a struct of fields; this type's schema is {root}"
        )));
    }
    let defs = root.get("$defs").and_then(Value::as_object);
    let mut properties = Map::new();
    if let Some(fields) = root.get("properties").and_then(Value::as_object) {
        for (name, property) in fields {
            let restricted = restrict_property(&resolve_property(property, defs), defs)
                .map_err(|reason| AskError::InvalidQuestion(format!("field `{name}`: {reason}")))?;
            properties.insert(name.clone(), restricted);
        }
    }
    let mut form = json!({ "type": "object", "properties": properties });
    if let Some(required) = root.get("required").filter(|required| required != &&json!([])) {
        form["required"] = required.clone();
    }
    Ok(form)
}

/// Why a field cannot be asked.
const PRIMITIVES_ONLY: &str = "an elicitation form holds only strings, numbers, integers, \
                               booleans and enums (one choice, or several as a list)";

/// One property in MCP's restricted form, or why it cannot be.
fn restrict_property(property: &Value, defs: Option<&Map<String, Value>>) -> Result<Value, String> {
    let kind = property.get("type").and_then(Value::as_str);
    match kind {
        Some("string") | None if choices(property).is_some() => Ok(single_choice(property)),
        Some("string") => Ok(keep(property, "string", &["format", "minLength", "maxLength"])),
        Some(number @ ("integer" | "number")) => {
            Ok(keep(property, number, &["minimum", "maximum"]))
        }
        Some("boolean") => Ok(keep(property, "boolean", &[])),
        Some("array") => {
            let items = property.get("items").map(|items| resolve_property(items, defs));
            match items.as_ref().and_then(choices) {
                Some(choices) => {
                    let mut list = keep(property, "array", &["minItems", "maxItems"]);
                    list["items"] = if choices.titled {
                        json!({ "anyOf": choices.titled_branches() })
                    } else {
                        json!({ "type": "string", "enum": choices.values() })
                    };
                    Ok(list)
                }
                None => Err(format!("{PRIMITIVES_ONLY}; a list must be of an enum's values")),
            }
        }
        _ => Err(format!("{PRIMITIVES_ONLY}; this one is {property}")),
    }
}

/// The choices of a string enum: `(value, title)` pairs.
struct Choices {
    choices: Vec<(Value, Option<Value>)>,
    titled: bool,
}

impl Choices {
    fn values(&self) -> Vec<Value> {
        self.choices.iter().map(|(value, _)| value.clone()).collect()
    }

    /// `{"const", "title"}` branches; a value without a title is its own title.
    fn titled_branches(&self) -> Vec<Value> {
        self.choices
            .iter()
            .map(|(value, title)| json!({ "const": value, "title": title.as_ref().unwrap_or(value) }))
            .collect()
    }
}

/// The choices of a string enum written as `enum` or as `oneOf` / `anyOf`
/// branches of `const` strings (how schemars writes an enum whose variants
/// have doc comments or titles); `None` for anything else.
fn choices(property: &Value) -> Option<Choices> {
    if let Some(Value::Array(values)) = property.get("enum") {
        if values.iter().all(Value::is_string) {
            return Some(Choices {
                choices: values.iter().map(|value| (value.clone(), None)).collect(),
                titled: false,
            });
        }
        return None;
    }
    let branches = ["oneOf", "anyOf"]
        .iter()
        .find_map(|combinator| property.get(*combinator).and_then(Value::as_array))?;
    let choices = branches
        .iter()
        .map(|branch| {
            let value = branch.get("const").filter(|value| value.is_string())?;
            Some((value.clone(), branch.get("title").cloned()))
        })
        .collect::<Option<Vec<_>>>()?;
    let titled = choices.iter().any(|(_, title)| title.is_some());
    Some(Choices { choices, titled })
}

/// A single-choice string enum, titled (`oneOf`) when a choice has a title.
fn single_choice(property: &Value) -> Value {
    let mut form = keep(property, "string", &[]);
    if let Some(choices) = choices(property) {
        if choices.titled {
            form["oneOf"] = Value::Array(choices.titled_branches());
        } else {
            form["enum"] = Value::Array(choices.values());
        }
    }
    form
}

/// `type`, the annotations every property may carry, and `extra` keywords
/// of `property`; nothing else.
fn keep(property: &Value, kind: &str, extra: &[&str]) -> Value {
    let mut kept = Map::new();
    kept.insert("type".into(), Value::String(kind.into()));
    for key in ["title", "description", "default"].iter().chain(extra) {
        if let Some(value) = property.get(*key) {
            kept.insert((*key).into(), value.clone());
        }
    }
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeSet;

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Status {
        Active,
        Inactive,
    }

    #[derive(Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
    #[allow(dead_code)]
    enum Choice {
        /// Said first.
        #[schemars(title = "First Option")]
        First,
        #[schemars(title = "Second Option")]
        Second,
    }

    fn schema_for<T: JsonSchema>() -> Value {
        requested_schema::<T>().unwrap()
    }

    #[test]
    fn root_keeps_only_type_properties_and_required() {
        /// Rust-facing documentation.
        #[derive(Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Form {
            name: String,
        }
        assert_eq!(
            schema_for::<Form>(),
            json!({
                "type": "object",
                "properties": { "name": { "type": "string" } },
                "required": ["name"]
            })
        );
    }

    #[test]
    fn numbers_lose_their_rust_format_but_keep_bounds() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            age: u32,
            score: f64,
        }
        let schema = schema_for::<Form>();
        assert_eq!(schema["properties"]["age"], json!({ "type": "integer", "minimum": 0 }));
        assert_eq!(schema["properties"]["score"], json!({ "type": "number" }));
    }

    #[test]
    fn options_are_their_inner_type_and_not_required() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            nickname: Option<String>,
            status: Option<Status>,
        }
        let schema = schema_for::<Form>();
        assert_eq!(schema["properties"]["nickname"], json!({ "type": "string" }));
        assert_eq!(
            schema["properties"]["status"],
            json!({ "type": "string", "enum": ["active", "inactive"] })
        );
        assert_eq!(schema.get("required"), None);
    }

    #[test]
    fn defaults_and_descriptions_are_kept() {
        fn active() -> String {
            "John Doe".into()
        }
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            /// Your name.
            #[serde(default = "active")]
            name: String,
        }
        assert_eq!(
            schema_for::<Form>()["properties"]["name"],
            json!({ "type": "string", "description": "Your name.", "default": "John Doe" })
        );
    }

    #[test]
    fn enums_are_inlined_with_the_fields_description() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            /// Account status.
            status: Status,
        }
        assert_eq!(
            schema_for::<Form>()["properties"]["status"],
            json!({ "type": "string", "description": "Account status.", "enum": ["active", "inactive"] })
        );
    }

    #[test]
    fn titled_variants_become_one_of_const_and_title() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            choice: Choice,
        }
        assert_eq!(
            schema_for::<Form>()["properties"]["choice"],
            json!({
                "type": "string",
                "oneOf": [
                    { "const": "First", "title": "First Option" },
                    { "const": "Second", "title": "Second Option" }
                ]
            })
        );
    }

    #[test]
    fn lists_of_enum_values_are_multiple_choice() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            statuses: Vec<Status>,
            choices: BTreeSet<Choice>,
        }
        let schema = schema_for::<Form>();
        assert_eq!(
            schema["properties"]["statuses"],
            json!({ "type": "array", "items": { "type": "string", "enum": ["active", "inactive"] } })
        );
        assert_eq!(
            schema["properties"]["choices"],
            json!({
                "type": "array",
                "items": { "anyOf": [
                    { "const": "First", "title": "First Option" },
                    { "const": "Second", "title": "Second Option" }
                ] }
            })
        );
    }

    #[test]
    fn nested_structs_are_refused_naming_the_field() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Inner {
            a: String,
        }
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            inner: Inner,
        }
        let Err(AskError::InvalidQuestion(message)) = requested_schema::<Form>() else {
            panic!("a nested struct was accepted");
        };
        assert!(message.starts_with("field `inner`: an elicitation form holds only"), "{message}");
    }

    #[test]
    fn lists_of_free_text_are_refused() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Form {
            tags: Vec<String>,
        }
        let Err(AskError::InvalidQuestion(message)) = requested_schema::<Form>() else {
            panic!("a list of strings was accepted");
        };
        assert!(message.ends_with("a list must be of an enum's values"), "{message}");
    }

    #[test]
    fn a_non_struct_is_refused() {
        assert!(matches!(requested_schema::<String>(), Err(AskError::InvalidQuestion(_))));
    }
}
