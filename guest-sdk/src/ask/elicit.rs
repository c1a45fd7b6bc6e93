//! Asking the user (MCP `elicitation/create`, form mode), with a typed answer.

use super::AskError;
use super::requested_schema::requested_schema;
use crate::host;
use crate::types::{ElicitAnswer, ElicitRequest};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Asks the user `message`, with a form derived from `T`; see [`Elicitation`]
/// for the form's shape and for setting the question's id.
///
/// ```no_run
/// use corral_sdk::{Answer, Error, elicit};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Confirm {
///     /// Check to go ahead.
///     confirm: bool,
/// }
///
/// fn delete() -> Result<String, Error> {
///     match elicit::<Confirm>("Delete everything?")? {
///         Answer::Accept(Confirm { confirm: true }) => Ok("deleted".into()),
///         _ => Ok("nothing deleted".into()),
///     }
/// }
/// ```
pub fn elicit<T: DeserializeOwned + JsonSchema>(
    message: impl Into<String>,
) -> Result<Answer<T>, AskError> {
    Elicitation::new(message).ask()
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// The user submitted the form.
    Accept(T),
    /// The user said no.
    Decline,
    /// The user dismissed the question without choosing.
    Cancel,
}

impl<T> Answer<T> {
    /// The submitted content, or `None` if the user declined or cancelled.
    pub fn accepted(self) -> Option<T> {
        match self {
            Self::Accept(content) => Some(content),
            Self::Decline | Self::Cancel => None,
        }
    }

    /// The action as MCP names it: `accept`, `decline` or `cancel`.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Accept(_) => "accept",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
        }
    }
}

/// A question to the user: a message and a form.
///
/// Defaults: no id (the host names the question by a digest of its message
/// and schema). The form is derived from the answer's type by
/// [`ask`](Elicitation::ask), or given as JSON Schema text by
/// [`ask_with_schema`](Elicitation::ask_with_schema).
///
/// ```no_run
/// use corral_sdk::{Elicitation, Error};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Name {
///     /// Your first name.
///     name: String,
/// }
///
/// fn hello() -> Result<String, Error> {
///     let answer = Elicitation::new("What is your name?").id("user_name").ask::<Name>()?;
///     Ok(match answer.accepted() {
///         Some(Name { name }) => format!("Hello, {name}!"),
///         None => "Hello, stranger!".into(),
///     })
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elicitation {
    id: Option<String>,
    message: String,
}

impl Elicitation {
    /// A question showing `message` to the user.
    pub fn new(message: impl Into<String>) -> Self {
        Self { id: None, message: message.into() }
    }

    /// Names the question: the key of its MCP 2026-07-28 `inputRequests`
    /// entry, by which the answer is matched in the next round.
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Asks with a form derived from `T`, and parses the accepted content into it.
    ///
    /// `T` must be a struct of primitive fields, as MCP restricts forms;
    /// [`requested_schema`](crate::requested_schema) says which and how they
    /// are sent. A `T` outside that form gives [`AskError::InvalidQuestion`]
    /// without asking; content that does not parse into `T` gives
    /// [`AskError::Invalid`] naming the field.
    pub fn ask<T: DeserializeOwned + JsonSchema>(&self) -> Result<Answer<T>, AskError> {
        let schema = requested_schema::<T>()?;
        match self.send(schema.to_string())? {
            ElicitAnswer::Accept(content) => parse_content(&content).map(Answer::Accept),
            ElicitAnswer::Decline => Ok(Answer::Decline),
            ElicitAnswer::Cancel => Ok(Answer::Cancel),
        }
    }

    /// Asks with `requested_schema` (JSON Schema text) sent as written, for
    /// tools that need an exact form; the accepted content comes back as JSON.
    ///
    /// The host still checks that the schema is MCP's restricted form and
    /// that the content matches it. Text that is not a JSON object gives
    /// [`AskError::InvalidQuestion`] without asking.
    pub fn ask_with_schema(&self, requested_schema: &str) -> Result<Answer<Value>, AskError> {
        match serde_json::from_str::<Value>(requested_schema) {
            Ok(Value::Object(_)) => {}
            Ok(other) => {
                return Err(AskError::InvalidQuestion(format!(
                    "a requested schema must be a JSON object, not {other}"
                )));
            }
            Err(error) => {
                return Err(AskError::InvalidQuestion(format!(
                    "the requested schema is not JSON: {error}"
                )));
            }
        }
        match self.send(requested_schema.to_owned())? {
            ElicitAnswer::Accept(content) => parse_content(&content).map(Answer::Accept),
            ElicitAnswer::Decline => Ok(Answer::Decline),
            ElicitAnswer::Cancel => Ok(Answer::Cancel),
        }
    }

