//! `digest`: a SHA-256 fingerprint of a directory tree, and of each file in
//! it; an example of a long call that reports its progress.
//!
//! The tree's digest is the SHA-256 of one line per regular file,
//! `<relative path>\t<file's SHA-256 in hex>\n` (`/` between path
//! components), the lines sorted: two trees with the same files holding
//! the same bytes have the same digest, wherever they are and whatever the
//! order the filesystem lists them in.
//!
//! - Files are read in 64 KiB chunks, so a file of any size takes 64 KiB of
//!   memory.
//! - The walk is listed first, so progress says "files done out of total";
//!   a report goes out at most every 100 ms, naming the file being hashed.
//! - Symbolic links are not followed (a link cannot loop the walk, and WASI
//!   would refuse one that leaves the grant anyway); they, and special
//!   files, are counted as `skipped`. The root itself is followed if it is
//!   a link: the caller named it.
//! - A file or directory that cannot be read fails the call, naming it: a
//!   digest that silently left a file out would be wrong.
//! - A tree of more than 100,000 files is refused before anything is
//!   hashed.

use crate::failure::{Operation, explain};
use crate::listing::EntryKind;
use corral_sdk::{CallResult, Content, IntoCallResult, Structured, ToolError, progress};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The most files one digest covers.
pub const MAX_FILES: usize = 100_000;
/// The chunk files are read in: 64 KiB.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Files listed one per line in the text result; the rest are counted.
pub const LISTED_FILES: usize = 100;
/// The least time between two progress reports.
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// Arguments of `digest`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestArgs {
    /// Absolute path of the directory to digest, recursively, inside a granted directory (e.g. `/data`).
    pub path: String,
    /// The digest algorithm: `sha256`, the default and only one.
    #[serde(default)]
    pub algorithm: Algorithm,
}

/// A digest algorithm. Its variants have no doc comments, so that the
/// schema is a plain `enum` of names rather than a `oneOf`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum Algorithm {
    // SHA-256.
    #[default]
    Sha256,
}

/// A directory tree's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TreeDigest {
    /// The directory digested, as given.
    pub path: String,
    /// The digest algorithm used.
    pub algorithm: Algorithm,
    /// Regular files hashed.
    pub files: u64,
    /// Bytes hashed, over all files.
    pub bytes: u64,
    /// Symbolic links and special files, which are not hashed.
    pub skipped: u64,
    /// SHA-256 (lowercase hex) of the sorted lines `<relative path>\t<file's SHA-256>\n`, one per file.
    pub digest: String,
}

/// One hashed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Its path relative to the directory digested, `/` between components.
    pub path: String,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// What `digest` returns: the tree's digest as structured output (and as
/// JSON text), then one text line per file, `sha256sum` style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestReport {
    /// The tree's digest.
    pub tree: TreeDigest,
    /// Every file's digest, sorted by path.
    pub files: Vec<FileDigest>,
}

impl IntoCallResult for DigestReport {
    fn into_call_result(self) -> CallResult {
        let mut result = Structured(self.tree).into_call_result();
        if !result.is_error {
            result.content.push(Content::Text(listing(&self.files)));
        }
        result
    }

    fn output_schema() -> Option<Value> {
        <Structured<TreeDigest> as IntoCallResult>::output_schema()
    }
}

/// `<sha256>  <path>` per file, at most [`LISTED_FILES`] of them, then how
/// many more there are.
fn listing(files: &[FileDigest]) -> String {
    let mut text = String::new();
    for file in files.iter().take(LISTED_FILES) {
        let _ = writeln!(text, "{}  {}", file.sha256, file.path);
    }
    if files.len() > LISTED_FILES {
        let _ = writeln!(text, "... {} more", files.len() - LISTED_FILES);
    }
    if files.is_empty() {
        text.push_str("(no files)\n");
    }
    text
}

/// Hashes every regular file under `args.path`, and the tree.
pub fn digest(args: &DigestArgs) -> Result<DigestReport, ToolError> {
    let root = Path::new(&args.path);
    let metadata = fs::metadata(root).map_err(|error| explain(Operation::List, root, &error))?;
    if !metadata.is_dir() {
        return Err(ToolError::new(format!(
            "not a directory: {}; digest walks a directory (to hash one file, digest the \
             directory holding it)",
            args.path
        )));
    }
    let (paths, skipped) = walk(root)?;
    let total = paths.len() as u64;
    let mut reporter = Reporter::new(total);
    let mut buffer = vec![0; CHUNK_BYTES];
    let (mut files, mut bytes) = (Vec::with_capacity(paths.len()), 0);
    for (done, (path, relative)) in paths.into_iter().enumerate() {
        reporter.report(done as u64, &relative);
        let (sha256, size) = hash_file(&path, &mut buffer)?;
        bytes += size;
        files.push(FileDigest { path: relative, sha256 });
    }
    reporter.finish();
    let mut lines: Vec<String> =
        files.iter().map(|file| format!("{}\t{}\n", file.path, file.sha256)).collect();
    lines.sort_unstable();
    let mut tree = Sha256::new();
    for line in &lines {
        tree.update(line.as_bytes());
    }
    let tree = TreeDigest {
        path: args.path.clone(),
        algorithm: args.algorithm,
        files: total,
        bytes,
        skipped,
        digest: hex(&tree.finalize()),
    };
    Ok(DigestReport { tree, files })
}

