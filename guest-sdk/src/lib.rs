//! Write Corral tools as typed Rust functions.
//!
//! A Corral tool is a WebAssembly component (`wasm32-wasip2`) that exports
//! the interfaces of world `server` in `wit/corral.wit`
//! (`corral:mcp@0.2.0`): tools, resources, prompts and completion. This
//! crate writes those exports for you: describe each tool's arguments as a
//! Rust type, write the handler as a function of it, and list what the
//! component offers. The SDK derives every JSON Schema from the types,
//! parses and checks arguments, dispatches requests, and turns results and
//! errors into MCP shapes.
//!
//! # A complete tool
//!
//! `Cargo.toml` needs `crate-type = ["cdylib"]` and depends on `corral-sdk`,
//! `serde` (with `derive`) and `schemars`; then `src/lib.rs` is:
//!
//! ```no_run
//! use corral_sdk::Tool;
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! /// Arguments of `greet`.
//! #[derive(Deserialize, JsonSchema)]
//! struct Greet {
//!     /// Who to greet.
//!     name: String,
//! }
//!
//! fn tools() -> Vec<Tool> {
//!     vec![Tool::new("greet", "Greet someone by name", |args: Greet| {
//!         Ok(format!("Hello, {}!", args.name))
//!     })]
//! }
//!
//! corral_sdk::export!(tools);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the
//! `.wasm` in `target/wasm32-wasip2/release/` is the component.
//!
//! # Resources, prompts and completion
//!
//! Offering more than tools reads the same way: a [`Server`] lists them,
//! each with its typed handler.
//!
//! ```no_run
//! use corral_sdk::types::PromptMessage;
//! use corral_sdk::{Error, Prompt, Resource, ResourceTemplate, Server, content};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! /// The variables of `recipes://{dish}`.
//! #[derive(Deserialize)]
//! struct Dish {
//!     dish: String,
//! }
//!
//! /// Arguments of the `cook` prompt.
//! #[derive(Deserialize, JsonSchema)]
//! struct Cook {
//!     /// The dish to cook.
//!     dish: String,
//! }
//!
//! const DISHES: [&str; 2] = ["pancakes", "pasta"];
//!
//! fn recipe(dish: &str) -> Result<String, Error> {
//!     match dish {
//!         "pancakes" => Ok("Flour, milk, eggs.".into()),
//!         "pasta" => Ok("Pasta, water, salt.".into()),
//!         other => Err(Error::not_found(format!("recipes://{other}"))),
//!     }
//! }
//!
//! fn server() -> Server {
//!     Server::new()
//!         .resource(
//!             Resource::new("recipes://index", "index", || Ok(DISHES.join("\n")))
//!                 .description("The dishes there are recipes for")
//!                 .mime_type("text/plain"),
//!         )
//!         .template(
//!             ResourceTemplate::new("recipes://{dish}", "recipe", |dish: Dish| recipe(&dish.dish))
//!                 .mime_type("text/plain")
//!                 .complete("dish", |partial| partial.matching(DISHES)),
//!         )
//!         .prompt(
//!             Prompt::new("cook", "Walk me through cooking a dish", |args: Cook| {
//!                 let uri = format!("recipes://{}", args.dish);
//!                 Ok(vec![
//!                     PromptMessage::user(content::resource_text(&uri, "text/plain", recipe(&args.dish)?)),
//!                     PromptMessage::user(content::text("Walk me through this recipe, step by step.")),
//!                 ])
//!             })
//!             .complete("dish", |partial| partial.matching(DISHES)),
//!         )
//! }
//!
//! corral_sdk::export!(server);
//! ```
//!
//! # Asking the client
//!
//! A handler may ask the user ([`elicit`], with a form derived from a
//! type), the client's model ([`Sampling`]) or the client's roots
//! ([`roots`]). The host answers during the call (MCP 2025-11-25) or, for
//! stateless clients (MCP 2026-07-28), sends the question with the call's
//! result and runs the call again with the answer; `?` on an [`AskError`]
//! handles both. See [`ask`] for the details.
//!
//! ```no_run
//! use corral_sdk::{Answer, Error, NoArgs, Tool, elicit};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Confirm {
//!     /// Check to empty the bin.
//!     confirm: bool,
//! }
//!
//! fn empty_bin() -> Tool {
//!     Tool::new("empty_bin", "Empty the bin, after asking", |_: NoArgs| -> Result<String, Error> {
//!         match elicit::<Confirm>("Empty the bin? This cannot be undone.")? {
//!             Answer::Accept(Confirm { confirm: true }) => Ok("The bin is empty.".into()),
//!             _ => Ok("Nothing was deleted.".into()),
//!         }
//!     })
//! }
//! ```
//!
//! # What the SDK does for you
//!
//! - **Schemas.** A tool's `inputSchema` is derived from its argument type
//!   with `schemars` (JSON Schema draft 2020-12, self-contained, with
//!   `"type": "object"` at the top as MCP requires). Doc comments on
//!   fields become the descriptions the model reads, so write them for it;
//!   the doc comment on the type itself is for Rust readers and is left
//!   out. See [`Tool::new`]. A prompt's arguments and an elicitation's form
//!   are derived the same way ([`Prompt::new`], [`requested_schema`]).
//! - **Arguments.** The call's JSON is parsed with `serde`; a mismatch is a
//!   `call-error::invalid-arguments` naming the field. Tools that take
//!   nothing use [`NoArgs`].
//! - **Results.** A handler returns a `String`, a [`Content`] or several, a
//!   full [`CallResult`], or [`Structured`] output (which also derives the
//!   tool's `outputSchema`); see [`IntoCallResult`]. Build content with the
//!   functions in [`content`]. Resources and prompts have their own tables:
//!   [`IntoResourceContents`], [`IntoPromptResult`].
//! - **Errors.** `Err(`[`Error`]`)` becomes an MCP result with
//!   `isError: true` that the model sees; `?` works on any error type, and
//!   [`Context`] adds what was being done. The few failures the host must
//!   tell apart (a missing capability, a pending question, a resource not
//!   found) keep their [`ErrorKind`].
//! - **Host calls.** [`log()`] (and [`log::info`] and friends),
//!   [`progress`] and [`resource_updated`] reach the client as MCP
//!   notifications.
//! - **Native tests.** Off wasm, [`Server`] and [`Toolbox`] methods run
//!   handlers directly, [`testing::take_events`] returns what they logged
//!   or asked, and [`testing`] scripts the client's answers.
//!
//! # Capabilities
//!
//! A tool uses `std` as usual: `std::fs`, `std::env`, clocks and randomness
//! go through WASI, and see only what the host's policy grants the
//! component (by default nothing: no files, no environment, no network).
//! Failures of those calls are ordinary `io::Error`s.

