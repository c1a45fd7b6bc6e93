//! The `[server]` table of the configuration file: how `corral serve`
//! listens, what it accepts, and how it speaks MCP. Every field is optional;
//! the defaults suit a server on the local machine.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:7070"
//! allowed_hosts = ["mcp.internal"]         # Host header names, besides the loopback ones
//! allowed_origins = ["https://app.example"] # browser Origins, besides the loopback ones
//! trusted_proxies = ["10.0.0.0/8"]          # peers whose X-Forwarded-For names the client
//! auth_tokens_file = "tokens.txt"          # one bearer token per line
//! allow_unauthenticated_network = false    # true: serve a non-loopback address without tokens
//! tls_cert = "cert.pem"                    # serve HTTPS: certificate chain (PEM) ...
//! tls_key = "key.pem"                      # ... and its private key (PEM)
//! max_body_kib = 4096
//! max_calls_in_flight = 128
//! max_connections = 1024                   # then 503 + Retry-After, connection closed
//! header_timeout_ms = 30000                # a request's headers must arrive within it
//! load_timeout_ms = 60000                  # how long a request waits for a source still starting
//!
//! lock_file = "corral.lock"                # pinned tool definitions (default: beside the config)
//! require_lock = false                     # true: no lock file is an error
//! quarantine_suspicious = false            # true: a poisoned-looking description quarantines
//! tool_search = false                      # true: list search_tools, find the rest by it
//! tool_search_listed = ["fs_read_file"]    # listed beside search_tools in search mode
//! tool_search_results = 5                  # results per search unless the caller says
//!
//! [server.rate_limit]                      # per token, or per client IP without tokens
//! per_second = 20
//! burst = 40
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;

