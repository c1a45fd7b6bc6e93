//! JSON-RPC 2.0 framing as MCP uses it: one message per body, no batches.
//!
//! - A body must be one JSON object. An array (a JSON-RPC batch, which MCP
//!   revision 2025-06-18 removed) is refused with [`McpError::BatchNotSupported`].
//! - `jsonrpc` must be `"2.0"`; `method` a string; `id`, when present, a
//!   string or an integer (MCP forbids `null` ids).
//! - An object with `method` and `id` is a request, with `method` and no
//!   `id` a notification, with `id` and `result` or `error` a response (this
//!   server sends no requests, so responses are accepted and ignored).
//!
//! Errors are [`McpError`], whose [`McpError::code`] is the one place an
//! error becomes a JSON-RPC code.

use serde_json::{Map, Value, json};

/// The protocol-level errors of MCP: each becomes a JSON-RPC error response.
///
/// Failures *inside* a tool call (bad arguments for the schema, a trap, a
/// timeout) are not here: they are `isError` results.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    /// The body is not JSON.
    #[error("parse error: {0}")]
    Parse(String),
    /// The body is a JSON array.
    #[error(
        "invalid request: JSON-RPC batches are not supported (MCP 2025-06-18 removed them); \
         send one message per request"
    )]
    BatchNotSupported,
    /// The body is JSON but not a JSON-RPC 2.0 message.
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
}

impl McpError {
    /// The JSON-RPC error code: the one mapping from errors to codes.
    pub fn code(&self) -> i64 {
        match self {
            McpError::Parse(_) => -32700,
            McpError::BatchNotSupported | McpError::InvalidRequest(_) => -32600,
            McpError::MethodNotFound(_) => -32601,
            McpError::InvalidParams(_) => -32602,
            McpError::Internal(_) => -32603,
            // Implementation-defined server error range.
            McpError::Busy { .. } => -32000,
        }
    }

    /// Structured detail for the error's `data` member, where there is some.
    fn data(&self) -> Option<Value> {
        match self {
            McpError::MethodNotFound(method) if method == "server/discover" => Some(json!({
                "supportedVersions": super::protocol::SUPPORTED_VERSIONS,
                "hint": "this server speaks the initialize handshake; send initialize"
            })),
            _ => None,
        }
    }

    /// The JSON-RPC error response for a request with `id` (`None`: the id
    /// could not be read, and is sent as `null` as JSON-RPC requires).
    pub fn to_response(&self, id: Option<&RequestId>) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code().into());
        error.insert("message".into(), self.to_string().into());
        if let Some(data) = self.data() {
            error.insert("data".into(), data);
        }
        json!({ "jsonrpc": "2.0", "id": id.map_or(Value::Null, |id| id.0.clone()), "error": error })
    }
}

/// A request id: a JSON string or integer.
#[derive(Debug, Clone, PartialEq)]
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

    /// A key identifying the id within a session: `1` and `"1"` differ.
    pub fn key(&self) -> String {
        self.0.to_string()
    }

    /// The id as JSON.
    pub fn as_value(&self) -> &Value {
        &self.0
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
    /// A response to a server-to-client request.
    Response,
}

impl Incoming {
    /// The method, for requests and notifications.
    pub fn method(&self) -> Option<&str> {
        match self {
            Incoming::Request { method, .. } | Incoming::Notification { method, .. } => {
                Some(method)
            }
            Incoming::Response => None,
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
        (None, Some(_)) if object.contains_key("result") || object.contains_key("error") => {
            Ok(Incoming::Response)
        }
        (None, id) => Err((McpError::InvalidRequest("\"method\" is missing".into()), id)),
    }
}

/// A successful response.
pub fn result_response(id: &RequestId, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id.0, "result": result })
}

/// A notification from the server.
pub fn notification(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": params })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(body: &str) -> McpError {
        parse(body.as_bytes()).expect_err("should fail").0
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
        assert_eq!(response, Incoming::Response);
    }

    #[test]
    fn wrong_version_keeps_the_id_for_the_error_response() {
        let (err, id) = parse(br#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#).unwrap_err();
        assert_eq!(err.code(), -32600);
        assert_eq!(err.to_response(id.as_ref())["id"], json!(7));
    }

    #[test]
    fn server_discover_error_lists_supported_versions() {
        let response = McpError::MethodNotFound("server/discover".into()).to_response(None);
        assert_eq!(response["error"]["code"], json!(-32601));
        assert_eq!(response["error"]["data"]["supportedVersions"][0], json!("2025-11-25"));
    }
}
