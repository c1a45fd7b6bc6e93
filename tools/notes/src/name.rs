//! Note names: the file name of a note in the notes directory.
//!
//! | rule | why |
//! | --- | --- |
//! | ends in `.md` or `.txt` | notes are Markdown or plain text; the extension gives the MIME type |
//! | letters, digits, `-`, `_` and `.` only, starting with a letter or digit | one file directly in the notes directory: no `/`, no hidden files, nothing a URI must escape |
//! | no `..` | never read as a step out of the directory |
//! | at most [`MAX_LEN`] characters | well within every file system's limit |
//!
//! A name is checked once, where it enters (a tool's argument, a URI's
//! variable, a prompt's argument); past that it is a [`NoteName`].

use corral_sdk::Error;
use std::fmt;

/// The longest note name accepted.
pub const MAX_LEN: usize = 100;

/// A note's name, checked against the rules in the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteName(String);

/// What kind of text a note holds, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.md`
    Markdown,
    /// `.txt`
    Text,
}

impl Format {
    /// The MIME type of notes of this format.
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Markdown => "text/markdown",
            Self::Text => "text/plain",
        }
    }
}

impl NoteName {
    /// Checks `name`; the error says which rule it breaks, for the model to fix.
    pub fn parse(name: &str) -> Result<Self, Error> {
        let invalid = |rule: String| Error::invalid_arguments(format!("note name `{name}` {rule}"));
        if name.is_empty() {
            return Err(Error::invalid_arguments("a note name is required, such as `ideas.md`"));
        }
        if name.chars().count() > MAX_LEN {
            return Err(invalid(format!("is longer than {MAX_LEN} characters")));
        }
        if let Some(separator) = name.chars().find(|c| matches!(c, '/' | '\\')) {
            return Err(invalid(format!(
                "contains `{separator}`: a note is a file directly in the notes directory"
            )));
        }
        if let Some(other) =
            name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(invalid(format!(
                "contains `{other}`: use letters, digits, `-`, `_` and `.`"
            )));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(invalid("must start with a letter or a digit".into()));
        }
        if name.contains("..") {
            return Err(invalid("must not contain `..`".into()));
        }
        if !(name.ends_with(".md") || name.ends_with(".txt")) {
            return Err(invalid("must end in `.md` or `.txt`, such as `ideas.md`".into()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The note's format, from its extension.
    pub fn format(&self) -> Format {
        if self.0.ends_with(".md") { Format::Markdown } else { Format::Text }
    }
}

impl fmt::Display for NoteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(name: &str) -> String {
        NoteName::parse(name).unwrap_err().message().to_owned()
    }

    #[test]
    fn markdown_and_text_names_are_accepted() {
        assert_eq!(NoteName::parse("ideas.md").unwrap().format(), Format::Markdown);
        assert_eq!(NoteName::parse("2024-01_log.txt").unwrap().format(), Format::Text);
    }

    #[test]
    fn a_slash_is_refused_naming_it() {
        assert_eq!(
            refusal("a/b.md"),
            "note name `a/b.md` contains `/`: a note is a file directly in the notes directory"
        );
    }

    #[test]
    fn dot_dot_is_refused() {
        assert_eq!(refusal("a..md"), "note name `a..md` must not contain `..`");
    }

    #[test]
    fn hidden_files_are_refused() {
        assert_eq!(
            refusal(".secret.md"),
            "note name `.secret.md` must start with a letter or a digit"
        );
    }

    #[test]
    fn spaces_are_refused_naming_the_allowed_characters() {
        assert_eq!(
            refusal("my note.md"),
            "note name `my note.md` contains ` `: use letters, digits, `-`, `_` and `.`"
        );
    }

    #[test]
    fn other_extensions_are_refused() {
        assert_eq!(
            refusal("ideas"),
            "note name `ideas` must end in `.md` or `.txt`, such as `ideas.md`"
        );
    }

    #[test]
    fn long_names_are_refused() {
        let name = format!("{}.md", "a".repeat(MAX_LEN));
        assert!(refusal(&name).ends_with("is longer than 100 characters"));
    }

    #[test]
    fn an_empty_name_is_refused() {
        assert_eq!(refusal(""), "a note name is required, such as `ideas.md`");
    }

    #[test]
    fn refusals_are_invalid_arguments() {
        let error = NoteName::parse("x").unwrap_err();
        assert_eq!(error.kind(), &corral_sdk::ErrorKind::InvalidArguments);
    }
}
