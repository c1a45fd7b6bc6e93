//! Notes: Markdown (`.md`) and plain text (`.txt`) files in a directory
//! granted to the component, offered as resources, a prompt, and tools.
//!
//! | offers | what |
//! | --- | --- |
//! | resource template `notes://{name}` | a note's text (`text/markdown` or `text/plain`); `not-found` if there is none |
//! | resource `notes://index` | the notes, as a Markdown list of links |
//! | prompt `summarize_note {name}` | the note embedded, and a request to summarize it |
//! | completion | note names, for `summarize_note`'s `name` and the template's `name` |
//! | tool `write_note {name, text}` | creates or replaces a note; announces its URI (and the index, if new) |
//! | tool `list_notes {}` | name, URI and size of each note (structured) |
//! | tool `delete_note {name}` | asks the user to confirm, then deletes; declined or cancelled, nothing is deleted |
//!
//! URIs use the scheme `notes`, which the host accepts when the
//! component's namespace is `notes` (the default for a component named
//! `notes`). Where the notes live, and how the directory is granted, is
//! in [`notebook`]; which names are notes, in [`name`]. `delete_note` needs
//! a client that can ask its user (elicitation): without it, the call is
//! refused as missing that capability, and nothing is deleted.

use corral_sdk::Server;

pub mod name;
pub mod notebook;
pub mod prompt;
pub mod resources;
pub mod tools;

use name::NoteName;
use notebook::Notebook;

/// The URI of the index of notes.
pub const INDEX_URI: &str = "notes://index";

/// The URI of a note.
pub fn note_uri(name: &NoteName) -> String {
    format!("notes://{name}")
}

/// The component, over the notes directory of [`Notebook::from_env`].
pub fn server() -> Server {
    server_for(Notebook::from_env())
}

/// The component, over `notebook`.
pub fn server_for(notebook: Notebook) -> Server {
    Server::new()
        .tool(tools::write_note(notebook.clone()))
        .tool(tools::list_notes(notebook.clone()))
        .tool(tools::delete_note(notebook.clone()))
        .resource(resources::index(notebook.clone()))
        .template(resources::note(notebook.clone()))
        .prompt(prompt::summarize_note(notebook))
}

corral_sdk::export!(server);

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::types::{CompletionRef, CompletionRequest};

    fn completion(reference: CompletionRef, value: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for name in ["ideas.md", "inbox.txt", "plan.md"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let request = CompletionRequest {
            ref_: reference,
            argument: "name".into(),
            value: value.into(),
            context: vec![],
        };
        server_for(Notebook::new(dir.path())).complete(&request).unwrap().values
    }

    #[test]
    fn everything_is_well_defined() {
        let server = server_for(Notebook::new("/notes"));
        let tools: Vec<_> =
            server.tool_definitions().unwrap().into_iter().map(|tool| tool.name).collect();
        assert_eq!(tools, ["write_note", "list_notes", "delete_note"]);
        assert_eq!(server.resource_definitions().unwrap()[0].uri, INDEX_URI);
        assert_eq!(server.template_definitions().unwrap()[0].uri_template, "notes://{name}");
        assert_eq!(server.prompt_definitions().unwrap()[0].name, "summarize_note");
    }

    #[test]
    fn the_prompt_completes_note_names() {
        assert_eq!(
            completion(CompletionRef::Prompt("summarize_note".into()), "i"),
            ["ideas.md", "inbox.txt"]
        );
    }

    #[test]
    fn the_template_completes_note_names() {
        let template = CompletionRef::ResourceTemplate("notes://{name}".into());
        assert_eq!(completion(template, "pl"), ["plan.md"]);
    }

    #[test]
    fn a_written_note_reads_back_through_its_uri() {
        let dir = tempfile::tempdir().unwrap();
        let server = server_for(Notebook::new(dir.path()));
        server.call_tool("write_note", r#"{"name": "a.md", "text": "hello"}"#).unwrap();
        let bodies = server.read_resource("notes://a.md").unwrap();
        assert_eq!(bodies[0].contents, corral_sdk::types::ResourceContents::Text("hello".into()));
    }
}
