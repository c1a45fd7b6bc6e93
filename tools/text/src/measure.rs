//! `count` and `sha256`: facts about a text.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Arguments of `count` and `sha256`: just the text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextArgs {
    /// The text.
    pub text: String,
}

/// The sizes of a text.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counts {
    /// UTF-8 bytes.
    pub bytes: usize,
    /// Unicode scalar values (what Rust calls `char`s).
    pub chars: usize,
    /// Runs of non-whitespace.
    pub words: usize,
    /// Lines; a last line without a final newline still counts.
    pub lines: usize,
}

/// Counts bytes, chars, words and lines.
pub fn count(text: &str) -> Counts {
    Counts {
        bytes: text.len(),
        chars: text.chars().count(),
        words: text.split_whitespace().count(),
        lines: text.lines().count(),
    }
}

/// The SHA-256 of the text's UTF-8 bytes, as 64 lowercase hex digits.
pub fn sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_of_empty_text_is_all_zero() {
        assert_eq!(count(""), Counts { bytes: 0, chars: 0, words: 0, lines: 0 });
    }

    #[test]
    fn count_distinguishes_bytes_from_chars() {
        let counts = count("héllo wörld\nsecond line");
        assert_eq!(counts, Counts { bytes: 25, chars: 23, words: 4, lines: 2 });
    }

    #[test]
    fn trailing_newline_does_not_add_a_line() {
        assert_eq!(count("a\nb\n").lines, 2);
    }

    #[test]
    fn sha256_of_abc_is_the_fips_test_vector() {
        assert_eq!(
            sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256_of_empty_text() {
        assert_eq!(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
