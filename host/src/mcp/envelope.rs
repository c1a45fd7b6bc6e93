//! The checks a 2026-07-28 request passes before any method runs, in order;
//! the first to fail answers:
//!
//! | check | error |
//! | --- | --- |
//! | `params._meta` is an object with `io.modelcontextprotocol/protocolVersion` and `io.modelcontextprotocol/clientCapabilities` | `-32602` |
//! | HTTP: `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` are each sent at most once | `-32020` |
//! | HTTP: `MCP-Protocol-Version` equals the `_meta` version | `-32020` |
//! | HTTP: `Mcp-Method` equals the method | `-32020` |
//! | HTTP: `Mcp-Name` (which may be `=?base64?...?=`) equals `params.name` of `tools/call` and `prompts/get`, `params.uri` of `resources/read`, `params.taskId` of `tasks/get`, `tasks/update` and `tasks/cancel` | `-32020` |
//! | the version is one this server serves per request | `-32022`, `data.supported` and `data.requested` |
//! | `io.modelcontextprotocol/logLevel`, when present, is a log level; `clientCapabilities` is an object | `-32602` |
//!
//! The header checks run before the version check, so a client whose
//! header and body disagree is told that, rather than that its version is
//! unsupported. Header names are matched without regard to case, values
//! exactly (`TOOLS/LIST` is not `tools/list`), after the transport trimmed
//! surrounding whitespace.
//!
//! A `tools/call` over HTTP then has its `Mcp-Param-*` headers checked
//! against the arguments, for every `x-mcp-header` the tool's schema
//! declares ([`crate::schema`]): the header and the argument are present
//! together and equal, or absent together (`null` counts as absent). An
//! integer argument compares numerically (`42` matches `42.0`). A value the
//! client could not send as plain ASCII comes as `=?base64?<base64>?=`,
//! which must be canonical base64 (padded) of UTF-8; a value without both
//! the prefix and the suffix is taken literally.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use super::exchange::HttpFacts;
use super::jsonrpc::McpError;
use super::protocol::{
    self, META_CLIENT_CAPABILITIES, META_LOG_LEVEL, META_PROTOCOL_VERSION, STATELESS_VERSIONS,
};
use crate::schema::{ParamHeader, ParamType};

/// What the envelope of a 2026-07-28 request says.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The lowest severity rank of log messages the client wants; `None`:
    /// none at all (the revision's default).
    pub log_rank: Option<u8>,
    /// The capabilities the client declared for this request.
    pub capabilities: Value,
}

/// Runs the checks of the module doc over a request; `http` is `None` on
/// stdio, which has no headers.
pub fn check(method: &str, params: &Value, http: Option<&HttpFacts>) -> Result<Envelope, McpError> {
    let meta = params.get("_meta").and_then(Value::as_object).ok_or_else(|| {
        McpError::InvalidParams(format!(
            "params._meta must be an object carrying {META_PROTOCOL_VERSION:?} and \
             {META_CLIENT_CAPABILITIES:?} (MCP 2026-07-28 requests carry their own envelope)"
        ))
    })?;
    let missing: Vec<&str> = [META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES]
        .into_iter()
        .filter(|key| !meta.contains_key(*key))
        .collect();
    if !missing.is_empty() {
        return Err(McpError::InvalidParams(format!(
            "params._meta is missing {}",
            missing.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(" and ")
        )));
    }
    let version = &meta[META_PROTOCOL_VERSION];
    if let Some(http) = http {
        check_headers(method, params, version, http)?;
    }
    let Value::String(version) = version else {
        return Err(McpError::InvalidParams(format!(
            "_meta {META_PROTOCOL_VERSION:?} must be a string"
        )));
    };
    if !STATELESS_VERSIONS.contains(&version.as_str()) {
        return Err(McpError::UnsupportedVersion { requested: version.clone() });
    }
    if !meta[META_CLIENT_CAPABILITIES].is_object() {
        return Err(McpError::InvalidParams(format!(
            "_meta {META_CLIENT_CAPABILITIES:?} must be an object"
        )));
    }
    let log_rank = match meta.get(META_LOG_LEVEL) {
        None => None,
        Some(level) => {
            Some(level.as_str().and_then(protocol::log_level_rank).ok_or_else(|| {
                McpError::InvalidParams(format!(
                    "_meta {META_LOG_LEVEL:?} must be one of {}",
                    protocol::LOG_LEVELS.join(", ")
                ))
            })?)
        }
    };
    Ok(Envelope { log_rank, capabilities: meta[META_CLIENT_CAPABILITIES].clone() })
}

