//! A guest's questions for the client as MCP requests, and the client's
//! answers as the guest's types.
//!
//! Whoever serves the call (a 2025-11-25 session asking live, a 2026-07-28
//! round carrying answers in the retry) sees only the JSON request and
//! hands back the JSON answer; this module owns both directions, so an
//! answer is checked the same way however it came:
//!
//! - an elicitation's accepted `content` must match the guest's
//!   `requestedSchema` (else [`AskError::Invalid`], naming the mismatch);
//! - a sampling answer must carry a role, a model and content the guest's
//!   `content` type can hold;
//! - a roots answer must be a list of `{uri, name?}`.
//!
//! A question's key (its `inputResponses` key in 2026-07-28) is the id the
//! guest gave, else a digest of the request, so the same question asked
//! again in a retry finds its answer.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::types::{
    Answer, AskError, Blob, Content, ElicitAnswer, Question, Role, Root, SampleAnswer,
};
use crate::call::ClientRequest;

/// The MCP request that asks `question`; `None` (with the reason) when the
/// guest's own request is malformed, such as a schema that is not JSON.
pub(super) fn client_request(question: &Question) -> Result<ClientRequest, AskError> {
    let (method, capability, params) = match question {
        Question::Elicit { message, requested_schema, .. } => {
            let schema: Value = serde_json::from_str(requested_schema)
                .map_err(|e| AskError::Invalid(format!("the requested schema is not JSON: {e}")))?;
            if !schema.is_object() {
                return Err(AskError::Invalid("the requested schema is not a JSON object".into()));
            }
            (
                "elicitation/create",
                "elicitation",
                json!({ "message": message, "requestedSchema": schema }),
            )
        }
        Question::Sample {
            messages,
            system_prompt,
            max_tokens,
            temperature,
            stop_sequences,
            model_hints,
            ..
        } => {
            let mut params = Map::new();
            let messages: Vec<Value> =
                messages.iter().map(|m| serde_json::to_value(m).unwrap_or_default()).collect();
            params.insert("messages".into(), messages.into());
            params.insert("maxTokens".into(), (*max_tokens).into());
            if let Some(prompt) = system_prompt {
                params.insert("systemPrompt".into(), prompt.as_str().into());
            }
            if let Some(temperature) = temperature {
                params.insert("temperature".into(), json!(temperature));
            }
            if !stop_sequences.is_empty() {
                params.insert("stopSequences".into(), json!(stop_sequences));
            }
            if !model_hints.is_empty() {
                let hints: Vec<Value> = model_hints.iter().map(|h| json!({ "name": h })).collect();
                params.insert("modelPreferences".into(), json!({ "hints": hints }));
            }
            ("sampling/createMessage", "sampling", Value::Object(params))
        }
        Question::ListRoots { .. } => ("roots/list", "roots", json!({})),
    };
    let key = match question.id() {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => derived_key(method, &params),
    };
    Ok(ClientRequest { method, params, key, capability, resumable: true })
}

/// `<kind>-<12 hex digits of SHA-256 of the request>`: the same question
/// gets the same key in every round.
fn derived_key(method: &str, params: &Value) -> String {
    let kind = method.split('/').next().unwrap_or(method);
    let digest = Sha256::new()
        .chain_update(method.as_bytes())
        .chain_update([0])
        .chain_update(params.to_string().as_bytes())
        .finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{kind}-{hex}")
}

/// The client's `answer` to `question`, as the guest's type.
pub(super) fn parse_answer(question: &Question, answer: Value) -> Result<Answer, AskError> {
    match question {
        Question::Elicit { requested_schema, .. } => {
            parse_elicit(requested_schema, answer).map(Answer::Elicit)
        }
        Question::Sample { .. } => parse_sample(answer).map(Answer::Sample),
        Question::ListRoots { .. } => parse_roots(answer).map(Answer::Roots),
    }
}

fn invalid(what: impl Into<String>) -> AskError {
    AskError::Invalid(what.into())
}

fn parse_elicit(requested_schema: &str, answer: Value) -> Result<ElicitAnswer, AskError> {
    let Value::Object(mut answer) = answer else {
        return Err(invalid("the elicitation answer is not an object"));
    };
    match answer.get("action").and_then(Value::as_str) {
        Some("accept") => {}
        Some("decline") => return Ok(ElicitAnswer::Decline),
        Some("cancel") => return Ok(ElicitAnswer::Cancel),
        Some(other) => {
            return Err(invalid(format!(
                "the elicitation answer's action is {other:?}, not accept, decline or cancel"
            )));
        }
        None => return Err(invalid("the elicitation answer has no action")),
    }
    let content = match answer.remove("content") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(content @ Value::Object(_)) => content,
        Some(_) => return Err(invalid("the accepted elicitation content is not an object")),
    };
    let schema: Value = serde_json::from_str(requested_schema)
        .map_err(|e| invalid(format!("the requested schema is not JSON: {e}")))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| invalid(format!("the requested schema is not a valid JSON Schema: {e}")))?;
    if let Some(error) = validator.iter_errors(&content).next() {
        let at = error.instance_path().to_string();
        let at = if at.is_empty() { "the content".to_owned() } else { format!("content{at}") };
        return Err(invalid(format!(
            "the accepted elicitation content does not match the requested schema: {at}: {error}"
        )));
    }
    Ok(ElicitAnswer::Accept(content.to_string()))
}

