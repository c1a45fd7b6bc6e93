//! Failures a handler reports, and what each becomes on the wire.
//!
//! A handler (of a tool, a resource, a prompt) that returns `Err(Error)`
//! reports a failure. Most failures are ordinary: a missing file, a bad
//! pattern. For a tool, MCP asks that the model see those, so they become a
//! result with `isError: true` and the message as its only text; they are
//! not protocol errors, which are reserved for calls that could not run at
//! all (unknown tool, arguments that do not parse), which the SDK reports
//! itself. A few failures mean something to the host, and [`ErrorKind`]
//! keeps them apart; this module is the one place that decides what each
//! becomes.

use crate::ask::AskError;
use crate::types::{CallError, CallResult, Capability, Content, PromptError, ResourceError};
use std::fmt;

/// A failure a handler reports, as a human-readable message and a kind.
///
/// `?` converts any [`std::error::Error`] into an `Error`, keeping the whole
/// source chain in the message (`"outer: inner: root cause"`), so that
/// nothing is lost on the way to the model. Add what the underlying error
/// does not know, typically the path or the argument involved, with
/// [`Context::context`]:
///
/// ```
/// use corral_sdk::{Context, Error};
///
/// fn parse_port(text: &str) -> Result<u16, Error> {
///     text.parse::<u16>().context(format!("port {text:?}"))
/// }
///
/// let error = parse_port("http").unwrap_err();
/// assert_eq!(error.message(), "port \"http\": invalid digit found in string");
/// ```
///
/// `?` on an [`AskError`] (asking the client) does the right thing too: a
/// question still pending ends the call so the host can send it, and a
/// capability the client lacks becomes
/// [`ErrorKind::MissingCapability`].
///
/// `Error` deliberately does not implement `std::error::Error` itself: that
/// is what lets it accept every error type through one blanket `From` (the
/// same trade `anyhow::Error` makes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The name tools have always used for [`Error`].
pub type ToolError = Error;

/// What kind of failure an [`Error`] is, which decides what it becomes:
///
/// | kind | tool call | resource read | prompt get |
/// | --- | --- | --- | --- |
/// | [`Failed`](ErrorKind::Failed) | `isError` result | `failed` | `failed` |
/// | [`InvalidArguments`](ErrorKind::InvalidArguments) | `isError` result | `failed` | `invalid-arguments` |
/// | [`NotFound`](ErrorKind::NotFound) | `isError` result | `not-found` (the URI) | `invalid-arguments` |
/// | [`MissingCapability`](ErrorKind::MissingCapability) | `missing-capability` | `missing-capability` | `missing-capability` |
/// | [`InputRequired`](ErrorKind::InputRequired) | `failed`, discarded by the host | same | same |
///
/// A tool's invalid arguments stay an `isError` result on purpose: arguments
/// that parse but make no sense ("a note name may not contain `/`") are
/// something the model can correct, and MCP wants it to see them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An ordinary failure, reported with its message.
    Failed,
    /// Arguments that parsed but cannot be used.
    InvalidArguments,
    /// No resource at this URI.
    NotFound(String),
    /// The handler cannot work without asking the client for this, and the
    /// client did not declare the capability.
    MissingCapability(Capability),
    /// A question to the client is pending (MCP 2026-07-28): the call ends,
    /// the host sends the questions asked, and whatever is returned now is
    /// discarded.
    InputRequired,
}

impl Error {
    /// A failure with this message, shown to the model verbatim.
    pub fn new(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Failed, message: message.into() }
    }

    /// Arguments that parsed but cannot be used, with a message saying why.
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::InvalidArguments, message: message.into() }
    }

    /// No resource at `uri`: a resource read answers MCP `-32602` naming it.
    pub fn not_found(uri: impl Into<String>) -> Self {
        let uri = uri.into();
        Self { message: format!("no resource at {uri}"), kind: ErrorKind::NotFound(uri) }
    }

    /// The handler needs `capability` of the client, which it did not declare.
    pub fn missing_capability(capability: Capability) -> Self {
        Self {
            kind: ErrorKind::MissingCapability(capability),
            message: format!(
                "this needs the client's {} capability, which it did not declare",
                capability_name(capability)
            ),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message the model or the user will see.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with what was being done: `"{context}: {message}"`.
    /// The kind is kept.
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self { message: format!("{context}: {}", self.message), kind: self.kind }
    }

    /// What a tool call gives for this failure.
    pub(crate) fn into_call_outcome(self) -> Result<CallResult, CallError> {
        match self.kind {
            ErrorKind::MissingCapability(capability) => {
                Err(CallError::MissingCapability(capability))
            }
            ErrorKind::InputRequired => Err(CallError::Failed(self.message)),
            ErrorKind::Failed | ErrorKind::InvalidArguments | ErrorKind::NotFound(_) => {
                Ok(error_result(self.message))
            }
        }
    }

    /// What a resource read gives for this failure.
    pub(crate) fn into_resource_error(self) -> ResourceError {
        match self.kind {
            ErrorKind::NotFound(uri) => ResourceError::NotFound(uri),
            ErrorKind::MissingCapability(capability) => {
                ResourceError::MissingCapability(capability)
            }
            ErrorKind::Failed | ErrorKind::InvalidArguments | ErrorKind::InputRequired => {
                ResourceError::Failed(self.message)
            }
        }
    }

    /// What getting a prompt gives for this failure.
    pub(crate) fn into_prompt_error(self) -> PromptError {
        match self.kind {
            ErrorKind::InvalidArguments | ErrorKind::NotFound(_) => {
                PromptError::InvalidArguments(self.message)
            }
            ErrorKind::MissingCapability(capability) => PromptError::MissingCapability(capability),
            ErrorKind::Failed | ErrorKind::InputRequired => PromptError::Failed(self.message),
        }
    }
}