#![warn(missing_docs)]

// Lets the generated bindings name this crate as `corral_sdk`, the path
// they must use when the export macro expands inside a tool crate.
extern crate self as corral_sdk;

mod arguments;
pub mod ask;
// Public only for `export!`'s expansion; tools use `types` instead.
#[doc(hidden)]
pub mod bindings;
pub mod completion;
pub mod content;
mod error;
mod host;
pub mod log;
mod prompt;
mod resource;
mod result;
mod schema;
mod server;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod tool;
mod toolbox;
mod uri_template;

pub use ask::{
    Answer, AskError, Elicitation, Sampling, elicit, if_supported, requested_schema, roots,
    roots_with_id, sample,
};
/// Whether a tool may run as an MCP task: see [`Tool::task_support`].
pub use bindings::exports::corral::mcp::execution::TaskSupport;
pub use completion::{IntoCompletion, Partial};
pub use error::{Context, Error, ErrorKind, ToolError};
pub use host::{log, progress, resource_updated};
pub use prompt::{IntoPromptResult, Prompt};
pub use resource::{IntoResourceContents, Resource, ResourceTemplate};
pub use result::{IntoCallResult, Structured};
pub use schema::NotAnObject;
pub use server::{DefinitionError, Server};
pub use tool::{NoArgs, Tool};
pub use toolbox::{Toolbox, ToolboxError};
pub use types::{CallResult, Capability, Content, LogLevel};
pub use uri_template::{UriTemplate, UriTemplateError};

/// The types of the WIT contract (`corral:mcp/types`), as Rust sees them.
pub mod types {
    pub use crate::bindings::corral::mcp::types::{
        Annotations, Blob, CallError, CallResult, Capability, Completion, CompletionRef,
        CompletionRequest, Content, ElicitAnswer, ElicitRequest, EmbeddedResource, LogLevel,
        PromptArgument, PromptDef, PromptError, PromptMessage, PromptResult, ResourceBody,
        ResourceContents, ResourceDef, ResourceError, ResourceLink, ResourceTemplateDef, Role,
        Root, SampleAnswer, SampleRequest, SamplingMessage, ToolDef,
    };
}

/// The names most tools use, for `use corral_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Answer, AskError, CallResult, Content, Context, Elicitation, IntoCallResult, NoArgs,
        Prompt, Resource, ResourceTemplate, Sampling, Server, Structured, TaskSupport, Tool,
        ToolError, Toolbox, content, log,
    };
}

