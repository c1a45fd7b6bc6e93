//! Filesystem tools over the directories granted to the component.
//!
//! | tool | does | hints |
//! | --- | --- | --- |
//! | `read_file {path, max_bytes?}` | a UTF-8 text file, whole (default limit 1 MiB) | read-only |
//! | `write_file {path, content, append?}` | creates, replaces or appends to a file | destructive |
//! | `list_dir {path}` | entries: name, kind (file, dir, symlink, other), size | read-only, structured |
//! | `search {path, pattern, regex?, max_results?}` | matching lines under a directory | read-only, structured |
//! | `digest {path, algorithm?}` | the SHA-256 of every file under a directory, and of the tree; reports progress | read-only, structured |
//!
//! The component does not know its grants: the host maps host directories
//! to guest paths (WASI preopens such as `/data`), and WASI refuses
//! everything else. [`failure`] turns those refusals into messages that say
//! what happened, e.g. `access denied: /etc/passwd is outside the
//! directories granted to this tool`.

use corral_sdk::{Structured, TaskSupport, Tool, Toolbox};

pub mod digest;
mod failure;
pub mod file;
pub mod listing;
pub mod search;

/// The component's tools.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(
            Tool::new(
                "read_file",
                "Read a UTF-8 text file and return its contents. Fails on files larger \
                 than max_bytes (default 1 MiB) and on binary files.",
                |args: file::ReadFileArgs| file::read_file(&args),
            )
            .title("Read file")
            .read_only(true)
            .open_world(false),
        )
        .with(
            Tool::new(
                "write_file",
                "Write text to a file, creating it or replacing its contents; with \
                 append, add to its end instead. The file's directory must exist.",
                |args: file::WriteFileArgs| file::write_file(&args),
            )
            .title("Write file")
            .read_only(false)
            .destructive(true)
            .idempotent(false)
            .open_world(false),
        )
        .with(
            Tool::new(
                "list_dir",
                "List a directory: each entry's name, kind (file, dir, symlink, other) \
                 and, for files, size in bytes.",
                |args: listing::ListDirArgs| listing::list_dir(&args).map(Structured),
            )
            .title("List directory")
            .read_only(true)
            .open_world(false),
        )
        .with(
            Tool::new(
                "search",
                "Find lines containing a text (or matching a regex) in the text files \
                 under a directory, recursively. Returns path, line number and line \
                 for each match, up to max_results (default 100).",
                |args: search::SearchArgs| search::search(&args).map(Structured),
            )
            .title("Search files")
            .read_only(true)
            .open_world(false),
        )
        .with(
            Tool::new(
                "digest",
                "Fingerprint a directory tree: the SHA-256 of every file under it, \
                 recursively, and one digest of the whole tree, equal for identical trees. \
                 Reports progress file by file; a large tree takes a while.",
                |args: digest::DigestArgs| digest::digest(&args),
            )
            .title("Digest directory")
            .read_only(true)
            .idempotent(true)
            .open_world(false)
            // A large tree runs on as a task; a small one answers inline.
            .task_support(TaskSupport::Optional),
        )
}

corral_sdk::export!(tools);

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::types::{CallError, Content};
    use serde_json::Value;

    #[test]
    fn all_five_tools_are_listed_with_object_schemas() {
        let definitions = tools().definitions().expect("tools are well defined");
        let names: Vec<_> = definitions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["read_file", "write_file", "list_dir", "search", "digest"]);
        for definition in &definitions {
            let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
            assert_eq!(schema["type"], "object", "{}", definition.name);
        }
    }

    #[test]
    fn only_write_file_is_destructive() {
        let definitions = tools().definitions().unwrap();
        for definition in definitions {
            let destructive = definition.annotations.destructive == Some(true);
            assert_eq!(destructive, definition.name == "write_file", "{}", definition.name);
        }
    }

    #[test]
    fn listing_search_and_digest_declare_output_schemas() {
        let definitions = tools().definitions().unwrap();
        let with_output: Vec<_> = definitions
            .iter()
            .filter(|d| d.output_schema.is_some())
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(with_output, ["list_dir", "search", "digest"]);
    }

    #[test]
    fn list_dir_returns_structured_output_and_its_json_as_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "hi").unwrap();
        let arguments = serde_json::json!({ "path": dir.path() }).to_string();
        let result = tools().call("list_dir", &arguments).unwrap();
        let structured: Value =
            serde_json::from_str(result.structured.as_deref().unwrap()).unwrap();
        assert_eq!(
            structured["entries"],
            serde_json::json!([{ "name": "f.txt", "kind": "file", "size": 2 }])
        );
        assert_eq!(result.content, vec![Content::Text(result.structured.clone().unwrap())]);
    }

    #[test]
    fn unknown_argument_is_refused() {
        let error = tools().call("read_file", r#"{"path": "/data/a", "offset": 3}"#).unwrap_err();
        assert!(
            matches!(&error, CallError::InvalidArguments(m) if m.contains("unknown field `offset`")),
            "{error:?}"
        );
    }
}
