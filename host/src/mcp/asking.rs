//! Asking the client during a request (elicitation, sampling, roots), in
//! the two forms the revisions give it.
//!
//! **2025-11-25** ([`Asker::Live`]): the request for the client goes out on
//! the call's own stream (an SSE event over HTTP, a line over stdio) with
//! an id of the session's (`corral-<n>`); the client answers with a
//! JSON-RPC response, which [`super::server::McpServer::handle`] hands to
//! the session's [`super::session::Asks`]; the guest, suspended in its
//! host call, resumes with the answer. The wait is bounded by
//! `[server] input_timeout_ms` and the call's own time limit.
//!
//! **2026-07-28** ([`Asker::Rounds`]): there is no channel back during a
//! request. A question the retry has no answer for is recorded and the
//! guest gets `pending`; when the guest returns (its result is discarded),
//! the request ends with `resultType: "input_required"`, the questions as
//! `inputRequests` (keyed by the question's id) and a `requestState`. The
//! client retries the same request with `inputResponses` and the state; the
//! fresh instance's questions then find their answers by key. A question
//! asked again in a later round finds the answer of an earlier one: the
//! state carries every answer the guest used. A round asks at most
//! [`MAX_QUESTIONS_PER_ROUND`] questions; a call the host stopped (a limit,
//! a trap) reports that, and its questions are dropped. A native server's
//! request cannot be answered this way (its call cannot be run again): it
//! gets an error saying so.
//!
//! The `requestState` is `<payload>.<tag>`, both base64url: the payload
//! (JSON: a digest binding it to the method, the name or URI and the
//! arguments; the round; an expiry; the answers used so far) and its
//! HMAC-SHA256 under a key drawn at random when the server starts. A state
//! that was altered, issued by another server process, is past its expiry
//! ([`STATE_LIFETIME`]), or belongs to another request is refused with
//! `-32602`; so is one over [`MAX_STATE_BYTES`]. A state replayed for the
//! same request only repeats answers the client already gave for it.
//! `[server] max_input_rounds` caps the rounds of one request.
//!
//! In both forms a question needs the client to have declared the
//! capability (at `initialize`, or in the request's `_meta`): otherwise the
//! guest gets `unsupported` at once, and a guest that cannot go on returns
//! `missing-capability`, which the client sees as `-32021`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::{mpsc, oneshot};

use super::jsonrpc::McpError;
use super::protocol;
use super::reply::Outgoing;
use super::session::Session;
use crate::call::ClientRequest;
use crate::sandbox::{AskError, Capability};

/// How long a `requestState` stays valid: an elicitation waits on a person.
pub const STATE_LIFETIME: Duration = Duration::from_secs(3600);
/// The largest `requestState` issued or accepted, encoded.
pub const MAX_STATE_BYTES: usize = 64 * 1024;
/// The most questions one round may ask.
pub const MAX_QUESTIONS_PER_ROUND: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The key that signs request states: random, per server process.
pub struct StateKey([u8; 32]);

impl StateKey {
    /// A fresh random key.
    pub fn random() -> Result<StateKey, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(StateKey(key))
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length.
        HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    fn sign(&self, payload: &State) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap_or_default());
        let tag = self.mac().chain_update(payload.as_bytes()).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    fn verify(&self, state: &str) -> Result<State, McpError> {
        let refused = |why: &str| McpError::InvalidParams(format!("requestState refused: {why}"));
        if state.len() > MAX_STATE_BYTES {
            return Err(refused("it is larger than this server ever issues"));
        }
        let (payload, tag) = state.split_once('.').ok_or_else(|| {
            refused("it failed its integrity check (it was altered, or issued by another server)")
        })?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| {
            refused("it failed its integrity check (it was altered, or issued by another server)")
        })?;
        self.mac().chain_update(payload.as_bytes()).verify_slice(&tag).map_err(|_| {
            refused("it failed its integrity check (it was altered, or issued by another server)")
        })?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| refused("it is not readable"))?;
        serde_json::from_slice(&bytes).map_err(|_| refused("it is not readable"))
    }
}

/// What a `requestState` carries.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// The digest of the request it belongs to.
    #[serde(rename = "b")]
    binding: String,
    /// Rounds completed so far.
    #[serde(rename = "r")]
    round: u32,
    /// Seconds since the epoch after which it is refused.
    #[serde(rename = "x")]
    expires: u64,
    /// The answers the guest used, by question key.
    #[serde(rename = "a")]
    answers: BTreeMap<String, Value>,
}

