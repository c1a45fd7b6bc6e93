//! The tools that answer without asking the client: content of every
//! type, logging, progress, errors, and schemas the suite inspects.
//!
//! Logging and progress reach the client only when the host forwards the
//! `log` and `progress` imports; the tools just call them.

use crate::RED_PIXEL_PNG;
use corral_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use std::thread::sleep;
use std::time::Duration;

/// 10 ms of 8 kHz mono 8-bit PCM silence: a minimal valid WAV file.
const SILENCE_WAV: &[u8] = include_bytes!("../assets/silence.wav");

/// The pause between notifications; the suite asks for "~50ms" so that a
/// client sees them arrive during the call rather than all at its end.
const NOTIFICATION_GAP: Duration = Duration::from_millis(50);

/// The tools, in the order of the suite's scenarios.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(
            Tool::new("test_simple_text", "Returns a simple text response", |_: NoArgs| {
                Ok("This is a simple text response for testing.")
            })
            .read_only(true),
        )
        .with(
            Tool::new("test_image_content", "Returns a 1x1 red PNG image", |_: NoArgs| {
                Ok(content::image(RED_PIXEL_PNG, "image/png"))
            })
            .read_only(true),
        )
        .with(
            Tool::new("test_audio_content", "Returns a short WAV audio clip", |_: NoArgs| {
                Ok(content::audio(SILENCE_WAV, "audio/wav"))
            })
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_embedded_resource",
                "Returns an embedded text resource",
                |_: NoArgs| {
                    Ok(content::resource_text(
                        "test://embedded-resource",
                        "text/plain",
                        "This is an embedded resource content.",
                    ))
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_multiple_content_types",
                "Returns text, an image and an embedded resource in one result",
                |_: NoArgs| Ok(multiple_content_types()),
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_tool_with_logging",
                "Sends three info log messages, 50 ms apart, while it runs",
                |_: NoArgs| {
                    with_logging();
                    Ok("Tool with logging executed successfully")
                },
            )
            .read_only(true),
        )
        // The name the 2026-07-28 scenarios call: with no log level in the
        // request's _meta, the client must get none of these messages.
        .with(
            Tool::new(
                "test_logging_tool",
                "Sends three info log messages, 50 ms apart, while it runs",
                |_: NoArgs| {
                    with_logging();
                    Ok("Tool with logging executed successfully")
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_error_handling",
                "Always fails, returning an isError result",
                |_: NoArgs| -> Result<String, ToolError> {
                    Err(ToolError::new("This tool intentionally returns an error for testing"))
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_tool_with_progress",
                "Reports progress 0, 50 and 100 out of 100, 50 ms apart",
                |_: NoArgs| {
                    with_progress();
                    Ok("Tool with progress executed successfully")
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_reconnection",
                "Waits briefly, then answers: the host's transport may close \
                 the SSE stream mid-call for the client to resume it",
                |_: NoArgs| {
                    sleep(RECONNECTION_WAIT);
                    Ok("Reconnection test completed")
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features",
                |args: JsonSchema202012Args| Ok(describe_person(&args)),
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_param_header",
                "Echoes its region, which clients also send as the Mcp-Param-Region header",
                |args: ParamHeaderArgs| Ok(format!("region: {}", args.region)),
            )
            .read_only(true),
        )
}

/// Long enough for a host to close the stream before the result exists.
const RECONNECTION_WAIT: Duration = Duration::from_millis(200);

fn multiple_content_types() -> Vec<Content> {
    vec![
        content::text("Multiple content types test:"),
        content::image(RED_PIXEL_PNG, "image/png"),
        content::resource_text(
            "test://mixed-content-resource",
            "application/json",
            r#"{"test":"data","value":123}"#,
        ),
    ]
}

fn with_logging() {
    log::info("Tool execution started");
    sleep(NOTIFICATION_GAP);
    log::info("Tool processing data");
    sleep(NOTIFICATION_GAP);
    log::info("Tool execution completed");
}

fn with_progress() {
    corral_sdk::progress(0.0, Some(100.0), None);
    sleep(NOTIFICATION_GAP);
    corral_sdk::progress(50.0, Some(100.0), None);
    sleep(NOTIFICATION_GAP);
    corral_sdk::progress(100.0, Some(100.0), None);
}

/// The arguments whose schema the `json-schema-2020-12` scenario inspects:
/// it looks for `$defs.address` with an `$anchor` (hence the rename and
/// the extension), `additionalProperties: false` (hence
/// `deny_unknown_fields`), a composition (`allOf` holding an `anyOf`: a
/// phone or an e-mail address is required) and a condition (`if` the
/// contact method is the phone, `then` the phone is required, `else` the
/// e-mail address), as in the scenario's schema.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend(
    "allOf" = [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
    "if" = { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
    "then" = { "required": ["phone"] },
    "else" = { "required": ["email"] }
))]
pub struct JsonSchema202012Args {
    /// The person's name.
    name: Option<String>,
    /// The person's postal address.
    // A plain `$ref`, as in the scenario, rather than the `anyOf` with
    // `null` that an `Option` would give.
    #[serde(default)]
    address: Address,
    /// How to reach the person.
    contact_method: Option<ContactMethod>,
    /// A phone number.
    phone: Option<String>,
    /// An e-mail address.
    email: Option<String>,
}

/// How to reach someone.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactMethod {
    /// By phone.
    Phone,
    /// By e-mail.
    Email,
}

/// The arguments of `test_param_header`: a string property that clients
/// mirror into an HTTP header (MCP 2026-07-28 `x-mcp-header`).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ParamHeaderArgs {
    /// Where the request should be routed.
    #[schemars(extend("x-mcp-header" = "Region"))]
    region: String,
}

