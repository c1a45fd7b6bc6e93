//! The resources: each note by its URI (`notes://{name}`), and an index.
//!
//! Resources are listed once, when the host loads the component, so notes
//! are not listed one by one: the template `notes://{name}` reads any of
//! them, and `notes://index` lists the ones that exist when it is read.

use crate::name::NoteName;
use crate::notebook::Notebook;
use crate::{INDEX_URI, note_uri};
use corral_sdk::types::{ResourceBody, ResourceContents};
use corral_sdk::{Error, Resource, ResourceTemplate};
use serde::Deserialize;

/// `notes://index`: the notes, as a Markdown list of links.
pub fn index(notebook: Notebook) -> Resource {
    Resource::new(INDEX_URI, "index", move || {
        let notes = notebook.list()?;
        if notes.is_empty() {
            return Ok("There are no notes yet.\n".to_owned());
        }
        Ok(notes
            .iter()
            .map(|note| {
                format!("- [{}]({}) ({} bytes)\n", note.name, note_uri(&note.name), note.size)
            })
            .collect::<String>())
    })
    .title("Notes index")
    .description("The notes there are, each with its URI and size")
    .mime_type("text/markdown")
}

/// The variables of `notes://{name}`.
#[derive(Debug, Deserialize)]
pub struct NoteUri {
    name: String,
}

/// `notes://{name}`: one note, Markdown or plain text by its extension.
pub fn note(notebook: Notebook) -> ResourceTemplate {
    let completing = notebook.clone();
    ResourceTemplate::new("notes://{name}", "note", move |uri: NoteUri| {
        let not_found = || Error::not_found(format!("notes://{}", uri.name));
        let name = NoteName::parse(&uri.name).map_err(|_| not_found())?;
        let text = notebook.read(&name)?.ok_or_else(not_found)?;
        Ok(ResourceBody {
            uri: note_uri(&name),
            mime_type: Some(name.format().mime_type().to_owned()),
            contents: ResourceContents::Text(text),
        })
    })
    .title("Note")
    .description("A note, by its file name (such as notes://ideas.md)")
    .complete("name", move |partial| completing.names().map(|names| partial.matching(names)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::ErrorKind;

    fn notebook_with(notes: &[(&str, &str)]) -> (tempfile::TempDir, Notebook) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in notes {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let notebook = Notebook::new(dir.path());
        (dir, notebook)
    }

    #[test]
    fn a_note_reads_with_the_mime_type_of_its_extension() {
        let (_dir, notebook) = notebook_with(&[("a.md", "# A"), ("b.txt", "b")]);
        let template = note(notebook);
        let markdown = template.read("notes://a.md").unwrap().unwrap();
        assert_eq!(
            markdown,
            [ResourceBody {
                uri: "notes://a.md".into(),
                mime_type: Some("text/markdown".into()),
                contents: ResourceContents::Text("# A".into()),
            }]
        );
        let text = template.read("notes://b.txt").unwrap().unwrap();
        assert_eq!(text[0].mime_type.as_deref(), Some("text/plain"));
    }

    #[test]
    fn a_missing_note_is_not_found() {
        let (_dir, notebook) = notebook_with(&[]);
        let error = note(notebook).read("notes://a.md").unwrap().unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::NotFound("notes://a.md".into()));
    }

    #[test]
    fn an_invalid_name_is_not_found() {
        let (_dir, notebook) = notebook_with(&[]);
        let error = note(notebook).read("notes://..secret").unwrap().unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::NotFound("notes://..secret".into()));
    }

    #[test]
    fn the_index_links_every_note() {
        let (_dir, notebook) = notebook_with(&[("b.txt", "bb"), ("a.md", "a")]);
        let bodies = index(notebook).read().unwrap();
        assert_eq!(
            bodies[0].contents,
            ResourceContents::Text(
                "- [a.md](notes://a.md) (1 bytes)\n- [b.txt](notes://b.txt) (2 bytes)\n".into()
            )
        );
    }

    #[test]
    fn an_empty_index_says_so() {
        let (_dir, notebook) = notebook_with(&[]);
        let bodies = index(notebook).read().unwrap();
        assert_eq!(bodies[0].contents, ResourceContents::Text("There are no notes yet.\n".into()));
    }
}
