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
}
