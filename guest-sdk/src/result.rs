//! What a handler may return, and how it becomes a `call-result`.

use crate::error::ToolError;
use crate::schema;
use crate::types::{CallResult, Content};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// A value a tool handler can return.
///
/// | handler returns | result content | `structured` | output schema |
/// | --- | --- | --- | --- |
/// | `String`, `&str` | one text item | none | none |
/// | [`Content`] | that item | none | none |
/// | `Vec<Content>` | those items | none | none |
/// | [`CallResult`] | as given | as given | none |
/// | [`Structured<T>`] | one text item: the JSON | the JSON | derived from `T` |
/// | `Err(ToolError)` | one text item: the message, `isError: true` | none | |
pub trait IntoCallResult {
    /// Converts the value into the result the host sends to the client.
    fn into_call_result(self) -> CallResult;

    /// The JSON Schema of the result's structured output, if it has any.
    ///
    /// Only [`Structured`] has one; the default is `None`.
    fn output_schema() -> Option<Value> {
        None
    }
}

impl IntoCallResult for String {
    fn into_call_result(self) -> CallResult {
        success(vec![Content::Text(self)])
    }
}

impl IntoCallResult for &str {
    fn into_call_result(self) -> CallResult {
        success(vec![Content::Text(self.to_owned())])
    }
}

impl IntoCallResult for Content {
    fn into_call_result(self) -> CallResult {
        success(vec![self])
    }
}

impl IntoCallResult for Vec<Content> {
    fn into_call_result(self) -> CallResult {
        success(self)
    }
}

impl IntoCallResult for CallResult {
    fn into_call_result(self) -> CallResult {
        self
    }
}

impl IntoCallResult for ToolError {
    fn into_call_result(self) -> CallResult {
        CallResult {
            content: vec![Content::Text(self.to_string())],
            structured: None,
            is_error: true,
        }
    }
}

/// Structured output: `T` is sent as MCP `structuredContent`, and the tool's
/// `outputSchema` is derived from `T`.
///
/// The same JSON is also sent as a text item, as MCP recommends for clients
/// that predate structured output. `T` must serialise to a JSON object (a
/// struct or a map); MCP allows nothing else in `structuredContent`.
///
/// ```
/// use corral_sdk::{IntoCallResult, Structured};
/// use schemars::JsonSchema;
/// use serde::Serialize;
///
/// #[derive(Serialize, JsonSchema)]
/// struct Stats {
///     words: usize,
/// }
///
/// let result = Structured(Stats { words: 3 }).into_call_result();
/// assert_eq!(result.structured.as_deref(), Some(r#"{"words":3}"#));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Structured<T>(pub T);

impl<T: Serialize + JsonSchema> IntoCallResult for Structured<T> {
    fn into_call_result(self) -> CallResult {
        let value = match serde_json::to_value(&self.0) {
            Ok(value) => value,
            Err(error) => {
                return ToolError::new(format!(
                    "the tool's result could not be encoded as JSON: {error}"
                ))
                .into_call_result();
            }
        };
        if !value.is_object() {
            return ToolError::new(
                "the tool's structured result is not a JSON object, which MCP requires",
            )
            .into_call_result();
        }
        let json = value.to_string();
        CallResult {
            content: vec![Content::Text(json.clone())],
            structured: Some(json),
            is_error: false,
        }
    }

    fn output_schema() -> Option<Value> {
        Some(schema::schema_of::<T>())
    }
}

fn success(content: Vec<Content>) -> CallResult {
    CallResult { content, structured: None, is_error: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize, JsonSchema)]
    struct Count {
        lines: u32,
    }

    #[test]
    fn string_becomes_one_text_item() {
        assert_eq!(
            "hi".into_call_result(),
            CallResult {
                content: vec![Content::Text("hi".into())],
                structured: None,
                is_error: false,
            }
        );
    }

    #[test]
    fn tool_error_becomes_an_error_result_with_its_message() {
        let result = ToolError::new("no such file: /data/x").into_call_result();
        assert!(result.is_error);
        assert_eq!(result.content, vec![Content::Text("no such file: /data/x".into())]);
    }

    #[test]
    fn structured_sends_the_same_json_as_text_and_structured_output() {
        let result = Structured(Count { lines: 7 }).into_call_result();
        assert_eq!(result.structured.as_deref(), Some(r#"{"lines":7}"#));
        assert_eq!(result.content, vec![Content::Text(r#"{"lines":7}"#.into())]);
        assert!(!result.is_error);
    }

    #[test]
    fn structured_output_schema_is_derived_from_the_type() {
        let schema = <Structured<Count> as IntoCallResult>::output_schema().unwrap();
        assert_eq!(schema["properties"]["lines"]["type"], "integer");
    }

    #[test]
    fn structured_non_object_is_an_error_result() {
        let result = Structured(vec![1, 2]).into_call_result();
        assert!(result.is_error);
        assert_eq!(result.structured, None);
    }

    #[test]
    fn structured_value_that_cannot_be_json_is_an_error_result() {
        // JSON object keys must be strings.
        let map = BTreeMap::from([((1, 2), "pair")]);
        let result = Structured(map).into_call_result();
        assert!(result.is_error);
    }

    #[test]
    fn plain_results_have_no_output_schema() {
        assert_eq!(<String as IntoCallResult>::output_schema(), None);
        assert_eq!(<Vec<Content> as IntoCallResult>::output_schema(), None);
    }
}
