//! Write Corral tools as typed Rust functions.
//!
//! A Corral tool is a WebAssembly component (`wasm32-wasip2`) that exports
//! the `corral:mcp/tools` interface of `wit/corral.wit`. This crate writes
//! that export for you: describe each tool's arguments as a Rust type,
//! write the handler as a function of it, and list the tools. The SDK
//! derives every JSON Schema from the types, parses and checks arguments,
//! dispatches calls by name, and turns results and errors into MCP shapes.
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
//! # What the SDK does for you
//!
//! - **Schemas.** A tool's `inputSchema` is derived from its argument type
//!   with `schemars` (JSON Schema draft 2020-12, self-contained, with
//!   `"type": "object"` at the top as MCP requires). Doc comments on
//!   fields become the descriptions the model reads, so write them for it;
//!   the doc comment on the type itself is for Rust readers and is left
//!   out. See [`Tool::new`].
//! - **Arguments.** The call's JSON is parsed with `serde`; a mismatch is a
//!   `call-error::invalid-arguments` naming the field. Tools that take
//!   nothing use [`NoArgs`].
//! - **Results.** A handler returns a `String`, a [`Content`] or several, a
//!   full [`CallResult`], or [`Structured`] output (which also derives the
//!   tool's `outputSchema`); see [`IntoCallResult`]. Build content with the
//!   functions in [`content`].
//! - **Errors.** `Err(`[`ToolError`]`)` becomes an MCP result with
//!   `isError: true` that the model sees; `?` works on any error type, and
//!   [`Context`] adds what was being done.
//! - **Host calls.** [`log()`] (and [`log::info`] and friends) and
//!   [`progress`] reach the client as MCP notifications.
//! - **Native tests.** Off wasm, [`Toolbox::call`] runs a tool directly and
//!   [`testing::take_events`] returns what it logged.
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

// Public only for `export!`'s expansion; tools use `types` instead.
#[doc(hidden)]
pub mod bindings;
pub mod content;
mod error;
mod host;
pub mod log;
mod result;
mod schema;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod tool;
mod toolbox;

pub use error::{Context, ToolError};
pub use host::{log, progress};
pub use result::{IntoCallResult, Structured};
pub use schema::NotAnObject;
pub use tool::{NoArgs, Tool};
pub use toolbox::{Toolbox, ToolboxError};
pub use types::{CallResult, Content, LogLevel};

/// The types of the WIT contract (`corral:mcp/types`), as Rust sees them.
pub mod types {
    pub use crate::bindings::corral::mcp::types::{
        Annotations, Blob, CallError, CallResult, Content, EmbeddedResource, LogLevel,
        ResourceContents, ResourceLink, ToolDef,
    };
}

/// The names most tools use, for `use corral_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        CallResult, Content, Context, IntoCallResult, NoArgs, Structured, Tool, ToolError, Toolbox,
        content, log,
    };
}

/// Exports a component whose tools are returned by a function.
///
/// The function takes no arguments and returns a [`Toolbox`], or anything
/// that converts into one, such as `Vec<Tool>`. It runs once per export
/// call; the host gives every call a fresh instance, so nothing is gained by
/// caching it, and tools should build nothing expensive up front.
///
/// The macro implements `corral:mcp/tools`: `list-tools` returns the tools'
/// definitions and `call-tool` dispatches by name. A component whose tools
/// cannot be defined (two share a name, or an argument type is not an
/// object) panics in `list-tools`, so it fails when the host loads it, with
/// the reason on its stderr, rather than serving wrong schemas.
///
/// Use it once per component, at the root of the crate. See the [crate
/// docs](crate) for a complete example. Compiled for a target other than
/// wasm it exports nothing, so a tool crate still builds and tests natively.
#[macro_export]
macro_rules! export {
    ($tools:path) => {
        /// Implements `corral:mcp/tools` for this component.
        #[doc(hidden)]
        // Only the wasm exports below name it; natively it stays unused.
        #[allow(dead_code)]
        struct __CorralTools;

        impl $crate::__private::Guest for __CorralTools {
            fn list_tools() -> ::std::vec::Vec<$crate::types::ToolDef> {
                $crate::__private::list_tools($tools().into())
            }

            fn call_tool(
                name: ::std::string::String,
                arguments: ::std::string::String,
            ) -> ::std::result::Result<$crate::types::CallResult, $crate::types::CallError> {
                $crate::__private::call_tool($tools().into(), &name, &arguments)
            }
        }

        // The export symbols are named like `corral:mcp/tools@0.1.0#call-tool`,
        // which native linkers reject; off wasm the crate still type-checks
        // and its tests run, it just exports nothing.
        #[cfg(target_arch = "wasm32")]
        $crate::__private::bindings::export!(
            __CorralTools with_types_in $crate::__private::bindings
        );
    };
}

/// Used by [`export!`]'s expansion; not a stable API.
#[doc(hidden)]
pub mod __private {
    use crate::Toolbox;
    use crate::types::{CallError, CallResult, ToolDef};

    pub use crate::bindings;
    pub use crate::bindings::exports::corral::mcp::tools::Guest;
    pub use wit_bindgen;

    /// `list-tools`: the definitions, or a panic that fails the component's load.
    pub fn list_tools(toolbox: Toolbox) -> Vec<ToolDef> {
        match toolbox.definitions() {
            Ok(definitions) => definitions,
            // A mistake in the component's own code, the same on every run:
            // failing the load loudly beats listing tools clients cannot call.
            Err(error) => panic!("corral component cannot list its tools: {error}"),
        }
    }

    /// `call-tool`: dispatch by name.
    pub fn call_tool(
        toolbox: Toolbox,
        name: &str,
        arguments: &str,
    ) -> Result<CallResult, CallError> {
        let result = toolbox.call(name, arguments);
        // Stdout is line-buffered and a call ends without a process exit
        // to flush it, so a tool's last `print!` would otherwise be lost.
        // A failed flush (the host closed the stream) changes nothing here.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        result
    }
}