    fn send(&self, requested_schema: String) -> Result<ElicitAnswer, AskError> {
        host::elicit(ElicitRequest {
            id: self.id.clone(),
            message: self.message.clone(),
            requested_schema,
        })
    }
}

/// Parses accepted content, naming the field that does not fit.
fn parse_content<T: DeserializeOwned>(content: &str) -> Result<T, AskError> {
    let deserializer = &mut serde_json::Deserializer::from_str(content);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        AskError::Invalid(if path == "." {
            inner.to_string()
        } else {
            format!("`{path}`: {inner}")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, HostEvent};
    use crate::types::Capability;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Confirm {
        ok: bool,
    }

    #[test]
    fn accepted_content_is_parsed_into_the_type() {
        testing::accept(json!({ "ok": true }));
        assert_eq!(elicit::<Confirm>("Sure?"), Ok(Answer::Accept(Confirm { ok: true })));
    }

    #[test]
    fn decline_and_cancel_carry_no_content() {
        testing::decline();
        testing::cancel();
        assert_eq!(elicit::<Confirm>("Sure?"), Ok(Answer::Decline));
        assert_eq!(elicit::<Confirm>("Sure?"), Ok(Answer::Cancel));
    }

    #[test]
    fn the_request_carries_the_id_message_and_derived_schema() {
        testing::decline();
        let _ = Elicitation::new("Please confirm").id("confirm").ask::<Confirm>();
        let events = testing::take_events();
        let [HostEvent::Elicit(request)] = events.as_slice() else {
            panic!("expected one elicitation");
        };
        assert_eq!(request.id.as_deref(), Some("confirm"));
        assert_eq!(request.message, "Please confirm");
        let schema: Value = serde_json::from_str(&request.requested_schema).unwrap();
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": { "ok": { "type": "boolean" } },
                "required": ["ok"]
            })
        );
    }

    #[test]
    fn content_that_does_not_fit_is_invalid_naming_the_field() {
        testing::accept(json!({ "ok": "yes" }));
        let Err(AskError::Invalid(message)) = elicit::<Confirm>("Sure?") else {
            panic!("expected an invalid answer");
        };
        assert!(message.starts_with("`ok`: invalid type: string \"yes\""), "{message}");
    }

    #[test]
    fn pending_and_unsupported_pass_through() {
        testing::answer_elicit(Err(AskError::Pending));
        assert_eq!(elicit::<Confirm>("Sure?"), Err(AskError::Pending));
        assert_eq!(elicit::<Confirm>("Sure?"), Err(AskError::Unsupported(Capability::Elicitation)));
    }

    #[test]
    fn a_type_outside_the_restricted_form_is_not_asked() {
        #[derive(Debug, Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Nested {
            inner: Confirm,
        }
        assert!(matches!(elicit::<Nested>("?"), Err(AskError::InvalidQuestion(_))));
        assert!(testing::take_events().is_empty());
    }

    #[test]
    fn raw_schema_is_sent_as_written_and_content_returned_as_json() {
        let schema = r#"{"type":"object","properties":{"a":{"type":"string","enumNames":["A"],"enum":["a"]}}}"#;
        testing::accept(json!({ "a": "a" }));
        let answer = Elicitation::new("Pick").ask_with_schema(schema);
        assert_eq!(answer, Ok(Answer::Accept(json!({ "a": "a" }))));
        let events = testing::take_events();
        let [HostEvent::Elicit(request)] = events.as_slice() else {
            panic!("expected one elicitation");
        };
        assert_eq!(request.requested_schema, schema);
    }

    #[test]
    fn raw_schema_that_is_not_an_object_is_not_asked() {
        let answer = Elicitation::new("Pick").ask_with_schema("[1]");
        assert_eq!(
            answer,
            Err(AskError::InvalidQuestion(
                "a requested schema must be a JSON object, not [1]".into()
            ))
        );
    }
}