fn check_headers(
    method: &str,
    params: &Value,
    version: &Value,
    http: &HttpFacts,
) -> Result<(), McpError> {
    if let Some(header) = http.repeated {
        return Err(McpError::HeaderMismatch(format!(
            "the {header} header appears more than once"
        )));
    }
    match &http.protocol_version {
        Some(header) if Some(header.as_str()) == version.as_str() => {}
        Some(header) => {
            return Err(McpError::HeaderMismatch(format!(
                "MCP-Protocol-Version header {header:?} does not match _meta {META_PROTOCOL_VERSION:?} {version}"
            )));
        }
        None => {
            return Err(McpError::HeaderMismatch(
                "the MCP-Protocol-Version header is required and must match _meta".into(),
            ));
        }
    }
    match &http.method {
        Some(header) if header == method => {}
        Some(header) => {
            return Err(McpError::HeaderMismatch(format!(
                "Mcp-Method header {header:?} does not match the method {method:?}"
            )));
        }
        None => {
            return Err(McpError::HeaderMismatch(format!(
                "the Mcp-Method header is required (here: {method:?})"
            )));
        }
    }
    let name_param = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return Ok(()),
    };
    let Some(body) = params.get(name_param).filter(|v| !v.is_null()) else { return Ok(()) };
    let header = http.name.as_deref().map(decode_header_value);
    match (header, body.as_str()) {
        (Some(Some(header)), Some(body)) if header == body => Ok(()),
        (None, _) => Err(McpError::HeaderMismatch(format!(
            "the Mcp-Name header is required for {method} (here: params.{name_param})"
        ))),
        _ => Err(McpError::HeaderMismatch(format!(
            "Mcp-Name header does not match params.{name_param}"
        ))),
    }
}