/// How `corral serve` listens and what it accepts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind; `--listen` overrides it. Default: `127.0.0.1:7070`
    /// (loopback only).
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// Host names (without port) accepted in the `Host` header of `/mcp`
    /// requests, besides `localhost`, `127.0.0.1` and `[::1]`, which are
    /// always accepted. `"*"` accepts any, disabling the DNS-rebinding
    /// defence. Default: none (loopback names only).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`scheme://host[:port]`) accepted in the `Origin`
    /// header of `/mcp` requests, besides `http(s)://localhost`,
    /// `127.0.0.1` and `[::1]` on any port. Requests without `Origin`
    /// (non-browser clients) are accepted. `"*"` accepts any. Default: none.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Load balancers and proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` names the client: a request from one of them is
    /// the client at the right-most address of that header that is not
    /// itself a trusted proxy, for rate limits, task ownership and logs.
    /// The header of any other peer is ignored. Default: none.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// File of bearer tokens, one per line (blank lines and `#` comments
    /// ignored), relative to the config file. When set, every `/mcp`
    /// request must carry `Authorization: Bearer <token>`; `/healthz`,
    /// `/readyz` and `/metrics` stay open. Default: none (no authentication).
    #[serde(default)]
    pub auth_tokens_file: Option<PathBuf>,
    /// Serve an address that is not loopback without `auth_tokens_file`:
    /// only when something in front of Corral authenticates (a gateway, a
    /// mesh with mTLS). Without it, `corral serve` refuses to start on such
    /// an address, since anyone who reaches it could call every granted
    /// tool; `--allow-unauthenticated-network` sets it too. Default: false.
    #[serde(default)]
    pub allow_unauthenticated_network: bool,
    /// Serve HTTPS (TLS 1.2 and 1.3, HTTP/1.1) with this certificate chain,
    /// PEM, leaf first, relative to the config file; needs `tls_key`.
    /// Default: none (plain HTTP).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `tls_cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Token-bucket rate limit on `/mcp` requests, per bearer token (or per
    /// client IP when no tokens are configured). Default: none (unlimited).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Largest request body, in KiB; larger ones get 413. Default: 4096 (4 MiB).
    #[serde(default = "defaults::max_body_kib")]
    pub max_body_kib: u64,
    /// `tools/call` requests that may run at once across all clients; past
    /// it a call is refused at once with 503 and JSON-RPC `-32000`, rather
    /// than queued. Default: 128.
    #[serde(default = "defaults::max_calls_in_flight")]
    pub max_calls_in_flight: u32,
    /// Sessions that may exist at once; past it the least recently used idle
    /// one ends. Default: 1024.
    #[serde(default = "defaults::max_sessions")]
    pub max_sessions: u32,
    /// Standalone SSE streams (`GET /mcp`) one 2025-11-25 session may hold
    /// open at once; one more is answered 429. Default: 4.
    #[serde(default = "defaults::max_streams_per_session")]
    pub max_streams_per_session: u32,
    /// TCP connections open at once (idle keep-alive and SSE streams
    /// included); one more is answered 503 with `Retry-After` and closed.
    /// Default: 1024.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: u32,
    /// Time a client has to send a request's headers, from its first byte
    /// (a client sending them a byte at a time is cut off). Default: 30000.
    #[serde(default = "defaults::header_timeout_ms")]
    pub header_timeout_ms: u64,
    /// A session with no request for this long ends, in seconds. Default: 1800.
    #[serde(default = "defaults::session_idle_timeout_secs")]
    pub session_idle_timeout_secs: u64,
    /// Tools per `tools/list` page. Default: 100.
    #[serde(default = "defaults::page_size")]
    pub page_size: u32,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish
    /// before the server exits anyway, in milliseconds. Default: 10000.
    #[serde(default = "defaults::shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// Interval of SSE keep-alive comments on idle streams, in seconds. Default: 15.
    #[serde(default = "defaults::sse_keepalive_secs")]
    pub sse_keepalive_secs: u64,
    /// Whether MCP 2025-11-25 (and 2025-06-18, 2025-03-26) clients may start
    /// sessions with `initialize`. With `false` only the stateless revision
    /// 2026-07-28 is served: `initialize` is answered like any unknown
    /// method, and `GET` and `DELETE /mcp` get 405. Default: true.
    #[serde(default = "defaults::legacy_sessions")]
    pub legacy_sessions: bool,
    /// How long a 2026-07-28 client may cache `server/discover` and
    /// `tools/list` results (their `ttlMs`), in milliseconds. `tools/list`
    /// says 0 while components are still loading, since its answer is known
    /// to be incomplete. Changes are announced on `subscriptions/listen`
    /// streams whatever the TTL. Default: 60000.
    #[serde(default = "defaults::cache_ttl_ms")]
    pub cache_ttl_ms: u64,
    /// The longest a request waits for a source that is still starting (a
    /// component compiling, a native server starting), in milliseconds: a
    /// list (`tools/list` and the others, `search_tools`) waits for every
    /// source, a call for the one that serves its name. At the limit a list
    /// answers without what has not loaded (and is not cacheable), a call
    /// ends `busy` naming what is still loading. A warm compile cache loads
    /// a component in milliseconds; a cold one can take tens of seconds.
    /// Default: 60000.
    #[serde(default = "defaults::load_timeout_ms")]
    pub load_timeout_ms: u64,
    /// The longest a 2025-11-25 client may take to answer one question a
    /// tool asks it (elicitation, sampling, roots), in milliseconds; the
    /// call's own time limit (`timeout_ms`) bounds it too, so a tool that
    /// asks a person needs a `timeout_ms` that long. Default: 300000.
    #[serde(default = "defaults::input_timeout_ms")]
    pub input_timeout_ms: u64,
    /// The most rounds of questions one 2026-07-28 request may go through
    /// (each ends `input_required` and is retried with the answers); past
    /// it the request ends with an error naming this setting. Default: 8.
    #[serde(default = "defaults::max_input_rounds")]
    pub max_input_rounds: u32,
    /// The lock file of approved tool definitions and components (see
    /// `corral lock`), relative to the config file. When it exists, a tool
    /// or component that does not match it is quarantined. Default:
    /// `corral.lock` beside the config file.
    #[serde(default)]
    pub lock_file: Option<PathBuf>,
    /// Refuse to start without the lock file, for production. Default: false.
    #[serde(default)]
    pub require_lock: bool,
    /// Quarantine a tool whose title or description looks poisoned
    /// (instruction tags, "ignore previous", invisible characters), rather
    /// than only warn. Default: false.
    #[serde(default)]
    pub quarantine_suspicious: bool,
    /// Search mode for large catalogues: `tools/list` returns the host's
    /// `search_tools` (BM25 over every tool's name, description and
    /// parameters) and the tools of `tool_search_listed`; every tool can
    /// still be called by name. Default: false (every tool listed).
    #[serde(default)]
    pub tool_search: bool,
    /// Tools listed beside `search_tools` in search mode, by exposed name.
    /// Default: none.
    #[serde(default)]
    pub tool_search_listed: Vec<String>,
    /// Results one search returns when the caller gives no `limit`
    /// (1-50). Default: 5.
    #[serde(default = "defaults::tool_search_results")]
    pub tool_search_results: u32,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second (may be fractional, e.g. 0.5).
    pub per_second: f64,
    /// Bucket size: requests allowed in a burst. Default: `per_second`
    /// rounded up, at least 1.
    #[serde(default)]
    pub burst: Option<u32>,
}