/// The digest binding a state to one request: method, target, arguments.
pub fn binding(method: &str, target: &str, arguments: &impl Serialize) -> String {
    let digest = Sha256::new()
        .chain_update(method.as_bytes())
        .chain_update([0])
        .chain_update(target.as_bytes())
        .chain_update([0])
        // serde_json's maps are ordered by key, so equal arguments give
        // equal text.
        .chain_update(serde_json::to_vec(arguments).unwrap_or_default())
        .finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether `capabilities` (a `ClientCapabilities` object) declares `name`.
pub fn declares(capabilities: &Value, name: &str) -> bool {
    capabilities.get(name).is_some_and(|c| !c.is_null())
}

/// Who answers a request's questions, and how.
pub(super) enum Asker {
    /// 2025-11-25: the session's client, now, on the request's stream.
    Live {
        /// The session (its capabilities and its table of awaited answers).
        session: Arc<Session>,
        /// The longest wait for one answer.
        timeout: Duration,
    },
    /// 2026-07-28: the retry's answers; questions end the round.
    Rounds(Rounds),
}

impl Asker {
    /// This asker, leaving one in its place that asks nothing: for when a
    /// round ends and its questions are read.
    pub(super) fn take(&mut self) -> Asker {
        std::mem::replace(self, Asker::Rounds(Rounds::in_task(json!({}), Map::new(), 0, 0)))
    }

    /// Answers (or starts answering) one question of the guest's; `out` is
    /// the request's stream.
    pub(super) fn ask(
        &mut self,
        request: ClientRequest,
        reply: oneshot::Sender<Result<Value, AskError>>,
        out: &mpsc::UnboundedSender<Outgoing>,
    ) {
        match self {
            Asker::Live { session, timeout } => {
                if !declares(session.capabilities(), request.capability) {
                    let _ = reply.send(Err(unsupported(request.capability)));
                    return;
                }
                tokio::spawn(ask_live(session.clone(), *timeout, request, reply, out.clone()));
            }
            Asker::Rounds(rounds) => {
                let _ = reply.send(rounds.ask(request));
            }
        }
    }
}

fn unsupported(capability: &str) -> AskError {
    match Capability::from_name(capability) {
        Some(capability) => AskError::Unsupported(capability),
        None => AskError::Failed(format!("the client did not declare {capability}")),
    }
}

/// Sends one request to a session's client and hands its answer to the
/// guest; gives up at `timeout`, or when the guest stops waiting.
async fn ask_live(
    session: Arc<Session>,
    timeout: Duration,
    request: ClientRequest,
    mut reply: oneshot::Sender<Result<Value, AskError>>,
    out: mpsc::UnboundedSender<Outgoing>,
) {
    let (id, answer) = session.asks().begin();
    let message = json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": request.method,
        "params": request.params,
    });
    let bytes = bytes::Bytes::from(serde_json::to_vec(&message).unwrap_or_default());
    if out.send(Outgoing::Request(bytes)).is_err() {
        session.asks().end(&id);
        let _ = reply.send(Err(AskError::Failed("the request's stream has closed".into())));
        return;
    }
    let result = tokio::select! {
        answer = tokio::time::timeout(timeout, answer) => answer,
        // The call ended (cancelled, timed out): nobody waits any more.
        () = reply.closed() => {
            session.asks().end(&id);
            return;
        }
    };
    let outcome = match result {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(error))) => Err(AskError::Failed(format!(
            "the client answered {} with an error: {}",
            request.method,
            error.get("message").and_then(Value::as_str).unwrap_or("(no message)")
        ))),
        Ok(Err(_)) => Err(AskError::Failed("the session ended".into())),
        Err(_) => {
            session.asks().end(&id);
            tracing::info!(
                session = session.id(),
                method = request.method,
                timeout_ms = timeout.as_millis() as u64,
                "no answer from the client in time"
            );
            Err(AskError::Timeout)
        }
    };
    let _ = reply.send(outcome);
}

/// One round of a 2026-07-28 request: the answers it came with, and the
/// questions it ends with.
pub(super) struct Rounds {
    capabilities: Value,
    binding: String,
    round: u32,
    max_rounds: u32,
    /// The answers at hand: the state's, then the retry's.
    answers: Map<String, Value>,
    /// The answers the guest used: the next state carries them.
    used: BTreeMap<String, Value>,
    /// The questions without answers, in the order asked.
    asked: Vec<ClientRequest>,
}

/// How a round of a task ended.
pub(super) enum TaskRoundEnd {
    /// Every question had its answer.
    Complete,
    /// Questions remain: `inputRequests` entries, by key.
    Questions(Map<String, Value>),
    /// The guest asked past `max_input_rounds`.
    TooManyRounds(u32),
}

