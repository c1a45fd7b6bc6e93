//! State shared by replicas through Redis (`[cluster] redis_url`; see
//! [`crate::config::cluster`]).
//!
//! | what | kept in | while Redis cannot be reached |
//! | --- | --- | --- |
//! | rate limits (`[server.rate_limit]`) | one token bucket per client, `<prefix>:rl:<client>`, taken by a Lua script | each replica limits with its own buckets of the same config (so up to one limit per replica); `corral_rate_limit_fallback_total` counts those requests |
//! | tasks | [`crate::task_store::RedisStore`] | a call of a tool whose task support is `optional` runs inline, under its inline limits, once this replica has seen Redis fail; creating a task otherwise, and reading, answering and cancelling one, answer `-32000` "task store unavailable: ..." (HTTP 503) |
//! | task cancels, answers, changes | pub/sub channel `<prefix>:signals` | delivered late: each replica re-reads its own running tasks every second |
//! | 2025-11-25 sessions | [`crate::mcp::shared_sessions`]: the record in `<prefix>:sess:<id>`, cancels, answers, level and end on the channel `<prefix>:sessions` | a session this replica holds goes on; one it does not answers `-32000` "session store unavailable" (HTTP 503) |
//!
//! Every operation is bounded by `timeout_ms`; a failure is logged once
//! per outage, counted in `corral_redis_errors_total{op}` and shown by
//! `corral_redis_up`. The connection (one multiplexed connection per
//! replica, which pipelines every request, so no pool is needed) reconnects
//! by itself; the first operation that succeeds ends the outage.
//!
//! 2026-07-28 requests carry no session, so any replica serves any of them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};

use crate::config::{ClusterConfig, RateLimitConfig};
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;

/// Why a shared-state operation failed. The message never holds the URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// No answer within `timeout_ms`.
    #[error("redis did not answer within {0} ms (cluster.timeout_ms)")]
    Timeout(u64),
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(String),
}

/// The connection to the shared Redis of one deployment.
pub struct Cluster {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    metrics: Arc<Metrics>,
    /// Whether the last operation failed (so an outage is logged once).
    down: AtomicBool,
}

impl Cluster {
    /// The cluster `config` names, if any. Connects lazily: a replica
    /// starts (and serves what needs no shared state) while Redis is down.
    pub fn from_config(
        config: &ClusterConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Option<Arc<Cluster>>, ClusterError> {
        let Some(url) = &config.redis_url else { return Ok(None) };
        let client = redis::Client::open(url.as_str())
            .map_err(|err| ClusterError::Redis(format!("cluster.redis_url: {}", err.category())))?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let manager = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager)
            .map_err(|err| ClusterError::Redis(err.to_string()))?;
        metrics.record_redis(None);
        Ok(Some(Arc::new(Cluster {
            client,
            conn,
            prefix: config.key_prefix.clone(),
            timeout,
            metrics,
            down: AtomicBool::new(false),
        })))
    }

