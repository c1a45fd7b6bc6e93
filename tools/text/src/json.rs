//! `json_format`: validate and reformat a JSON document.
//!
//! The document is streamed from parser to printer (`serde_transcode`), not
//! parsed into a tree first, so object keys keep their order (and
//! duplicates) exactly as written. Numbers go through `u64`, `i64` or
//! `f64`, so one beyond `f64`'s precision is rounded.

use corral_sdk::ToolError;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::ser::PrettyFormatter;

/// The indentation used when the caller sets none.
pub const DEFAULT_INDENT: u8 = 2;
/// The widest indentation honoured.
pub const MAX_INDENT: u8 = 16;

/// Arguments of `json_format`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormatArgs {
    /// The JSON document.
    pub text: String,
    /// Spaces per level, 0 to 16. Default 2; 0 gives compact output on one line.
    pub indent: Option<u8>,
}

/// Reformats `args.text`; invalid JSON is an error naming line and column.
pub fn format(args: &FormatArgs) -> Result<String, ToolError> {
    let indent = args.indent.unwrap_or(DEFAULT_INDENT);
    if indent > MAX_INDENT {
        return Err(ToolError::new(format!("indent {indent} is too wide; use 0 to {MAX_INDENT}")));
    }
    let mut parser = serde_json::Deserializer::from_str(&args.text);
    let mut output = Vec::with_capacity(args.text.len());
    let transcoded = if indent == 0 {
        serde_transcode::transcode(&mut parser, &mut serde_json::Serializer::new(&mut output))
    } else {
        let spaces = vec![b' '; usize::from(indent)];
        let mut printer = serde_json::Serializer::with_formatter(
            &mut output,
            PrettyFormatter::with_indent(&spaces),
        );
        serde_transcode::transcode(&mut parser, &mut printer)
    };
    // `end` refuses anything but whitespace after the document.
    transcoded.and_then(|()| parser.end()).map_err(|error| invalid(&error, &args.text))?;
    String::from_utf8(output).map_err(|_| ToolError::new("the formatted JSON is not UTF-8"))
}

fn invalid(error: &serde_json::Error, text: &str) -> ToolError {
    // serde_json's Display ends in "at line L column C"; say it once, first.
    let message = error.to_string();
    let reason = message.rsplit_once(" at line ").map_or(message.as_str(), |(reason, _)| reason);
    let (line, column) = position(error.line(), error.column(), text);
    ToolError::new(format!("invalid JSON at line {line}, column {column}: {reason}"))
}

/// serde_json reports an error found at a newline as column 0 of the next
/// line; a reader looks for it at the end of the line it is on.
fn position(line: usize, column: usize, text: &str) -> (usize, usize) {
    if column > 0 || line < 2 {
        return (line, column);
    }
    let previous = text.lines().nth(line - 2).map_or(0, |l| l.chars().count());
    (line - 1, previous + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_with(text: &str, indent: Option<u8>) -> Result<String, ToolError> {
        format(&FormatArgs { text: text.into(), indent })
    }

    #[test]
    fn default_indent_is_two_spaces() {
        assert_eq!(
            format_with(r#"{"a":[1,2]}"#, None).unwrap(),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        );
    }

    #[test]
    fn indent_zero_is_compact() {
        assert_eq!(
            format_with("{ \"a\" : 1 ,\n \"b\": null }", Some(0)).unwrap(),
            r#"{"a":1,"b":null}"#
        );
    }

    #[test]
    fn key_order_is_kept() {
        assert_eq!(format_with(r#"{"z":1,"a":2}"#, Some(0)).unwrap(), r#"{"z":1,"a":2}"#);
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        assert_eq!(
            format_with("{\n  \"a\": tru\n}", None).unwrap_err().message(),
            "invalid JSON at line 2, column 11: expected ident"
        );
    }

    #[test]
    fn error_mid_line_keeps_serde_position() {
        assert_eq!(
            format_with("{\n  \"a\": 1,\n  \"b\": }", None).unwrap_err().message(),
            "invalid JSON at line 3, column 8: expected value"
        );
    }

    #[test]
    fn trailing_garbage_is_invalid() {
        let error = format_with("{} x", None).unwrap_err();
        assert_eq!(error.message(), "invalid JSON at line 1, column 4: trailing characters");
    }

    #[test]
    fn empty_text_is_invalid() {
        let error = format_with("", None).unwrap_err();
        assert!(error.message().starts_with("invalid JSON at line 1"), "{error}");
    }

    #[test]
    fn indent_over_the_maximum_is_refused() {
        assert_eq!(
            format_with("{}", Some(17)).unwrap_err().message(),
            "indent 17 is too wide; use 0 to 16"
        );
    }
}
