//! The notes directory: reading, writing, listing and deleting notes.
//!
//! The component does not know its grants: the host preopens a host
//! directory at a guest path, and WASI refuses every path outside it. The
//! notes directory is the guest path named by the `NOTES_DIR` environment
//! variable, `/notes` if unset ([`DEFAULT_DIR`]); the host configuration
//! grants a directory there (read-write for `write_note` and
//! `delete_note`) and, to move it, sets `NOTES_DIR` in the component's
//! `env`. Files that are not notes (other extensions, subdirectories,
//! names outside the rules of [`crate::name`]) are ignored.

use crate::name::NoteName;
use corral_sdk::{Context, Error};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

/// The notes directory when `NOTES_DIR` is unset.
pub const DEFAULT_DIR: &str = "/notes";

/// A note in the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name.
    pub name: NoteName,
    /// Its size in bytes.
    pub size: u64,
}

/// The notes directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notebook {
    dir: PathBuf,
}

impl Notebook {
    /// The notes in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The notes in `NOTES_DIR`, or [`DEFAULT_DIR`].
    pub fn from_env() -> Self {
        Self::new(std::env::var_os("NOTES_DIR").map_or_else(|| DEFAULT_DIR.into(), PathBuf::from))
    }

    /// The notes, sorted by name.
    pub fn list(&self) -> Result<Vec<Listed>, Error> {
        let entries = std::fs::read_dir(&self.dir).map_err(|error| self.unreachable(&error))?;
        let mut notes = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", self.dir.display()))?;
            let Some(name) = entry.file_name().to_str().and_then(|name| NoteName::parse(name).ok())
            else {
                continue;
            };
            let metadata = entry.metadata().with_context(|| format!("reading {name}"))?;
            if metadata.is_file() {
                notes.push(Listed { name, size: metadata.len() });
            }
        }
        notes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(notes)
    }

    /// The names of the notes, sorted.
    pub fn names(&self) -> Result<Vec<String>, Error> {
        Ok(self.list()?.into_iter().map(|note| note.name.to_string()).collect())
    }

    /// A note's text; `None` if there is no such note.
    pub fn read(&self, name: &NoteName) -> Result<Option<String>, Error> {
        match std::fs::read_to_string(self.path(name)) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == ErrorKind::NotFound && self.dir.is_dir() => Ok(None),
            Err(error) if error.kind() == ErrorKind::InvalidData => {
                Err(Error::new(format!("note `{name}` is not UTF-8 text")))
            }
            Err(error) => Err(self.failed("reading", name, &error)),
        }
    }

    /// Writes a note, creating or replacing it; whether it is new.
    pub fn write(&self, name: &NoteName, text: &str) -> Result<bool, Error> {
        let path = self.path(name);
        let created = !path.exists();
        std::fs::write(&path, text).map_err(|error| self.failed("writing", name, &error))?;
        Ok(created)
    }

    /// Whether a note exists.
    pub fn exists(&self, name: &NoteName) -> bool {
        self.path(name).is_file()
    }

    /// Deletes a note; whether it existed.
    pub fn delete(&self, name: &NoteName) -> Result<bool, Error> {
        match std::fs::remove_file(self.path(name)) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == ErrorKind::NotFound && self.dir.is_dir() => Ok(false),
            Err(error) => Err(self.failed("deleting", name, &error)),
        }
    }

    fn path(&self, name: &NoteName) -> PathBuf {
        self.dir.join(name.as_str())
    }

    /// Why a note could not be read, written or deleted.
    fn failed(&self, doing: &str, name: &NoteName, error: &io::Error) -> Error {
        if !self.dir.is_dir() {
            return self.unreachable(error);
        }
        match error.kind() {
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => Error::new(format!(
                "{doing} note `{name}` was refused: the notes directory {} is not writable \
                 by this component (grant it read-write)",
                self.dir.display()
            )),
            _ => Error::new(format!("{doing} note `{name}` failed: {error}")),
        }
    }

    /// The notes directory itself cannot be reached.
    fn unreachable(&self, error: &io::Error) -> Error {
        Error::new(format!(
            "the notes directory {} is not available ({error}): grant this component a \
             directory at {}, or set NOTES_DIR to the guest path of one",
            self.dir.display(),
            self.dir.display()
        ))
    }

    /// The notes directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notebook() -> (tempfile::TempDir, Notebook) {
        let dir = tempfile::tempdir().unwrap();
        let notebook = Notebook::new(dir.path());
        (dir, notebook)
    }

    fn name(text: &str) -> NoteName {
        NoteName::parse(text).unwrap()
    }

    #[test]
    fn a_written_note_reads_back() {
        let (_dir, notebook) = notebook();
        assert!(notebook.write(&name("a.md"), "# A").unwrap());
        assert!(!notebook.write(&name("a.md"), "# A again").unwrap());
        assert_eq!(notebook.read(&name("a.md")).unwrap().as_deref(), Some("# A again"));
    }

    #[test]
    fn a_missing_note_reads_as_none() {
        let (_dir, notebook) = notebook();
        assert_eq!(notebook.read(&name("missing.md")).unwrap(), None);
    }

    #[test]
    fn the_listing_is_sorted_and_skips_what_is_not_a_note() {
        let (dir, notebook) = notebook();
        std::fs::write(dir.path().join("b.txt"), "bb").unwrap();
        std::fs::write(dir.path().join("a.md"), "a").unwrap();
        std::fs::write(dir.path().join("image.png"), "x").unwrap();
        std::fs::write(dir.path().join(".hidden.md"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub.md")).unwrap();
        assert_eq!(
            notebook.list().unwrap(),
            [Listed { name: name("a.md"), size: 1 }, Listed { name: name("b.txt"), size: 2 }]
        );
    }

    #[test]
    fn delete_says_whether_the_note_existed() {
        let (_dir, notebook) = notebook();
        notebook.write(&name("a.md"), "a").unwrap();
        assert!(notebook.delete(&name("a.md")).unwrap());
        assert!(!notebook.delete(&name("a.md")).unwrap());
    }

    #[test]
    fn a_missing_directory_says_how_to_grant_one() {
        let notebook = Notebook::new("/nonexistent/notes");
        let message = notebook.list().unwrap_err().message().to_owned();
        assert!(
            message.starts_with("the notes directory /nonexistent/notes is not available"),
            "{message}"
        );
        assert!(message.ends_with("or set NOTES_DIR to the guest path of one"), "{message}");
        let message = notebook.read(&name("a.md")).unwrap_err().message().to_owned();
        assert!(
            message.starts_with("the notes directory /nonexistent/notes is not available"),
            "{message}"
        );
    }
}
