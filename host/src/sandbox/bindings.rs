//! The two versions of the contract the host links, and their types moved
//! into the host's ([`super::types`]).
//!
//! - `v1`: `corral:mcp@0.1.0`, world `tool` (tools; `log` and `progress`).
//! - `v2`: `corral:mcp@0.2.0`, world `server` (tools, resources, prompts,
//!   completion; `log`, `progress`, and asking the client). A component may
//!   export any of its interfaces; each is looked up on its own.
//!
//! Both sets of host imports are in the linker, so a component built
//! against either version links, and old components keep loading.

#![allow(missing_docs, clippy::all)]

use super::types::*;

pub mod v1 {
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit-0.1.0",
        world: "tool",
        // Host imports may trap: that is how the output limit stops a guest
        // flooding log messages.
        imports: { default: trappable },
        exports: { default: async },
    });
}

pub mod v2 {
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit",
        world: "server",
        // Asking the client waits for its answer: those imports are async.
        imports: {
            default: trappable,
            "corral:mcp/host.elicit": async | trappable,
            "corral:mcp/host.sample": async | trappable,
            "corral:mcp/host.list-roots": async | trappable,
        },
        exports: { default: async },
    });
}

/// Conversions of the types both versions share.
macro_rules! shared_types {
    ($($module:ident)::+) => {
        impl From<$($module)::+::Annotations> for Annotations {
            fn from(a: $($module)::+::Annotations) -> Self {
                Annotations {
                    read_only: a.read_only,
                    destructive: a.destructive,
                    idempotent: a.idempotent,
                    open_world: a.open_world,
                }
            }
        }

        impl From<$($module)::+::ToolDef> for ToolDef {
            fn from(d: $($module)::+::ToolDef) -> Self {
                ToolDef {
                    name: d.name,
                    title: d.title,
                    description: d.description,
                    input_schema: d.input_schema,
                    output_schema: d.output_schema,
                    annotations: d.annotations.into(),
                }
            }
        }

        impl From<$($module)::+::ResourceContents> for ResourceContents {
            fn from(c: $($module)::+::ResourceContents) -> Self {
                match c {
                    $($module)::+::ResourceContents::Text(t) => ResourceContents::Text(t),
                    $($module)::+::ResourceContents::Blob(b) => ResourceContents::Blob(b),
                }
            }
        }

        impl From<$($module)::+::Content> for Content {
            fn from(c: $($module)::+::Content) -> Self {
                use $($module)::+::Content as C;
                match c {
                    C::Text(t) => Content::Text(t),
                    C::Image(b) => Content::Image(Blob { data: b.data, mime_type: b.mime_type }),
                    C::Audio(b) => Content::Audio(Blob { data: b.data, mime_type: b.mime_type }),
                    C::Resource(r) => Content::Resource(EmbeddedResource {
                        uri: r.uri,
                        mime_type: r.mime_type,
                        contents: r.contents.into(),
                    }),
                    C::ResourceLink(l) => Content::ResourceLink(ResourceLink {
                        uri: l.uri,
                        name: l.name,
                        title: l.title,
                        description: l.description,
                        mime_type: l.mime_type,
                        size: l.size,
                    }),
                }
            }
        }

        impl From<$($module)::+::CallResult> for CallResult {
            fn from(r: $($module)::+::CallResult) -> Self {
                CallResult {
                    content: r.content.into_iter().map(Content::from).collect(),
                    structured: r.structured,
                    is_error: r.is_error,
                }
            }
        }

        impl From<$($module)::+::LogLevel> for LogLevel {
            fn from(l: $($module)::+::LogLevel) -> Self {
                use $($module)::+::LogLevel as L;
                match l {
                    L::Debug => LogLevel::Debug,
                    L::Info => LogLevel::Info,
                    L::Notice => LogLevel::Notice,
                    L::Warning => LogLevel::Warning,
                    L::Error => LogLevel::Error,
                    L::Critical => LogLevel::Critical,
                    L::Alert => LogLevel::Alert,
                    L::Emergency => LogLevel::Emergency,
                }
            }
        }
    };
}

shared_types!(v1::corral::mcp::types);
shared_types!(v2::corral::mcp::types);

use v2::corral::mcp::types as t2;

impl From<v1::corral::mcp::types::CallError> for CallError {
    fn from(e: v1::corral::mcp::types::CallError) -> Self {
        use v1::corral::mcp::types::CallError as E;
        match e {
            E::UnknownTool(m) => CallError::Unknown(m),
            E::InvalidArguments(m) => CallError::InvalidArguments(m),
            E::Failed(m) => CallError::Failed(m),
        }
    }
}

impl From<t2::Capability> for Capability {
    fn from(c: t2::Capability) -> Self {
        match c {
            t2::Capability::Elicitation => Capability::Elicitation,
            t2::Capability::Sampling => Capability::Sampling,
            t2::Capability::Roots => Capability::Roots,
        }
    }
}

impl From<Capability> for t2::Capability {
    fn from(c: Capability) -> Self {
        match c {
            Capability::Elicitation => t2::Capability::Elicitation,
            Capability::Sampling => t2::Capability::Sampling,
            Capability::Roots => t2::Capability::Roots,
        }
    }
}

impl From<t2::CallError> for CallError {
    fn from(e: t2::CallError) -> Self {
        match e {
            t2::CallError::UnknownTool(m) => CallError::Unknown(m),
            t2::CallError::InvalidArguments(m) => CallError::InvalidArguments(m),
            t2::CallError::Failed(m) => CallError::Failed(m),
            t2::CallError::MissingCapability(c) => CallError::MissingCapability(c.into()),
        }
    }
}

