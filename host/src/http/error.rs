//! Errors of the HTTP transport and their responses.
//!
//! [`HttpError::status_and_code`] is the one place that decides the HTTP
//! status and JSON-RPC code of every refusal; protocol errors keep the code
//! [`McpError::code`] gives them. Every error response to `/mcp` is a
//! JSON-RPC error object (`id` null when the request's id is unknown), so a
//! client can always read why.

use std::time::Duration;

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use serde_json::json;

use super::{Response, json_response};
use crate::mcp::{McpError, RequestId};

/// Why a request was refused or failed.
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
    /// A request other than `initialize` came without `Mcp-Session-Id`.
    #[error("bad request: Mcp-Session-Id header is required (send initialize first to get one)")]
    MissingSession,
    /// The session does not exist (any more).
    #[error("{0}")]
    Session(#[from] crate::mcp::SessionError),
    /// `MCP-Protocol-Version` names a revision this server does not speak.
    #[error("bad request: unsupported MCP-Protocol-Version {0:?}; supported: {supported}", supported = crate::mcp::protocol::SUPPORTED_VERSIONS.join(", "))]
    UnsupportedVersion(String),
    /// The components are still loading.
    #[error("service unavailable: the server is starting; retry shortly")]
    Starting,
    /// A JSON-RPC error for the request with `id`.
    #[error("{error}")]
    Mcp {
        /// The protocol error.
        error: McpError,
        /// The request's id, when it could be read.
        id: Option<RequestId>,
    },
}

/// Whole seconds for `Retry-After`, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

impl HttpError {
    /// The HTTP status and JSON-RPC code of the error: the one mapping.
    pub fn status_and_code(&self) -> (StatusCode, i64) {
        /// Implementation-defined server error: the transport refused the request.
        const TRANSPORT: i64 = -32000;
        /// The session is unknown (the code the reference SDKs use).
        const SESSION_NOT_FOUND: i64 = -32001;
        match self {
            HttpError::NotFound => (StatusCode::NOT_FOUND, TRANSPORT),
            HttpError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, TRANSPORT),
            HttpError::HostNotAllowed(_) | HttpError::OriginNotAllowed(_) => {
                (StatusCode::FORBIDDEN, TRANSPORT)
            }
            HttpError::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, TRANSPORT),
            HttpError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, TRANSPORT),
            HttpError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, TRANSPORT),
            HttpError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, TRANSPORT),
            HttpError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, TRANSPORT),
            HttpError::BodyRead(_) => (StatusCode::BAD_REQUEST, TRANSPORT),
            HttpError::MissingSession | HttpError::UnsupportedVersion(_) => {
                (StatusCode::BAD_REQUEST, TRANSPORT)
            }
            HttpError::Session(crate::mcp::SessionError::Unknown) => {
                (StatusCode::NOT_FOUND, SESSION_NOT_FOUND)
            }
            HttpError::Session(_) => (StatusCode::INTERNAL_SERVER_ERROR, TRANSPORT),
            HttpError::Starting => (StatusCode::SERVICE_UNAVAILABLE, TRANSPORT),
            HttpError::Mcp { error, .. } => {
                let status = match error {
                    McpError::Parse(_)
                    | McpError::BatchNotSupported
                    | McpError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
                    McpError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
                    McpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    // A well-formed request answered with an error.
                    McpError::MethodNotFound(_) | McpError::InvalidParams(_) => StatusCode::OK,
                };
                (status, error.code())
            }
        }
    }

    /// The response: the status, a JSON-RPC error body, and the headers
    /// the status calls for.
    pub fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = match &self {
            HttpError::Mcp { error, id } => error.to_response(id.as_ref()),
            other => json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": code, "message": other.to_string() }
            }),
        };
        let mut response = json_response(status, &body);
        let headers = response.headers_mut();
        match &self {
            HttpError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
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
            HttpError::Starting | HttpError::Mcp { error: McpError::Busy { .. }, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}
