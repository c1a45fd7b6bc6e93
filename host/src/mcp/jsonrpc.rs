//! JSON-RPC 2.0 as MCP uses it: one message at a time, no batches.
//!
//! - A message must be one JSON object. An array (a JSON-RPC batch, which MCP
//!   revision 2025-06-18 removed) is refused with [`McpError::BatchNotSupported`].
//! - `jsonrpc` must be `"2.0"`; `method` a string; `id`, when present, a
//!   string or an integer (MCP forbids `null` ids).
//! - An object with `method` and `id` is a request, with `method` and no
//!   `id` a notification, with `id` and `result` or `error` a response (to
//!   a request this server sent the client during a call: elicitation,
//!   sampling, roots).
//!
//! Errors are [`McpError`], whose [`McpError::code`] is the one place an
//! error becomes a JSON-RPC code. Responses and notifications are written
//! here, serialized once into the bytes a transport sends.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::protocol;

/// The protocol-level errors of MCP: each becomes a JSON-RPC error response.
///
/// Failures *inside* a tool call (bad arguments for the schema, a trap, a
/// timeout) are not here: they are `isError` results.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    /// The message is not JSON.
    #[error("parse error: {0}")]
    Parse(String),
    /// The message is a JSON array.
    #[error(
        "invalid request: JSON-RPC batches are not supported (MCP 2025-06-18 removed them); \
         send one message per request"
    )]
    BatchNotSupported,
    /// The message is JSON but not a JSON-RPC 2.0 message, or not allowed here.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// No such method, or one this server does not offer.
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// The method exists but its params are wrong (including an unknown tool name).
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// The global limit on calls in flight is reached.
    #[error(
        "server busy: {limit} tool calls are already running (server.max_calls_in_flight); retry later"
    )]
    Busy {
        /// The configured limit.
        limit: u32,
    },
    /// Something failed in the host itself.
    #[error("internal error: {0}")]
    Internal(String),
    /// 2025-11-25 over HTTP: a request other than `initialize` came without
    /// `Mcp-Session-Id`.
    #[error(
        "bad request: Mcp-Session-Id header is required (send initialize first to get one, \
         or send MCP 2026-07-28 requests with per-request _meta)"
    )]
    SessionRequired,
    /// 2025-11-25 over HTTP: the session already holds its most standalone
    /// streams.
    #[error(
        "too many streams: this session already has {limit} standalone streams open \
         (server.max_streams_per_session); close one first"
    )]
    TooManyStreams {
        /// The configured limit.
        limit: usize,
    },
    /// 2025-11-25: the session does not exist (any more).
    #[error("session not found: it was never created, was deleted, or expired; initialize again")]
    SessionNotFound,
    /// 2025-11-25 over HTTP: `MCP-Protocol-Version` names a revision this
    /// server does not speak.
    #[error(
        "bad request: unsupported MCP-Protocol-Version {0:?}; supported: {supported}",
        supported = protocol::ALL_VERSIONS.join(", ")
    )]
    VersionHeader(String),
    /// 2026-07-28 over HTTP: a header disagrees with the body, is missing,
    /// or is malformed.
    #[error("header mismatch: {0}")]
    HeaderMismatch(String),
    /// 2026-07-28: the request's protocol version is not one this server
    /// serves per request.
    #[error(
        "unsupported protocol version {requested:?}; supported: {supported}",
        supported = protocol::STATELESS_VERSIONS.join(", ")
    )]
    UnsupportedVersion {
        /// The version the request named.
        requested: String,
    },
    /// The request cannot be served now (no slot came free, or what serves
    /// it is still loading); the message says why.
    #[error("server busy: {0}")]
    Unavailable(String),
    /// The shared state (`[cluster]`) cannot be reached; the message says
    /// what and why.
    #[error("{0}")]
    StateUnavailable(String),
    /// No resource at this URI.
    #[error("resource not found: {uri}")]
    ResourceNotFound {
        /// The URI.
        uri: String,
    },
    /// The request needs a client capability the client did not declare.
    #[error(
        "missing required client capability: {message} (declare \"{capability}\" in the client's capabilities)"
    )]
    MissingCapability {
        /// The capability (`elicitation`, `sampling`, `roots`).
        capability: String,
        /// What needed it.
        message: String,
    },
    /// A task was refused: the client or the server runs its most tasks.
    #[error("{0}")]
    TooManyTasks(String),
    /// 2026-07-28: the request needs an extension the client did not
    /// declare (the tasks extension).
    #[error(
        "missing required client capability: {message} (declare the extension \"{extension}\" in \
         clientCapabilities.extensions)"
    )]
    MissingExtension {
        /// The extension's identifier.
        extension: &'static str,
        /// What needed it.
        message: String,
    },
}

impl McpError {
    /// `resources/read` of a URI nothing serves: `-32602` with the URI in
    /// `data`, as MCP asks.
    pub fn resource_not_found(uri: &str) -> McpError {
        McpError::ResourceNotFound { uri: uri.to_owned() }
    }

