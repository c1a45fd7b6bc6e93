//! Who may call `/mcp`: bearer tokens (how often: [`crate::rate_limit`]).
//!
//! # Bearer tokens
//!
//! - Off unless `server.auth_tokens_file` is set. The file holds one token
//!   per line; blank lines and lines starting with `#` are ignored; an empty
//!   file is an error (it would lock every client out).
//! - Only SHA-256 digests are kept. A presented token is hashed and compared
//!   with every digest in constant time, so neither its length nor its
//!   content leaks through timing. Tokens are never logged; a client is
//!   named in logs as `token#<line index>`.
//! - Missing or wrong: 401 with `WWW-Authenticate: Bearer realm="corral"`
//!   (plus `error="invalid_token"` when one was presented).
//!

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why the token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file could not be read.
    #[error("server.auth_tokens_file: cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no token.
    #[error("server.auth_tokens_file: {path} holds no token (one per line)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token that matches none.
    Invalid,
}

/// The accepted bearer tokens, as digests.
pub struct BearerTokens {
    digests: Vec<[u8; 32]>,
}

impl BearerTokens {
    /// Reads the token file.
    pub fn load(path: &Path) -> Result<BearerTokens, TokenFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TokenFileError::Read { path: path.to_owned(), source })?;
        let tokens = BearerTokens::from_lines(&text);
        if tokens.digests.is_empty() {
            return Err(TokenFileError::Empty { path: path.to_owned() });
        }
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", meta.permissions().mode() & 0o7777),
                    "server.auth_tokens_file is readable or writable by group or others: \
                     anyone on this machine who reads it can call every tool (chmod 600 it)"
                );
            }
        }
        Ok(tokens)
    }

    /// Tokens from text, one per line.
    pub fn from_lines(text: &str) -> BearerTokens {
        let digests = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|token| Sha256::digest(token.as_bytes()).into())
            .collect();
        BearerTokens { digests }
    }

    /// Checks an `Authorization` header value; `Ok` is the token's index.
    pub fn verify(&self, authorization: Option<&str>) -> Result<usize, AuthFailure> {
        let token = authorization
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthFailure::Missing)?;
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare with every digest, without stopping at a match.
        let mut matched = None;
        for (index, digest) in self.digests.iter().enumerate() {
            let equal: bool = digest.ct_eq(&presented).into();
            if equal && matched.is_none() {
                matched = Some(index);
            }
        }
        matched.ok_or(AuthFailure::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_token_is_accepted_with_its_index() {
        let tokens = BearerTokens::from_lines("# comment\n\nalpha\nbeta\n");
        assert_eq!(tokens.verify(Some("Bearer beta")), Ok(1));
        assert_eq!(tokens.verify(Some("bearer alpha")), Ok(0));
    }

    #[test]
    fn missing_and_wrong_tokens_are_told_apart() {
        let tokens = BearerTokens::from_lines("alpha");
        assert_eq!(tokens.verify(None), Err(AuthFailure::Missing));
        assert_eq!(tokens.verify(Some("Basic YWxwaGE=")), Err(AuthFailure::Missing));
        assert_eq!(tokens.verify(Some("Bearer alph")), Err(AuthFailure::Invalid));
        assert_eq!(tokens.verify(Some("Bearer # comment")), Err(AuthFailure::Invalid));
    }
}
