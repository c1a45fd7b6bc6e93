//! The tools: `write_note`, `list_notes`, and `delete_note`, which asks
//! the user before it deletes anything.

use crate::name::NoteName;
use crate::notebook::Notebook;
use crate::{INDEX_URI, note_uri};
use corral_sdk::{Answer, Elicitation, Error, NoArgs, Structured, Tool, resource_updated};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The arguments of `write_note`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteNoteArgs {
    /// The note's file name, ending in .md or .txt, such as `ideas.md`
    /// (letters, digits, `-`, `_` and `.`).
    name: String,
    /// The note's whole text; replaces any text it had.
    text: String,
}

/// The arguments of `delete_note`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteNoteArgs {
    /// The name of the note to delete, such as `ideas.md`.
    name: String,
}

/// What `list_notes` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteList {
    /// The notes, sorted by name.
    notes: Vec<NoteEntry>,
}

/// One note in `list_notes`' answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteEntry {
    /// The note's name.
    name: String,
    /// The resource URI to read it by.
    uri: String,
    /// Its size in bytes.
    size: u64,
}

/// The confirmation `delete_note` asks the user for.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Confirm {
    /// Check to delete the note; it cannot be undone.
    confirm: bool,
}

/// `write_note`.
pub fn write_note(notebook: Notebook) -> Tool {
    Tool::new(
        "write_note",
        "Write a note (Markdown .md or plain text .txt), creating it or replacing its text.",
        move |args: WriteNoteArgs| {
            let name = NoteName::parse(&args.name)?;
            let created = notebook.write(&name, &args.text)?;
            resource_updated(note_uri(&name));
            if created {
                resource_updated(INDEX_URI);
            }
            let verb = if created { "Created" } else { "Replaced" };
            Ok(format!("{verb} note `{name}` ({} bytes).", args.text.len()))
        },
    )
    .title("Write note")
    .read_only(false)
    .destructive(true)
    .idempotent(true)
    .open_world(false)
}

/// `list_notes`.
pub fn list_notes(notebook: Notebook) -> Tool {
    Tool::new(
        "list_notes",
        "List the notes: name, resource URI and size of each.",
        move |_: NoArgs| {
            let notes = notebook
                .list()?
                .into_iter()
                .map(|note| NoteEntry {
                    uri: note_uri(&note.name),
                    name: note.name.to_string(),
                    size: note.size,
                })
                .collect();
            Ok(Structured(NoteList { notes }))
        },
    )
    .title("List notes")
    .read_only(true)
    .open_world(false)
}