    /// The JSON-RPC error code: the one mapping from errors to codes.
    pub fn code(&self) -> i64 {
        match self {
            McpError::Parse(_) => -32700,
            McpError::BatchNotSupported | McpError::InvalidRequest(_) => -32600,
            McpError::MethodNotFound(_) => -32601,
            McpError::InvalidParams(_) | McpError::ResourceNotFound { .. } => -32602,
            McpError::Internal(_) => -32603,
            // Implementation-defined server errors.
            McpError::Busy { .. }
            | McpError::Unavailable(_)
            | McpError::StateUnavailable(_)
            | McpError::SessionRequired
            | McpError::TooManyStreams { .. }
            | McpError::TooManyTasks(_)
            | McpError::VersionHeader(_) => -32000,
            // The code the reference SDKs use for an unknown session.
            McpError::SessionNotFound => -32001,
            McpError::HeaderMismatch(_) => -32020,
            McpError::MissingCapability { .. } | McpError::MissingExtension { .. } => -32021,
            McpError::UnsupportedVersion { .. } => -32022,
        }
    }

    /// Structured detail for the error's `data` member, where there is some.
    fn data(&self) -> Option<Value> {
        match self {
            McpError::UnsupportedVersion { requested } => Some(json!({
                "supported": protocol::STATELESS_VERSIONS,
                "requested": requested,
            })),
            McpError::ResourceNotFound { uri } => Some(json!({ "uri": uri })),
            McpError::MissingCapability { capability, .. } => {
                Some(json!({ "requiredCapabilities": { capability.as_str(): {} } }))
            }
            McpError::MissingExtension { extension, .. } => {
                Some(json!({ "requiredCapabilities": { "extensions": { *extension: {} } } }))
            }
            _ => None,
        }
    }

    /// The JSON-RPC error response for a request with `id` (`None`: the id
    /// could not be read, and is sent as `null` as JSON-RPC requires).
    pub fn to_response(&self, id: Option<&RequestId>) -> Bytes {
        #[derive(Serialize)]
        struct ErrorObject {
            code: i64,
            message: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<Value>,
        }
        #[derive(Serialize)]
        struct ErrorResponse<'a> {
            jsonrpc: &'static str,
            id: Option<&'a RequestId>,
            error: ErrorObject,
        }
        to_bytes(&ErrorResponse {
            jsonrpc: "2.0",
            id,
            error: ErrorObject { code: self.code(), message: self.to_string(), data: self.data() },
        })
    }
}

/// A request id: a JSON string or integer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RequestId(Value);

impl RequestId {
    /// Accepts a string or an integer.
    pub fn from_value(value: Value) -> Result<RequestId, McpError> {
        match &value {
            Value::String(_) => Ok(RequestId(value)),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(RequestId(value)),
            _ => Err(McpError::InvalidRequest("id must be a string or an integer".into())),
        }
    }

    /// A key identifying the id within a session or connection: `1` and
    /// `"1"` differ.
    pub fn key(&self) -> String {
        self.0.to_string()
    }

    /// The id as JSON.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One message from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request, which gets exactly one response.
    Request {
        /// Its id.
        id: RequestId,
        /// The method.
        method: String,
        /// The params, `{}` when absent.
        params: Value,
    },
    /// A notification, which gets no response.
    Notification {
        /// The method.
        method: String,
        /// The params, `{}` when absent.
        params: Value,
    },
    /// A response to a request this server sent the client.
    Response {
        /// The id of that request; `None` when the client sent `null`.
        id: Option<RequestId>,
        /// Its `result`, or its `error` object.
        outcome: Result<Value, Value>,
    },
}

impl Incoming {
    /// The method, for requests and notifications.
    pub fn method(&self) -> Option<&str> {
        match self {
            Incoming::Request { method, .. } | Incoming::Notification { method, .. } => {
                Some(method)
            }
            Incoming::Response { .. } => None,
        }
    }
}

