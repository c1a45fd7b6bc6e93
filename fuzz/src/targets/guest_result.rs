//! A hostile guest's `call-result`, as any component could return it:
//! checked by the sandbox (output limit, structured content) and written as
//! an MCP `CallToolResult` for both protocol generations.
//!
//! Checked: no panic; the response is JSON; a refused result is an
//! `isError` result; an accepted one carries every content item and the
//! structured content exactly as the guest wrote it.

use arbitrary::Arbitrary;
use corral::mcp::Revision;
use corral::mcp::shapes::CallToolResult;
use corral::registry::ToolOutput;
use corral::sandbox::component::check_result;
use corral::sandbox::types::{
    Blob, CallResult, Content, EmbeddedResource, ResourceContents, ResourceLink,
};
use serde_json::Value;

#[derive(Arbitrary, Debug)]
enum GuestContent {
    Text(String),
    Image(Vec<u8>, String),
    Audio(Vec<u8>, String),
    Resource {
        uri: String,
        mime_type: Option<String>,
        text: Option<String>,
        blob: Vec<u8>,
    },
    Link {
        uri: String,
        name: String,
        title: Option<String>,
        description: Option<String>,
        mime_type: Option<String>,
        size: Option<u64>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    content: Vec<GuestContent>,
    structured: Option<String>,
    is_error: bool,
    output_kib: u16,
    stateless: bool,
}

fn content(item: GuestContent) -> Content {
    match item {
        GuestContent::Text(text) => Content::Text(text),
        GuestContent::Image(data, mime_type) => Content::Image(Blob { data, mime_type }),
        GuestContent::Audio(data, mime_type) => Content::Audio(Blob { data, mime_type }),
        GuestContent::Resource { uri, mime_type, text, blob } => {
            Content::Resource(EmbeddedResource {
                uri,
                mime_type,
                contents: match text {
                    Some(text) => ResourceContents::Text(text),
                    None => ResourceContents::Blob(blob),
                },
            })
        }
        GuestContent::Link { uri, name, title, description, mime_type, size } => {
            Content::ResourceLink(ResourceLink { uri, name, title, description, mime_type, size })
        }
    }
}

/// One input, as libFuzzer hands it to the target.
pub fn run(data: &[u8]) {
    let Some(input) = super::arbitrary::<Input>(data) else { return };
    let items = input.content.len();
    let guest_structured = input.structured.clone();
    let result = CallResult {
        content: input.content.into_iter().map(content).collect(),
        structured: input.structured,
        is_error: input.is_error,
    };
    let output = match check_result(result, u64::from(input.output_kib) * 1024) {
        Ok(result) => ToolOutput::Component(result),
        Err(failure) => ToolOutput::Failure(failure),
    };
    let revision = if input.stateless { Revision::Stateless } else { Revision::Session };
    let text = serde_json::to_string(&CallToolResult { output: &output, revision })
        .expect("a result always serializes");
    let written: Value = serde_json::from_str(&text).expect("the result is JSON");
    let content = written["content"].as_array().expect("content is an array");
    match &output {
        ToolOutput::Component(_) => {
            assert_eq!(content.len(), items, "every content item is written");
            assert_eq!(written["isError"].as_bool().unwrap_or(false), input.is_error);
            match guest_structured {
                Some(structured) => {
                    let guest: Value = serde_json::from_str(&structured).expect("it was accepted");
                    assert!(guest.is_object(), "only an object is accepted");
                    assert_eq!(written["structuredContent"], guest);
                }
                None => assert!(written.get("structuredContent").is_none()),
            }
        }
        ToolOutput::Failure(_) => {
            assert_eq!(written["isError"], true, "a refused result is an error: {text}");
            assert!(written.get("structuredContent").is_none());
        }
        ToolOutput::Members(_) => unreachable!("not built here"),
    }
    if input.stateless {
        assert_eq!(written["resultType"], "complete");
    }
}