fn parse_sample(answer: Value) -> Result<SampleAnswer, AskError> {
    let Value::Object(answer) = answer else {
        return Err(invalid("the sampling answer is not an object"));
    };
    let role = match answer.get("role").and_then(Value::as_str) {
        Some("assistant") | None => Role::Assistant,
        Some("user") => Role::User,
        Some(other) => return Err(invalid(format!("the sampling answer's role is {other:?}"))),
    };
    let content = match answer.get("content") {
        Some(Value::Array(items)) => match items.as_slice() {
            [one] => parse_content(one)?,
            // Several blocks (text beside tool use): the text of them all.
            items => Content::Text(
                items
                    .iter()
                    .filter_map(|item| item.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        },
        Some(item) => parse_content(item)?,
        None => return Err(invalid("the sampling answer has no content")),
    };
    let model = answer.get("model").and_then(Value::as_str).unwrap_or_default().to_owned();
    let stop_reason = answer.get("stopReason").and_then(Value::as_str).map(str::to_owned);
    Ok(SampleAnswer { role, content, model, stop_reason })
}

fn parse_content(item: &Value) -> Result<Content, AskError> {
    let field = |name: &str| item.get(name).and_then(Value::as_str);
    let blob = || -> Result<Blob, AskError> {
        let data = STANDARD
            .decode(field("data").unwrap_or_default())
            .map_err(|e| invalid(format!("the sampling answer's data is not base64: {e}")))?;
        Ok(Blob { data, mime_type: field("mimeType").unwrap_or_default().to_owned() })
    };
    match field("type") {
        Some("text") => Ok(Content::Text(field("text").unwrap_or_default().to_owned())),
        Some("image") => Ok(Content::Image(blob()?)),
        Some("audio") => Ok(Content::Audio(blob()?)),
        other => Err(invalid(format!(
            "the sampling answer's content type {} is not text, image or audio",
            other.map_or("(none)".to_owned(), |t| format!("{t:?}"))
        ))),
    }
}

fn parse_roots(answer: Value) -> Result<Vec<Root>, AskError> {
    let Some(Value::Array(roots)) = answer.get("roots") else {
        return Err(invalid("the roots answer has no roots list"));
    };
    roots
        .iter()
        .map(|root| {
            let uri = root
                .get("uri")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a root in the roots answer has no uri"))?;
            let name = root.get("name").and_then(Value::as_str).map(str::to_owned);
            Ok(Root { uri: uri.to_owned(), name })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elicit(id: Option<&str>) -> Question {
        Question::Elicit {
            id: id.map(str::to_owned),
            message: "Delete it?".into(),
            requested_schema:
                r#"{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}"#
                    .into(),
        }
    }

    #[test]
    fn a_question_is_keyed_by_its_id_or_a_stable_digest() {
        assert_eq!(client_request(&elicit(Some("confirm"))).unwrap().key, "confirm");
        let a = client_request(&elicit(None)).unwrap();
        let b = client_request(&elicit(None)).unwrap();
        assert_eq!(a.key, b.key);
        assert!(a.key.starts_with("elicitation-"), "{}", a.key);
        assert_eq!(a.method, "elicitation/create");
        assert_eq!(a.params["requestedSchema"]["required"], json!(["ok"]));
    }

    #[test]
    fn accepted_content_must_match_the_requested_schema() {
        let question = elicit(None);
        let ok = parse_answer(&question, json!({"action": "accept", "content": {"ok": true}}));
        assert_eq!(ok, Ok(Answer::Elicit(ElicitAnswer::Accept(r#"{"ok":true}"#.into()))));
        let Err(AskError::Invalid(why)) =
            parse_answer(&question, json!({"action": "accept", "content": {"ok": "yes"}}))
        else {
            panic!("a string for a boolean was accepted");
        };
        assert!(why.contains("content/ok"), "{why}");
        assert_eq!(
            parse_answer(&question, json!({"action": "decline"})),
            Ok(Answer::Elicit(ElicitAnswer::Decline))
        );
        assert!(matches!(
            parse_answer(&question, json!(12345)),
            Err(AskError::Invalid(why)) if why.contains("not an object")
        ));
    }

    #[test]
    fn sampling_and_roots_answers_are_parsed() {
        let question = Question::Sample {
            id: None,
            messages: vec![],
            system_prompt: None,
            max_tokens: 10,
            temperature: None,
            stop_sequences: vec![],
            model_hints: vec![],
        };
        let answer = json!({"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m"});
        let Ok(Answer::Sample(sample)) = parse_answer(&question, answer) else { panic!() };
        assert_eq!(sample.content, Content::Text("Paris".into()));
        let roots = parse_answer(
            &Question::ListRoots { id: None },
            json!({"roots": [{"uri": "file:///a", "name": "A"}]}),
        );
        assert_eq!(
            roots,
            Ok(Answer::Roots(vec![Root { uri: "file:///a".into(), name: Some("A".into()) }]))
        );
    }
}
