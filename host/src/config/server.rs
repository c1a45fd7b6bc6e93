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

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use super::settings::settings;

settings! {
    /// How `corral serve` listens and what it accepts.
    #[derive(Debug, Clone, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct ServerConfig in "server" {
        /// Address to bind; `--listen` overrides it (loopback only by
        /// default).
        pub listen: SocketAddr = SocketAddr::from((Ipv4Addr::LOCALHOST, 7070)),
            toml "\"127.0.0.1:7070\"";
        /// Host names (without port) accepted in the `Host` header of `/mcp`
        /// requests, besides `localhost`, `127.0.0.1` and `[::1]`, which are
        /// always accepted. `"*"` accepts any, disabling the DNS-rebinding
        /// defence.
        pub allowed_hosts: Vec<String> = Vec::new(), toml "[]";
        /// Browser origins (`scheme://host[:port]`) accepted in the `Origin`
        /// header of `/mcp` requests, besides `http(s)://localhost`,
        /// `127.0.0.1` and `[::1]` on any port. Requests without `Origin`
        /// (non-browser clients) are accepted. `"*"` accepts any.
        pub allowed_origins: Vec<String> = Vec::new(), toml "[]";
        /// Load balancers and proxies (addresses or CIDR networks) whose
        /// `X-Forwarded-For` names the client: a request from one of them is
        /// the client at the right-most address of that header that is not
        /// itself a trusted proxy, for rate limits, task ownership and logs.
        /// The header of any other peer is ignored.
        pub trusted_proxies: Vec<String> = Vec::new(), toml "[]";
        /// File of bearer tokens, one per line (blank lines and `#` comments
        /// ignored), relative to the config file. When set, every `/mcp`
        /// request must carry `Authorization: Bearer <token>`; `/healthz`,
        /// `/readyz` and `/metrics` stay open.
        pub auth_tokens_file: Option<PathBuf> = None, toml "none: no authentication";
        /// Serve an address that is not loopback without `auth_tokens_file`:
        /// only when something in front of Corral authenticates (a gateway, a
        /// mesh with mTLS). Without it, `corral serve` refuses to start on such
        /// an address, since anyone who reaches it could call every granted
        /// tool; `--allow-unauthenticated-network` sets it too.
        pub allow_unauthenticated_network: bool = false;
        /// Serve HTTPS (TLS 1.2 and 1.3, HTTP/1.1) with this certificate chain,
        /// PEM, leaf first, relative to the config file; needs `tls_key`.
        pub tls_cert: Option<PathBuf> = None, toml "none: plain HTTP";
        /// The private key of `tls_cert` (PEM: PKCS#8, PKCS#1 or SEC1).
        pub tls_key: Option<PathBuf> = None, toml "none";
        /// Token-bucket rate limit on `/mcp` requests, per bearer token (or per
        /// client IP when no tokens are configured).
        pub rate_limit: Option<RateLimitConfig> = None, toml "none: unlimited";
        /// Largest request body, in KiB; larger ones get 413.
        pub max_body_kib: u64 = 4096, range 1..=1_048_576;
        /// `tools/call` requests that may run at once across all clients; past
        /// it a call is refused at once with 503 and JSON-RPC `-32000`, rather
        /// than queued.
        pub max_calls_in_flight: u32 = 128, range 1..=100_000;
        /// Sessions that may exist at once; past it the least recently used idle
        /// one ends.
        pub max_sessions: u32 = 1024, range 1..=1_000_000;
        /// Standalone SSE streams (`GET /mcp`) one 2025-11-25 session may hold
        /// open at once; one more is answered 429.
        pub max_streams_per_session: u32 = 4, range 1..=1000;
        /// TCP connections open at once (idle keep-alive and SSE streams
        /// included); one more is answered 503 with `Retry-After` and closed.
        pub max_connections: u32 = 1024, range 1..=1_000_000;
        /// Time a client has to send a request's headers, from its first byte
        /// (a client sending them a byte at a time is cut off), in milliseconds.
        pub header_timeout_ms: u64 = 30_000, range 100..=600_000;
        /// A session with no request for this long ends, in seconds.
        pub session_idle_timeout_secs: u64 = 1800, range 1..=604_800;
        /// Tools per `tools/list` page.
        pub page_size: u32 = 100, range 1..=10_000;
        /// On SIGTERM or SIGINT, how long in-flight requests may take to finish
        /// before the server exits anyway, in milliseconds.
        pub shutdown_grace_ms: u64 = 10_000, range 0..=3_600_000;
        /// Interval of SSE keep-alive comments on idle streams, in seconds.
        pub sse_keepalive_secs: u64 = 15, range 1..=3600;
        /// Whether MCP 2025-11-25 (and 2025-06-18, 2025-03-26) clients may start
        /// sessions with `initialize`. With `false` only the stateless revision
        /// 2026-07-28 is served: `initialize` is answered like any unknown
        /// method, and `GET` and `DELETE /mcp` get 405.
        pub legacy_sessions: bool = true;
        /// How long a 2026-07-28 client may cache `server/discover` and the
        /// lists (their `ttlMs`), in milliseconds. A list that lacks what a
        /// source offers (one still loading at `load_timeout_ms`, or one that
        /// failed) says 0. Changes are announced on `subscriptions/listen`
        /// streams whatever the TTL.
        pub cache_ttl_ms: u64 = 60_000, range 0..=86_400_000;
        /// The longest a request waits for a source that is still starting (a
        /// component compiling, a native server starting), in milliseconds: a
        /// list (`tools/list` and the others, `search_tools`) waits for every
        /// source, a call for the one that serves its name. At the limit a list
        /// answers without what has not loaded (and is not cacheable), a call
        /// ends `busy` naming what is still loading. A warm compile cache loads
        /// a component in milliseconds; a cold one can take tens of seconds.
        pub load_timeout_ms: u64 = 60_000, range 0..=3_600_000;
        /// The longest a 2025-11-25 client may take to answer one question a
        /// tool asks it (elicitation, sampling, roots), in milliseconds; the
        /// call's own time limit (`timeout_ms`) bounds it too, so a tool that
        /// asks a person needs a `timeout_ms` that long.
        pub input_timeout_ms: u64 = 300_000, range 1..=86_400_000;
        /// The most rounds of questions one 2026-07-28 request may go through
        /// (each ends `input_required` and is retried with the answers); past
        /// it the request ends with an error naming this setting.
        pub max_input_rounds: u32 = 8, range 1..=100;
        /// The lock file of approved tool definitions and components (see
        /// `corral lock`), relative to the config file. When it exists, a tool
        /// or component that does not match it is quarantined.
        pub lock_file: Option<PathBuf> = None, toml "none: corral.lock beside the config file";
        /// Refuse to start without the lock file, for production.
        pub require_lock: bool = false;
        /// Quarantine a tool whose title or description looks poisoned
        /// (instruction tags, "ignore previous", invisible characters), rather
        /// than only warn.
        pub quarantine_suspicious: bool = false;
        /// Search mode for large catalogues: `tools/list` returns the host's
        /// `search_tools` (BM25 over every tool's name, description and
        /// parameters) and the tools of `tool_search_listed`; every tool can
        /// still be called by name (`false`: every tool listed).
        pub tool_search: bool = false;
        /// Tools listed beside `search_tools` in search mode, by exposed name.
        pub tool_search_listed: Vec<String> = Vec::new(), toml "[]";
        /// Results one search returns when the caller gives no `limit`; the
        /// most a caller may ask for is the top of this range.
        pub tool_search_results: u32 = 5, range 1..=50;
    }
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

impl ServerConfig {
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

    /// Checks ranges and forms.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_ranges()?;
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
