//! Failures a tool reports to the model.
//!
//! A handler that returns `Err(ToolError)` produces an ordinary MCP result
//! with `isError: true` and the error's message as its only text item. That
//! is what MCP asks for when a tool ran but failed (a missing file, a bad
//! pattern): the model sees the message and can correct itself. It is not a
//! protocol error; those are reserved for calls that could not run at all
//! (unknown tool, arguments that do not parse), which the SDK reports itself.

use std::fmt;

/// A failure the model should see, as a human-readable message.
///
/// `?` converts any [`std::error::Error`] into a `ToolError`, keeping the
/// whole source chain in the message (`"outer: inner: root cause"`), so that
/// nothing is lost on the way to the model. Add what the underlying error
/// does not know, typically the path or the argument involved, with
/// [`Context::context`]:
///
/// ```
/// use corral_sdk::{Context, ToolError};
///
/// fn parse_port(text: &str) -> Result<u16, ToolError> {
///     text.parse::<u16>().context(format!("port {text:?}"))
/// }
///
/// let error = parse_port("http").unwrap_err();
/// assert_eq!(error.message(), "port \"http\": invalid digit found in string");
/// ```
///
/// `ToolError` deliberately does not implement `std::error::Error` itself:
/// that is what lets it accept every error type through one blanket `From`
/// (the same trade `anyhow::Error` makes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// A failure with this message, shown to the model verbatim.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The message the model will see.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with what was being done: `"{context}: {message}"`.
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self::new(format!("{context}: {}", self.message))
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for ToolError {
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
        Self { message }
    }
}

/// Adds what was being done to a failure, turning it into a [`ToolError`].
///
/// Implemented for `Result<T, E>` with any error type, for
/// `Result<T, ToolError>`, and for `Option<T>` (where `None` becomes an error
/// whose message is the context alone).
pub trait Context<T> {
    /// On failure, `"{context}: {error}"`.
    fn context(self, context: impl fmt::Display) -> Result<T, ToolError>;

    /// Like [`Context::context`], building the context only on failure.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, ToolError>;
}

impl<T, E: std::error::Error> Context<T> for Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T, ToolError> {
        self.map_err(|error| ToolError::from(error).context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, ToolError> {
        self.map_err(|error| ToolError::from(error).context(context()))
    }
}

impl<T> Context<T> for Result<T, ToolError> {
    fn context(self, context: impl fmt::Display) -> Result<T, ToolError> {
        self.map_err(|error| error.context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, ToolError> {
        self.map_err(|error| error.context(context()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl fmt::Display) -> Result<T, ToolError> {
        self.ok_or_else(|| ToolError::new(context.to_string()))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, ToolError> {
        self.ok_or_else(|| ToolError::new(context().to_string()))
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
        let error = ToolError::from(Outer(io::Error::other("disk on fire")));
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
        let error = ToolError::from(Repeats(io::Error::other("eof")));
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
        let result: Result<(), ToolError> = Err(ToolError::new("too large"));
        let error = result.with_context(|| "file /data/big").unwrap_err();
        assert_eq!(error.to_string(), "file /data/big: too large");
    }
}
