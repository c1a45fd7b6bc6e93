//! `search`: lines matching a substring or regex, in the text files under a
//! directory.
//!
//! Bounded on every axis a large tree could blow up:
//!
//! - at most `max_results` matches (default 100, at most 1000), then the
//!   walk stops and says `truncated`;
//! - files over 8 MiB, and files that are not UTF-8 text, are skipped and
//!   counted, not read into a result;
//! - a matched line is cut to 300 characters;
//! - symbolic links are not followed, so a link cannot loop the walk (and
//!   WASI would refuse one that leaves the grant anyway);
//! - a regex compiles to at most 1 MiB (`RegexBuilder::size_limit`); the
//!   `regex` crate matches in linear time, so no pattern can backtrack
//!   forever.

use crate::failure::{Operation, explain};
use crate::listing::EntryKind;
use corral_sdk::ToolError;
use regex::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Matches returned when the caller sets no `max_results`.
pub const DEFAULT_MAX_RESULTS: u32 = 100;
/// The largest `max_results` honoured.
pub const MAX_RESULTS_LIMIT: u32 = 1000;
/// Files larger than this are skipped: 8 MiB.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Characters of a matched line kept in a result.
pub const MAX_LINE_CHARS: usize = 300;
/// The compiled size a regex may reach: 1 MiB.
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// Directory to search recursively (or a single file), inside a granted directory.
    pub path: String,
    /// Text to look for in each line.
    pub pattern: String,
    /// Treat `pattern` as a regular expression (Rust `regex` syntax). Default false: plain substring.
    #[serde(default)]
    pub regex: bool,
    /// Stop after this many matching lines. Default 100, at most 1000.
    pub max_results: Option<u32>,
}

/// What a search found.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SearchResult {
    /// Matching lines, in path order then line order.
    pub matches: Vec<Match>,
    /// True when the search stopped at `max_results`; more lines may match.
    pub truncated: bool,
    /// Text files read.
    pub files_searched: u64,
    /// Files skipped: too large, not UTF-8 text, or unreadable.
    pub files_skipped: u64,
}

/// One matching line.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Match {
    /// The file's path.
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    /// The line, cut to 300 characters.
    pub text: String,
}

/// How a line is tested.
enum Matcher {
    Substring(String),
    Regex(Regex),
}

impl Matcher {
    fn new(args: &SearchArgs) -> Result<Self, ToolError> {
        if args.pattern.is_empty() {
            return Err(ToolError::new("pattern is empty; give the text to look for"));
        }
        if !args.regex {
            return Ok(Self::Substring(args.pattern.clone()));
        }
        RegexBuilder::new(&args.pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(Self::Regex)
            .map_err(|error| ToolError::new(format!("invalid regex: {error}")))
    }

    fn is_match(&self, line: &str) -> bool {
        match self {
            Self::Substring(needle) => line.contains(needle.as_str()),
            Self::Regex(regex) => regex.is_match(line),
        }
    }
}

/// Searches the files under `args.path`.
pub fn search(args: &SearchArgs) -> Result<SearchResult, ToolError> {
    let matcher = Matcher::new(args)?;
    let max_results =
        args.max_results.unwrap_or(DEFAULT_MAX_RESULTS).clamp(1, MAX_RESULTS_LIMIT) as usize;
    let root = Path::new(&args.path);
    // The root itself is followed if it is a link: the caller named it.
    let root_kind =
        fs::metadata(root).map_err(|error| explain(Operation::List, root, &error))?.file_type();

    let mut result =
        SearchResult { matches: Vec::new(), truncated: false, files_searched: 0, files_skipped: 0 };
    // Depth-first with sorted entries, so results come in path order.
    let mut pending: Vec<(PathBuf, EntryKind)> =
        vec![(root.to_path_buf(), EntryKind::of(root_kind))];
    while let Some((path, kind)) = pending.pop() {
        match kind {
            EntryKind::Dir => match sorted_children(&path) {
                Ok(children) => pending.extend(children.into_iter().rev()),
                // The root must be listable; below it, skip what cannot be read.
                Err(error) if path == root => return Err(explain(Operation::List, root, &error)),
                Err(_) => result.files_skipped += 1,
            },
            EntryKind::File => {
                if search_file(&path, &matcher, max_results, &mut result) {
                    result.truncated = true;
                    break;
                }
            }
            EntryKind::Symlink | EntryKind::Other => {}
        }
    }
    Ok(result)
}

fn sorted_children(dir: &Path) -> std::io::Result<Vec<(PathBuf, EntryKind)>> {
    let mut children = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type().map_or(EntryKind::Other, EntryKind::of);
        children.push((entry.path(), kind));
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(children)
}

/// Adds the file's matching lines; true once `max_results` is reached with
/// more to report.
fn search_file(
    path: &Path,
    matcher: &Matcher,
    max_results: usize,
    result: &mut SearchResult,
) -> bool {
    let Some(text) = read_text(path) else {
        result.files_skipped += 1;
        return false;
    };
    result.files_searched += 1;
    for (index, line) in text.lines().enumerate() {
        if !matcher.is_match(line) {
            continue;
        }
        if result.matches.len() == max_results {
            return true;
        }
        result.matches.push(Match {
            path: path.display().to_string(),
            line: index as u64 + 1,
            text: clip(line),
        });
    }
    false
}

/// The file's text, or `None` when it is too large, unreadable or not UTF-8.
fn read_text(path: &Path) -> Option<String> {
    let metadata = fs::metadata(path).ok()?;
    if metadata.len() > MAX_FILE_BYTES {
        return None;
    }
    String::from_utf8(fs::read(path).ok()?).ok()
}

fn clip(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn tree() -> TempDir {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("a.txt"), "alpha\nbeta\nalphabet\n").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/b.md"), "no match\nALPHA\nalpha again\n").unwrap();
        fs::write(dir.path().join("sub/binary"), b"alpha\xff\xfe").unwrap();
        dir
    }

