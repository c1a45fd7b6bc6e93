//! `read_file` and `write_file`: one text file at a time.

use crate::failure::{Operation, explain};
use corral_sdk::ToolError;
use schemars::JsonSchema;
use serde::Deserialize;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

/// How much `read_file` returns when the caller sets no `max_bytes`: 1 MiB,
/// enough for source files and documents, small next to a model's context.
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;

/// Arguments of `read_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFileArgs {
    /// Absolute path of the file, inside a granted directory (e.g. `/data/notes.txt`).
    pub path: String,
    /// Refuse files larger than this many bytes. Default 1048576 (1 MiB).
    pub max_bytes: Option<u64>,
}

/// Reads a UTF-8 text file whole, refusing one larger than `max_bytes`.
pub fn read_file(args: &ReadFileArgs) -> Result<String, ToolError> {
    let path = Path::new(&args.path);
    let limit = args.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    let metadata = fs::metadata(path).map_err(|error| explain(Operation::Read, path, &error))?;
    if metadata.is_dir() {
        return Err(ToolError::new(format!(
            "{} is a directory, not a file; use list_dir to see what it holds",
            args.path
        )));
    }
    if metadata.len() > limit {
        return Err(too_large(&args.path, metadata.len(), limit));
    }
    let file = fs::File::open(path).map_err(|error| explain(Operation::Read, path, &error))?;
    // Read one byte past the limit: the file may have grown since `metadata`.
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| explain(Operation::Read, path, &error))?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(too_large(&args.path, read, limit));
    }
    String::from_utf8(bytes).map_err(|error| {
        ToolError::new(format!(
            "not UTF-8 text: {} (invalid byte at offset {}); this tool reads text files only",
            args.path,
            error.utf8_error().valid_up_to()
        ))
    })
}

fn too_large(path: &str, size: u64, limit: u64) -> ToolError {
    ToolError::new(format!(
        "file too large: {path} has at least {size} bytes, more than max_bytes ({limit})"
    ))
}

/// Arguments of `write_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFileArgs {
    /// Absolute path of the file, inside a directory granted read-write.
    /// Its directory must exist.
    pub path: String,
    /// The text to write.
    pub content: String,
    /// Add to the end of the file instead of replacing it. Default false.
    #[serde(default)]
    pub append: bool,
}

/// Creates, replaces or appends to a file; says how many bytes it wrote.
///
/// A replacement is written to a new file beside the target and renamed
/// over it once whole, so a write that fails (the disk is full, a limit
/// stops the tool) leaves the old file as it was and no partial one.
pub fn write_file(args: &WriteFileArgs) -> Result<String, ToolError> {
    let path = Path::new(&args.path);
    if path.is_dir() {
        return Err(ToolError::new(format!("{} is a directory, not a file", args.path)));
    }
    let fail = |error: std::io::Error| explain(Operation::Write, path, &error);
    if args.append {
        let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(fail)?;
        file.write_all(args.content.as_bytes()).and_then(|()| file.flush()).map_err(fail)?;
        return Ok(format!("appended {} bytes to {}", args.content.len(), args.path));
    }
    let partial = partial_path(path).ok_or_else(|| {
        ToolError::new(format!("{} names no file (it ends in `..` or `/`)", args.path))
    })?;
    let written = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&partial)
        .and_then(|mut file| file.write_all(args.content.as_bytes()).and_then(|()| file.flush()))
        .and_then(|()| fs::rename(&partial, path));
    if let Err(error) = written {
        let _ = fs::remove_file(&partial);
        let why = fail(error);
        if !path.is_file() {
            return Err(why);
        }
        return Err(ToolError::new(format!("{}; the file is unchanged", why.message())));
    }
    Ok(format!("wrote {} bytes to {}", args.content.len(), args.path))
}

/// A fresh name beside `path` for the replacement being written:
/// `.<name>.<random>.partial`. `None` when `path` names no file.
fn partial_path(path: &Path) -> Option<std::path::PathBuf> {
    use std::hash::{BuildHasher as _, Hasher as _};
    let name = path.file_name()?.to_str()?;
    // Seeded from the host's random source (WASI random_get).
    let tag = std::collections::hash_map::RandomState::new().build_hasher().finish();
    Some(path.with_file_name(format!(".{name}.{tag:016x}.partial")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn read(path: &Path, max_bytes: Option<u64>) -> Result<String, ToolError> {
        read_file(&ReadFileArgs { path: path.display().to_string(), max_bytes })
    }

    fn write(path: &Path, content: &str, append: bool) -> Result<String, ToolError> {
        write_file(&WriteFileArgs {
            path: path.display().to_string(),
            content: content.into(),
            append,
        })
    }

    #[test]
    fn read_returns_the_whole_text() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, "héllo\n").unwrap();
        assert_eq!(read(&path, None).unwrap(), "héllo\n");
    }

    #[test]
    fn read_of_a_missing_file_says_no_such_file() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("x.txt");
        assert_eq!(
            read(&path, None).unwrap_err().message(),
            format!("no such file: {}", path.display())
        );
    }

    #[test]
    fn read_refuses_a_file_over_max_bytes() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("big.txt");
        fs::write(&path, "0123456789").unwrap();
        assert_eq!(
            read(&path, Some(4)).unwrap_err().message(),
            format!(
                "file too large: {} has at least 10 bytes, more than max_bytes (4)",
                path.display()
            )
        );
    }

    #[test]
    fn read_accepts_a_file_of_exactly_max_bytes() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("four.txt");
        fs::write(&path, "abcd").unwrap();
        assert_eq!(read(&path, Some(4)).unwrap(), "abcd");
    }

    #[test]
    fn read_refuses_bytes_that_are_not_utf8() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("bin");
        fs::write(&path, b"ok\xff").unwrap();
        assert_eq!(
            read(&path, None).unwrap_err().message(),
            format!(
                "not UTF-8 text: {} (invalid byte at offset 2); this tool reads text files only",
                path.display()
            )
        );
    }

    #[test]
    fn read_of_a_directory_points_to_list_dir() {
        let dir = TempDir::new().unwrap();
        let error = read(dir.path(), None).unwrap_err();
        assert!(error.message().ends_with("use list_dir to see what it holds"), "{error}");
    }

    #[test]
    fn write_creates_then_replaces() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("out.txt");
        assert_eq!(
            write(&path, "first", false).unwrap(),
            format!("wrote 5 bytes to {}", path.display())
        );
        write(&path, "2nd", false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "2nd");
        let names: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["out.txt"], "no partial file is left beside it");
    }

    #[test]
    fn write_with_append_adds_to_the_end() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("log.txt");
        write(&path, "a\n", true).unwrap();
        assert_eq!(
            write(&path, "b\n", true).unwrap(),
            format!("appended 2 bytes to {}", path.display())
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\nb\n");
    }

    #[test]
    fn write_into_a_missing_directory_names_it() {
        let dir = TempDir::new().unwrap();
        let sub = dir.path().join("sub");
        let error = write(&sub.join("x.txt"), "x", false).unwrap_err();
        assert_eq!(
            error.message(),
            format!("no such directory: {} (create it first)", sub.display())
        );
    }
}
