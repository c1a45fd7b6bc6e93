//! Asking the client during a call: the user ([`elicit`]), the client's
//! model ([`Sampling`]) and the client's roots ([`roots`]).
//!
//! # How an answer arrives
//!
//! The host answers each question in one of two ways, depending on the
//! client's MCP revision; a handler is written the same way for both.
//!
//! - **MCP 2025-11-25** (a live session): the host sends the request to the
//!   client during the call and the function returns the answer, or
//!   [`AskError::Timeout`] / [`AskError::Failed`].
//! - **MCP 2026-07-28** (stateless): the first time a question is asked the
//!   function returns [`AskError::Pending`]. The host records the question,
//!   discards whatever the handler then returns, and answers the client with
//!   `resultType: "input_required"` and the recorded questions. The client
//!   calls again with the answers, in a fresh instance, where asking the
//!   same question (same `id`) returns its answer. Answers of earlier rounds
//!   are carried along, so asking step 1 again in round 2 returns its answer
//!   and asking step 2 is pending.
//!
//! So: ask, and let `?` end the call on `Pending`. Converted into the
//! handler's [`Error`](crate::Error), each case does the right thing:
//!
//! | [`AskError`] | with `?` in a handler |
//! | --- | --- |
//! | `Pending` | ends the call; the host sends the questions asked |
//! | `Unsupported(capability)` | `missing-capability`: the client learns what it must declare |
//! | `Timeout`, `Invalid`, `Failed`, `InvalidQuestion` | an ordinary failure with the message |
//!
//! A handler that can do without an answer matches on the error instead,
//! or passes it through [`if_supported`], and carries on.
//!
//! # Several questions in one round
//!
//! Questions asked before stopping all go out in one `input_required`
//! result. To ask several at once, ask them all and only then apply `?`:
//!
//! ```no_run
//! use corral_sdk::{Elicitation, Error, Sampling, roots_with_id};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Name {
//!     name: String,
//! }
//!
//! fn greet() -> Result<String, Error> {
//!     let name = Elicitation::new("What is your name?").id("user_name").ask::<Name>();
//!     let greeting = Sampling::new().id("greeting").user("Generate a greeting").ask();
//!     let roots = roots_with_id("client_roots");
//!     let (name, greeting, roots) = (name?, greeting?, roots?);
//!     let name = name.accepted().map_or("stranger".to_owned(), |answer| answer.name);
//!     Ok(format!("{} {name}; {} roots", greeting.text().unwrap_or("Hello"), roots.len()))
//! }
//! ```
//!
//! # Ids
//!
//! Each question has an `id` naming it, by which its answer is matched in
//! a later round. The default is a digest of the question the host
//! computes, so the same question gets the same answer; set one
//! ([`Elicitation::id`], [`Sampling::id`], [`roots_with_id`]) when the
//! question's text changes from one round to the next or when the client
//! expects a particular key.
//!
//! Off wasm (a tool crate's native tests) nothing is sent: answers come
//! from a script the test writes, see [`testing`](crate::testing).

use crate::error::capability_name;
use crate::host;
use crate::types::{Capability, Root};
use std::fmt;

mod elicit;
mod requested_schema;
mod sample;

pub use elicit::{Answer, Elicitation, elicit};
pub use requested_schema::requested_schema;
pub use sample::{Sampling, sample};

/// Why asking the client gave no answer.
///
/// The first five cases are the host's (`corral:mcp/types.ask-error`);
/// [`InvalidQuestion`](AskError::InvalidQuestion) is the SDK's own, for a
/// question it refused to send. `?` in a handler converts it into an
/// [`Error`](crate::Error) as the [module docs](self) describe.
///
/// Like [`Error`](crate::Error), it does not implement `std::error::Error`,
/// so that `?` keeps its meaning instead of flattening it into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    /// MCP 2026-07-28: the question goes out with the call's result, and the
    /// client calls again with the answer. End the call (`?` does).
    Pending,
    /// The client did not declare this capability.
    Unsupported(Capability),
    /// The client did not answer in time.
    Timeout,
    /// The answer did not fit the question: the content does not match the
    /// requested schema, or does not deserialize into the answer's type.
    Invalid(String),
    /// The client answered with an error.
    Failed(String),
    /// The question is not one MCP allows (such as a requested schema with a
    /// nested object), so nothing was sent. A mistake in the tool itself.
    InvalidQuestion(String),
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending => {
                f.write_str("the question is pending: the client answers in a later round")
            }
            Self::Unsupported(capability) => write!(
                f,
                "the client did not declare the {} capability",
                capability_name(*capability)
            ),
            Self::Timeout => f.write_str("the client did not answer in time"),
            Self::Invalid(message) => {
                write!(f, "the client's answer does not fit the question: {message}")
            }
            Self::Failed(message) => write!(f, "the client could not answer: {message}"),
            Self::InvalidQuestion(message) => write!(f, "the question cannot be asked: {message}"),
        }
    }
}

/// The answer, or `None` if the client did not declare the capability
/// asking needs; any other failure as it is.
///
/// For a handler that can do without the answer: `?` on the result still
/// ends the call while a question is pending.
///
/// ```no_run
/// use corral_sdk::{Error, if_supported, roots};
///
/// fn workspace() -> Result<String, Error> {
///     Ok(match if_supported(roots())? {
///         Some(roots) => format!("{} roots", roots.len()),
///         None => "the client has no roots to share".into(),
///     })
/// }
/// ```
pub fn if_supported<T>(answer: Result<T, AskError>) -> Result<Option<T>, AskError> {
    match answer {
        Ok(answer) => Ok(Some(answer)),
        Err(AskError::Unsupported(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Asks for the client's roots (MCP `roots/list`), under the default id
/// (`roots`).
pub fn roots() -> Result<Vec<Root>, AskError> {
    host::list_roots(None)
}

/// Asks for the client's roots under `id`, the key a 2026-07-28 client
/// answers it by.
pub fn roots_with_id(id: impl Into<String>) -> Result<Vec<Root>, AskError> {
    host::list_roots(Some(id.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, HostEvent};

    #[test]
    fn roots_return_the_answer_and_record_the_id() {
        let root = Root { uri: "file:///work".into(), name: Some("work".into()) };
        testing::answer_list_roots(Ok(vec![root.clone()]));
        assert_eq!(roots_with_id("client_roots"), Ok(vec![root]));
        assert_eq!(
            testing::take_events(),
            [HostEvent::ListRoots { id: Some("client_roots".into()) }]
        );
    }

    #[test]
    fn unscripted_roots_are_unsupported() {
        assert_eq!(roots(), Err(AskError::Unsupported(Capability::Roots)));
    }

    #[test]
    fn if_supported_turns_only_unsupported_into_none() {
        assert_eq!(if_supported(roots()), Ok(None));
        testing::answer_list_roots(Err(AskError::Pending));
        assert_eq!(if_supported(roots()), Err(AskError::Pending));
    }

    #[test]
    fn unsupported_names_the_capability() {
        assert_eq!(
            AskError::Unsupported(Capability::Sampling).to_string(),
            "the client did not declare the sampling capability"
        );
    }
}
