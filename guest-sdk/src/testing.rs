//! Native test support: what a handler asked of the host, recorded per
//! thread, and scripted answers to its questions.
//!
//! Only compiled for non-wasm targets, where there is no host to call. Each
//! test runs on its own thread, so tests see neither each other's events
//! nor each other's answers.
//!
//! ```
//! use corral_sdk::testing::{HostEvent, take_events};
//! use corral_sdk::{LogLevel, log, progress};
//!
//! log::info("started");
//! progress(1.0, Some(2.0), None);
//! assert_eq!(
//!     take_events(),
//!     vec![
//!         HostEvent::Log { level: LogLevel::Info, message: "started".into() },
//!         HostEvent::Progress { done: 1.0, total: Some(2.0), message: None },
//!     ]
//! );
//! assert!(take_events().is_empty());
//! ```
//!
//! # Scripted answers
//!
//! A question is answered by the next answer scripted for its kind
//! (elicitation, sampling, roots), first in, first out. With none left, the
//! answer is [`AskError::Unsupported`]: by default the test client declares
//! no capability. Every question is also recorded as an event, so a test
//! can check what was asked.
//!
//! ```
//! use corral_sdk::testing::{self, HostEvent};
//! use corral_sdk::{Answer, AskError, elicit};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
//! struct Confirm {
//!     ok: bool,
//! }
//!
//! testing::accept(serde_json::json!({ "ok": true }));
//! testing::answer_elicit(Err(AskError::Pending));
//! assert_eq!(elicit::<Confirm>("Sure?"), Ok(Answer::Accept(Confirm { ok: true })));
//! assert_eq!(elicit::<Confirm>("Sure?"), Err(AskError::Pending));
//! assert!(matches!(testing::take_events()[0], HostEvent::Elicit(_)));
//! ```

use crate::ask::AskError;
use crate::types::{
    Capability, Content, ElicitAnswer, ElicitRequest, LogLevel, Role, Root, SampleAnswer,
    SampleRequest,
};
use std::cell::RefCell;
use std::collections::VecDeque;

/// One call a handler made to the `corral:mcp/host` interface.
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// A [`log`](crate::log()) call.
    Log {
        /// Its level.
        level: LogLevel,
        /// Its message.
        message: String,
    },
    /// A [`progress`](crate::progress) call.
    Progress {
        /// Work done so far.
        done: f64,
        /// Total work, if known.
        total: Option<f64>,
        /// What is being done.
        message: Option<String>,
    },
    /// A [`resource_updated`](crate::resource_updated) call.
    ResourceUpdated {
        /// The resource that changed.
        uri: String,
    },
    /// A question to the user ([`elicit`](crate::elicit) and [`Elicitation`](crate::Elicitation)).
    Elicit(ElicitRequest),
    /// A question to the client's model ([`Sampling`](crate::Sampling)).
    Sample(SampleRequest),
    /// A request for the client's roots ([`roots`](crate::roots)).
    ListRoots {
        /// The id it was asked under, if any.
        id: Option<String>,
    },
}

thread_local! {
    static EVENTS: RefCell<Vec<HostEvent>> = const { RefCell::new(Vec::new()) };
    static SCRIPT: RefCell<Script> = RefCell::new(Script::default());
}

pub(crate) fn record(event: HostEvent) {
    EVENTS.with(|events| events.borrow_mut().push(event));
}

/// Returns the events recorded on this thread since the last call, and forgets them.
pub fn take_events() -> Vec<HostEvent> {
    EVENTS.with(|events| std::mem::take(&mut *events.borrow_mut()))
}

/// Scripts the answer to the next elicitation not yet scripted.
pub fn answer_elicit(answer: Result<ElicitAnswer, AskError>) {
    SCRIPT.with(|script| script.borrow_mut().elicit.push_back(answer));
}

/// Scripts the answer to the next sampling request not yet scripted.
pub fn answer_sample(answer: Result<SampleAnswer, AskError>) {
    SCRIPT.with(|script| script.borrow_mut().sample.push_back(answer));
}

/// Scripts the answer to the next request for roots not yet scripted.
pub fn answer_list_roots(answer: Result<Vec<Root>, AskError>) {
    SCRIPT.with(|script| script.borrow_mut().list_roots.push_back(answer));
}

/// Scripts an elicitation the user accepts with `content`.
pub fn accept(content: serde_json::Value) {
    answer_elicit(Ok(ElicitAnswer::Accept(content.to_string())));
}

/// Scripts an elicitation the user declines.
pub fn decline() {
    answer_elicit(Ok(ElicitAnswer::Decline));
}

/// Scripts an elicitation the user cancels.
pub fn cancel() {
    answer_elicit(Ok(ElicitAnswer::Cancel));
}

/// Scripts a sampling request the model answers with `text` (as model
/// `test-model`, stop reason `endTurn`).
pub fn sampled(text: impl Into<String>) {
    answer_sample(Ok(SampleAnswer {
        role: Role::Assistant,
        content: Content::Text(text.into()),
        model: "test-model".into(),
        stop_reason: Some("endTurn".into()),
    }));
}

/// The answers scripted on this thread, per kind of question.
#[derive(Default)]
pub(crate) struct Script {
    elicit: VecDeque<Result<ElicitAnswer, AskError>>,
    sample: VecDeque<Result<SampleAnswer, AskError>>,
    list_roots: VecDeque<Result<Vec<Root>, AskError>>,
}

impl Script {
    pub(crate) fn next_elicit() -> Result<ElicitAnswer, AskError> {
        let next = SCRIPT.with(|script| script.borrow_mut().elicit.pop_front());
        next.unwrap_or(Err(AskError::Unsupported(Capability::Elicitation)))
    }

    pub(crate) fn next_sample() -> Result<SampleAnswer, AskError> {
        let next = SCRIPT.with(|script| script.borrow_mut().sample.pop_front());
        next.unwrap_or(Err(AskError::Unsupported(Capability::Sampling)))
    }

    pub(crate) fn next_list_roots() -> Result<Vec<Root>, AskError> {
        let next = SCRIPT.with(|script| script.borrow_mut().list_roots.pop_front());
        next.unwrap_or(Err(AskError::Unsupported(Capability::Roots)))
    }
}
