//! The component the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`, server scenarios) calls.
//!
//! Names, texts, MIME types, URIs, ids and forms are the ones the
//! scenarios specify; where a scenario leaves a text open, the suite's
//! reference servers' is used. It is served with an empty namespace, so its
//! names and `test://` URIs reach clients unchanged.
//!
//! | fixture | scenario |
//! | --- | --- |
//! | the tools of [`tools`] | `tools-*` (content, logging, progress, errors), `json-schema-2020-12`, `http-custom-headers` |
//! | `test_sampling`, `test_elicitation` | `tools-call-sampling`, `tools-call-elicitation` (2025-11-25) |
//! | `test_elicitation_sep1034_defaults`, `test_elicitation_sep1330_enums` | `elicitation-sep1034-defaults`, `elicitation-sep1330-enums` (2025-11-25) |
//! | `test_missing_capability`, `test_streaming_elicitation` | `server-stateless` (2026-07-28) |
//! | `test_input_required_result_*` and the prompt `test_input_required_result_prompt` | `input-required-result-*` (2026-07-28) |
//! | `greet`, `slow_compute`, `failing_job`, `protocol_error_job`, `confirm_delete`, `multi_input`, `test_tool_with_task` | `tasks-*` (the tasks extension, SEP-2663) |
//! | `test://static-text`, `test://static-binary`, `test://watched-resource` | `resources-list`, `resources-read-*`, `resources-(un)subscribe`, `caching` |
//! | `test://template/{id}/data` | `resources-templates-read` |
//! | `test_simple_prompt`, `test_prompt_with_*` | `prompts-*` |
//! | completion of `arg1` of `test_prompt_with_arguments`, `id` of the template | `completion-complete` |
//! | `test_update_watched_resource` | not a scenario: lets a host test announce an update |

use corral_sdk::Server;

pub mod asking;
pub mod input_required;
pub mod prompts;
pub mod resources;
pub mod tasks;
pub mod tools;

/// A 1x1 red PNG, the "minimal test image" the suite suggests.
pub const RED_PIXEL_PNG: &[u8] = include_bytes!("../assets/red-pixel.png");

/// Everything the component offers, in the order of the suite's scenarios.
pub fn server() -> Server {
    Server::new()
        .tools(tools::tools())
        .tools(asking::tools())
        .tools(input_required::tools())
        .tools(tasks::tools())
        .tool(resources::update_tool())
        .resource(resources::static_text())
        .resource(resources::static_binary())
        .resource(resources::watched())
        .template(resources::template())
        .prompt(prompts::simple())
        .prompt(prompts::with_arguments())
        .prompt(prompts::with_embedded_resource())
        .prompt(prompts::with_image())
        .prompt(input_required::prompt())
}

corral_sdk::export!(server);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_well_defined() {
        let server = server();
        assert_eq!(server.tool_definitions().expect("tools").len(), 12 + 6 + 8 + 7 + 1);
        assert_eq!(server.resource_definitions().expect("resources").len(), 3);
        assert_eq!(server.template_definitions().expect("templates").len(), 1);
        assert_eq!(server.prompt_definitions().expect("prompts").len(), 5);
    }

    #[test]
    fn tool_names_follow_the_mcp_pattern() {
        for definition in server().tool_definitions().unwrap() {
            let name = &definition.name;
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)), "{name}");
        }
    }
}
