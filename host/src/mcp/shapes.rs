//! MCP results as the protocol's JSON, written straight from what the
//! backends returned: a guest's content and structured text, a native
//! server's result members, a failure's message. Nothing is copied into an
//! intermediate tree; each result is serialized once, into the response.
//!
//! The two revisions differ only in the members every 2026-07-28 result
//! carries: `resultType` (`"complete"`), `_meta` naming the server, and on
//! cacheable results `ttlMs` and `cacheScope`.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;

use super::protocol::{self, CacheScope, Revision};
use crate::call::Failure;
use crate::registry::{OpOutput, ToolOutput};
use crate::sandbox::ToolResult;

/// How long a 2026-07-28 client may keep a result, and who may share it.
pub type Caching = Option<(u64, CacheScope)>;

fn revision_members<M: SerializeMap>(
    map: &mut M,
    revision: Revision,
    caching: Caching,
) -> Result<(), M::Error> {
    match revision {
        Revision::Session => Ok(()),
        Revision::Stateless => {
            map.serialize_entry("resultType", "complete")?;
            if let Some((ttl_ms, scope)) = caching {
                map.serialize_entry("ttlMs", &ttl_ms)?;
                map.serialize_entry("cacheScope", &scope)?;
            }
            map.serialize_entry("_meta", protocol::result_meta())
        }
    }
}

/// A page of a list result (`tools/list`, `prompts/list`, `resources/list`,
/// `resources/templates/list`): the catalogue's objects, each serialized
/// when its source installed it.
pub struct ListPage<'a> {
    /// The member the items go in (`tools`, `prompts`, `resources`,
    /// `resourceTemplates`).
    pub key: &'static str,
    /// The items of this page.
    pub items: Vec<&'a RawValue>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// The revision it answers.
    pub revision: Revision,
    /// 2026-07-28: how long it may be cached (`0` while it may be
    /// incomplete), and by whom.
    pub caching: Caching,
}

impl Serialize for ListPage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(self.key, &self.items)?;
        if let Some(cursor) = &self.next_cursor {
            map.serialize_entry("nextCursor", cursor)?;
        }
        revision_members(&mut map, self.revision, self.caching)?;
        map.end()
    }
}

/// The result of `resources/read`, `prompts/get` or `completion/complete`
/// (a failure never gets here: it is a JSON-RPC error).
pub struct OpResult<'a> {
    /// What the operation produced.
    pub output: &'a OpOutput,
    /// The revision it answers.
    pub revision: Revision,
    /// 2026-07-28: how long it may be cached, and by whom.
    pub caching: Caching,
}

impl Serialize for OpResult<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.output {
            OpOutput::Resource(bodies) => map.serialize_entry("contents", bodies)?,
            OpOutput::Prompt(prompt) => {
                if let Some(description) = &prompt.description {
                    map.serialize_entry("description", description)?;
                }
                map.serialize_entry("messages", &prompt.messages)?;
            }
            OpOutput::Completion(completion) => map.serialize_entry("completion", completion)?,
            OpOutput::Members(members) => {
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
            }
            OpOutput::Failure(failure) => failure_members(&mut map, failure)?,
        }
        revision_members(&mut map, self.revision, self.caching)?;
        map.end()
    }
}

/// A `CallToolResult`.
pub struct CallToolResult<'a> {
    /// What the call produced.
    pub output: &'a ToolOutput,
    /// The revision it answers (a call result is not cacheable).
    pub revision: Revision,
}

impl Serialize for CallToolResult<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.output {
            ToolOutput::Component(result) => component_members(&mut map, result)?,
            ToolOutput::Members(members) => {
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
            }
            ToolOutput::Failure(failure) => failure_members(&mut map, failure)?,
        }
        revision_members(&mut map, self.revision, None)?;
        map.end()
    }
}

fn component_members<M: SerializeMap>(map: &mut M, result: &ToolResult) -> Result<(), M::Error> {
    map.serialize_entry("content", &result.content)?;
    if let Some(structured) = &result.structured {
        map.serialize_entry("structuredContent", structured)?;
    }
    map.serialize_entry("isError", &result.is_error)
}

