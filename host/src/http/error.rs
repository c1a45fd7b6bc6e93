//! Refusals of the HTTP door, and the HTTP status of every MCP answer.
//!
//! [`status_of`] is the one place that decides the status of an MCP error
//! response; [`HttpError::into_response`] the one that answers a request
//! the door refused before the MCP core saw it. Every error response to
//! `/mcp` is a JSON-RPC error object (`id` null when the request's id is
//! unknown), so a client can always read why.
//!
//! | error | 2025-11-25 | 2026-07-28 |
//! | --- | --- | --- |
//! | parse error `-32700`, invalid request `-32600` | 400 | 400 |
//! | invalid params `-32602` (a resource not found too), missing client capability `-32021` | 200 | 400 |
//! | method not found `-32601` | 200 | 404 |
//! | header mismatch `-32020`, unsupported version `-32022` | - | 400 |
//! | busy `-32000` (`server.max_calls_in_flight`; no slot or a loading component for a read or prompt) | 503 + `Retry-After` | 503 + `Retry-After` |
//! | no session `-32000`, unsupported `MCP-Protocol-Version` `-32000` | 400 | - |
//! | unknown session `-32001` | 404 | - |
//! | internal error `-32603` | 500 | 500 |

use std::time::Duration;

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use serde_json::json;

use super::{Response, json_response};
use crate::mcp::{McpError, Revision};

/// Why the door refused a request before the MCP core saw it.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No such endpoint.
    #[error("not found: the endpoints are /mcp, /healthz, /readyz and /metrics")]
    NotFound,
    /// The endpoint does not take this method.
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed {
        /// The `Allow` header value.
        allow: &'static str,
    },
    /// `GET` or `DELETE /mcp` with sessions turned off.
    #[error(
        "method not allowed: this server speaks only MCP 2026-07-28, without sessions \
         ([server] legacy_sessions = false), so there is no session stream to open or end; use POST"
    )]
    SessionsOff,
    /// The `Host` header names something other than this server.
    #[error("forbidden: Host {0:?} is not allowed (server.allowed_hosts)")]
    HostNotAllowed(String),
    /// The `Origin` header names a site that may not call this server.
    #[error("forbidden: Origin {0:?} is not allowed (server.allowed_origins)")]
    OriginNotAllowed(String),
    /// No bearer token, or a wrong one.
    #[error("unauthorized: {}", if *.invalid { "the bearer token is not valid" } else { "a bearer token is required (Authorization: Bearer <token>)" })]
    Unauthorized {
        /// Whether a token was presented (and was wrong).
        invalid: bool,
    },
    /// The client's token bucket is empty.
    #[error("too many requests: rate limit reached (server.rate_limit); retry in {} s", retry_after_secs(*.retry_after))]
    RateLimited {
        /// Time until a request is allowed again.
        retry_after: Duration,
    },
    /// The `Accept` header lacks a media type the endpoint needs.
    #[error("not acceptable: Accept must list {0}")]
    NotAcceptable(&'static str),
    /// The body is not declared as JSON.
    #[error("unsupported media type: Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The body is over the limit.
    #[error("payload too large: the body limit is {limit} bytes (server.max_body_kib)")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("bad request: cannot read the body: {0}")]
    BodyRead(String),
    /// The connection limit is reached: this connection is answered and
    /// closed.
    #[error(
        "service unavailable: {0} connections are open, the most this server takes \
         (server.max_connections); retry shortly"
    )]
    TooManyConnections(u32),
    /// A session operation (`GET`, `DELETE`) the MCP core refused.
    #[error("{0}")]
    Session(McpError),
}

/// Whole seconds for `Retry-After`, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Implementation-defined server error: the transport refused the request.
const TRANSPORT: i64 = -32000;

/// The HTTP status of an MCP error response, by the revision it answers.
pub fn status_of(error: &McpError, revision: Revision) -> StatusCode {
    let stateless = revision == Revision::Stateless;
    match error {
        McpError::Parse(_) | McpError::BatchNotSupported | McpError::InvalidRequest(_) => {
            StatusCode::BAD_REQUEST
        }
        McpError::Busy { .. } | McpError::Unavailable(_) | McpError::StateUnavailable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        McpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        McpError::SessionRequired | McpError::VersionHeader(_) => StatusCode::BAD_REQUEST,
        McpError::SessionNotFound => StatusCode::NOT_FOUND,
        McpError::TooManyStreams { .. } | McpError::TooManyTasks(_) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        McpError::HeaderMismatch(_) | McpError::UnsupportedVersion { .. } => {
            StatusCode::BAD_REQUEST
        }
        McpError::MethodNotFound(_) if stateless => StatusCode::NOT_FOUND,
        McpError::InvalidParams(_)
        | McpError::ResourceNotFound { .. }
        | McpError::MissingCapability { .. }
        | McpError::MissingExtension { .. }
            if stateless =>
        {
            StatusCode::BAD_REQUEST
        }
        // A well-formed request of a session, answered with an error.
        McpError::MethodNotFound(_)
        | McpError::InvalidParams(_)
        | McpError::ResourceNotFound { .. }
        | McpError::MissingCapability { .. }
        | McpError::MissingExtension { .. } => StatusCode::OK,
    }
}

impl HttpError {
    fn status_and_code(&self) -> (StatusCode, i64) {
        match self {
            HttpError::NotFound => (StatusCode::NOT_FOUND, TRANSPORT),
            HttpError::MethodNotAllowed { .. } | HttpError::SessionsOff => {
                (StatusCode::METHOD_NOT_ALLOWED, TRANSPORT)
            }
            HttpError::HostNotAllowed(_) | HttpError::OriginNotAllowed(_) => {
                (StatusCode::FORBIDDEN, TRANSPORT)
            }
            HttpError::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, TRANSPORT),
            HttpError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, TRANSPORT),
            HttpError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, TRANSPORT),
            HttpError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, TRANSPORT),
            HttpError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, TRANSPORT),
            HttpError::BodyRead(_) => (StatusCode::BAD_REQUEST, TRANSPORT),
            HttpError::TooManyConnections(_) => (StatusCode::SERVICE_UNAVAILABLE, TRANSPORT),
            HttpError::Session(error) => (status_of(error, Revision::Session), error.code()),
        }
    }

    /// The response: the status, a JSON-RPC error body, and the headers
    /// the status calls for.
    pub fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": { "code": code, "message": self.to_string() }
        });
        let mut response = json_response(status, body.to_string());
        let headers = response.headers_mut();
        match &self {
            HttpError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            HttpError::SessionsOff => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            HttpError::Unauthorized { invalid } => {
                let value = if *invalid {
                    r#"Bearer realm="corral", error="invalid_token""#
                } else {
                    r#"Bearer realm="corral""#
                };
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
            }
            HttpError::RateLimited { retry_after } => {
                headers
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(*retry_after)));
            }
            HttpError::TooManyConnections(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stateless_method_not_found_is_404_and_a_session_one_200() {
        let error = McpError::MethodNotFound("x".into());
        assert_eq!(status_of(&error, Revision::Stateless), StatusCode::NOT_FOUND);
        assert_eq!(status_of(&error, Revision::Session), StatusCode::OK);
    }

    #[test]
    fn header_and_version_refusals_are_400() {
        let mismatch = McpError::HeaderMismatch("x".into());
        assert_eq!(status_of(&mismatch, Revision::Stateless), StatusCode::BAD_REQUEST);
        let unsupported = McpError::UnsupportedVersion { requested: "v".into() };
        assert_eq!(status_of(&unsupported, Revision::Stateless), StatusCode::BAD_REQUEST);
    }
}
