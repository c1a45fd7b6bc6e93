//! Asking the client's model (MCP `sampling/createMessage`).

use super::AskError;
use crate::host;
use crate::types::{Content, Role, SampleAnswer, SampleRequest, SamplingMessage};

/// Asks the client's model to answer `prompt`, one user message, with the
/// defaults of [`Sampling::new`].
pub fn sample(prompt: impl Into<String>) -> Result<SampleAnswer, AskError> {
    Sampling::new().user(prompt).ask()
}

/// A request to the client's model: messages and how to answer them.
///
/// Defaults, as [`Sampling::new`] sets them: no messages, no id (the host
/// names the request by a digest of it), no system prompt, at most
/// [`Sampling::DEFAULT_MAX_TOKENS`] tokens, the client's own temperature,
/// no stop sequences and no model hints.
///
/// ```no_run
/// use corral_sdk::{Error, Sampling};
///
/// fn capital() -> Result<String, Error> {
///     let answer = Sampling::new()
///         .id("capital_question")
///         .user("What is the capital of France?")
///         .max_tokens(100)
///         .ask()?;
///     Ok(answer.text().unwrap_or("no text").to_owned())
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    request: SampleRequest,
}

impl Sampling {
    /// The `maxTokens` a request asks for unless [`max_tokens`](Sampling::max_tokens)
    /// says otherwise. MCP requires one; this allows a few paragraphs.
    pub const DEFAULT_MAX_TOKENS: u32 = 1000;

    /// A request with no messages yet, and the defaults listed above.
    pub fn new() -> Self {
        Self {
            request: SampleRequest {
                id: None,
                messages: Vec::new(),
                system_prompt: None,
                max_tokens: Self::DEFAULT_MAX_TOKENS,
                temperature: None,
                stop_sequences: Vec::new(),
                model_hints: Vec::new(),
            },
        }
    }

    /// Names the request: the key of its MCP 2026-07-28 `inputRequests`
    /// entry, by which the answer is matched in the next round.
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.request.id = Some(id.into());
        self
    }

    /// Adds a user message of text.
    #[must_use]
    pub fn user(self, text: impl Into<String>) -> Self {
        self.message(Role::User, Content::Text(text.into()))
    }

    /// Adds an assistant message of text (an earlier turn of the model).
    #[must_use]
    pub fn assistant(self, text: impl Into<String>) -> Self {
        self.message(Role::Assistant, Content::Text(text.into()))
    }

    /// Adds a message of any content (an image, audio) in `role`.
    #[must_use]
    pub fn message(mut self, role: Role, content: Content) -> Self {
        self.request.messages.push(SamplingMessage { role, content });
        self
    }

    /// Sets the system prompt (the client may ignore or change it).
    #[must_use]
    pub fn system_prompt(mut self, system_prompt: impl Into<String>) -> Self {
        self.request.system_prompt = Some(system_prompt.into());
        self
    }

    /// Sets the most tokens the model may answer with.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.request.max_tokens = max_tokens;
        self
    }

    /// Sets the sampling temperature.
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.request.temperature = Some(temperature);
        self
    }

    /// Adds a sequence at which the model stops.
    #[must_use]
    pub fn stop_sequence(mut self, stop: impl Into<String>) -> Self {
        self.request.stop_sequences.push(stop.into());
        self
    }

    /// Adds a model name to prefer, after the ones already given.
    #[must_use]
    pub fn model_hint(mut self, model: impl Into<String>) -> Self {
        self.request.model_hints.push(model.into());
        self
    }

    /// Sends the request; the model's answer, or why there is none.
    pub fn ask(&self) -> Result<SampleAnswer, AskError> {
        host::sample(self.request.clone())
    }
}

impl Default for Sampling {
    fn default() -> Self {
        Self::new()
    }
}

impl SampleAnswer {
    /// The answer's text, when it is text.
    pub fn text(&self) -> Option<&str> {
        match &self.content {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, HostEvent};
    use crate::types::Capability;

    #[test]
    fn the_request_carries_the_messages_and_settings() {
        testing::sampled("Paris");
        let answer = Sampling::new()
            .id("capital_question")
            .user("What is the capital of France?")
            .max_tokens(100)
            .ask()
            .unwrap();
        assert_eq!(answer.text(), Some("Paris"));
        let events = testing::take_events();
        let [HostEvent::Sample(request)] = events.as_slice() else {
            panic!("expected one sampling request");
        };
        assert_eq!(
            *request,
            SampleRequest {
                id: Some("capital_question".into()),
                messages: vec![SamplingMessage {
                    role: Role::User,
                    content: Content::Text("What is the capital of France?".into()),
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
    fn unscripted_sampling_is_unsupported() {
        assert_eq!(sample("hi"), Err(AskError::Unsupported(Capability::Sampling)));
    }
}