fn failure_members<M: SerializeMap>(map: &mut M, failure: &Failure) -> Result<(), M::Error> {
    map.serialize_entry("content", &[TextItem(&failure.message)])?;
    map.serialize_entry("isError", &true)
}

struct TextItem<'a>(&'a str);

impl Serialize for TextItem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", "text")?;
        map.serialize_entry("text", self.0)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::sandbox::{
        Blob, Completion, Content, EmbeddedResource as Embedded, ResourceBody, ResourceContents,
    };

    fn to_value(output: &ToolOutput, revision: Revision) -> Value {
        serde_json::to_value(CallToolResult { output, revision }).unwrap()
    }

    #[test]
    fn image_content_is_base64_with_mime_type() {
        let output = ToolOutput::Component(ToolResult {
            content: vec![Content::Image(Blob {
                data: vec![1, 2, 3],
                mime_type: "image/png".into(),
            })],
            structured: None,
            is_error: false,
        });
        assert_eq!(
            to_value(&output, Revision::Session),
            json!({ "content": [{ "type": "image", "data": "AQID", "mimeType": "image/png" }], "isError": false })
        );
    }

    #[test]
    fn embedded_text_resource_and_structured_content_are_written_as_given() {
        let output = ToolOutput::Component(ToolResult {
            content: vec![Content::Resource(Embedded {
                uri: "test://r".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text("hi".into()),
            })],
            structured: Some(RawValue::from_string(r#"{"n":1}"#.into()).unwrap()),
            is_error: true,
        });
        assert_eq!(
            to_value(&output, Revision::Session),
            json!({
                "content": [{ "type": "resource", "resource": { "uri": "test://r", "mimeType": "text/plain", "text": "hi" } }],
                "structuredContent": { "n": 1 },
                "isError": true
            })
        );
    }

    #[test]
    fn a_failure_is_an_is_error_text_result() {
        let output = ToolOutput::Failure(Failure::unknown_tool("x"));
        assert_eq!(
            to_value(&output, Revision::Session),
            json!({ "content": [{ "type": "text", "text": "unknown tool: x" }], "isError": true })
        );
    }

    #[test]
    fn a_stateless_result_says_complete_and_names_the_server() {
        let output = ToolOutput::Failure(Failure::unknown_tool("x"));
        let value = to_value(&output, Revision::Stateless);
        assert_eq!(value["resultType"], "complete");
        assert_eq!(value["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "corral");
        assert!(value.get("ttlMs").is_none());
        let page = ListPage {
            key: "tools",
            items: vec![],
            next_cursor: None,
            revision: Revision::Stateless,
            caching: Some((0, CacheScope::Private)),
        };
        let value = serde_json::to_value(page).unwrap();
        assert_eq!(
            (value["ttlMs"].clone(), value["cacheScope"].clone()),
            (json!(0), json!("private"))
        );
    }

    #[test]
    fn operation_results_have_their_members() {
        let read = OpOutput::Resource(vec![ResourceBody {
            uri: "test://b".into(),
            mime_type: Some("application/octet-stream".into()),
            contents: ResourceContents::Blob(vec![1, 2, 3]),
        }]);
        let value = serde_json::to_value(OpResult {
            output: &read,
            revision: Revision::Session,
            caching: None,
        })
        .unwrap();
        assert_eq!(
            value,
            json!({ "contents": [{ "uri": "test://b", "mimeType": "application/octet-stream", "blob": "AQID" }] })
        );
        let many = OpOutput::Completion(Completion {
            values: (0..150).map(|n| n.to_string()).collect(),
            total: None,
            has_more: false,
        });
        let value = serde_json::to_value(OpResult {
            output: &many,
            revision: Revision::Session,
            caching: None,
        })
        .unwrap();
        assert_eq!(value["completion"]["values"].as_array().unwrap().len(), 100);
        assert_eq!(value["completion"]["hasMore"], true);
    }
}
