//! Bindings generated from `wit/corral.wit` (world `server`).
//!
//! Kept in one private module so that the rest of the SDK, and every tool,
//! sees the contract's types through [`crate::types`] and never depends on
//! `wit-bindgen` itself. The export macro is public because the tool crate,
//! not this one, must expand it: only the final component knows which type
//! implements the exported interfaces.

// Generated code: its items carry the WIT doc comments, not ours.
#![allow(missing_docs, clippy::all)]

wit_bindgen::generate!({
    path: "wit",
    world: "server",
    // The tool crate invokes the export macro through `corral_sdk::export!`,
    // so the macro and the paths it expands to must resolve from outside
    // this crate, without the tool depending on `wit-bindgen`.
    pub_export_macro: true,
    default_bindings_module: "corral_sdk::__private::bindings",
    runtime_path: "corral_sdk::__private::wit_bindgen::rt",
    // Tests and tool authors compare results and contents directly.
    additional_derives: [PartialEq],
});
