//! What components hand the host and the host hands back, as host types.
//! Content serializes as MCP's JSON (`ContentBlock`), bytes written as
//! base64 straight into the output.
//!
//! The host speaks two versions of the contract (`corral:mcp@0.1.0`, tools
//! only, and `corral:mcp@0.2.0`, which adds resources, prompts, completion
//! and asking the client). Each version's bindings have Rust types of their
//! own; everything past the sandbox sees these instead, converted by moving
//! the fields (no string or byte is copied).

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// MCP tool annotations; `None` means the author said nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Annotations {
    /// `readOnlyHint`.
    pub read_only: Option<bool>,
    /// `destructiveHint`.
    pub destructive: Option<bool>,
    /// `idempotentHint`.
    pub idempotent: Option<bool>,
    /// `openWorldHint`.
    pub open_world: Option<bool>,
}

/// One tool a component offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    /// Unique within the component.
    pub name: String,
    /// For display.
    pub title: Option<String>,
    /// What the model reads.
    pub description: String,
    /// JSON Schema of the arguments, as JSON text.
    pub input_schema: String,
    /// JSON Schema of the structured output, as JSON text.
    pub output_schema: Option<String>,
    /// Hints.
    pub annotations: Annotations,
}

/// Binary content with its MIME type.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    /// The bytes.
    pub data: Vec<u8>,
    /// Their MIME type.
    pub mime_type: String,
}

/// The contents of a resource: text or bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceContents {
    /// Text.
    Text(String),
    /// Bytes (sent as base64).
    Blob(Vec<u8>),
}

/// A resource carried inline.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedResource {
    /// Its URI.
    pub uri: String,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// What it holds.
    pub contents: ResourceContents,
}

/// A link to a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceLink {
    /// Its URI.
    pub uri: String,
    /// Its name.
    pub name: String,
    /// For display.
    pub title: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
}

/// One item of a tool result or a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Text.
    Text(String),
    /// An image.
    Image(Blob),
    /// Audio.
    Audio(Blob),
    /// An embedded resource.
    Resource(EmbeddedResource),
    /// A link to a resource.
    ResourceLink(ResourceLink),
}

/// What a tool call produced, as the guest returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// The content items.
    pub content: Vec<Content>,
    /// Structured output as JSON text.
    pub structured: Option<String>,
    /// The tool marked it as an error.
    pub is_error: bool,
}

/// A client capability that asking needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `elicitation`.
    Elicitation,
    /// `sampling`.
    Sampling,
    /// `roots`.
    Roots,
}

impl Capability {
    /// The capability's name in MCP's `ClientCapabilities`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Elicitation => "elicitation",
            Capability::Sampling => "sampling",
            Capability::Roots => "roots",
        }
    }

    /// The capability named `name` in MCP's `ClientCapabilities`.
    pub fn from_name(name: &str) -> Option<Capability> {
        Some(match name {
            "elicitation" => Capability::Elicitation,
            "sampling" => Capability::Sampling,
            "roots" => Capability::Roots,
            _ => return None,
        })
    }
}

/// A call (of a tool, a resource read, a prompt) that could not run.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// No tool, resource or prompt of that name.
    Unknown(String),
    /// The arguments were refused.
    InvalidArguments(String),
    /// It failed.
    Failed(String),
    /// It needs a client capability the client did not declare.
    MissingCapability(Capability),
}

/// MCP log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `notice`.
    Notice,
    /// `warning`.
    Warning,
    /// `error`.
    Error,
    /// `critical`.
    Critical,
    /// `alert`.
    Alert,
    /// `emergency`.
    Emergency,
}

impl LogLevel {
    /// The MCP / syslog name of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::Critical => "critical",
            LogLevel::Alert => "alert",
            LogLevel::Emergency => "emergency",
        }
    }

    /// The level named `name`.
    pub fn parse(name: &str) -> Option<LogLevel> {
        Some(match name {
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            "error" => LogLevel::Error,
            "critical" => LogLevel::Critical,
            "alert" => LogLevel::Alert,
            "emergency" => LogLevel::Emergency,
            _ => return None,
        })
    }
}

