//! `list_dir`: the entries of one directory.

use crate::failure::{Operation, explain};
use corral_sdk::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;

/// The most entries one listing returns: a directory of a million files
/// must not become a million-line answer.
pub const MAX_ENTRIES: usize = 10_000;

/// Arguments of `list_dir`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDirArgs {
    /// Absolute path of the directory, inside a granted directory (e.g. `/data`).
    pub path: String,
}

/// A directory's entries, sorted by name.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Listing {
    /// The directory listed, as given.
    pub path: String,
    /// Its entries, sorted by name.
    pub entries: Vec<Entry>,
    /// True when the directory holds more than the 10000 entries returned.
    pub truncated: bool,
}

/// One directory entry.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Entry {
    /// The entry's name (not its path).
    pub name: String,
    /// What it is. Symbolic links are reported as such, not followed.
    pub kind: EntryKind,
    /// Size in bytes, for files only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// The kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (a socket, a device).
    Other,
}

impl EntryKind {
    pub(crate) fn of(file_type: fs::FileType) -> Self {
        if file_type.is_symlink() {
            Self::Symlink
        } else if file_type.is_dir() {
            Self::Dir
        } else if file_type.is_file() {
            Self::File
        } else {
            Self::Other
        }
    }
}

/// Lists a directory. Entries that vanish or cannot be inspected while it
/// is read are listed as `other` rather than failing the whole listing.
pub fn list_dir(args: &ListDirArgs) -> Result<Listing, ToolError> {
    let path = Path::new(&args.path);
    let reader = fs::read_dir(path).map_err(|error| explain(Operation::List, path, &error))?;
    let mut entries = Vec::new();
    let mut truncated = false;
    for entry in reader {
        let entry = entry.map_err(|error| explain(Operation::List, path, &error))?;
        if entries.len() == MAX_ENTRIES {
            truncated = true;
            break;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let (kind, size) = match entry.file_type() {
            Ok(file_type) => {
                let kind = EntryKind::of(file_type);
                let size = match kind {
                    EntryKind::File => entry.metadata().ok().map(|metadata| metadata.len()),
                    _ => None,
                };
                (kind, size)
            }
            Err(_) => (EntryKind::Other, None),
        };
        entries.push(Entry { name, kind, size });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { path: args.path.clone(), entries, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn list(path: &Path) -> Result<Listing, ToolError> {
        list_dir(&ListDirArgs { path: path.display().to_string() })
    }

    #[test]
    fn lists_files_dirs_and_symlinks_sorted_with_file_sizes() {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("b.txt"), "12345").unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("b.txt", dir.path().join("c")).unwrap();
        let listing = list(dir.path()).unwrap();
        let mut expected = vec![
            Entry { name: "a".into(), kind: EntryKind::Dir, size: None },
            Entry { name: "b.txt".into(), kind: EntryKind::File, size: Some(5) },
        ];
        if cfg!(unix) {
            expected.push(Entry { name: "c".into(), kind: EntryKind::Symlink, size: None });
        }
        assert_eq!(listing.entries, expected);
        assert!(!listing.truncated);
    }

    #[test]
    fn listing_a_missing_directory_says_no_such_directory() {
        let dir = TempDir::new().unwrap();
        let missing = dir.path().join("nope");
        assert_eq!(
            list(&missing).unwrap_err().message(),
            format!("no such directory: {}", missing.display())
        );
    }

    #[test]
    fn listing_a_file_says_it_is_not_a_directory() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "").unwrap();
        assert_eq!(
            list(&file).unwrap_err().message(),
            format!("not a directory: {}", file.display())
        );
    }

    #[test]
    fn entry_kinds_serialise_in_lowercase_and_omit_absent_sizes() {
        let entry = Entry { name: "a".into(), kind: EntryKind::Dir, size: None };
        assert_eq!(serde_json::to_string(&entry).unwrap(), r#"{"name":"a","kind":"dir"}"#);
    }
}