/// How a round ended.
pub(super) enum RoundEnd {
    /// Every question had its answer: the guest's result stands.
    Complete,
    /// Questions remain: the result is `input_required`, serialized.
    InputRequired(Box<serde_json::value::RawValue>),
    /// The guest asked past `max_input_rounds`: an error for the client.
    TooManyRounds(u32),
    /// The answers the state would carry are over its size limit.
    StateTooLarge,
}

impl Rounds {
    /// A round of the request bound by `binding`, from its params'
    /// `inputResponses` and `requestState`. Malformed ones, and states that
    /// fail their checks, are `-32602`.
    pub(super) fn start(
        key: &StateKey,
        params: &Value,
        binding: String,
        capabilities: Value,
        max_rounds: u32,
    ) -> Result<Rounds, McpError> {
        let mut answers = Map::new();
        let mut round = 0;
        match params.get("requestState") {
            None => {}
            Some(Value::String(text)) => {
                let state = key.verify(text)?;
                if state.binding != binding {
                    return Err(McpError::InvalidParams(
                        "requestState refused: it belongs to another request (another tool, \
                         prompt or resource, or other arguments); send it only with the request \
                         that returned it"
                            .into(),
                    ));
                }
                if state.expires < now_secs() {
                    return Err(McpError::InvalidParams(format!(
                        "requestState refused: it expired ({} s after it was issued); send the \
                         request again without it",
                        STATE_LIFETIME.as_secs()
                    )));
                }
                round = state.round;
                answers.extend(state.answers);
            }
            Some(_) => {
                return Err(McpError::InvalidParams("requestState must be a string".into()));
            }
        }
        match params.get("inputResponses") {
            None => {}
            Some(Value::Object(responses)) => {
                for (key, response) in responses {
                    if !response.is_object() {
                        return Err(McpError::InvalidParams(format!(
                            "inputResponses[{key:?}] must be an object (the client's result for \
                             that input request)"
                        )));
                    }
                    answers.insert(key.clone(), response.clone());
                }
            }
            Some(_) => {
                return Err(McpError::InvalidParams(
                    "inputResponses must be an object mapping input request keys to results".into(),
                ));
            }
        }
        Ok(Rounds {
            capabilities,
            binding,
            round,
            max_rounds,
            answers,
            used: BTreeMap::new(),
            asked: Vec::new(),
        })
    }

    /// A round of a call running as a task: the task holds the answers
    /// (`answers`, given through `tasks/update`), not a signed state.
    pub(super) fn in_task(
        capabilities: Value,
        answers: Map<String, Value>,
        round: u32,
        max_rounds: u32,
    ) -> Rounds {
        Rounds {
            capabilities,
            binding: String::new(),
            round,
            max_rounds,
            answers,
            used: BTreeMap::new(),
            asked: Vec::new(),
        }
    }

    /// How a round of a task ends, with the answers it had and its number,
    /// which the next round starts from.
    pub(super) fn end_in_task(self) -> (TaskRoundEnd, Map<String, Value>, u32) {
        let end = if self.asked.is_empty() {
            TaskRoundEnd::Complete
        } else if self.round >= self.max_rounds {
            TaskRoundEnd::TooManyRounds(self.max_rounds)
        } else {
            TaskRoundEnd::Questions(
                self.asked
                    .into_iter()
                    .map(|request| {
                        let entry = json!({ "method": request.method, "params": request.params });
                        (request.key, entry)
                    })
                    .collect(),
            )
        };
        (end, self.answers, self.round + 1)
    }

    fn ask(&mut self, request: ClientRequest) -> Result<Value, AskError> {
        if !request.resumable {
            return Err(AskError::Failed(format!(
                "{} cannot be relayed to an MCP 2026-07-28 client during a request",
                request.method
            )));
        }
        if !declares(&self.capabilities, request.capability) {
            return Err(unsupported(request.capability));
        }
        if let Some(answer) = self.answers.get(&request.key) {
            self.used.insert(request.key.clone(), answer.clone());
            return Ok(answer.clone());
        }
        let known = self.asked.iter().any(|asked| asked.key == request.key);
        if !known && self.asked.len() < MAX_QUESTIONS_PER_ROUND {
            self.asked.push(request);
        }
        Err(AskError::Pending)
    }