/// A postal address.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(rename = "address", extend("$anchor" = "addressDef"))]
pub struct Address {
    /// Street and number.
    street: Option<String>,
    /// City.
    city: Option<String>,
}

fn describe_person(args: &JsonSchema202012Args) -> String {
    let name = args.name.as_deref().unwrap_or("someone");
    let home = match (&args.address.street, &args.address.city) {
        (None, None) => format!("{name} has no address"),
        (street, city) => format!(
            "{name} lives at {}, {}",
            street.as_deref().unwrap_or("an unknown street"),
            city.as_deref().unwrap_or("an unknown city")
        ),
    };
    let reach = match (&args.contact_method, &args.phone, &args.email) {
        (Some(ContactMethod::Phone), Some(phone), _) | (None, Some(phone), None) => {
            format!("call {phone}")
        }
        (_, _, Some(email)) => format!("write to {email}"),
        (_, Some(phone), None) => format!("call {phone}"),
        (_, None, None) => "no way to reach them".to_owned(),
    };
    format!("{home}; {reach}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::testing::{HostEvent, take_events};
    use corral_sdk::types::{EmbeddedResource, ResourceContents};
    use corral_sdk::{CallResult, LogLevel};
    use serde_json::Value;

    fn call(name: &str) -> CallResult {
        tools().call(name, "{}").expect("the tool runs")
    }

    #[test]
    fn simple_text_returns_the_expected_sentence() {
        assert_eq!(
            call("test_simple_text").content,
            vec![Content::Text("This is a simple text response for testing.".into())]
        );
    }

    #[test]
    fn image_content_is_a_png() {
        let content = call("test_image_content").content;
        let [Content::Image(blob)] = content.as_slice() else {
            panic!("expected one image");
        };
        assert_eq!(blob.mime_type, "image/png");
        assert!(blob.data.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn audio_content_is_a_wav() {
        let content = call("test_audio_content").content;
        let [Content::Audio(blob)] = content.as_slice() else {
            panic!("expected one audio clip");
        };
        assert_eq!(blob.mime_type, "audio/wav");
        assert_eq!((&blob.data[..4], &blob.data[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
    }

    #[test]
    fn embedded_resource_has_the_expected_uri_type_and_text() {
        assert_eq!(
            call("test_embedded_resource").content,
            vec![Content::Resource(EmbeddedResource {
                uri: "test://embedded-resource".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text("This is an embedded resource content.".into()),
            })]
        );
    }

    #[test]
    fn multiple_content_types_are_text_image_and_resource() {
        let content = call("test_multiple_content_types").content;
        assert!(matches!(
            content.as_slice(),
            [Content::Text(_), Content::Image(_), Content::Resource(_)]
        ));
    }

    #[test]
    fn logging_tool_logs_three_info_messages_in_order() {
        take_events();
        call("test_tool_with_logging");
        let messages: Vec<_> = take_events()
            .into_iter()
            .map(|event| match event {
                HostEvent::Log { level: LogLevel::Info, message } => message,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            messages,
            ["Tool execution started", "Tool processing data", "Tool execution completed"]
        );
    }

    #[test]
    fn error_handling_returns_an_error_result() {
        let result = call("test_error_handling");
        assert!(result.is_error);
        assert_eq!(
            result.content,
            vec![Content::Text("This tool intentionally returns an error for testing".into())]
        );
    }

    #[test]
    fn progress_tool_reports_0_50_100_of_100() {
        take_events();
        call("test_tool_with_progress");
        let reports: Vec<_> = take_events()
            .into_iter()
            .map(|event| match event {
                HostEvent::Progress { done, total, .. } => (done, total),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(reports, [(0.0, Some(100.0)), (50.0, Some(100.0)), (100.0, Some(100.0))]);
    }

    #[test]
    fn json_schema_tool_schema_has_the_2020_12_features_the_suite_checks() {
        let definitions = tools().definitions().expect("tools are well defined");
        let definition = definitions
            .iter()
            .find(|definition| definition.name == "json_schema_2020_12_tool")
            .expect("the tool is listed");
        let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["$defs"]["address"]["type"], "object");
        assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
        assert_eq!(schema["properties"]["address"]["$ref"], "#/$defs/address");
        assert_eq!(schema["allOf"][0]["anyOf"][0]["required"][0], "phone");
        assert_eq!(schema["if"]["properties"]["contactMethod"]["const"], "phone");
        assert_eq!(schema["then"]["required"][0], "phone");
        assert_eq!(schema["else"]["required"][0], "email");
    }

    #[test]
    fn param_header_tool_declares_its_header() {
        let definitions = tools().definitions().expect("tools are well defined");
        let definition =
            definitions.iter().find(|d| d.name == "test_param_header").expect("listed");
        let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
        assert_eq!(schema["properties"]["region"]["x-mcp-header"], "Region");
        assert_eq!(schema["properties"]["region"]["type"], "string");
    }

    #[test]
    fn json_schema_tool_uses_its_arguments() {
        let result = tools()
            .call(
                "json_schema_2020_12_tool",
                r#"{"name": "Ada", "address": {"street": "1 Main St", "city": "Paris"}, "contactMethod": "email", "email": "ada@example.com"}"#,
            )
            .unwrap();
        assert_eq!(
            result.content,
            vec![Content::Text("Ada lives at 1 Main St, Paris; write to ada@example.com".into())]
        );
    }

    #[test]
    fn every_tool_is_listed_with_a_description() {
        let definitions = tools().definitions().expect("tools are well defined");
        assert_eq!(definitions.len(), 12);
        assert!(definitions.iter().all(|d| !d.description.is_empty()));
    }
}