/// `delete_note`.
pub fn delete_note(notebook: Notebook) -> Tool {
    Tool::new(
        "delete_note",
        "Delete a note, after the user confirms. Needs a client that can ask its user \
         (elicitation); nothing is deleted unless the user confirms.",
        move |args: DeleteNoteArgs| -> Result<String, Error> {
            let name = NoteName::parse(&args.name)?;
            if !notebook.exists(&name) {
                return Err(Error::new(format!("there is no note named `{name}`")));
            }
            let question =
                Elicitation::new(format!("Delete the note `{name}`? This cannot be undone."))
                    .id(format!("delete_note:{name}"));
            Ok(match question.ask::<Confirm>()? {
                Answer::Accept(Confirm { confirm: true }) => {
                    notebook.delete(&name)?;
                    resource_updated(note_uri(&name));
                    resource_updated(INDEX_URI);
                    format!("Deleted note `{name}`.")
                }
                Answer::Accept(Confirm { confirm: false }) => {
                    format!("Nothing deleted: the deletion of `{name}` was not confirmed.")
                }
                Answer::Decline => {
                    format!("Nothing deleted: the user declined to delete `{name}`.")
                }
                Answer::Cancel => {
                    format!("Nothing deleted: the user dismissed the question about `{name}`.")
                }
            })
        },
    )
    .title("Delete note")
    .read_only(false)
    .destructive(true)
    .idempotent(true)
    .open_world(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::testing::{self, HostEvent};
    use corral_sdk::types::{CallError, CallResult, Content};
    use corral_sdk::{AskError, Capability};
    use serde_json::{Value, json};

    struct Fixture {
        dir: tempfile::TempDir,
        notebook: Notebook,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let notebook = Notebook::new(dir.path());
        Fixture { dir, notebook }
    }

    impl Fixture {
        fn with_note(self, name: &str, text: &str) -> Self {
            std::fs::write(self.dir.path().join(name), text).unwrap();
            self
        }

        fn has(&self, name: &str) -> bool {
            self.dir.path().join(name).exists()
        }
    }

    fn text(result: Result<CallResult, CallError>) -> String {
        let result = result.expect("the tool answers");
        match result.content.as_slice() {
            [Content::Text(text)] => text.clone(),
            other => panic!("expected one text item, got {other:?}"),
        }
    }

    fn delete(fixture: &Fixture, name: &str) -> Result<CallResult, CallError> {
        delete_note(fixture.notebook.clone()).call(&json!({ "name": name }).to_string())
    }

    #[test]
    fn write_creates_the_note_and_announces_it_and_the_index() {
        let fixture = fixture();
        let result =
            write_note(fixture.notebook.clone()).call(r#"{"name": "a.md", "text": "hello"}"#);
        assert_eq!(text(result), "Created note `a.md` (5 bytes).");
        assert_eq!(std::fs::read_to_string(fixture.dir.path().join("a.md")).unwrap(), "hello");
        assert_eq!(
            testing::take_events(),
            [
                HostEvent::ResourceUpdated { uri: "notes://a.md".into() },
                HostEvent::ResourceUpdated { uri: INDEX_URI.into() },
            ]
        );
    }

    #[test]
    fn write_with_a_bad_name_is_an_error_the_model_sees() {
        let fixture = fixture();
        let result = write_note(fixture.notebook.clone())
            .call(r#"{"name": "../escape.md", "text": "x"}"#)
            .unwrap();
        assert!(result.is_error);
        assert_eq!(
            result.content,
            [Content::Text(
                "note name `../escape.md` contains `/`: a note is a file directly in the notes directory"
                    .into()
            )]
        );
    }

    #[test]
    fn list_gives_names_uris_and_sizes() {
        let fixture = fixture().with_note("b.txt", "bb").with_note("a.md", "a");
        let result = list_notes(fixture.notebook.clone()).call("{}").unwrap();
        let structured: Value =
            serde_json::from_str(result.structured.as_deref().unwrap()).unwrap();
        assert_eq!(
            structured,
            json!({ "notes": [
                { "name": "a.md", "uri": "notes://a.md", "size": 1 },
                { "name": "b.txt", "uri": "notes://b.txt", "size": 2 }
            ] })
        );
    }

    #[test]
    fn delete_asks_for_confirmation_naming_the_note() {
        let fixture = fixture().with_note("a.md", "a");
        testing::accept(json!({ "confirm": true }));
        assert_eq!(text(delete(&fixture, "a.md")), "Deleted note `a.md`.");
        assert!(!fixture.has("a.md"));
        let events = testing::take_events();
        let HostEvent::Elicit(request) = &events[0] else { panic!("asked nothing: {events:?}") };
        assert_eq!(request.message, "Delete the note `a.md`? This cannot be undone.");
        assert_eq!(request.id.as_deref(), Some("delete_note:a.md"));
        assert_eq!(
            &events[1..],
            [
                HostEvent::ResourceUpdated { uri: "notes://a.md".into() },
                HostEvent::ResourceUpdated { uri: INDEX_URI.into() },
            ]
        );
    }

    #[test]
    fn declining_deletes_nothing() {
        let fixture = fixture().with_note("a.md", "a");
        testing::decline();
        assert_eq!(
            text(delete(&fixture, "a.md")),
            "Nothing deleted: the user declined to delete `a.md`."
        );
        assert!(fixture.has("a.md"));
    }

    #[test]
    fn cancelling_deletes_nothing() {
        let fixture = fixture().with_note("a.md", "a");
        testing::cancel();
        assert_eq!(
            text(delete(&fixture, "a.md")),
            "Nothing deleted: the user dismissed the question about `a.md`."
        );
        assert!(fixture.has("a.md"));
    }

    #[test]
    fn an_unchecked_confirmation_deletes_nothing() {
        let fixture = fixture().with_note("a.md", "a");
        testing::accept(json!({ "confirm": false }));
        assert_eq!(
            text(delete(&fixture, "a.md")),
            "Nothing deleted: the deletion of `a.md` was not confirmed."
        );
        assert!(fixture.has("a.md"));
    }

    #[test]
    fn without_elicitation_delete_is_missing_capability() {
        let fixture = fixture().with_note("a.md", "a");
        assert_eq!(
            delete(&fixture, "a.md"),
            Err(CallError::MissingCapability(Capability::Elicitation))
        );
        assert!(fixture.has("a.md"));
    }

    #[test]
    fn a_pending_confirmation_ends_the_call_and_deletes_nothing() {
        let fixture = fixture().with_note("a.md", "a");
        testing::answer_elicit(Err(AskError::Pending));
        assert!(matches!(delete(&fixture, "a.md"), Err(CallError::Failed(_))));
        assert!(fixture.has("a.md"));
    }

    #[test]
    fn deleting_a_missing_note_asks_nothing() {
        let fixture = fixture();
        let result = delete(&fixture, "a.md").unwrap();
        assert!(result.is_error);
        assert_eq!(result.content, [Content::Text("there is no note named `a.md`".into())]);
        assert!(testing::take_events().is_empty());
    }
}