    /// How the round ends, once the guest has returned.
    pub(super) fn end(self, key: &StateKey) -> RoundEnd {
        if self.asked.is_empty() {
            return RoundEnd::Complete;
        }
        if self.round >= self.max_rounds {
            return RoundEnd::TooManyRounds(self.max_rounds);
        }
        let state = key.sign(&State {
            binding: self.binding,
            round: self.round + 1,
            expires: now_secs() + STATE_LIFETIME.as_secs(),
            answers: self.used,
        });
        if state.len() > MAX_STATE_BYTES {
            return RoundEnd::StateTooLarge;
        }
        let requests: Map<String, Value> = self
            .asked
            .into_iter()
            .map(|request| {
                (request.key, json!({ "method": request.method, "params": request.params }))
            })
            .collect();
        let result = json!({
            "resultType": "input_required",
            "inputRequests": requests,
            "requestState": state,
            "_meta": protocol::result_meta(),
        });
        RoundEnd::InputRequired(
            // A JSON value always serializes.
            serde_json::value::to_raw_value(&result).expect("a JSON value serializes"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elicit(key: &str) -> ClientRequest {
        ClientRequest {
            method: "elicitation/create",
            params: json!({ "message": "?", "requestedSchema": { "type": "object" } }),
            key: key.into(),
            capability: "elicitation",
            resumable: true,
        }
    }

    fn round(key: &StateKey, params: Value) -> Result<Rounds, McpError> {
        Rounds::start(key, &params, "b".into(), json!({ "elicitation": {} }), 3)
    }

    fn state_of(end: RoundEnd) -> String {
        let RoundEnd::InputRequired(result) = end else { panic!("not input_required") };
        let result: Value = serde_json::from_str(result.get()).unwrap();
        result["requestState"].as_str().unwrap().to_owned()
    }

    #[test]
    fn a_question_without_an_answer_ends_the_round_and_its_answer_is_carried() {
        let key = StateKey::random().unwrap();
        let mut first = round(&key, json!({})).unwrap();
        assert_eq!(first.ask(elicit("step1")), Err(AskError::Pending));
        let state = state_of(first.end(&key));
        let answer = json!({ "action": "accept", "content": { "name": "A" } });
        let mut second =
            round(&key, json!({ "inputResponses": { "step1": answer }, "requestState": state }))
                .unwrap();
        assert_eq!(second.ask(elicit("step1")), Ok(answer.clone()));
        assert_eq!(second.ask(elicit("step2")), Err(AskError::Pending));
        let state = state_of(second.end(&key));
        // Round 3 comes with only step2's answer: step1's is in the state.
        let mut third = round(
            &key,
            json!({ "inputResponses": { "step2": { "action": "decline" } }, "requestState": state }),
        )
        .unwrap();
        assert_eq!(third.ask(elicit("step1")), Ok(answer));
        assert!(third.ask(elicit("step2")).is_ok());
        assert!(matches!(third.end(&key), RoundEnd::Complete));
    }

    #[test]
    fn a_tampered_foreign_or_misbound_state_is_refused() {
        let key = StateKey::random().unwrap();
        let mut first = round(&key, json!({})).unwrap();
        let _ = first.ask(elicit("q"));
        let state = state_of(first.end(&key));
        let tampered = format!("{state}-TAMPERED");
        let err = round(&key, json!({ "requestState": tampered })).err().unwrap();
        assert!(err.to_string().contains("integrity"), "{err}");
        let other = StateKey::random().unwrap();
        assert!(round(&other, json!({ "requestState": state })).is_err());
        let misbound =
            Rounds::start(&key, &json!({ "requestState": state }), "c".into(), json!({}), 3);
        assert!(misbound.err().unwrap().to_string().contains("another request"));
    }

    #[test]
    fn malformed_responses_and_missing_capabilities() {
        let key = StateKey::random().unwrap();
        let err = round(&key, json!({ "inputResponses": { "q": 12345 } })).err().unwrap();
        assert!(err.to_string().contains("inputResponses[\"q\"] must be an object"), "{err}");
        assert!(round(&key, json!({ "inputResponses": null })).is_err());
        let mut rounds = Rounds::start(&key, &json!({}), "b".into(), json!({}), 3).unwrap();
        assert_eq!(rounds.ask(elicit("q")), Err(AskError::Unsupported(Capability::Elicitation)));
        assert!(matches!(rounds.end(&key), RoundEnd::Complete));
    }

    #[test]
    fn rounds_are_capped() {
        let key = StateKey::random().unwrap();
        let mut params = json!({});
        for n in 0..3 {
            let mut rounds = round(&key, params).unwrap();
            let _ = rounds.ask(elicit(&format!("q{n}")));
            params = json!({ "requestState": state_of(rounds.end(&key)) });
        }
        let mut last = round(&key, params).unwrap();
        let _ = last.ask(elicit("again"));
        assert!(matches!(last.end(&key), RoundEnd::TooManyRounds(3)));
    }
}
