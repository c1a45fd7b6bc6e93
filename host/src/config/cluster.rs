//! The `[cluster]` table: state shared by replicas of one deployment.
//!
//! ```toml
//! [cluster]
//! redis_url = "redis://redis:6379/0"   # shared rate limits and tasks
//! timeout_ms = 250                     # each Redis operation, at most
//! key_prefix = "corral"                # keys and channels start with "corral:"
//! ```
//!
//! Without `redis_url` (the default) everything stays in this process's
//! memory, and one process is the whole deployment. With it, every replica
//! that names the same Redis and `key_prefix` shares one rate limit per
//! client and one task store ([`crate::cluster`] says what happens while
//! Redis cannot be reached).
//!
//! Each field's default, and what it accepts, is on [`ClusterConfig`]'s
//! fields.

use serde::Deserialize;

use super::ConfigError;
use super::settings::settings;

settings! {
    /// The `[cluster]` table.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ClusterConfig in "cluster" {
        /// The Redis holding the shared state: a `redis://`, `rediss://` or
        /// `unix://` URL the client accepts.
        pub redis_url: Option<String> = None, toml "none: this process alone";
        /// How long one Redis operation may take before it counts as failed,
        /// in milliseconds.
        pub timeout_ms: u64 = 250, range 10..=10_000;
        /// What every key and channel starts with, so deployments can share a
        /// Redis: 1 to 64 characters of `A-Za-z0-9_-.`.
        pub key_prefix: String = "corral".to_owned(), toml "\"corral\"";
    }
}

impl ClusterConfig {
    /// Checks every field; an error names it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_ranges()?;
        let prefix = &self.key_prefix;
        if prefix.is_empty()
            || prefix.len() > 64
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(ConfigError::invalid(
                "cluster.key_prefix",
                format!("{prefix:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '-', '.'"),
            ));
        }
        if let Some(url) = &self.redis_url {
            // The client's own parser decides; the message never repeats
            // the URL, which may hold a password.
            if let Err(err) = redis::Client::open(url.as_str()) {
                return Err(ConfigError::invalid(
                    "cluster.redis_url",
                    format!(
                        "not a Redis URL the client accepts ({}); expected \
                         redis://[user:password@]host[:port][/db], rediss://... or unix://path",
                        err.category()
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ClusterConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_keep_everything_in_this_process() {
        let config = ClusterConfig::default();
        assert!(config.redis_url.is_none());
        assert!(config.validate().is_ok());
    }

    #[test]
    fn bad_fields_are_named_without_echoing_the_url() {
        let bad_url = parse("redis_url = \"http://user:hunter2@example\"");
        let err = bad_url.validate().unwrap_err().to_string();
        assert!(err.contains("cluster.redis_url"), "{err}");
        assert!(!err.contains("hunter2"), "the password stays out of the message: {err}");
        let err = parse("timeout_ms = 0").validate().unwrap_err().to_string();
        assert!(err.contains("cluster.timeout_ms"), "{err}");
        let err = parse("key_prefix = \"a b\"").validate().unwrap_err().to_string();
        assert!(err.contains("cluster.key_prefix"), "{err}");
        assert!(parse("redis_url = \"redis://127.0.0.1:6379/0\"").validate().is_ok());
    }
}