/// A tool result that reports `message` as a failure the model sees.
pub(crate) fn error_result(message: String) -> CallResult {
    CallResult { content: vec![Content::Text(message)], structured: None, is_error: true }
}

/// The capability's name as MCP spells it in `capabilities`.
pub(crate) fn capability_name(capability: Capability) -> &'static str {
    match capability {
        Capability::Elicitation => "elicitation",
        Capability::Sampling => "sampling",
        Capability::Roots => "roots",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Asking the client failed; see [`AskError`] for what each case becomes.
impl From<AskError> for Error {
    fn from(error: AskError) -> Self {
        match error {
            AskError::Pending => Self {
                kind: ErrorKind::InputRequired,
                message: "input required: the host sends the questions asked to the client, \
                          which calls again with the answers"
                    .into(),
            },
            AskError::Unsupported(capability) => Self::missing_capability(capability),
            other => Self::new(other.to_string()),
        }
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // Many errors repeat their source in their own Display; printing
            // it twice would only make the model's reading harder.
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        Self { kind: ErrorKind::Failed, message }
    }
}

/// Adds what was being done to a failure, turning it into a [`Error`].
///
/// Implemented for `Result<T, E>` with any error type, for
/// `Result<T, Error>` and `Result<T, AskError>` (keeping their kind), and
/// for `Option<T>` (where `None` becomes an error
/// whose message is the context alone).
pub trait Context<T> {
    /// On failure, `"{context}: {error}"`.
    fn context(self, context: impl fmt::Display) -> Result<T, Error>;

    /// Like [`Context::context`], building the context only on failure.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, Error>;
}

impl<T, E: std::error::Error> Context<T> for Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T, Error> {
        self.map_err(|error| Error::from(error).context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, Error> {
        self.map_err(|error| Error::from(error).context(context()))
    }
}

impl<T> Context<T> for Result<T, Error> {
    fn context(self, context: impl fmt::Display) -> Result<T, Error> {
        self.map_err(|error| error.context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, Error> {
        self.map_err(|error| error.context(context()))
    }
}

impl<T> Context<T> for Result<T, AskError> {
    fn context(self, context: impl fmt::Display) -> Result<T, Error> {
        self.map_err(|error| Error::from(error).context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, Error> {
        self.map_err(|error| Error::from(error).context(context()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl fmt::Display) -> Result<T, Error> {
        self.ok_or_else(|| Error::new(context.to_string()))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, Error> {
        self.ok_or_else(|| Error::new(context().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[derive(Debug)]
    struct Outer(io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("loading the index")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn question_mark_keeps_the_whole_source_chain() {
        let error = Error::from(Outer(io::Error::other("disk on fire")));
        assert_eq!(error.message(), "loading the index: disk on fire");
    }

    #[test]
    fn a_source_already_in_the_message_is_not_repeated() {
        #[derive(Debug)]
        struct Repeats(io::Error);
        impl fmt::Display for Repeats {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "read failed: {}", self.0)
            }
        }
        impl std::error::Error for Repeats {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let error = Error::from(Repeats(io::Error::other("eof")));
        assert_eq!(error.message(), "read failed: eof");
    }

    #[test]
    fn context_prefixes_the_message() {
        let result: Result<(), io::Error> = Err(io::Error::other("gone"));
        let error = result.context("reading /data/a.txt").unwrap_err();
        assert_eq!(error.message(), "reading /data/a.txt: gone");
    }

    #[test]
    fn context_on_none_is_the_whole_message() {
        let error = None::<u8>.context("no such entry: x").unwrap_err();
        assert_eq!(error.message(), "no such entry: x");
    }

    #[test]
    fn with_context_on_a_tool_error_prefixes_it() {
        let result: Result<(), ToolError> = Err(Error::new("too large"));
        let error = result.with_context(|| "file /data/big").unwrap_err();
        assert_eq!(error.to_string(), "file /data/big: too large");
    }
}