/// Exports a component whose offer is returned by a function.
///
/// The function takes no arguments and returns a [`Server`], or anything
/// that converts into one, such as a [`Toolbox`] or a `Vec<Tool>` (a
/// component of tools only, whose resources, templates and prompts are
/// empty). It runs once per export call; the host gives every call a fresh
/// instance, so nothing is gained by caching it, and components should
/// build nothing expensive up front.
///
/// The macro implements the five exports of world `server`
/// (`corral:mcp/tools`, `resources`, `prompts`, `completion` and
/// `execution`), each by the [`Server`] method of the same name. A component whose offer cannot
/// be defined (two tools share a name, an argument type is not an object, a
/// URI template does not parse: see [`DefinitionError`]) panics in the
/// listing call, so it fails when the host loads it, with the reason on its
/// stderr, rather than serving wrong definitions.
///
/// Use it once per component, at the root of the crate. See the [crate
/// docs](crate) for complete examples. Compiled for a target other than
/// wasm it exports nothing, so a tool crate still builds and tests natively.
#[macro_export]
macro_rules! export {
    ($server:path) => {
        /// Implements the exports of `corral:mcp` world `server` for this component.
        #[doc(hidden)]
        // Only the wasm exports below name it; natively it stays unused.
        #[allow(dead_code)]
        struct __CorralServer;

        impl $crate::__private::tools::Guest for __CorralServer {
            fn list_tools() -> ::std::vec::Vec<$crate::types::ToolDef> {
                $crate::__private::listed($server().into(), $crate::Server::tool_definitions)
            }

            fn call_tool(
                name: ::std::string::String,
                arguments: ::std::string::String,
            ) -> ::std::result::Result<$crate::types::CallResult, $crate::types::CallError> {
                $crate::__private::flushed(|| {
                    $crate::__private::server($server().into()).call_tool(&name, &arguments)
                })
            }
        }

        impl $crate::__private::resources::Guest for __CorralServer {
            fn list_resources() -> ::std::vec::Vec<$crate::types::ResourceDef> {
                $crate::__private::listed($server().into(), $crate::Server::resource_definitions)
            }

            fn list_resource_templates() -> ::std::vec::Vec<$crate::types::ResourceTemplateDef> {
                $crate::__private::listed($server().into(), $crate::Server::template_definitions)
            }

            fn read_resource(
                uri: ::std::string::String,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::types::ResourceBody>,
                $crate::types::ResourceError,
            > {
                $crate::__private::flushed(|| {
                    $crate::__private::server($server().into()).read_resource(&uri)
                })
            }
        }

        impl $crate::__private::prompts::Guest for __CorralServer {
            fn list_prompts() -> ::std::vec::Vec<$crate::types::PromptDef> {
                $crate::__private::listed($server().into(), $crate::Server::prompt_definitions)
            }

            fn get_prompt(
                name: ::std::string::String,
                arguments: ::std::string::String,
            ) -> ::std::result::Result<$crate::types::PromptResult, $crate::types::PromptError> {
                $crate::__private::flushed(|| {
                    $crate::__private::server($server().into()).get_prompt(&name, &arguments)
                })
            }
        }

        impl $crate::__private::execution::Guest for __CorralServer {
            fn list_task_support() -> ::std::vec::Vec<(::std::string::String, $crate::TaskSupport)> {
                $crate::__private::server($server().into()).task_supports()
            }
        }

        impl $crate::__private::completion::Guest for __CorralServer {
            fn complete(
                request: $crate::types::CompletionRequest,
            ) -> ::std::result::Result<$crate::types::Completion, ::std::string::String> {
                $crate::__private::flushed(|| {
                    $crate::__private::server($server().into()).complete(&request)
                })
            }
        }

        // The export symbols are named like `corral:mcp/tools@0.2.0#call-tool`,
        // which native linkers reject; off wasm the crate still type-checks
        // and its tests run, it just exports nothing.
        #[cfg(target_arch = "wasm32")]
        $crate::__private::bindings::export!(
            __CorralServer with_types_in $crate::__private::bindings
        );
    };
}

/// Used by [`export!`]'s expansion; not a stable API.
#[doc(hidden)]
pub mod __private {
    use crate::server::{DefinitionError, Server};

    pub use crate::bindings;
    pub use crate::bindings::exports::corral::mcp::{
        completion, execution, prompts, resources, tools,
    };
    pub use wit_bindgen;

    /// Names the type `export!`'s `.into()` converts to.
    pub fn server(server: Server) -> Server {
        server
    }

    /// A listing export: the definitions, or a panic that fails the component's load.
    pub fn listed<T>(
        server: Server,
        definitions: fn(&Server) -> Result<Vec<T>, DefinitionError>,
    ) -> Vec<T> {
        match definitions(&server) {
            Ok(definitions) => definitions,
            // A mistake in the component's own code, the same on every run:
            // failing the load loudly beats listing what clients cannot use.
            Err(error) => panic!("corral component cannot list what it offers: {error}"),
        }
    }

    /// Runs a request, then flushes stdout.
    pub fn flushed<T>(request: impl FnOnce() -> T) -> T {
        let result = request();
        // Stdout is line-buffered and a call ends without a process exit
        // to flush it, so a handler's last `print!` would otherwise be lost.
        // A failed flush (the host closed the stream) changes nothing here.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        result
    }
}
