//! The fixtures of the MCP 2026-07-28 `input-required-result-*` scenarios
//! (SEP-2322): tools, and one prompt, that ask the client and answer once
//! the client has called again with the answers.
//!
//! A fixture only asks. The host does the rest: the first time a question
//! is asked it is pending, the host answers `input_required` with the
//! questions keyed by their ids, signs the request state and checks it when
//! the client calls again (so a tampered state never reaches the tool), and
//! carries the answers of earlier rounds. Ids, messages and forms are the
//! ones the scenarios specify; the forms are derived from the answer types
//! below, which give exactly the scenarios' schemas (see the tests).

use corral_sdk::prelude::*;
use corral_sdk::types::{Root, SampleAnswer};
use corral_sdk::{Error, if_supported, roots_with_id};
use schemars::JsonSchema;
use serde::Deserialize;

/// A name asked for: `{"name": {"type": "string"}}`, required.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Name {
    name: String,
}

/// A favourite colour asked for: `{"color": {"type": "string"}}`, required.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Color {
    color: String,
}

/// A confirmation asked for: `{"ok": {"type": "boolean"}}`, required.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Confirm {
    ok: bool,
}

/// A prompt's context asked for: `{"context": {"type": "string"}}`, required.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UserContext {
    context: String,
}

/// The tools.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(Tool::new(
            "test_input_required_result_elicitation",
            "Asks the user's name (input request `user_name`), then greets them",
            |_: NoArgs| -> Result<String, Error> { Ok(greet(ask_name("user_name")?)) },
        ))
        .with(Tool::new(
            "test_input_required_result_sampling",
            "Asks the client's model for the capital of France (input request \
             `capital_question`), then returns its answer",
            |_: NoArgs| -> Result<String, Error> {
                let answer = ask_capital()?;
                Ok(format!("Sampling result: {}", answer.text().unwrap_or("no text")))
            },
        ))
        .with(Tool::new(
            "test_input_required_result_list_roots",
            "Asks for the client's roots (input request `client_roots`), then lists them",
            |_: NoArgs| -> Result<String, Error> {
                Ok(describe_roots(&roots_with_id("client_roots")?))
            },
        ))
        .with(Tool::new(
            "test_input_required_result_request_state",
            "Asks for a confirmation (input request `confirm`); answers `state-ok` once \
             the client calls again with the answer and the request state",
            |_: NoArgs| -> Result<String, Error> {
                let confirm = ask_confirm()?;
                Ok(format!("state-ok: the request state came back intact; {confirm}"))
            },
        ))
        .with(Tool::new(
            "test_input_required_result_multiple_inputs",
            "Asks the user's name, the client's model for a greeting and the client's \
             roots in one round (input requests `user_name`, `greeting`, `client_roots`)",
            |_: NoArgs| -> Result<String, Error> {
                // Asked together, before stopping, so that all three go out
                // in one input_required result.
                let name = ask_name("user_name");
                let greeting = ask_greeting();
                let roots = roots_with_id("client_roots");
                let (name, greeting, roots) = (name?, greeting?, roots?);
                Ok(format!(
                    "Name: {}; Greeting: {}; Roots: {}",
                    name.map_or_else(|| "unknown".to_owned(), |name| name.name),
                    greeting.text().unwrap_or("no text"),
                    roots.len()
                ))
            },
        ))
        .with(Tool::new(
            "test_input_required_result_multi_round",
            "Asks the user's name (input request `step1`), then, in a second round, \
             their favourite colour (`step2`)",
            |_: NoArgs| -> Result<String, Error> {
                // One question a round: step 2 is asked only once step 1 is answered.
                let name = ask_name("step1")?;
                let color = Elicitation::new("Step 2: What is your favorite color?")
                    .id("step2")
                    .ask::<Color>()?;
                Ok(format!(
                    "Multi-round complete for {} who likes {}",
                    name.map_or_else(|| "someone".to_owned(), |name| name.name),
                    color.accepted().map_or_else(|| "no colour".to_owned(), |color| color.color)
                ))
            },
        ))
        .with(Tool::new(
            "test_input_required_result_tampered_state",
            "Asks for a confirmation (input request `confirm`); the host refuses a call \
             that comes back with a tampered request state before this tool runs",
            |_: NoArgs| -> Result<String, Error> { Ok(format!("Confirmed: {}", ask_confirm()?)) },
        ))
        .with(Tool::new(
            "test_input_required_result_capabilities",
            "Asks the user's name and the client's model for a greeting, each only if \
             the client declared the capability it needs",
            |_: NoArgs| -> Result<String, Error> {
                let name = if_supported(ask_name("user_name"));
                let greeting = if_supported(ask_greeting());
                let (name, greeting) = (name?, greeting?);
                Ok(format!(
                    "elicitation: {}; sampling: {}",
                    match name {
                        Some(answer) => greet(answer),
                        None => "not supported by the client".to_owned(),
                    },
                    match greeting {
                        Some(answer) => answer.text().unwrap_or("no text").to_owned(),
                        None => "not supported by the client".to_owned(),
                    }
                ))
            },
        ))
}