/// Parses one JSON-RPC message. On error, the request id is returned when it
/// could be read, so the error response can carry it.
pub fn parse(body: &[u8]) -> Result<Incoming, (McpError, Option<RequestId>)> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| (McpError::Parse(err.to_string()), None))?;
    let mut object = match value {
        Value::Object(object) => object,
        Value::Array(_) => return Err((McpError::BatchNotSupported, None)),
        _ => {
            return Err((McpError::InvalidRequest("a message must be a JSON object".into()), None));
        }
    };
    let id = match object.remove("id") {
        None => None,
        // A response may carry a null id (an error about a request whose
        // id the client could not read); it can be matched to nothing.
        Some(Value::Null) if !object.contains_key("method") => {
            return Ok(Incoming::Response {
                id: None,
                outcome: Err(object.remove("error").unwrap_or_default()),
            });
        }
        Some(id) => Some(RequestId::from_value(id).map_err(|err| (err, None))?),
    };
    let fail = |message: &str| Err((McpError::InvalidRequest(message.to_owned()), id.clone()));
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return fail("\"jsonrpc\" must be \"2.0\"");
    }
    let params = match object.remove("params") {
        None => Value::Object(Map::new()),
        Some(params @ Value::Object(_)) => params,
        Some(_) => return fail("\"params\" must be an object"),
    };
    match (object.remove("method"), id) {
        (Some(Value::String(method)), Some(id)) => Ok(Incoming::Request { id, method, params }),
        (Some(Value::String(method)), None) => Ok(Incoming::Notification { method, params }),
        (Some(_), id) => Err((McpError::InvalidRequest("\"method\" must be a string".into()), id)),
        (None, Some(id)) if object.contains_key("result") || object.contains_key("error") => {
            let outcome = match object.remove("result") {
                Some(result) => Ok(result),
                None => Err(object.remove("error").unwrap_or_default()),
            };
            Ok(Incoming::Response { id: Some(id), outcome })
        }
        (None, id) => Err((McpError::InvalidRequest("\"method\" is missing".into()), id)),
    }
}

/// A successful response carrying `result`, serialized.
pub fn result_response<R: Serialize + ?Sized>(id: &RequestId, result: &R) -> Bytes {
    #[derive(Serialize)]
    struct ResultResponse<'a, R: ?Sized> {
        jsonrpc: &'static str,
        id: &'a RequestId,
        result: &'a R,
    }
    to_bytes(&ResultResponse { jsonrpc: "2.0", id, result })
}

/// A notification from the server, serialized.
pub fn notification<P: Serialize + ?Sized>(method: &str, params: &P) -> Bytes {
    #[derive(Serialize)]
    struct Notification<'a, P: ?Sized> {
        jsonrpc: &'static str,
        method: &'a str,
        params: &'a P,
    }
    to_bytes(&Notification { jsonrpc: "2.0", method, params })
}

/// Serializes a message. Every message type here serializes (string keys,
/// no floats that JSON cannot hold), so a failure is a bug; it is reported
/// as an internal error rather than a panic.
fn to_bytes<T: Serialize + ?Sized>(message: &T) -> Bytes {
    match serde_json::to_vec(message) {
        Ok(bytes) => Bytes::from(bytes),
        Err(err) => {
            tracing::error!(error = %err, "a JSON-RPC message could not be serialized");
            Bytes::from_static(
                br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error: the response could not be serialized"}}"#,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(body: &str) -> McpError {
        parse(body.as_bytes()).expect_err("should fail").0
    }

    fn json(bytes: &Bytes) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn a_batch_array_is_refused_with_invalid_request() {
        let err = parse_err(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
        assert_eq!(err, McpError::BatchNotSupported);
        assert_eq!(err.code(), -32600);
    }

    #[test]
    fn malformed_json_is_a_parse_error() {
        assert_eq!(parse_err("{").code(), -32700);
        assert_eq!(parse(&[0xff, 0xfe, b'{']).unwrap_err().0.code(), -32700);
    }

    #[test]
    fn null_id_is_invalid() {
        assert_eq!(parse_err(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).code(), -32600);
    }

    #[test]
    fn request_notification_and_response_are_told_apart() {
        let request = parse(br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#).unwrap();
        assert!(matches!(request, Incoming::Request { ref method, .. } if method == "ping"));
        let note = parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(note, Incoming::Notification { .. }));
        let response = parse(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#).unwrap();
        assert!(matches!(response, Incoming::Response { id: Some(_), outcome: Ok(_) }));
    }

    #[test]
    fn wrong_version_keeps_the_id_for_the_error_response() {
        let (err, id) = parse(br#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#).unwrap_err();
        assert_eq!(err.code(), -32600);
        assert_eq!(json(&err.to_response(id.as_ref()))["id"], json!(7));
    }

    #[test]
    fn an_error_without_a_readable_id_says_null() {
        let response = json(&McpError::Parse("x".into()).to_response(None));
        assert_eq!(
            response,
            json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32700, "message": "parse error: x" } })
        );
    }

    #[test]
    fn unsupported_version_lists_the_supported_and_echoes_the_requested() {
        let error = McpError::UnsupportedVersion { requested: "v9".into() };
        let response = json(&error.to_response(None));
        assert_eq!(response["error"]["code"], json!(-32022));
        assert_eq!(
            response["error"]["data"],
            json!({ "supported": ["2026-07-28"], "requested": "v9" })
        );
    }

    #[test]
    fn a_result_response_is_one_json_object() {
        let id = RequestId::from_value(json!("x")).unwrap();
        let bytes = result_response(&id, &json!({ "a": 1 }));
        assert_eq!(&bytes[..], br#"{"jsonrpc":"2.0","id":"x","result":{"a":1}}"#);
    }
}
