//! The prompts of the `prompts-*` scenarios, and the completion
//! `completion-complete` asks for.

use crate::RED_PIXEL_PNG;
use corral_sdk::prelude::*;
use corral_sdk::types::PromptMessage;
use schemars::JsonSchema;
use serde::Deserialize;

/// `test_simple_prompt`, of `prompts-get-simple`.
pub fn simple() -> Prompt {
    Prompt::new("test_simple_prompt", "A simple prompt without arguments", |_: NoArgs| {
        Ok("This is a simple prompt for testing.")
    })
    .title("Simple Test Prompt")
}

/// The arguments of `test_prompt_with_arguments`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TwoArguments {
    /// First test argument
    arg1: String,
    /// Second test argument
    arg2: String,
}

/// `test_prompt_with_arguments`, of `prompts-get-with-args` and
/// `completion-complete` (which completes `arg1`).
pub fn with_arguments() -> Prompt {
    Prompt::new(
        "test_prompt_with_arguments",
        "A prompt with required arguments",
        |args: TwoArguments| {
            Ok(format!("Prompt with arguments: arg1='{}', arg2='{}'", args.arg1, args.arg2))
        },
    )
    .title("Prompt With Arguments")
    .complete("arg1", |partial| partial.matching(["paris", "park", "party"]))
}

/// The arguments of `test_prompt_with_embedded_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EmbedArguments {
    /// URI of the resource to embed
    #[serde(rename = "resourceUri")]
    resource_uri: String,
}

/// `test_prompt_with_embedded_resource`, of `prompts-get-embedded-resource`.
pub fn with_embedded_resource() -> Prompt {
    Prompt::new(
        "test_prompt_with_embedded_resource",
        "A prompt that includes an embedded resource",
        |args: EmbedArguments| {
            Ok(vec![
                PromptMessage::user(content::resource_text(
                    args.resource_uri,
                    "text/plain",
                    "Embedded resource content for testing.",
                )),
                PromptMessage::user(content::text("Please process the embedded resource above.")),
            ])
        },
    )
    .title("Prompt With Embedded Resource")
}

/// `test_prompt_with_image`, of `prompts-get-with-image`.
pub fn with_image() -> Prompt {
    Prompt::new("test_prompt_with_image", "A prompt that includes image content", |_: NoArgs| {
        Ok(vec![
            PromptMessage::user(content::image(RED_PIXEL_PNG, "image/png")),
            PromptMessage::user(content::text("Please analyze the image above.")),
        ])
    })
    .title("Prompt With Image")
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::types::{
        CompletionRef, CompletionRequest, EmbeddedResource, PromptArgument, ResourceContents,
    };

    fn server() -> Server {
        Server::new()
            .prompt(simple())
            .prompt(with_arguments())
            .prompt(with_embedded_resource())
            .prompt(with_image())
    }

    fn messages(name: &str, arguments: &str) -> Vec<PromptMessage> {
        server().get_prompt(name, arguments).expect("the prompt fills in").messages
    }

    #[test]
    fn simple_prompt_is_one_user_text() {
        assert_eq!(
            messages("test_simple_prompt", "{}"),
            [PromptMessage::user(content::text("This is a simple prompt for testing."))]
        );
    }

    #[test]
    fn arguments_are_substituted() {
        assert_eq!(
            messages("test_prompt_with_arguments", r#"{"arg1": "hello", "arg2": "world"}"#),
            [PromptMessage::user(content::text(
                "Prompt with arguments: arg1='hello', arg2='world'"
            ))]
        );
    }

    #[test]
    fn arguments_are_listed_required_with_their_descriptions() {
        let definitions = server().prompt_definitions().unwrap();
        let with_arguments =
            definitions.iter().find(|d| d.name == "test_prompt_with_arguments").unwrap();
        assert_eq!(
            with_arguments.arguments,
            [
                PromptArgument {
                    name: "arg1".into(),
                    description: Some("First test argument".into()),
                    required: true,
                },
                PromptArgument {
                    name: "arg2".into(),
                    description: Some("Second test argument".into()),
                    required: true,
                },
            ]
        );
    }

    #[test]
    fn embedded_resource_uses_the_given_uri() {
        let messages = messages(
            "test_prompt_with_embedded_resource",
            r#"{"resourceUri": "test://example-resource"}"#,
        );
        assert_eq!(
            messages[0].content,
            Content::Resource(EmbeddedResource {
                uri: "test://example-resource".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text("Embedded resource content for testing.".into()),
            })
        );
        assert_eq!(
            messages[1].content,
            content::text("Please process the embedded resource above.")
        );
    }

    #[test]
    fn image_prompt_starts_with_a_png() {
        let messages = messages("test_prompt_with_image", "{}");
        let Content::Image(blob) = &messages[0].content else { panic!("not an image") };
        assert_eq!(blob.mime_type, "image/png");
    }

    #[test]
    fn every_prompt_has_a_description() {
        assert!(server().prompt_definitions().unwrap().iter().all(|d| d.description.is_some()));
    }

    #[test]
    fn arg1_completes_from_the_typed_prefix() {
        let request = CompletionRequest {
            ref_: CompletionRef::Prompt("test_prompt_with_arguments".into()),
            argument: "arg1".into(),
            value: "par".into(),
            context: vec![],
        };
        assert_eq!(server().complete(&request).unwrap().values, ["paris", "park", "party"]);
    }
}