    /// Whether the last operation succeeded.
    pub fn up(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    /// The key `<prefix>:<name>`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Runs `op` (named `what` in metrics and logs) on the shared
    /// connection, within `timeout_ms`.
    pub async fn run<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T, ClusterError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let outcome = match tokio::time::timeout(self.timeout, op(self.conn.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(ClusterError::Redis(err.to_string())),
            Err(_) => Err(ClusterError::Timeout(self.timeout.as_millis() as u64)),
        };
        match &outcome {
            Ok(_) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("redis answers again: shared state resumes");
                }
                self.metrics.record_redis(None);
            }
            Err(err) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(op = what, error = %err, "redis unavailable: shared state falls back (see [cluster] in the README)");
                }
                self.metrics.record_redis(Some(what));
            }
        }
        outcome
    }

    /// Runs `script` with `keys` and `args`.
    pub async fn script<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        script: &Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<T, ClusterError> {
        self.run(what, |mut conn| async move {
            let mut invocation = script.prepare_invoke();
            for key in keys {
                invocation.key(*key);
            }
            for arg in args {
                invocation.arg(*arg);
            }
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    /// Publishes `message` on `<prefix>:<channel>`.
    pub async fn publish(&self, channel: &str, message: String) -> Result<(), ClusterError> {
        let channel = self.key(channel);
        self.run("signals", |mut conn| async move {
            redis::cmd("PUBLISH").arg(channel).arg(message).query_async::<()>(&mut conn).await
        })
        .await
    }

    /// Hands every message published on `<prefix>:<channel>` to `deliver`,
    /// resubscribing after each lost connection, until `deliver` returns
    /// false. `resubscribed` runs after each (re)subscription, so a caller
    /// can catch up on what it missed meanwhile.
    pub async fn subscribe(
        self: Arc<Self>,
        channel: &str,
        mut deliver: impl FnMut(&[u8]) -> bool,
        mut resubscribed: impl FnMut(),
    ) {
        let channel = self.key(channel);
        let mut backoff = Duration::from_millis(100);
        loop {
            let started = Instant::now();
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                RedisResult::Ok(pubsub)
            };
            match tokio::time::timeout(self.timeout * 4, subscribed).await {
                Ok(Ok(pubsub)) => {
                    backoff = Duration::from_millis(100);
                    resubscribed();
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        if !deliver(message.get_payload_bytes()) {
                            return;
                        }
                    }
                    tracing::debug!("redis subscription lost; resubscribing");
                }
                Ok(Err(err)) => {
                    tracing::debug!(error = %err, "redis subscription failed; retrying");
                    self.metrics.record_redis(Some("signals"));
                }
                Err(_) => self.metrics.record_redis(Some("signals")),
            }
            if started.elapsed() > Duration::from_secs(5) {
                backoff = Duration::from_millis(100);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// Takes one request from a bucket: `KEYS[1]` the bucket, `ARGV` rate per
/// second and burst. Redis's clock, so replicas' clocks need not agree.
/// Returns `{1, 0}` when allowed, else `{0, ms until a request is}`.
const TAKE_TOKEN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
";

/// Rate limits: per process, or one across the cluster.
pub enum Limiter {
    /// This process's buckets.
    Local(RateLimiter),
    /// Buckets in Redis, and this process's for when it is down.
    Shared {
        /// The shared Redis.
        cluster: Arc<Cluster>,
        /// The limit.
        config: RateLimitConfig,
        /// The fallback.
        local: RateLimiter,
        /// The bucket script.
        script: Script,
    },
}

impl Limiter {
    /// The limiter for `config`, shared when `cluster` is.
    pub fn new(config: RateLimitConfig, cluster: Option<Arc<Cluster>>) -> Limiter {
        match cluster {
            None => Limiter::Local(RateLimiter::new(config)),
            Some(cluster) => Limiter::Shared {
                cluster,
                local: RateLimiter::new(config),
                config,
                script: Script::new(TAKE_TOKEN),
            },
        }
    }

    /// Takes one request from `client`'s bucket; `Err` is how long until
    /// one is available.
    pub async fn check(&self, client: &str) -> Result<(), Duration> {
        match self {
            Limiter::Local(local) => local.check(client, Instant::now()),
            Limiter::Shared { cluster, config, local, script } => {
                let key = cluster.key(&format!("rl:{client}"));
                let (rate, burst) = (config.per_second.to_string(), config.burst().to_string());
                match cluster
                    .script::<(u8, u64)>("rate_limit", script, &[&key], &[&rate, &burst])
                    .await
                {
                    Ok((1, _)) => Ok(()),
                    Ok((_, wait_ms)) => Err(Duration::from_millis(wait_ms.max(1))),
                    Err(_) => {
                        cluster.metrics.record_rate_limit_fallback();
                        local.check(client, Instant::now())
                    }
                }
            }
        }
    }
}