/// Checks a `tools/call`'s `Mcp-Param-*` headers against its `arguments`
/// for the tool's `declared` headers.
pub fn check_param_headers(
    declared: &[ParamHeader],
    arguments: &Value,
    http: &HttpFacts,
) -> Result<(), McpError> {
    for param in declared {
        let mut sent =
            http.params.iter().filter(|(name, _)| name.eq_ignore_ascii_case(&param.header));
        let header = sent.next().map(|(_, value)| value.as_str());
        if sent.next().is_some() {
            return Err(McpError::HeaderMismatch(format!(
                "the {} header appears more than once",
                param.header
            )));
        }
        let argument = param.path.join(".");
        let value = value_at(arguments, &param.path).filter(|v| !v.is_null());
        let rendered = value.and_then(render);
        match (header, value, rendered) {
            (None, None, _) | (None, Some(_), None) => {}
            (Some(_), None, _) => {
                return Err(McpError::HeaderMismatch(format!(
                    "the {} header is sent but the argument {argument:?} is absent",
                    param.header
                )));
            }
            (None, Some(_), Some(_)) => {
                return Err(McpError::HeaderMismatch(format!(
                    "the {} header is missing but the argument {argument:?} is present",
                    param.header
                )));
            }
            (Some(_), Some(_), None) => {
                return Err(McpError::HeaderMismatch(format!(
                    "the {} header does not match the argument {argument:?}",
                    param.header
                )));
            }
            (Some(header), Some(value), Some(rendered)) => {
                let Some(decoded) = decode_header_value(header) else {
                    return Err(McpError::HeaderMismatch(format!(
                        "the {} header is not valid =?base64?...?= (canonical, padded base64 of UTF-8)",
                        param.header
                    )));
                };
                if !matches(param.kind, value, &rendered, &decoded) {
                    return Err(McpError::HeaderMismatch(format!(
                        "the {} header does not match the argument {argument:?}",
                        param.header
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A header value as the client meant it: the text of `=?base64?<b64>?=`,
/// or the value itself. `None` for a sentinel that is not canonical base64
/// of UTF-8, so a corrupt header never matches anything.
pub fn decode_header_value(value: &str) -> Option<String> {
    let Some(payload) = value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) else {
        return Some(value.to_owned());
    };
    let bytes = BASE64.decode(payload).ok()?;
    // The engine accepts only padded input; re-encoding rejects non-zero
    // trailing bits, which a canonical encoder never writes.
    if BASE64.encode(&bytes) != payload {
        return None;
    }
    String::from_utf8(bytes).ok()
}

fn value_at<'a>(arguments: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(arguments, |node, key| node.as_object()?.get(key))
}

/// How a client renders an argument into a header, if it can.
fn render(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn matches(kind: ParamType, value: &Value, rendered: &str, decoded: &str) -> bool {
    if kind == ParamType::Integer
        && let Some(number) = value.as_number()
        && is_decimal(decoded)
    {
        // Exact comparison of integral values, without a float round trip.
        let integral = |text: &str| -> Option<String> {
            let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
            fraction.bytes().all(|b| b == b'0').then(|| whole.to_owned())
        };
        let body = number.to_string();
        return match (integral(decoded), integral(&body)) {
            (Some(a), Some(b)) => normalize(&a) == normalize(&b),
            _ => false,
        };
    }
    decoded == rendered
}

fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// An integer's digits without leading zeros, and without the sign of zero.
fn normalize(integer: &str) -> String {
    let (sign, digits) = match integer.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", integer),
    };
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() { "0".to_owned() } else { format!("{sign}{digits}") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn meta() -> Value {
        json!({ "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        } })
    }

    fn facts(version: &str, method: &str) -> HttpFacts {
        HttpFacts {
            protocol_version: Some(version.into()),
            method: Some(method.into()),
            ..HttpFacts::default()
        }
    }

    #[test]
    fn a_request_without_meta_is_invalid_params() {
        let err = check("tools/list", &json!({}), None).unwrap_err();
        assert_eq!(err.code(), -32602);
        let no_caps =
            json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } });
        let err = check("tools/list", &no_caps, None).unwrap_err();
        assert!(err.to_string().contains("clientCapabilities"), "{err}");
    }

    #[test]
    fn a_complete_envelope_passes_and_defaults_to_no_logs() {
        let envelope =
            check("tools/list", &meta(), Some(&facts("2026-07-28", "tools/list"))).unwrap();
        assert_eq!(envelope.log_rank, None);
        let mut with_level = meta();
        with_level["_meta"]["io.modelcontextprotocol/logLevel"] = json!("warning");
        assert_eq!(check("tools/list", &with_level, None).unwrap().log_rank, Some(3));
        with_level["_meta"]["io.modelcontextprotocol/logLevel"] = json!("loud");
        assert_eq!(check("tools/list", &with_level, None).unwrap_err().code(), -32602);
    }

    #[test]
    fn headers_that_disagree_with_the_body_are_a_header_mismatch() {
        let params = meta();
        for http in [
            facts("2025-11-25", "tools/list"),
            facts("2026-07-28", "prompts/list"),
            facts("2026-07-28", "TOOLS/LIST"),
            HttpFacts { method: Some("tools/list".into()), ..HttpFacts::default() },
            HttpFacts { protocol_version: Some("2026-07-28".into()), ..HttpFacts::default() },
        ] {
            assert_eq!(
                check("tools/list", &params, Some(&http)).unwrap_err().code(),
                -32020,
                "{http:?}"
            );
        }
    }

    #[test]
    fn mcp_name_must_match_the_tool_and_may_be_base64() {
        let mut params = meta();
        params["name"] = json!("héllo");
        let mut http = facts("2026-07-28", "tools/call");
        assert_eq!(check("tools/call", &params, Some(&http)).unwrap_err().code(), -32020);
        http.name = Some("=?base64?aMOpbGxv?=".into());
        assert!(check("tools/call", &params, Some(&http)).is_ok());
        http.name = Some("hello".into());
        assert_eq!(check("tools/call", &params, Some(&http)).unwrap_err().code(), -32020);
    }

    #[test]
    fn an_unsupported_version_is_32022_after_the_header_check() {
        let mut params = meta();
        params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("v999");
        let err =
            check("server/discover", &params, Some(&facts("v999", "server/discover"))).unwrap_err();
        assert_eq!(err, McpError::UnsupportedVersion { requested: "v999".into() });
        let err = check("server/discover", &params, Some(&facts("2026-07-28", "server/discover")))
            .unwrap_err();
        assert_eq!(err.code(), -32020);
    }

    #[test]
    fn base64_values_must_be_canonical_and_padded() {
        assert_eq!(decode_header_value("=?base64?SGVsbG8=?="), Some("Hello".into()));
        assert_eq!(decode_header_value("=?base64?SGVsbG8?="), None);
        assert_eq!(decode_header_value("=?base64?SGVs!!!bG8=?="), None);
        assert_eq!(decode_header_value("=?base64?SGVsbG9=?="), None);
        assert_eq!(decode_header_value("=?base64?SGVsbG8="), Some("=?base64?SGVsbG8=".into()));
        assert_eq!(decode_header_value("SGVsbG8="), Some("SGVsbG8=".into()));
    }

    fn declared() -> Vec<ParamHeader> {
        let schema = json!({ "type": "object", "properties": {
            "region": { "type": "string", "x-mcp-header": "Region" },
            "n": { "type": "integer", "x-mcp-header": "N" } } });
        crate::schema::param_headers(&schema).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HttpFacts {
        HttpFacts {
            params: pairs.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())).collect(),
            ..HttpFacts::default()
        }
    }

    #[test]
    fn param_headers_must_match_present_arguments() {
        let decl = declared();
        let args = json!({ "region": "eu", "n": 42 });
        assert!(
            check_param_headers(
                &decl,
                &args,
                &headers(&[("Mcp-Param-Region", "eu"), ("mcp-param-n", "42.0")])
            )
            .is_ok()
        );
        assert!(
            check_param_headers(
                &decl,
                &args,
                &headers(&[("Mcp-Param-Region", "us"), ("mcp-param-n", "42")])
            )
            .is_err()
        );
        assert!(check_param_headers(&decl, &args, &headers(&[("mcp-param-n", "42")])).is_err());
        assert!(
            check_param_headers(&decl, &json!({}), &headers(&[("Mcp-Param-Region", "eu")]))
                .is_err()
        );
        assert!(check_param_headers(&decl, &json!({ "region": null }), &headers(&[])).is_ok());
        assert!(
            check_param_headers(
                &decl,
                &args,
                &headers(&[("Mcp-Param-Region", "=?base64?ZXU=?="), ("mcp-param-n", "0042")])
            )
            .is_ok()
        );
        assert!(
            check_param_headers(
                &decl,
                &args,
                &headers(&[("Mcp-Param-Region", "=?base64?ZXU?="), ("mcp-param-n", "42")])
            )
            .is_err()
        );
    }
}
