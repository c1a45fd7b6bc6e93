//! Parsing the JSON arguments of a tool call or a prompt into the handler's type.

use serde::de::DeserializeOwned;

/// Parses `arguments` (a JSON object as text) into `A`, or says why not,
/// naming the offending field. MCP makes arguments optional, so an empty
/// string or `null` stands for the empty object.
pub(crate) fn parse<A: DeserializeOwned>(arguments: &str) -> Result<A, String> {
    let trimmed = arguments.trim();
    let json = if trimmed.is_empty() || trimmed == "null" { "{}" } else { trimmed };
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // `.` is the path of the arguments object itself ("missing field
        // `x`" already names the field then).
        if path == "." { inner.to_string() } else { format!("`{path}`: {inner}") }
    })
}