/// One resource a component offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDef {
    /// Its URI.
    pub uri: String,
    /// Unique within the component.
    pub name: String,
    /// For display.
    pub title: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
}

/// A family of resources under an RFC 6570 URI template.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTemplateDef {
    /// The template, e.g. `notes://{name}`.
    pub uri_template: String,
    /// Unique within the component.
    pub name: String,
    /// For display.
    pub title: Option<String>,
    /// What its resources are.
    pub description: Option<String>,
    /// Their MIME type.
    pub mime_type: Option<String>,
}

/// One part of a resource read.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceBody {
    /// Its URI.
    pub uri: String,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// What it holds.
    pub contents: ResourceContents,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Whether it must be given.
    pub required: bool,
}

/// One prompt a component offers.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptDef {
    /// Unique within the component.
    pub name: String,
    /// For display.
    pub title: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// What it takes.
    pub arguments: Vec<PromptArgument>,
}

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The user.
    User,
    /// The assistant.
    Assistant,
}

impl Role {
    /// MCP's name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a prompt or a sampling request.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What.
    pub content: Content,
}

/// A filled-in prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptResult {
    /// What it is.
    pub description: Option<String>,
    /// Its messages.
    pub messages: Vec<Message>,
}

/// What a completion is for.
#[derive(Debug, Clone, PartialEq)]
pub enum CompletionRef {
    /// A prompt's argument, by the prompt's name in its component.
    Prompt(String),
    /// A resource template's variable, by its URI template.
    ResourceTemplate(String),
}

/// A request to complete a value.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// What for.
    pub reference: CompletionRef,
    /// The argument or variable being completed.
    pub argument: String,
    /// What was typed so far.
    pub value: String,
    /// Arguments already given.
    pub context: Vec<(String, String)>,
}

/// Suggested values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    /// Best first.
    pub values: Vec<String>,
    /// How many exist in all.
    pub total: Option<u32>,
    /// Whether there are more than `values`.
    pub has_more: bool,
}

/// A question for the client, from a guest.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// `elicitation/create` (form mode).
    Elicit {
        /// Names the question.
        id: Option<String>,
        /// What to ask.
        message: String,
        /// The JSON Schema of the answer, as JSON text.
        requested_schema: String,
    },
    /// `sampling/createMessage`.
    Sample {
        /// Names the question.
        id: Option<String>,
        /// The conversation.
        messages: Vec<Message>,
        /// The system prompt.
        system_prompt: Option<String>,
        /// The most tokens to generate.
        max_tokens: u32,
        /// The sampling temperature.
        temperature: Option<f64>,
        /// Where to stop.
        stop_sequences: Vec<String>,
        /// Models to prefer, best first.
        model_hints: Vec<String>,
    },
    /// `roots/list`.
    ListRoots {
        /// Names the question.
        id: Option<String>,
    },
}

impl Question {
    /// The capability asking it needs.
    pub fn capability(&self) -> Capability {
        match self {
            Question::Elicit { .. } => Capability::Elicitation,
            Question::Sample { .. } => Capability::Sampling,
            Question::ListRoots { .. } => Capability::Roots,
        }
    }

    /// The id the guest gave, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            Question::Elicit { id, .. }
            | Question::Sample { id, .. }
            | Question::ListRoots { id } => id.as_deref(),
        }
    }
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitAnswer {
    /// Accepted, with content (JSON text).
    Accept(String),
    /// Declined.
    Decline,
    /// Cancelled.
    Cancel,
}

/// The model's answer to a sampling request.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleAnswer {
    /// Who spoke (the assistant).
    pub role: Role,
    /// What it said.
    pub content: Content,
    /// Which model.
    pub model: String,
    /// Why it stopped.
    pub stop_reason: Option<String>,
}

/// A root the client exposes.
#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    /// Its URI.
    pub uri: String,
    /// Its name.
    pub name: Option<String>,
}

/// An answer to a [`Question`].
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// To `Elicit`.
    Elicit(ElicitAnswer),
    /// To `Sample`.
    Sample(SampleAnswer),
    /// To `ListRoots`.
    Roots(Vec<Root>),
}

