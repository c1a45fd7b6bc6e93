//! The tool's arguments and the request they describe, checked before
//! anything is sent.

use corral_sdk::ToolError;
use schemars::JsonSchema;
use serde::Deserialize;

/// Characters of body text returned when `max_chars` is not given.
pub const DEFAULT_MAX_CHARS: usize = 100_000;
/// The most `max_chars` may ask for.
pub const MAX_CHARS_LIMIT: usize = 1_000_000;

/// Arguments of `fetch`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchArgs {
    /// The `http://` or `https://` URL to fetch.
    pub url: String,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: Method,
    /// Request body, for POST only.
    pub body: Option<String>,
    /// `Content-Type` of the POST body. Default: `text/plain; charset=utf-8`.
    pub content_type: Option<String>,
    /// Most characters of body text to return (default 100000, at most 1000000).
    pub max_chars: Option<usize>,
    /// Return HTML as it is instead of reducing it to readable text.
    #[serde(default)]
    pub raw: bool,
}

/// The request methods the tool offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Read a resource.
    #[default]
    Get,
    /// Send a body.
    Post,
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The URL as given, normalised.
    pub url: String,
    /// Whether to use TLS.
    pub https: bool,
    /// `host[:port]` as it goes in the request.
    pub authority: String,
    /// Path and query.
    pub path_with_query: String,
    /// The method.
    pub method: Method,
    /// `(content type, body)` for POST.
    pub body: Option<(String, String)>,
    /// Most characters of text to return.
    pub max_chars: usize,
    /// Whether HTML is returned as it is.
    pub raw: bool,
}

impl Plan {
    /// Checks the arguments; every refusal says which argument and why.
    pub fn from_args(args: &FetchArgs) -> Result<Plan, ToolError> {
        let url = url::Url::parse(&args.url).map_err(|err| {
            ToolError::new(format!("url {:?} is not a valid URL: {err}", args.url))
        })?;
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(ToolError::new(format!(
                    "url scheme {other:?} is not supported: use http or https"
                )));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ToolError::new(
                "url must not carry credentials (user:password@); they would be sent in clear to logs and servers",
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| ToolError::new(format!("url {:?} has no host", args.url)))?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut path_with_query = url.path().to_owned();
        if let Some(query) = url.query() {
            path_with_query.push('?');
            path_with_query.push_str(query);
        }
        let body = match (args.method, &args.body) {
            (Method::Get, Some(_)) => {
                return Err(ToolError::new("body is only allowed with method POST"));
            }
            (Method::Get, None) => None,
            (Method::Post, body) => Some((
                args.content_type.clone().unwrap_or_else(|| "text/plain; charset=utf-8".to_owned()),
                body.clone().unwrap_or_default(),
            )),
        };
        if args.content_type.is_some() && args.method == Method::Get {
            return Err(ToolError::new("content_type is only allowed with method POST"));
        }
        let max_chars = args.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
        if !(1..=MAX_CHARS_LIMIT).contains(&max_chars) {
            return Err(ToolError::new(format!(
                "max_chars must be between 1 and {MAX_CHARS_LIMIT}, not {max_chars}"
            )));
        }
        // The fragment never leaves the client.
        let mut shown = url.clone();
        shown.set_fragment(None);
        Ok(Plan {
            url: shown.into(),
            https,
            authority,
            path_with_query,
            method: args.method,
            body,
            max_chars,
            raw: args.raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str) -> FetchArgs {
        FetchArgs {
            url: url.into(),
            method: Method::Get,
            body: None,
            content_type: None,
            max_chars: None,
            raw: false,
        }
    }

    fn refusal(args: &FetchArgs) -> String {
        Plan::from_args(args).unwrap_err().message().to_owned()
    }

    #[test]
    fn a_plain_url_becomes_authority_and_path() {
        let plan = Plan::from_args(&args("http://Example.com:8080/a/b?q=1#frag")).unwrap();
        assert_eq!(plan.authority, "example.com:8080");
        assert_eq!(plan.path_with_query, "/a/b?q=1");
        assert_eq!(plan.url, "http://example.com:8080/a/b?q=1");
        assert!(!plan.https);
        assert_eq!(plan.max_chars, DEFAULT_MAX_CHARS);
    }

    #[test]
    fn default_ports_are_left_implicit() {
        let plan = Plan::from_args(&args("https://example.com")).unwrap();
        assert_eq!(plan.authority, "example.com");
        assert_eq!(plan.path_with_query, "/");
        assert!(plan.https);
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets() {
        let plan = Plan::from_args(&args("http://[::1]:9000/")).unwrap();
        assert_eq!(plan.authority, "[::1]:9000");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert_eq!(
            refusal(&args("file:///etc/passwd")),
            "url scheme \"file\" is not supported: use http or https"
        );
        assert!(refusal(&args("not a url")).starts_with("url \"not a url\" is not a valid URL"));
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        assert!(
            refusal(&args("http://user:pw@example.com/"))
                .starts_with("url must not carry credentials")
        );
    }

    #[test]
    fn a_body_needs_post() {
        let mut a = args("http://example.com/");
        a.body = Some("x".into());
        assert_eq!(refusal(&a), "body is only allowed with method POST");
        a.method = Method::Post;
        let plan = Plan::from_args(&a).unwrap();
        assert_eq!(plan.body, Some(("text/plain; charset=utf-8".into(), "x".into())));
    }

    #[test]
    fn max_chars_is_bounded() {
        let mut a = args("http://example.com/");
        a.max_chars = Some(0);
        assert_eq!(refusal(&a), "max_chars must be between 1 and 1000000, not 0");
    }
}
