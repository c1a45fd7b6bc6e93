//! Text tools: pure computation, no capabilities needed.
//!
//! | tool | does | output |
//! | --- | --- | --- |
//! | `regex_find {text, pattern, max_matches?}` | matches with offsets and groups | structured |
//! | `regex_replace {text, pattern, replacement, all?}` | first (or every) match replaced | structured |
//! | `count {text}` | bytes, chars, words, lines | structured |
//! | `sha256 {text}` | SHA-256 of the UTF-8 bytes, hex | text |
//! | `json_format {text, indent?}` | validated, reindented JSON | text |
//!
//! Being CPU-bound on caller-sized input, these are also what the host's
//! fuel limit is for: a huge text costs fuel, never an unbounded wait.

use corral_sdk::{Structured, Tool, Toolbox};

pub mod json;
pub mod measure;
pub mod pattern;

/// The component's tools.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(pure(Tool::new(
            "regex_find",
            "Find the matches of a regular expression in a text: byte offsets, \
             matched text and capture groups, up to max_matches (default 100).",
            |args: pattern::FindArgs| pattern::find(&args).map(Structured),
        )))
        .with(pure(Tool::new(
            "regex_replace",
            "Replace the first match of a regular expression in a text (every match \
             with all: true); $1 or ${name} in the replacement insert capture groups.",
            |args: pattern::ReplaceArgs| pattern::replace(&args).map(Structured),
        )))
        .with(pure(Tool::new(
            "count",
            "Count the bytes, characters, words and lines of a text.",
            |args: measure::TextArgs| Ok(Structured(measure::count(&args.text))),
        )))
        .with(pure(Tool::new(
            "sha256",
            "Compute the SHA-256 digest of a text's UTF-8 bytes, as lowercase hex.",
            |args: measure::TextArgs| Ok(measure::sha256(&args.text)),
        )))
        .with(pure(Tool::new(
            "json_format",
            "Validate a JSON document and reformat it with the given indent \
             (default 2 spaces; 0 for compact). Reports where invalid JSON goes wrong.",
            |args: json::FormatArgs| json::format(&args),
        )))
}

/// Every tool here computes from its arguments alone.
fn pure(tool: Tool) -> Tool {
    tool.read_only(true).idempotent(true).open_world(false)
}

corral_sdk::export!(tools);

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::types::Content;
    use serde_json::{Value, json};

    #[test]
    fn all_tools_are_listed_read_only() {
        let definitions = tools().definitions().expect("tools are well defined");
        let names: Vec<_> = definitions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["regex_find", "regex_replace", "count", "sha256", "json_format"]);
        assert!(definitions.iter().all(|d| d.annotations.read_only == Some(true)));
    }

    #[test]
    fn count_over_the_wire_is_structured() {
        let result = tools().call("count", r#"{"text": "one two\nthree"}"#).unwrap();
        let structured: Value =
            serde_json::from_str(result.structured.as_deref().unwrap()).unwrap();
        assert_eq!(structured, json!({"bytes": 13, "chars": 13, "words": 3, "lines": 2}));
    }

    #[test]
    fn sha256_over_the_wire_is_one_text_item() {
        let result = tools().call("sha256", r#"{"text": "abc"}"#).unwrap();
        assert_eq!(
            result.content,
            [Content::Text(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into()
            )]
        );
    }

    #[test]
    fn invalid_regex_over_the_wire_is_an_error_result() {
        let result = tools().call("regex_find", r#"{"text": "x", "pattern": "["}"#).unwrap();
        assert!(result.is_error);
    }

    #[test]
    fn invalid_json_over_the_wire_is_an_error_result() {
        let result = tools().call("json_format", r#"{"text": "{"}"#).unwrap();
        assert!(result.is_error);
    }
}