/// The prompt of `input-required-result-non-tool-request`.
pub fn prompt() -> Prompt {
    Prompt::new(
        "test_input_required_result_prompt",
        "Asks the user what context to use (input request `user_context`), then \
         fills the prompt in with it",
        |_: NoArgs| -> Result<String, Error> {
            let answer = Elicitation::new("What context should the prompt use?")
                .id("user_context")
                .ask::<UserContext>()?;
            Ok(match answer.accepted() {
                Some(UserContext { context }) => format!("Prompt with context: {context}"),
                None => "Prompt with no context".to_owned(),
            })
        },
    )
}

/// Asks "What is your name?" under `id`; `None` if the user declined.
fn ask_name(id: &str) -> Result<Option<Name>, AskError> {
    let message = if id == "step1" { "Step 1: What is your name?" } else { "What is your name?" };
    Elicitation::new(message).id(id).ask::<Name>().map(Answer::accepted)
}

/// Asks "Please confirm" (id `confirm`): whether the user confirmed.
fn ask_confirm() -> Result<&'static str, AskError> {
    let answer = Elicitation::new("Please confirm").id("confirm").ask::<Confirm>()?;
    Ok(match answer.accepted() {
        Some(Confirm { ok: true }) => "confirmed",
        Some(Confirm { ok: false }) | None => "not confirmed",
    })
}

/// Asks the model the capital of France (id `capital_question`).
fn ask_capital() -> Result<SampleAnswer, AskError> {
    Sampling::new()
        .id("capital_question")
        .user("What is the capital of France?")
        .max_tokens(100)
        .ask()
}

/// Asks the model for a greeting (id `greeting`).
fn ask_greeting() -> Result<SampleAnswer, AskError> {
    Sampling::new().id("greeting").user("Generate a greeting").max_tokens(50).ask()
}

/// Greets the user by the name given, if any.
fn greet(name: Option<Name>) -> String {
    match name {
        Some(Name { name }) => format!("Hello, {name}!"),
        None => "Hello, stranger!".to_owned(),
    }
}