impl RateLimitConfig {
    /// The effective bucket size.
    pub fn burst(&self) -> u32 {
        self.burst.unwrap_or_else(|| (self.per_second.ceil() as u32).max(1))
    }
}

/// The defaults, named once.
mod defaults {
    use std::net::{Ipv4Addr, SocketAddr};

    pub(super) fn listen() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, 7070))
    }
    pub(super) fn max_body_kib() -> u64 {
        4096
    }
    pub(super) fn max_calls_in_flight() -> u32 {
        128
    }
    pub(super) fn max_connections() -> u32 {
        1024
    }
    pub(super) fn header_timeout_ms() -> u64 {
        30_000
    }
    pub(super) fn max_streams_per_session() -> u32 {
        4
    }

    pub(super) fn max_sessions() -> u32 {
        1024
    }
    pub(super) fn session_idle_timeout_secs() -> u64 {
        1800
    }
    pub(super) fn page_size() -> u32 {
        100
    }
    pub(super) fn shutdown_grace_ms() -> u64 {
        10_000
    }
    pub(super) fn sse_keepalive_secs() -> u64 {
        15
    }
    pub(super) fn legacy_sessions() -> bool {
        true
    }
    pub(super) fn cache_ttl_ms() -> u64 {
        60_000
    }
    pub(super) fn input_timeout_ms() -> u64 {
        300_000
    }
    pub(super) fn load_timeout_ms() -> u64 {
        60_000
    }
    pub(super) fn max_input_rounds() -> u32 {
        8
    }
    pub(super) fn tool_search_results() -> u32 {
        5
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: defaults::listen(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            auth_tokens_file: None,
            allow_unauthenticated_network: false,
            tls_cert: None,
            tls_key: None,
            rate_limit: None,
            max_body_kib: defaults::max_body_kib(),
            max_calls_in_flight: defaults::max_calls_in_flight(),
            max_sessions: defaults::max_sessions(),
            max_streams_per_session: defaults::max_streams_per_session(),
            max_connections: defaults::max_connections(),
            header_timeout_ms: defaults::header_timeout_ms(),
            session_idle_timeout_secs: defaults::session_idle_timeout_secs(),
            page_size: defaults::page_size(),
            shutdown_grace_ms: defaults::shutdown_grace_ms(),
            sse_keepalive_secs: defaults::sse_keepalive_secs(),
            legacy_sessions: defaults::legacy_sessions(),
            cache_ttl_ms: defaults::cache_ttl_ms(),
            input_timeout_ms: defaults::input_timeout_ms(),
            load_timeout_ms: defaults::load_timeout_ms(),
            max_input_rounds: defaults::max_input_rounds(),
            lock_file: None,
            require_lock: false,
            quarantine_suspicious: false,
            tool_search: false,
            tool_search_listed: Vec::new(),
            tool_search_results: defaults::tool_search_results(),
        }
    }
}

