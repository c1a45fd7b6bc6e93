//! Token buckets per client, in this process: `[server.rate_limit]`
//! alone, or while the shared buckets of `[cluster]` cannot be reached
//! ([`crate::cluster::Limiter`]).
//!
//! - Off unless `[server.rate_limit]` is set. One token bucket per client
//!   (its bearer token, else its IP address) holding `burst` requests and
//!   refilled at `per_second`.
//! - Empty bucket: 429 with `Retry-After` (whole seconds until a request is
//!   allowed again, at least 1).
//! - Full buckets are forgotten when the table passes [`MAX_TRACKED_CLIENTS`],
//!   so the table stays bounded; a forgotten bucket was full anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimitConfig;
use crate::lock::Locked as _;

/// Clients whose buckets are tracked before full ones are dropped.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;

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
        let mut buckets = self.buckets.locked();
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
