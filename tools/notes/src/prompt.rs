//! The prompt `summarize_note`: the note embedded, and the request to
//! summarize it.

use crate::name::NoteName;
use crate::note_uri;
use crate::notebook::Notebook;
use corral_sdk::types::PromptMessage;
use corral_sdk::{Error, Prompt, content};
use schemars::JsonSchema;
use serde::Deserialize;

/// The arguments of `summarize_note`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SummarizeArgs {
    /// The note to summarize, such as `ideas.md`.
    name: String,
}

/// `summarize_note`.
pub fn summarize_note(notebook: Notebook) -> Prompt {
    let completing = notebook.clone();
    Prompt::new("summarize_note", "Summarize one of the notes", move |args: SummarizeArgs| {
        let name = NoteName::parse(&args.name)?;
        let text = notebook.read(&name)?.ok_or_else(|| {
            let known = notebook.names().map(|names| names.join(", ")).unwrap_or_default();
            Error::invalid_arguments(format!(
                "there is no note named `{name}`; the notes are: {known}"
            ))
        })?;
        Ok(vec![
            PromptMessage::user(content::resource_text(
                note_uri(&name),
                name.format().mime_type(),
                text,
            )),
            PromptMessage::user(content::text(
                "Summarize the note above in a few sentences: what it is about, and anything \
                 it says must be done.",
            )),
        ])
    })
    .title("Summarize note")
    .complete("name", move |partial| completing.names().map(|names| partial.matching(names)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::types::{Content, EmbeddedResource, PromptError, ResourceContents};

    fn notebook_with(notes: &[(&str, &str)]) -> (tempfile::TempDir, Notebook) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in notes {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let notebook = Notebook::new(dir.path());
        (dir, notebook)
    }

    #[test]
    fn the_note_is_embedded_before_the_request() {
        let (_dir, notebook) = notebook_with(&[("a.md", "# Plan")]);
        let result = summarize_note(notebook).get(r#"{"name": "a.md"}"#).unwrap();
        assert_eq!(
            result.messages[0].content,
            Content::Resource(EmbeddedResource {
                uri: "notes://a.md".into(),
                mime_type: Some("text/markdown".into()),
                contents: ResourceContents::Text("# Plan".into()),
            })
        );
        assert!(
            matches!(&result.messages[1].content, Content::Text(text) if text.starts_with("Summarize"))
        );
    }

    #[test]
    fn a_missing_note_is_invalid_arguments_listing_the_notes() {
        let (_dir, notebook) = notebook_with(&[("a.md", "a"), ("b.md", "b")]);
        assert_eq!(
            summarize_note(notebook).get(r#"{"name": "c.md"}"#),
            Err(PromptError::InvalidArguments(
                "there is no note named `c.md`; the notes are: a.md, b.md".into()
            ))
        );
    }

    #[test]
    fn a_bad_name_is_invalid_arguments() {
        let (_dir, notebook) = notebook_with(&[]);
        assert!(matches!(
            summarize_note(notebook).get(r#"{"name": "a/b.md"}"#),
            Err(PromptError::InvalidArguments(_))
        ));
    }
}
