//! `regex_find` and `regex_replace`.
//!
//! Patterns use the `regex` crate's syntax. It matches in time linear in
//! the text, so no pattern can backtrack forever; what remains to bound is
//! the compiled size of a pattern (1 MiB, `RegexBuilder::size_limit`) and
//! the number of matches returned.

use corral_sdk::ToolError;
use regex::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The compiled size a pattern may reach: 1 MiB. `\w{1000}` alone is over it.
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;
/// Matches returned when the caller sets no `max_matches`.
pub const DEFAULT_MAX_MATCHES: u32 = 100;
/// The largest `max_matches` honoured.
pub const MAX_MATCHES_LIMIT: u32 = 10_000;

/// Compiles `pattern` within the size limit; the error is the regex crate's
/// own message, which points at the offending part of the pattern.
pub fn compile(pattern: &str) -> Result<Regex, ToolError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| ToolError::new(format!("invalid regex: {error}")))
}

/// Arguments of `regex_find`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindArgs {
    /// The text to search.
    pub text: String,
    /// A regular expression (Rust `regex` syntax; `(?i)` for case-insensitive).
    pub pattern: String,
    /// Stop after this many matches. Default 100, at most 10000.
    pub max_matches: Option<u32>,
}

/// The matches of a pattern in a text.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Found {
    /// Matches, in order of position.
    pub matches: Vec<FoundMatch>,
    /// True when the search stopped at `max_matches`; more may follow.
    pub truncated: bool,
}

/// One match.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FoundMatch {
    /// Byte offset where the match starts.
    pub start: usize,
    /// Byte offset just past its end.
    pub end: usize,
    /// The matched text.
    pub text: String,
    /// Capture groups 1, 2, ... (`null` for a group that did not take part).
    /// Absent when the pattern has no groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Option<String>>,
}

/// Finds the matches of `args.pattern` in `args.text`.
pub fn find(args: &FindArgs) -> Result<Found, ToolError> {
    let regex = compile(&args.pattern)?;
    let limit =
        args.max_matches.unwrap_or(DEFAULT_MAX_MATCHES).clamp(1, MAX_MATCHES_LIMIT) as usize;
    let mut found = Found { matches: Vec::new(), truncated: false };
    for captures in regex.captures_iter(&args.text) {
        if found.matches.len() == limit {
            found.truncated = true;
            break;
        }
        // Group 0, the whole match, is always present.
        let Some(whole) = captures.get(0) else {
            continue;
        };
        found.matches.push(FoundMatch {
            start: whole.start(),
            end: whole.end(),
            text: whole.as_str().to_owned(),
            groups: captures
                .iter()
                .skip(1)
                .map(|group| group.map(|group| group.as_str().to_owned()))
                .collect(),
        });
    }
    Ok(found)
}

/// Arguments of `regex_replace`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceArgs {
    /// The text to change.
    pub text: String,
    /// A regular expression (Rust `regex` syntax).
    pub pattern: String,
    /// What replaces each match; `$1` or `${name}` insert a capture group, `$$` a dollar sign.
    pub replacement: String,
    /// Replace every match. Default false: only the first.
    #[serde(default)]
    pub all: bool,
}

/// The text after replacement.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Replaced {
    /// The resulting text.
    pub text: String,
    /// How many matches were replaced.
    pub replacements: usize,
}

/// Replaces the first match of `args.pattern`, or every match with `all`.
pub fn replace(args: &ReplaceArgs) -> Result<Replaced, ToolError> {
    let regex = compile(&args.pattern)?;
    let limit = if args.all { usize::MAX } else { 1 };
    let replacements = regex.find_iter(&args.text).take(limit).count();
    let text = regex
        .replacen(&args.text, if args.all { 0 } else { 1 }, args.replacement.as_str())
        .into_owned();
    Ok(Replaced { text, replacements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_in(text: &str, pattern: &str, max_matches: Option<u32>) -> Result<Found, ToolError> {
        find(&FindArgs { text: text.into(), pattern: pattern.into(), max_matches })
    }

    fn replace_in(text: &str, pattern: &str, replacement: &str, all: bool) -> Replaced {
        replace(&ReplaceArgs {
            text: text.into(),
            pattern: pattern.into(),
            replacement: replacement.into(),
            all,
        })
        .unwrap()
    }

    #[test]
    fn find_reports_offsets_text_and_groups() {
        let found = find_in("a=1, b=22", r"(\w)=(\d+)", None).unwrap();
        assert_eq!(
            found.matches,
            [
                FoundMatch {
                    start: 0,
                    end: 3,
                    text: "a=1".into(),
                    groups: vec![Some("a".into()), Some("1".into())],
                },
                FoundMatch {
                    start: 5,
                    end: 9,
                    text: "b=22".into(),
                    groups: vec![Some("b".into()), Some("22".into())],
                },
            ]
        );
        assert!(!found.truncated);
    }

    #[test]
    fn find_without_groups_omits_them_from_json() {
        let found = find_in("xyz", "y", None).unwrap();
        assert_eq!(
            serde_json::to_string(&found.matches[0]).unwrap(),
            r#"{"start":1,"end":2,"text":"y"}"#
        );
    }

    #[test]
    fn find_marks_groups_that_did_not_take_part() {
        let found = find_in("b", "(a)?b", None).unwrap();
        assert_eq!(found.matches[0].groups, [None]);
    }

    #[test]
    fn find_stops_at_max_matches() {
        let found = find_in("aaaa", "a", Some(3)).unwrap();
        assert_eq!(found.matches.len(), 3);
        assert!(found.truncated);
    }

    #[test]
    fn invalid_pattern_reports_the_regex_message() {
        let error = find_in("x", "a(", None).unwrap_err();
        assert!(error.message().starts_with("invalid regex: "), "{error}");
        assert!(error.message().contains("unclosed group"), "{error}");
    }

    #[test]
    fn pattern_over_the_size_limit_is_refused() {
        let error = find_in("x", r"\w{1000}\w{1000}", None).unwrap_err();
        assert!(error.message().contains("size limit"), "{error}");
    }

    #[test]
    fn replace_changes_only_the_first_match_by_default() {
        assert_eq!(
            replace_in("a a a", "a", "b", false),
            Replaced { text: "b a a".into(), replacements: 1 }
        );
    }

    #[test]
    fn replace_all_changes_every_match() {
        assert_eq!(
            replace_in("a a a", "a", "b", true),
            Replaced { text: "b b b".into(), replacements: 3 }
        );
    }

    #[test]
    fn replace_expands_capture_groups() {
        let replaced =
            replace_in("John Smith", r"(?P<first>\w+) (?P<last>\w+)", "$last, ${first}", false);
        assert_eq!(replaced.text, "Smith, John");
    }

    #[test]
    fn replace_without_a_match_leaves_the_text() {
        assert_eq!(
            replace_in("abc", "z", "y", true),
            Replaced { text: "abc".into(), replacements: 0 }
        );
    }
}
