//! Tools that ask the client during the call: the MCP 2025-11-25 sampling
//! and elicitation scenarios, and the two probes of `server-stateless`.
//!
//! Each asks through the SDK as any tool would; the host turns the
//! question into a request to the client (2025-11-25) or an
//! `input_required` result (2026-07-28). Requests and result texts are the
//! ones the scenarios and the suite's reference server use.

use corral_sdk::Error;
use corral_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The tools.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(Tool::new(
            "test_sampling",
            "Asks the client's model to answer a prompt, and returns its answer",
            |args: SamplingArgs| {
                let answer = Sampling::new().user(args.prompt).max_tokens(100).ask()?;
                Ok(format!("LLM response: {}", answer.text().unwrap_or("No response")))
            },
        ))
        .with(Tool::new(
            "test_elicitation",
            "Asks the user for a username and an e-mail address, and returns the answer",
            |args: ElicitationArgs| {
                let answer = Elicitation::new(args.message).ask_with_schema(USER_FORM)?;
                Ok(format!("User response: {}", describe(&answer)))
            },
        ))
        .with(Tool::new(
            "test_elicitation_sep1034_defaults",
            "Asks the user to review a form whose every field has a default (SEP-1034)",
            |_: NoArgs| -> Result<String, Error> {
                let answer = Elicitation::new(REVIEW_MESSAGE).ask::<Review>()?;
                let answer = match answer {
                    Answer::Accept(review) => Answer::Accept(serde_json::to_value(review)?),
                    Answer::Decline => Answer::Decline,
                    Answer::Cancel => Answer::Cancel,
                };
                Ok(format!("Elicitation completed: {}", describe(&answer)))
            },
        ))
        .with(Tool::new(
            "test_elicitation_sep1330_enums",
            "Asks the user to choose in the five enum forms of SEP-1330",
            |_: NoArgs| {
                let answer = Elicitation::new("Please select options from the enum fields")
                    .ask_with_schema(ENUM_FORM)?;
                Ok(format!("Elicitation completed: {}", describe(&answer)))
            },
        ))
        .with(Tool::new(
            "test_missing_capability",
            "Asks the client's model, so it cannot run for a client without the \
             sampling capability (the call is refused naming it)",
            |_: NoArgs| {
                let answer = Sampling::new().user("Say hello").max_tokens(20).ask()?;
                Ok(format!("LLM response: {}", answer.text().unwrap_or("No response")))
            },
        ))
        .with(Tool::new(
            "test_streaming_elicitation",
            "Asks the user's name: an MCP 2026-07-28 client gets the question \
             as an input_required result, never as a request of the server's",
            |_: NoArgs| {
                let answer =
                    Elicitation::new("What is your name?").id("streaming_name").ask::<Name>()?;
                Ok(match answer.accepted() {
                    Some(Name { name }) => format!("Hello, {name}!"),
                    None => "Hello, stranger!".to_owned(),
                })
            },
        ))
}

/// The arguments of `test_sampling`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SamplingArgs {
    /// The prompt to send to the LLM.
    prompt: String,
}

/// The arguments of `test_elicitation`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ElicitationArgs {
    /// The message to show the user.
    message: String,
}

/// The form `tools-call-elicitation` specifies.
const USER_FORM: &str = r#"{
    "type": "object",
    "properties": {
        "username": { "type": "string", "description": "User's response" },
        "email": { "type": "string", "description": "User's email address" }
    },
    "required": ["username", "email"]
}"#;

/// The message of `test_elicitation_sep1034_defaults`.
const REVIEW_MESSAGE: &str = "Please review and update the form fields with defaults";

/// The form of `elicitation-sep1034-defaults`, derived: every field has the
/// default the scenario checks, so none is required.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Review {
    /// User name
    #[serde(default = "Review::default_name")]
    name: String,
    /// User age
    #[serde(default = "Review::default_age")]
    age: i64,
    /// User score
    #[serde(default = "Review::default_score")]
    score: f64,
    /// User status
    #[serde(default = "Review::default_status")]
    status: Status,
    /// Verification status
    #[serde(default = "Review::default_verified")]
    verified: bool,
}

impl Review {
    fn default_name() -> String {
        "John Doe".into()
    }

    fn default_age() -> i64 {
        30
    }

    fn default_score() -> f64 {
        95.5
    }

    fn default_status() -> Status {
        Status::Active
    }

    fn default_verified() -> bool {
        true
    }
}

/// A user's status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Active.
    Active,
    /// Inactive.
    Inactive,
    /// Pending.
    Pending,
}

/// The form `elicitation-sep1330-enums` specifies, written out because its
/// legacy `enumNames` form cannot be derived.
const ENUM_FORM: &str = r#"{
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"]
        },
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": [
                { "const": "value1", "title": "First Option" },
                { "const": "value2", "title": "Second Option" },
                { "const": "value3", "title": "Third Option" }
            ]
        },
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"]
        },
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
        },
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    { "const": "value1", "title": "First Choice" },
                    { "const": "value2", "title": "Second Choice" },
                    { "const": "value3", "title": "Third Choice" }
                ]
            }
        }
    },
    "required": []
}"#;

