//! The example tools, built by `build.rs` and embedded in the binary so that
//! `corral` can serve them with no files beside it.

/// The `fs` example tool component.
pub const FS: &[u8] = include_bytes!(env!("CORRAL_GUEST_FS"));
/// The `text` example tool component.
pub const TEXT: &[u8] = include_bytes!(env!("CORRAL_GUEST_TEXT"));
/// The `conformance` tool component (what the MCP conformance suite calls).
pub const CONFORMANCE: &[u8] = include_bytes!(env!("CORRAL_GUEST_CONFORMANCE"));
/// The `fetch` example tool component (reaches only what `network` grants).
pub const FETCH: &[u8] = include_bytes!(env!("CORRAL_GUEST_FETCH"));

/// The `notes` example component: notes in a granted directory as
/// resources, a prompt, completion, and a tool that asks before deleting.
pub const NOTES: &[u8] = include_bytes!(env!("CORRAL_GUEST_NOTES"));

/// Every bundled component: (name, bytes).
pub const ALL: [(&str, &[u8]); 5] =
    [("fs", FS), ("text", TEXT), ("conformance", CONFORMANCE), ("fetch", FETCH), ("notes", NOTES)];