/// How many roots there are, and their URIs.
fn describe_roots(roots: &[Root]) -> String {
    let uris: Vec<&str> = roots.iter().map(|root| root.uri.as_str()).collect();
    format!("Found {} root(s): {}", roots.len(), uris.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::testing::{self, HostEvent};
    use corral_sdk::types::{CallError, CallResult, Content, PromptMessage};
    use corral_sdk::{Capability, requested_schema};
    use serde_json::{Value, json};

    fn call(name: &str) -> Result<CallResult, CallError> {
        tools().call(name, "{}")
    }

    fn text(result: Result<CallResult, CallError>) -> String {
        match result.expect("the tool answers").content.as_slice() {
            [Content::Text(text)] => text.clone(),
            other => panic!("expected one text item, got {other:?}"),
        }
    }

    fn is_pending(result: &Result<CallResult, CallError>) -> bool {
        matches!(result, Err(CallError::Failed(message)) if message.starts_with("input required"))
    }

    /// The ids of the questions asked, in order.
    fn asked() -> Vec<String> {
        testing::take_events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::Elicit(request) => request.id,
                HostEvent::Sample(request) => request.id,
                HostEvent::ListRoots { id } => id,
                _ => None,
            })
            .collect()
    }

    fn alice() {
        testing::accept(json!({ "name": "Alice" }));
    }

    #[test]
    fn forms_are_the_ones_the_scenarios_specify() {
        let form = |property: &str, kind: &str| {
            json!({
                "type": "object",
                "properties": { property: { "type": kind } },
                "required": [property]
            })
        };
        assert_eq!(requested_schema::<Name>().unwrap(), form("name", "string"));
        assert_eq!(requested_schema::<Color>().unwrap(), form("color", "string"));
        assert_eq!(requested_schema::<Confirm>().unwrap(), form("ok", "boolean"));
        assert_eq!(requested_schema::<UserContext>().unwrap(), form("context", "string"));
    }

    #[test]
    fn elicitation_asks_user_name_then_greets() {
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_elicitation")));
        let events = testing::take_events();
        let [HostEvent::Elicit(request)] = events.as_slice() else {
            panic!("expected one elicitation, got {events:?}");
        };
        assert_eq!(
            (request.id.as_deref(), request.message.as_str()),
            (Some("user_name"), "What is your name?")
        );

        alice();
        assert_eq!(text(call("test_input_required_result_elicitation")), "Hello, Alice!");
    }

    #[test]
    fn sampling_asks_capital_question_with_100_max_tokens() {
        testing::answer_sample(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_sampling")));
        let events = testing::take_events();
        let [HostEvent::Sample(request)] = events.as_slice() else {
            panic!("expected one sampling request, got {events:?}");
        };
        assert_eq!((request.id.as_deref(), request.max_tokens), (Some("capital_question"), 100));

        testing::sampled("The capital of France is Paris.");
        assert_eq!(
            text(call("test_input_required_result_sampling")),
            "Sampling result: The capital of France is Paris."
        );
    }

    #[test]
    fn list_roots_asks_client_roots_then_lists_them() {
        testing::answer_list_roots(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_list_roots")));
        assert_eq!(asked(), ["client_roots"]);

        let root = Root { uri: "file:///test/root".into(), name: Some("Test Root".into()) };
        testing::answer_list_roots(Ok(vec![root]));
        assert_eq!(
            text(call("test_input_required_result_list_roots")),
            "Found 1 root(s): file:///test/root"
        );
    }

    #[test]
    fn request_state_answers_state_ok_in_round_two() {
        testing::accept(json!({ "ok": true }));
        let answer = text(call("test_input_required_result_request_state"));
        assert!(answer.contains("state-ok"), "{answer}");
        assert_eq!(asked(), ["confirm"]);
    }

    #[test]
    fn multiple_inputs_are_all_asked_in_one_round() {
        testing::answer_elicit(Err(AskError::Pending));
        testing::answer_sample(Err(AskError::Pending));
        testing::answer_list_roots(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_multiple_inputs")));
        assert_eq!(asked(), ["user_name", "greeting", "client_roots"]);

        alice();
        testing::sampled("Hello there!");
        testing::answer_list_roots(Ok(vec![]));
        assert_eq!(
            text(call("test_input_required_result_multiple_inputs")),
            "Name: Alice; Greeting: Hello there!; Roots: 0"
        );
    }

    #[test]
    fn multi_round_asks_step2_only_once_step1_is_answered() {
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_multi_round")));
        assert_eq!(asked(), ["step1"]);

        alice();
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_multi_round")));
        assert_eq!(asked(), ["step1", "step2"]);

        alice();
        testing::accept(json!({ "color": "blue" }));
        assert_eq!(
            text(call("test_input_required_result_multi_round")),
            "Multi-round complete for Alice who likes blue"
        );
    }

    #[test]
    fn multi_round_messages_name_the_steps() {
        testing::answer_elicit(Err(AskError::Pending));
        let _ = call("test_input_required_result_multi_round");
        let events = testing::take_events();
        let [HostEvent::Elicit(request)] = events.as_slice() else {
            panic!("expected one elicitation, got {events:?}");
        };
        assert_eq!(request.message, "Step 1: What is your name?");
    }

    #[test]
    fn tampered_state_fixture_asks_confirm() {
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_tampered_state")));
        assert_eq!(asked(), ["confirm"]);
    }

    #[test]
    fn capabilities_asks_sampling_even_when_elicitation_is_unsupported() {
        // The test client declares nothing but sampling: elicitation is
        // unsupported (nothing scripted), sampling pending.
        testing::answer_sample(Err(AskError::Pending));
        assert!(is_pending(&call("test_input_required_result_capabilities")));
        assert_eq!(asked(), ["user_name", "greeting"]);
    }

    #[test]
    fn capabilities_answers_with_what_the_client_could_give() {
        testing::sampled("Hi!");
        assert_eq!(
            text(call("test_input_required_result_capabilities")),
            "elicitation: not supported by the client; sampling: Hi!"
        );
    }

    #[test]
    fn capabilities_without_any_needs_nothing() {
        let answer = text(call("test_input_required_result_capabilities"));
        assert_eq!(
            answer,
            "elicitation: not supported by the client; sampling: not supported by the client"
        );
    }

    #[test]
    fn prompt_asks_user_context_then_fills_in() {
        let server = Server::new().prompt(prompt());
        testing::answer_elicit(Err(AskError::Pending));
        assert!(server.get_prompt("test_input_required_result_prompt", "{}").is_err());
        assert_eq!(asked(), ["user_context"]);

        testing::accept(json!({ "context": "test context" }));
        let result = server.get_prompt("test_input_required_result_prompt", "{}").unwrap();
        assert_eq!(
            result.messages,
            [PromptMessage::user(Content::Text("Prompt with context: test context".into()))]
        );
    }

    #[test]
    fn prompt_without_elicitation_is_missing_capability() {
        let server = Server::new().prompt(prompt());
        assert_eq!(
            server.get_prompt("test_input_required_result_prompt", "{}"),
            Err(corral_sdk::types::PromptError::MissingCapability(Capability::Elicitation))
        );
    }

    #[test]
    fn every_fixture_takes_no_arguments() {
        for definition in tools().definitions().unwrap() {
            let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
            assert_eq!(schema.get("required"), None, "{}", definition.name);
        }
    }
}