/// A name asked for.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Name {
    name: String,
}

/// `action=accept, content={...}`, as the suite's reference server writes
/// an answer (the content is `{}` unless accepted).
fn describe(answer: &Answer<Value>) -> String {
    let content = match answer {
        Answer::Accept(content) => content.to_string(),
        Answer::Decline | Answer::Cancel => "{}".to_owned(),
    };
    format!("action={}, content={content}", answer.action())
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::Capability;
    use corral_sdk::testing::{self, HostEvent};
    use corral_sdk::types::{CallError, Role, SampleRequest, SamplingMessage};
    use serde_json::json;

    fn call(name: &str, arguments: Value) -> Result<CallResult, CallError> {
        tools().call(name, &arguments.to_string())
    }

    fn text(result: Result<CallResult, CallError>) -> String {
        match result.expect("the tool runs").content.as_slice() {
            [Content::Text(text)] => text.clone(),
            other => panic!("expected one text item, got {other:?}"),
        }
    }

    fn asked_schema() -> Value {
        let events = testing::take_events();
        let [HostEvent::Elicit(request)] = events.as_slice() else {
            panic!("expected one elicitation, got {events:?}");
        };
        serde_json::from_str(&request.requested_schema).unwrap()
    }

    #[test]
    fn sampling_sends_the_prompt_with_100_max_tokens_and_returns_the_answer() {
        testing::sampled("This is a test response from the client");
        let answer = text(call("test_sampling", json!({ "prompt": "Test prompt" })));
        assert_eq!(answer, "LLM response: This is a test response from the client");
        let events = testing::take_events();
        let [HostEvent::Sample(request)] = events.as_slice() else {
            panic!("expected one sampling request, got {events:?}");
        };
        assert_eq!(
            *request,
            SampleRequest {
                id: None,
                messages: vec![SamplingMessage {
                    role: Role::User,
                    content: Content::Text("Test prompt".into()),
                }],
                system_prompt: None,
                max_tokens: 100,
                temperature: None,
                stop_sequences: vec![],
                model_hints: vec![],
            }
        );
    }

    #[test]
    fn sampling_without_the_capability_is_refused_naming_it() {
        assert_eq!(
            call("test_sampling", json!({ "prompt": "x" })),
            Err(CallError::MissingCapability(Capability::Sampling))
        );
    }

    #[test]
    fn elicitation_asks_the_specified_form_and_reports_the_answer() {
        testing::accept(json!({ "username": "testuser", "email": "test@example.com" }));
        let answer = text(call("test_elicitation", json!({ "message": "Please provide" })));
        assert_eq!(
            answer,
            r#"User response: action=accept, content={"email":"test@example.com","username":"testuser"}"#
        );
        assert_eq!(asked_schema(), serde_json::from_str::<Value>(USER_FORM).unwrap());
    }

    #[test]
    fn a_declined_elicitation_reports_empty_content() {
        testing::decline();
        let answer = text(call("test_elicitation", json!({ "message": "Please provide" })));
        assert_eq!(answer, "User response: action=decline, content={}");
    }

    #[test]
    fn sep1034_form_has_every_default_and_requires_nothing() {
        testing::accept(
            json!({ "name": "Jane Smith", "age": 25, "score": 88, "status": "inactive", "verified": false }),
        );
        let answer = text(call("test_elicitation_sep1034_defaults", json!({})));
        assert_eq!(
            answer,
            r#"Elicitation completed: action=accept, content={"age":25,"name":"Jane Smith","score":88.0,"status":"inactive","verified":false}"#
        );
        assert_eq!(
            asked_schema(),
            json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "User name", "default": "John Doe" },
                    "age": { "type": "integer", "description": "User age", "default": 30 },
                    "score": { "type": "number", "description": "User score", "default": 95.5 },
                    "status": {
                        "type": "string",
                        "description": "User status",
                        "default": "active",
                        "enum": ["active", "inactive", "pending"]
                    },
                    "verified": { "type": "boolean", "description": "Verification status", "default": true }
                }
            })
        );
    }

    #[test]
    fn sep1330_form_is_sent_as_written() {
        testing::cancel();
        let answer = text(call("test_elicitation_sep1330_enums", json!({})));
        assert_eq!(answer, "Elicitation completed: action=cancel, content={}");
        assert_eq!(asked_schema(), serde_json::from_str::<Value>(ENUM_FORM).unwrap());
    }

    #[test]
    fn missing_capability_probe_needs_sampling() {
        assert_eq!(
            call("test_missing_capability", json!({})),
            Err(CallError::MissingCapability(Capability::Sampling))
        );
    }

    #[test]
    fn streaming_elicitation_ends_the_call_while_the_question_is_pending() {
        testing::answer_elicit(Err(AskError::Pending));
        assert!(matches!(call("test_streaming_elicitation", json!({})), Err(CallError::Failed(_))));
    }
}