impl ServerConfig {
    /// Checks ranges and forms.
    /// `trusted_proxies` as networks (an address is its own /32 or /128).
    pub fn proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|text| {
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "trusted_proxies",
                            format!("{text:?} is neither an IP address nor a CIDR network"),
                        )
                    })
            })
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let ranges: [(&'static str, u64, u64, u64); 15] = [
            ("max_body_kib", self.max_body_kib, 1, 1024 * 1024),
            ("max_calls_in_flight", self.max_calls_in_flight.into(), 1, 100_000),
            ("max_sessions", self.max_sessions.into(), 1, 1_000_000),
            ("max_streams_per_session", self.max_streams_per_session.into(), 1, 1000),
            ("max_connections", self.max_connections.into(), 1, 1_000_000),
            ("header_timeout_ms", self.header_timeout_ms, 100, 600_000),
            ("session_idle_timeout_secs", self.session_idle_timeout_secs, 1, 7 * 24 * 3600),
            ("page_size", self.page_size.into(), 1, 10_000),
            ("shutdown_grace_ms", self.shutdown_grace_ms, 0, 3600 * 1000),
            ("sse_keepalive_secs", self.sse_keepalive_secs, 1, 3600),
            ("cache_ttl_ms", self.cache_ttl_ms, 0, 24 * 3600 * 1000),
            ("input_timeout_ms", self.input_timeout_ms, 1, 24 * 3600 * 1000),
            ("load_timeout_ms", self.load_timeout_ms, 0, 3600 * 1000),
            ("max_input_rounds", self.max_input_rounds.into(), 1, 100),
            (
                "tool_search_results",
                self.tool_search_results.into(),
                1,
                crate::search::MAX_RESULTS.into(),
            ),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(invalid(field, format!("{value} is out of range {min}..={max}")));
            }
        }
        self.proxies()?;
        if !self.tool_search && !self.tool_search_listed.is_empty() {
            return Err(invalid(
                "tool_search_listed",
                "lists tools beside search_tools, which needs tool_search = true",
            ));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => {
                return Err(invalid("tls_key", "is missing: tls_cert needs its private key"));
            }
            (None, Some(_)) => {
                return Err(invalid("tls_cert", "is missing: tls_key needs its certificate"));
            }
            _ => {}
        }
        if let Some(rate) = &self.rate_limit
            && !(rate.per_second.is_finite() && rate.per_second > 0.0 && rate.per_second <= 1e6)
        {
            return Err(invalid(
                "rate_limit.per_second",
                format!("{} must be a number in (0, 1000000]", rate.per_second),
            ));
        }
        if self.rate_limit.and_then(|r| r.burst) == Some(0) {
            return Err(invalid("rate_limit.burst", "must be at least 1"));
        }
        for host in &self.allowed_hosts {
            if host.is_empty() || host.contains(['/', ' ']) || (host != "*" && host.contains("*")) {
                return Err(invalid(
                    "allowed_hosts",
                    format!(
                        "{host:?} is not a host name (give names without scheme or port, or \"*\")"
                    ),
                ));
            }
        }
        for origin in &self.allowed_origins {
            if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(invalid(
                    "allowed_origins",
                    format!(
                        "{origin:?} is not an origin like \"https://app.example.com\" (or \"*\")"
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::invalid(format!("server.{field}"), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServerConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn an_empty_table_gives_the_documented_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, ServerConfig::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:7070");
        assert_eq!(config.max_body_kib, 4096);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(parse("max_body = 1").is_err());
    }

    #[test]
    fn zero_body_limit_is_out_of_range() {
        let err = parse("max_body_kib = 0").unwrap().validate().unwrap_err();
        assert_eq!(err.to_string(), "config: server.max_body_kib: 0 is out of range 1..=1048576");
    }

    #[test]
    fn tool_search_settings_are_checked() {
        let err =
            parse(r#"tool_search_listed = ["fs_read_file"]"#).unwrap().validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "config: server.tool_search_listed: lists tools beside search_tools, which needs tool_search = true"
        );
        let err =
            parse("tool_search = true\ntool_search_results = 51").unwrap().validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "config: server.tool_search_results: 51 is out of range 1..=50"
        );
        let ok = parse("tool_search = true\ntool_search_listed = [\"a\"]").unwrap();
        assert!(ok.validate().is_ok() && ok.tool_search_results == 5);
    }

    #[test]
    fn an_origin_with_a_path_is_rejected() {
        let err =
            parse(r#"allowed_origins = ["https://a.example/"]"#).unwrap().validate().unwrap_err();
        assert!(err.to_string().starts_with("config: server.allowed_origins: "), "{err}");
    }

    #[test]
    fn a_rate_limit_burst_defaults_to_the_rate_rounded_up() {
        let config = parse("[rate_limit]\nper_second = 2.5").unwrap();
        assert_eq!(config.rate_limit.unwrap().burst(), 3);
    }
}
