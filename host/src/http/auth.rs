//! Who may call `/mcp`, and how often.
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
//! # Rate limit
//!
//! - Off unless `[server.rate_limit]` is set. One token bucket per client
//!   (its bearer token, else its IP address) holding `burst` requests and
//!   refilled at `per_second`.
//! - Empty bucket: 429 with `Retry-After` (whole seconds until a request is
//!   allowed again, at least 1).
//! - Full buckets are forgotten when the table passes [`MAX_TRACKED_CLIENTS`],
//!   so the table stays bounded; a forgotten bucket was full anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::RateLimitConfig;

/// Clients whose buckets are tracked before full ones are dropped.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;

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

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets per client.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Buckets as configured.
    pub fn new(config: RateLimitConfig) -> RateLimiter {
        RateLimiter {
            per_second: config.per_second,
            burst: f64::from(config.burst()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket at time `now`; `Err` is how
    /// long until one is available.
    pub fn check(&self, client: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(client) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| refill(b, now, rate, burst) < burst);
        }
        let bucket =
            buckets.entry(client.to_owned()).or_insert(Bucket { tokens: self.burst, updated: now });
        let tokens = refill(bucket, now, self.per_second, self.burst);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

/// Tops a bucket up for the time since its last update.
fn refill(bucket: &mut Bucket, now: Instant, per_second: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
    bucket.updated = now;
    bucket.tokens
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

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_until_refilled() {
        let limiter = RateLimiter::new(RateLimitConfig { per_second: 2.0, burst: Some(2) });
        let t0 = Instant::now();
        assert!(limiter.check("a", t0).is_ok());
        assert!(limiter.check("a", t0).is_ok());
        assert_eq!(limiter.check("a", t0), Err(Duration::from_millis(500)));
        assert!(limiter.check("b", t0).is_ok(), "clients have separate buckets");
        assert!(limiter.check("a", t0 + Duration::from_millis(500)).is_ok());
    }
}