    fn args(dir: &TempDir, pattern: &str, regex: bool, max_results: Option<u32>) -> SearchArgs {
        SearchArgs {
            path: dir.path().display().to_string(),
            pattern: pattern.into(),
            regex,
            max_results,
        }
    }

    fn found(result: &SearchResult, dir: &TempDir) -> Vec<String> {
        result
            .matches
            .iter()
            .map(|m| {
                let relative = Path::new(&m.path).strip_prefix(dir.path()).unwrap();
                format!("{}:{}:{}", relative.display(), m.line, m.text)
            })
            .collect()
    }

    #[test]
    fn substring_search_walks_the_tree_in_path_order() {
        let dir = tree();
        let result = search(&args(&dir, "alpha", false, None)).unwrap();
        assert_eq!(
            found(&result, &dir),
            ["a.txt:1:alpha", "a.txt:3:alphabet", "sub/b.md:3:alpha again"]
        );
        assert!(!result.truncated);
    }

    #[test]
    fn files_that_are_not_utf8_are_skipped_and_counted() {
        let dir = tree();
        let result = search(&args(&dir, "alpha", false, None)).unwrap();
        assert_eq!((result.files_searched, result.files_skipped), (2, 1));
    }

    #[test]
    fn regex_search_uses_regex_syntax() {
        let dir = tree();
        let result = search(&args(&dir, "(?i)^alpha$", true, None)).unwrap();
        assert_eq!(found(&result, &dir), ["a.txt:1:alpha", "sub/b.md:2:ALPHA"]);
    }

    #[test]
    fn search_stops_at_max_results_and_says_so() {
        let dir = tree();
        let result = search(&args(&dir, "a", false, Some(2))).unwrap();
        assert_eq!(result.matches.len(), 2);
        assert!(result.truncated);
    }

    #[test]
    fn exactly_max_results_matches_is_not_truncated() {
        let dir = tree();
        let result = search(&args(&dir, "alpha", false, Some(3))).unwrap();
        assert_eq!(result.matches.len(), 3);
        assert!(!result.truncated);
    }

    #[test]
    fn invalid_regex_reports_the_regex_error() {
        let dir = tree();
        let error = search(&args(&dir, "(unclosed", true, None)).unwrap_err();
        assert!(error.message().starts_with("invalid regex: "), "{error}");
        assert!(error.message().contains("unclosed group"), "{error}");
    }

    #[test]
    fn oversized_regex_is_refused() {
        let dir = tree();
        let error = search(&args(&dir, r"\w{1000}\w{1000}\w{1000}", true, None)).unwrap_err();
        assert!(error.message().contains("size limit"), "{error}");
    }

    #[test]
    fn empty_pattern_is_refused() {
        let dir = tree();
        let error = search(&args(&dir, "", false, None)).unwrap_err();
        assert_eq!(error.message(), "pattern is empty; give the text to look for");
    }

    #[test]
    fn missing_root_says_no_such_directory() {
        let dir = tree();
        let mut missing = args(&dir, "a", false, None);
        missing.path = dir.path().join("nope").display().to_string();
        let error = search(&missing).unwrap_err();
        assert_eq!(error.message(), format!("no such directory: {}", missing.path));
    }

    #[test]
    fn a_single_file_can_be_searched() {
        let dir = tree();
        let mut one = args(&dir, "beta", false, None);
        one.path = dir.path().join("a.txt").display().to_string();
        let result = search(&one).unwrap();
        assert_eq!(found(&result, &dir), ["a.txt:2:beta"]);
    }

    #[test]
    fn long_lines_are_clipped() {
        let long = "x".repeat(MAX_LINE_CHARS + 10);
        assert_eq!(clip(&long).chars().count(), MAX_LINE_CHARS + 1);
        assert!(clip(&long).ends_with('…'));
        assert_eq!(clip("short"), "short");
    }
}
