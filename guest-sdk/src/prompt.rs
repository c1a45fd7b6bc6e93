//! Prompts: message templates a client fills in for its model.

use crate::arguments::parse;
use crate::completion::{Completers, IntoCompletion, Partial};
use crate::error::Error;
use crate::schema::{resolve_property, schema_of};
use crate::types::{
    Content, PromptArgument, PromptDef, PromptError, PromptMessage, PromptResult, Role,
};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;

/// The type-erased handler: JSON arguments in, messages or prompt error out.
type Handler = Box<dyn Fn(&str) -> Result<PromptResult, PromptError>>;

/// A prompt: a typed handler that fills in messages, with the metadata
/// MCP clients see.
///
/// Like a [`Tool`](crate::Tool)'s, the handler takes one argument, a type
/// describing the prompt's arguments. MCP prompt arguments are strings, so
/// its fields are `String` (required) or `Option<String>` (optional); the
/// prompt's `arguments` list is derived from it, each field's doc comment
/// becoming its description. A prompt without arguments takes
/// [`NoArgs`](crate::NoArgs).
///
/// ```
/// use corral_sdk::{Prompt, content};
/// use corral_sdk::types::PromptMessage;
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Review {
///     /// The code to review.
///     code: String,
///     /// What to focus on; everything if not given.
///     focus: Option<String>,
/// }
///
/// let prompt = Prompt::new("review", "Review a piece of code", |args: Review| {
///     let focus = args.focus.unwrap_or_else(|| "anything".into());
///     Ok(vec![
///         PromptMessage::user(content::text(format!("Review this, focusing on {focus}:"))),
///         PromptMessage::user(content::text(args.code)),
///     ])
/// })
/// .complete("focus", |partial| partial.matching(["security", "style", "speed"]));
/// let arguments = prompt.definition().unwrap().arguments;
/// assert_eq!((arguments[0].name.as_str(), arguments[0].required), ("code", true));
/// assert_eq!((arguments[1].name.as_str(), arguments[1].required), ("focus", false));
/// ```
pub struct Prompt {
    name: String,
    title: Option<String>,
    description: String,
    // Derived only when the host lists the prompts (once, at load).
    arguments_schema: fn() -> Value,
    handler: Handler,
    completers: Completers,
}

impl Prompt {
    /// A prompt named `name` (unique within the component) that `handler` fills in.
    ///
    /// `description` tells the user (and the client) what the prompt is
    /// for. The title starts unset and no argument is completed.
    pub fn new<A, R, F>(name: impl Into<String>, description: impl Into<String>, handler: F) -> Self
    where
        A: DeserializeOwned + JsonSchema,
        R: IntoPromptResult,
        F: Fn(A) -> Result<R, Error> + 'static,
    {
        Self {
            name: name.into(),
            title: None,
            description: description.into(),
            arguments_schema: schema_of::<A>,
            handler: Box::new(move |arguments| {
                let arguments = parse::<A>(arguments).map_err(PromptError::InvalidArguments)?;
                handler(arguments)
                    .map(IntoPromptResult::into_prompt_result)
                    .map_err(Error::into_prompt_error)
            }),
            completers: Completers::default(),
        }
    }

    /// A human-readable name for display (MCP `title`).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Completes the argument `argument` with `completer`; see
    /// [`completion`](crate::completion). Naming an argument the prompt does
    /// not take fails the component's load.
    #[must_use]
    pub fn complete<R, F>(mut self, argument: impl Into<String>, completer: F) -> Self
    where
        R: IntoCompletion,
        F: Fn(&Partial<'_>) -> R + 'static,
    {
        self.completers.add(argument.into(), completer);
        self
    }

    /// The prompt's name, its identifier within the component.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The definition the host lists to clients, with the arguments derived
    /// now, or why they cannot be: the argument type is not a struct of
    /// strings, or a completer names an argument it does not have.
    pub fn definition(&self) -> Result<PromptDef, String> {
        let arguments = prompt_arguments(&(self.arguments_schema)())?;
        for completed in self.completers.arguments() {
            if !arguments.iter().any(|argument| argument.name == completed) {
                return Err(format!(
                    "it completes `{completed}`, which is not one of its arguments"
                ));
            }
        }
        Ok(PromptDef {
            name: self.name.clone(),
            title: self.title.clone(),
            description: Some(self.description.clone()),
            arguments,
        })
    }

    /// Fills the prompt in with `arguments`, a JSON object of strings as text.
    ///
    /// Arguments that do not parse into the prompt's argument type give
    /// [`PromptError::InvalidArguments`] naming the field; an [`Error`] from
    /// the handler gives the prompt error its kind calls for.
    pub fn get(&self, arguments: &str) -> Result<PromptResult, PromptError> {
        (self.handler)(arguments)
    }

    pub(crate) fn completers(&self) -> &Completers {
        &self.completers
    }
}

impl fmt::Debug for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// The prompt arguments a derived schema describes: one per property, each
/// a string, required as the schema's `required` says.
fn prompt_arguments(schema: &Value) -> Result<Vec<PromptArgument>, String> {
    let root_type = schema.get("type").and_then(Value::as_str);
    if root_type != Some("object") {
        return Err(format!(
            "its argument type must be a struct of `String` fields; its schema is {schema}"
        ));
    }
    let defs = schema.get("$defs").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    properties
        .iter()
        .map(|(name, property)| {
            let property = resolve_property(property, defs);
            if property.get("type").and_then(Value::as_str) != Some("string") {
                return Err(format!(
                    "argument `{name}`: MCP prompt arguments are strings (`String` or \
                     `Option<String>`), but its schema is {property}"
                ));
            }
            Ok(PromptArgument {
                name: name.clone(),
                description: property.get("description").and_then(Value::as_str).map(str::to_owned),
                required: required.contains(&name.as_str()),
            })
        })
        .collect()
}

/// A value a prompt handler can return.
///
/// | handler returns | messages |
/// | --- | --- |
/// | `String`, `&str` | one user message of that text |
/// | [`Content`] | one user message of it |
/// | [`PromptMessage`] | that message |
/// | `Vec<PromptMessage>` | those messages |
/// | [`PromptResult`] | as given (with a description) |
pub trait IntoPromptResult {
    /// Converts the value into the prompt's result.
    fn into_prompt_result(self) -> PromptResult;
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> PromptResult {
        PromptMessage::user(Content::Text(self)).into_prompt_result()
    }
}

impl IntoPromptResult for &str {
    fn into_prompt_result(self) -> PromptResult {
        self.to_owned().into_prompt_result()
    }
}

impl IntoPromptResult for Content {
    fn into_prompt_result(self) -> PromptResult {
        PromptMessage::user(self).into_prompt_result()
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> PromptResult {
        vec![self].into_prompt_result()
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> PromptResult {
        PromptResult { description: None, messages: self }
    }
}

impl IntoPromptResult for PromptResult {
    fn into_prompt_result(self) -> PromptResult {
        self
    }
}

impl PromptMessage {
    /// A message of the user's.
    pub fn user(content: Content) -> Self {
        Self { role: Role::User, content }
    }

    /// A message of the assistant's (an earlier turn of the model).
    pub fn assistant(content: Content) -> Self {
        Self { role: Role::Assistant, content }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::AskError;
    use crate::tool::NoArgs;
    use crate::types::Capability;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct Pair {
        /// First test argument
        arg1: String,
        /// Second test argument
        arg2: Option<String>,
    }

    fn pair_prompt() -> Prompt {
        Prompt::new("pair", "Two arguments", |args: Pair| {
            Ok(format!("arg1='{}', arg2='{}'", args.arg1, args.arg2.unwrap_or_default()))
        })
    }

    #[test]
    fn arguments_are_derived_with_descriptions_and_requiredness() {
        assert_eq!(
            pair_prompt().definition().unwrap().arguments,
            [
                PromptArgument {
                    name: "arg1".into(),
                    description: Some("First test argument".into()),
                    required: true,
                },
                PromptArgument {
                    name: "arg2".into(),
                    description: Some("Second test argument".into()),
                    required: false,
                },
            ]
        );
    }

    #[test]
    fn a_prompt_without_arguments_lists_none() {
        let prompt = Prompt::new("simple", "Simple", |_: NoArgs| Ok("hi"));
        assert_eq!(prompt.definition().unwrap().arguments, []);
    }

    #[test]
    fn text_becomes_one_user_message() {
        let result = pair_prompt().get(r#"{"arg1": "hello", "arg2": "world"}"#).unwrap();
        assert_eq!(
            result,
            PromptResult {
                description: None,
                messages: vec![PromptMessage::user(Content::Text(
                    "arg1='hello', arg2='world'".into()
                ))],
            }
        );
    }

    #[test]
    fn a_missing_argument_is_invalid_arguments() {
        assert_eq!(
            pair_prompt().get("{}"),
            Err(PromptError::InvalidArguments("missing field `arg1` at line 1 column 2".into()))
        );
    }

    #[test]
    fn non_string_arguments_fail_the_definition_naming_them() {
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Count {
            count: u32,
        }
        let prompt = Prompt::new("count", "Count", |_: Count| Ok("x"));
        assert!(
            prompt
                .definition()
                .unwrap_err()
                .starts_with("argument `count`: MCP prompt arguments are strings")
        );
    }

    #[test]
    fn completing_an_unknown_argument_fails_the_definition() {
        let prompt = pair_prompt().complete("arg3", |_| Vec::<String>::new());
        assert_eq!(
            prompt.definition().unwrap_err(),
            "it completes `arg3`, which is not one of its arguments"
        );
    }

    #[test]
    fn an_unsupported_question_is_missing_capability() {
        let prompt = Prompt::new("ask", "Ask", |_: NoArgs| -> Result<String, Error> {
            Err(AskError::Unsupported(Capability::Elicitation))?
        });
        assert_eq!(prompt.get("{}"), Err(PromptError::MissingCapability(Capability::Elicitation)));
    }
}
