//! Header checks on `/mcp` requests, done before anything else reads them.
//!
//! | header | rule | on breach |
//! | --- | --- | --- |
//! | `Host` | the name (port ignored) is `localhost`, `127.0.0.1`, `[::1]`, or in `server.allowed_hosts` | 403 |
//! | `Origin` | absent, or `http(s)://` + a loopback name (any port), or in `server.allowed_origins` | 403 |
//! | `Accept` (POST) | lists `application/json` and `text/event-stream` (wildcards count) | 406 |
//! | `Accept` (GET) | lists `text/event-stream` (wildcards count) | 406 |
//! | `Content-Type` (POST) | `application/json`, parameters allowed | 415 |
//!
//! | `X-Forwarded-For` | read only from a peer in `server.trusted_proxies`: the client is the right-most address not itself a trusted proxy | ignored |
//!
//! The `Host` and `Origin` rules are the DNS-rebinding defence: a web page
//! whose name was made to resolve to 127.0.0.1 still sends its own name in
//! both headers, and is refused.

/// Names that always denote this machine.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The host name of a `Host` header value or URL authority, lowercased,
/// without port: `[::1]:80` gives `[::1]`, `Example.com:8080` gives `example.com`.
fn host_name(authority: &str) -> String {
    let authority = authority.trim();
    let name = if authority.starts_with('[') {
        authority.find(']').map_or(authority, |end| &authority[..=end])
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => authority,
        }
    };
    name.to_ascii_lowercase()
}

/// Whether a `Host` header value is acceptable.
pub fn host_allowed(host: Option<&str>, allowed: &[String]) -> bool {
    let Some(host) = host else { return false };
    let name = host_name(host);
    LOOPBACK_NAMES.contains(&name.as_str())
        || allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(&name))
}

/// Whether an `Origin` header value (absent for non-browser clients) is acceptable.
pub fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    let origin = origin.trim();
    if allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    matches!(scheme, "http" | "https") && LOOPBACK_NAMES.contains(&host_name(authority).as_str())
}

/// The media ranges of an `Accept` header, lowercased, without parameters.
fn media_ranges(accept: &str) -> impl Iterator<Item = String> + '_ {
    accept
        .split(',')
        .map(|range| range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

fn accepts(accept: Option<&str>, media_type: &str) -> bool {
    let Some(accept) = accept else { return false };
    let family = media_type.split('/').next().unwrap_or_default();
    media_ranges(accept).any(|range| {
        range == media_type || range == "*/*" || range.strip_suffix("/*") == Some(family)
    })
}

/// Whether a POST's `Accept` lists both JSON and SSE, as Streamable HTTP requires.
pub fn accepts_post(accept: Option<&str>) -> bool {
    accepts(accept, "application/json") && accepts(accept, "text/event-stream")
}

/// Whether a GET's `Accept` lists SSE.
pub fn accepts_sse(accept: Option<&str>) -> bool {
    accepts(accept, "text/event-stream")
}

/// Whether a `Content-Type` is JSON.
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The client of a request from `peer`: `peer` itself, unless it is a
/// trusted proxy, then the right-most address of `forwarded_for` (the
/// `X-Forwarded-For` values, in order) that is not a trusted proxy (or
/// the left-most, if all are). An entry that is not an address stops the
/// walk at the last trusted hop: a client cannot hide behind garbage.
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: &[&str],
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = forwarded_for.iter().flat_map(|value| value.split(',')).map(str::trim);
    for hop in hops.collect::<Vec<_>>().into_iter().rev() {
        let Ok(ip) = hop.parse::<std::net::IpAddr>() else { return client };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn loopback_hosts_with_any_port_are_allowed() {
        for host in ["localhost", "localhost:7070", "127.0.0.1:1", "[::1]:7070", "LOCALHOST"] {
            assert!(host_allowed(Some(host), &[]), "{host}");
        }
    }

    #[test]
    fn a_rebound_host_name_is_refused() {
        assert!(!host_allowed(Some("evil.example.com"), &[]));
        assert!(!host_allowed(Some("evil.example.com:7070"), &[]));
        assert!(!host_allowed(Some("localhost.evil.example.com"), &[]));
        assert!(!host_allowed(None, &[]));
    }

    #[test]
    fn configured_hosts_and_the_wildcard_are_allowed() {
        assert!(host_allowed(Some("mcp.internal:80"), &list(&["mcp.internal"])));
        assert!(host_allowed(Some("anything"), &list(&["*"])));
    }

    #[test]
    fn origins_absent_or_loopback_are_allowed() {
        assert!(origin_allowed(None, &[]));
        assert!(origin_allowed(Some("http://localhost:3000"), &[]));
        assert!(origin_allowed(Some("https://127.0.0.1"), &[]));
    }

    #[test]
    fn foreign_and_null_origins_are_refused_unless_configured() {
        assert!(!origin_allowed(Some("http://evil.example.com"), &[]));
        assert!(!origin_allowed(Some("null"), &[]));
        assert!(!origin_allowed(Some("file://localhost"), &[]));
        assert!(origin_allowed(Some("https://app.example"), &list(&["https://app.example"])));
    }

    #[test]
    fn post_accept_needs_json_and_sse() {
        assert!(accepts_post(Some("application/json, text/event-stream")));
        assert!(accepts_post(Some("text/event-stream;q=0.9, application/json")));
        assert!(accepts_post(Some("*/*")));
        assert!(!accepts_post(Some("application/json")));
        assert!(!accepts_post(Some("text/event-stream")));
        assert!(!accepts_post(None));
    }

    #[test]
    fn content_type_json_with_charset_is_json() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // A direct client's header is ignored.
        assert_eq!(
            client_address(ip("203.0.113.9"), &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the right-most untrusted hop, not a spoofed left one.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["6.6.6.6, 198.51.100.7", "10.0.0.5"], &trusted),
            ip("198.51.100.7")
        );
        // No header: the proxy itself; garbage stops the walk.
        assert_eq!(client_address(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &["1.2.3.4, junk"], &trusted), ip("10.0.0.2"));
        // Nothing trusted: the header never counts.
        assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7"], &[]), ip("10.0.0.2"));
    }
}