/// The regular files under `root` (path, and path relative to `root`),
/// sorted by relative path; and how many entries were skipped.
fn walk(root: &Path) -> Result<(Vec<(PathBuf, String)>, u64), ToolError> {
    let mut files = Vec::new();
    let mut skipped = 0;
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let reader = fs::read_dir(&dir).map_err(|error| explain(Operation::List, &dir, &error))?;
        for entry in reader {
            let entry = entry.map_err(|error| explain(Operation::List, &dir, &error))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let kind = entry
                .file_type()
                .map_err(|error| explain(Operation::List, &entry.path(), &error))?;
            match EntryKind::of(kind) {
                EntryKind::Dir => pending.push((entry.path(), format!("{relative}/"))),
                EntryKind::File => {
                    if files.len() == MAX_FILES {
                        return Err(ToolError::new(format!(
                            "too many files: {} holds more than {MAX_FILES}; digest its \
                             subdirectories one at a time",
                            root.display()
                        )));
                    }
                    files.push((entry.path(), relative));
                }
                EntryKind::Symlink | EntryKind::Other => skipped += 1,
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok((files, skipped))
}

/// The file's SHA-256 in hex, and its size, read a chunk at a time.
fn hash_file(path: &Path, buffer: &mut [u8]) -> Result<(String, u64), ToolError> {
    let mut file = fs::File::open(path).map_err(|error| explain(Operation::Read, path, &error))?;
    let mut hasher = Sha256::new();
    let mut size = 0;
    loop {
        match file.read(buffer) {
            Ok(0) => break,
            Ok(read) => {
                hasher.update(&buffer[..read]);
                size += read as u64;
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(explain(Operation::Read, path, &error)),
        }
    }
    Ok((hex(&hasher.finalize()), size))
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// Progress reports: files done out of `total`, each naming the file
/// being hashed, at most one per [`REPORT_EVERY`], each further along
/// than the one before (as MCP wants).
struct Reporter {
    total: u64,
    last: Option<(u64, Instant)>,
}

impl Reporter {
    fn new(total: u64) -> Self {
        Self { total, last: None }
    }

    /// `done` files are hashed and `current` is next.
    fn report(&mut self, done: u64, current: &str) {
        let due = match self.last {
            None => true,
            Some((last, at)) => done > last && at.elapsed() >= REPORT_EVERY,
        };
        if due {
            let message = format!("hashing {current} ({} of {})", done + 1, self.total);
            progress(done as f64, Some(self.total as f64), Some(&message));
            self.last = Some((done, Instant::now()));
        }
    }

    /// Every file is hashed.
    fn finish(&mut self) {
        if self.last.is_none_or(|(last, _)| self.total > last) {
            let message = format!("hashed {} files", self.total);
            progress(self.total as f64, Some(self.total as f64), Some(&message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::testing::{HostEvent, take_events};
    use tempfile::TempDir;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn run(path: &Path) -> Result<DigestReport, ToolError> {
        digest(&DigestArgs { path: path.display().to_string(), algorithm: Algorithm::Sha256 })
    }

    fn sha256(text: &str) -> String {
        hex(&Sha256::digest(text.as_bytes()))
    }

    fn tree() -> TempDir {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("b.txt"), "abc").unwrap();
        fs::create_dir_all(dir.path().join("a/deep")).unwrap();
        fs::write(dir.path().join("a/deep/empty"), "").unwrap();
        fs::write(dir.path().join("a/x.bin"), [0u8, 1, 2]).unwrap();
        dir
    }

    #[test]
    fn hashes_every_file_and_the_sorted_lines() {
        let dir = tree();
        let report = run(dir.path()).unwrap();
        let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/deep/empty", "a/x.bin", "b.txt"]);
        assert_eq!(report.files[0].sha256, EMPTY_SHA256);
        assert_eq!(report.files[2].sha256, ABC_SHA256);
        let x_bin = hex(&Sha256::digest([0u8, 1, 2]));
        let lines =
            format!("a/deep/empty\t{EMPTY_SHA256}\na/x.bin\t{x_bin}\nb.txt\t{ABC_SHA256}\n");
        assert_eq!(
            report.tree,
            TreeDigest {
                path: dir.path().display().to_string(),
                algorithm: Algorithm::Sha256,
                files: 3,
                bytes: 6,
                skipped: 0,
                digest: sha256(&lines),
            }
        );
    }

    #[test]
    fn the_same_tree_elsewhere_has_the_same_digest_and_a_change_shows() {
        let (one, two) = (tree(), tree());
        assert_eq!(run(one.path()).unwrap().tree.digest, run(two.path()).unwrap().tree.digest);
        fs::write(two.path().join("b.txt"), "abd").unwrap();
        assert_ne!(run(one.path()).unwrap().tree.digest, run(two.path()).unwrap().tree.digest);
    }

    #[test]
    fn files_larger_than_a_chunk_are_hashed_whole() {
        let dir = TempDir::new().unwrap();
        let big: Vec<u8> = (0..CHUNK_BYTES * 2 + 17).map(|i| (i % 251) as u8).collect();
        fs::write(dir.path().join("big"), &big).unwrap();
        let report = run(dir.path()).unwrap();
        assert_eq!(report.files[0].sha256, hex(&Sha256::digest(&big)));
        assert_eq!(report.tree.bytes, big.len() as u64);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_skipped_not_followed() {
        let dir = tree();
        std::os::unix::fs::symlink("b.txt", dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
        let report = run(dir.path()).unwrap();
        assert_eq!((report.tree.files, report.tree.skipped), (3, 2));
    }

    #[test]
    fn an_empty_directory_has_the_digest_of_nothing() {
        let dir = TempDir::new().unwrap();
        let report = run(dir.path()).unwrap();
        assert_eq!((report.tree.files, report.tree.bytes), (0, 0));
        assert_eq!(report.tree.digest, EMPTY_SHA256);
        assert_eq!(listing(&report.files), "(no files)\n");
    }

    #[test]
    fn progress_counts_files_and_names_the_current_one() {
        let dir = tree();
        take_events();
        run(dir.path()).unwrap();
        let reports: Vec<_> = take_events()
            .into_iter()
            .map(|event| match event {
                HostEvent::Progress { done, total, message } => (done, total, message.unwrap()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        // The first report and the last; any between (on a slow machine)
        // are further along each.
        assert_eq!(reports[0], (0.0, Some(3.0), "hashing a/deep/empty (1 of 3)".to_owned()));
        assert_eq!(reports.last().unwrap(), &(3.0, Some(3.0), "hashed 3 files".to_owned()));
        assert!(reports.windows(2).all(|pair| pair[0].0 < pair[1].0), "{reports:?}");
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let dir = tree();
        let file = dir.path().join("b.txt");
        let error = run(&file).unwrap_err();
        assert!(
            error.message().starts_with(&format!("not a directory: {}", file.display())),
            "{error}"
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = TempDir::new().unwrap();
        let missing = dir.path().join("nope");
        assert_eq!(
            run(&missing).unwrap_err().message(),
            format!("no such directory: {}", missing.display())
        );
    }

    #[test]
    fn the_text_lists_files_sha256sum_style_up_to_a_hundred() {
        let files: Vec<_> = (0..LISTED_FILES + 5)
            .map(|i| FileDigest { path: format!("f{i:03}"), sha256: EMPTY_SHA256.into() })
            .collect();
        let text = listing(&files);
        assert_eq!(text.lines().count(), LISTED_FILES + 1);
        assert_eq!(text.lines().next(), Some(format!("{EMPTY_SHA256}  f000").as_str()));
        assert_eq!(text.lines().last(), Some("... 5 more"));
    }

    #[test]
    fn the_result_is_structured_with_the_listing_after_its_json() {
        let dir = tree();
        let result = run(dir.path()).unwrap().into_call_result();
        let json = result.structured.clone().expect("structured output");
        let structured: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(structured["files"], 3);
        assert_eq!(structured["algorithm"], "sha256");
        let [Content::Text(first), Content::Text(second)] = result.content.as_slice() else {
            panic!("expected two text items: {:?}", result.content);
        };
        assert_eq!(first, &json);
        assert!(second.ends_with(&format!("{ABC_SHA256}  b.txt\n")), "{second}");
        let schema = DigestReport::output_schema().unwrap();
        assert_eq!(schema["properties"]["digest"]["type"], "string");
        assert_eq!(schema["properties"]["files"]["type"], "integer");
    }
}