/// Why a question got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AskError {
    /// MCP 2026-07-28: the question goes out with the call's result.
    Pending,
    /// The client did not declare the capability.
    Unsupported(Capability),
    /// No answer in time.
    Timeout,
    /// The answer did not fit the question.
    Invalid(String),
    /// The client answered with an error.
    Failed(String),
}

/// Bytes as base64, written straight into the output.
pub struct Base64<'a>(pub &'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &BASE64))
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Content::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            Content::Image(blob) | Content::Audio(blob) => {
                let kind = if matches!(self, Content::Image(_)) { "image" } else { "audio" };
                map.serialize_entry("type", kind)?;
                map.serialize_entry("data", &Base64(&blob.data))?;
                map.serialize_entry("mimeType", &blob.mime_type)?;
            }
            Content::Resource(resource) => {
                map.serialize_entry("type", "resource")?;
                map.serialize_entry("resource", resource)?;
            }
            Content::ResourceLink(link) => {
                map.serialize_entry("type", "resource_link")?;
                map.serialize_entry("uri", &link.uri)?;
                map.serialize_entry("name", &link.name)?;
                if let Some(title) = &link.title {
                    map.serialize_entry("title", title)?;
                }
                if let Some(description) = &link.description {
                    map.serialize_entry("description", description)?;
                }
                if let Some(mime) = &link.mime_type {
                    map.serialize_entry("mimeType", mime)?;
                }
                if let Some(size) = link.size {
                    map.serialize_entry("size", &size)?;
                }
            }
        }
        map.end()
    }
}

/// Serializes a resource's `uri`, `mimeType` and `text` or `blob` members
/// (MCP `TextResourceContents` / `BlobResourceContents`).
fn resource_members<M: SerializeMap>(
    map: &mut M,
    uri: &str,
    mime_type: Option<&String>,
    contents: &ResourceContents,
) -> Result<(), M::Error> {
    map.serialize_entry("uri", uri)?;
    if let Some(mime) = mime_type {
        map.serialize_entry("mimeType", mime)?;
    }
    match contents {
        ResourceContents::Text(text) => map.serialize_entry("text", text),
        ResourceContents::Blob(bytes) => map.serialize_entry("blob", &Base64(bytes)),
    }
}

impl Serialize for EmbeddedResource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        resource_members(&mut map, &self.uri, self.mime_type.as_ref(), &self.contents)?;
        map.end()
    }
}

impl Serialize for ResourceBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        resource_members(&mut map, &self.uri, self.mime_type.as_ref(), &self.contents)?;
        map.end()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", self.role.as_str())?;
        map.serialize_entry("content", &self.content)?;
        map.end()
    }
}

impl Serialize for PromptResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(description) = &self.description {
            map.serialize_entry("description", description)?;
        }
        map.serialize_entry("messages", &self.messages)?;
        map.end()
    }
}

impl Serialize for Completion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        // MCP allows at most 100 values in one response.
        map.serialize_entry("values", &self.values[..self.values.len().min(100)])?;
        if let Some(total) = self.total {
            map.serialize_entry("total", &total)?;
        }
        map.serialize_entry("hasMore", &(self.has_more || self.values.len() > 100))?;
        map.end()
    }
}

/// Everything a component offers, as it declared it at load.
#[derive(Debug, Clone, Default)]
pub struct Offers {
    /// Its tools.
    pub tools: Vec<ToolDef>,
    /// Its resources.
    pub resources: Vec<ResourceDef>,
    /// Its resource templates.
    pub templates: Vec<ResourceTemplateDef>,
    /// Its prompts.
    pub prompts: Vec<PromptDef>,
    /// Whether it completes prompt arguments and template variables.
    pub completion: bool,
    /// Exported functions of a plain component that are not served, and why.
    pub refused: Vec<Refused>,
    /// The task support its tools declare (`corral:mcp/execution`), by tool name.
    pub task_support: std::collections::BTreeMap<String, crate::config::TaskSupport>,
}

/// An exported function that is not served, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The function, as `iface#f` or `f`.
    pub function: String,
    /// Why it is not served.
    pub reason: String,
}