impl From<t2::ResourceError> for CallError {
    fn from(e: t2::ResourceError) -> Self {
        match e {
            t2::ResourceError::NotFound(m) => CallError::Unknown(m),
            t2::ResourceError::Failed(m) => CallError::Failed(m),
            t2::ResourceError::MissingCapability(c) => CallError::MissingCapability(c.into()),
        }
    }
}

impl From<t2::PromptError> for CallError {
    fn from(e: t2::PromptError) -> Self {
        match e {
            t2::PromptError::UnknownPrompt(m) => CallError::Unknown(m),
            t2::PromptError::InvalidArguments(m) => CallError::InvalidArguments(m),
            t2::PromptError::Failed(m) => CallError::Failed(m),
            t2::PromptError::MissingCapability(c) => CallError::MissingCapability(c.into()),
        }
    }
}

impl From<t2::ResourceDef> for ResourceDef {
    fn from(d: t2::ResourceDef) -> Self {
        ResourceDef {
            uri: d.uri,
            name: d.name,
            title: d.title,
            description: d.description,
            mime_type: d.mime_type,
            size: d.size,
        }
    }
}

impl From<t2::ResourceTemplateDef> for ResourceTemplateDef {
    fn from(d: t2::ResourceTemplateDef) -> Self {
        ResourceTemplateDef {
            uri_template: d.uri_template,
            name: d.name,
            title: d.title,
            description: d.description,
            mime_type: d.mime_type,
        }
    }
}

impl From<t2::ResourceBody> for ResourceBody {
    fn from(b: t2::ResourceBody) -> Self {
        ResourceBody { uri: b.uri, mime_type: b.mime_type, contents: b.contents.into() }
    }
}

impl From<t2::PromptDef> for PromptDef {
    fn from(d: t2::PromptDef) -> Self {
        PromptDef {
            name: d.name,
            title: d.title,
            description: d.description,
            arguments: d
                .arguments
                .into_iter()
                .map(|a| PromptArgument {
                    name: a.name,
                    description: a.description,
                    required: a.required,
                })
                .collect(),
        }
    }
}

impl From<t2::Role> for Role {
    fn from(r: t2::Role) -> Self {
        match r {
            t2::Role::User => Role::User,
            t2::Role::Assistant => Role::Assistant,
        }
    }
}

impl From<Role> for t2::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::User => t2::Role::User,
            Role::Assistant => t2::Role::Assistant,
        }
    }
}

impl From<t2::PromptResult> for PromptResult {
    fn from(r: t2::PromptResult) -> Self {
        PromptResult {
            description: r.description,
            messages: r
                .messages
                .into_iter()
                .map(|m| Message { role: m.role.into(), content: m.content.into() })
                .collect(),
        }
    }
}

impl From<t2::Completion> for Completion {
    fn from(c: t2::Completion) -> Self {
        Completion { values: c.values, total: c.total, has_more: c.has_more }
    }
}

impl From<CompletionRequest> for t2::CompletionRequest {
    fn from(r: CompletionRequest) -> Self {
        t2::CompletionRequest {
            ref_: match r.reference {
                CompletionRef::Prompt(name) => t2::CompletionRef::Prompt(name),
                CompletionRef::ResourceTemplate(t) => t2::CompletionRef::ResourceTemplate(t),
            },
            argument: r.argument,
            value: r.value,
            context: r.context,
        }
    }
}

impl From<t2::ElicitRequest> for Question {
    fn from(r: t2::ElicitRequest) -> Self {
        Question::Elicit { id: r.id, message: r.message, requested_schema: r.requested_schema }
    }
}

impl From<t2::SampleRequest> for Question {
    fn from(r: t2::SampleRequest) -> Self {
        Question::Sample {
            id: r.id,
            messages: r
                .messages
                .into_iter()
                .map(|m| Message { role: m.role.into(), content: m.content.into() })
                .collect(),
            system_prompt: r.system_prompt,
            max_tokens: r.max_tokens,
            temperature: r.temperature,
            stop_sequences: r.stop_sequences,
            model_hints: r.model_hints,
        }
    }
}

/// A host content item for a v2 guest (the model's answer to sampling).
pub(super) fn content_v2(c: Content) -> t2::Content {
    match c {
        Content::Text(t) => t2::Content::Text(t),
        Content::Image(b) => t2::Content::Image(t2::Blob { data: b.data, mime_type: b.mime_type }),
        Content::Audio(b) => t2::Content::Audio(t2::Blob { data: b.data, mime_type: b.mime_type }),
        Content::Resource(r) => t2::Content::Resource(t2::EmbeddedResource {
            uri: r.uri,
            mime_type: r.mime_type,
            contents: match r.contents {
                ResourceContents::Text(t) => t2::ResourceContents::Text(t),
                ResourceContents::Blob(b) => t2::ResourceContents::Blob(b),
            },
        }),
        Content::ResourceLink(l) => t2::Content::ResourceLink(t2::ResourceLink {
            uri: l.uri,
            name: l.name,
            title: l.title,
            description: l.description,
            mime_type: l.mime_type,
            size: l.size,
        }),
    }
}

impl From<AskError> for t2::AskError {
    fn from(e: AskError) -> Self {
        match e {
            AskError::Pending => t2::AskError::Pending,
            AskError::Unsupported(c) => t2::AskError::Unsupported(c.into()),
            AskError::Timeout => t2::AskError::Timeout,
            AskError::Invalid(m) => t2::AskError::Invalid(m),
            AskError::Failed(m) => t2::AskError::Failed(m),
        }
    }
}
