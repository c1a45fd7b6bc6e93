//! Turning a refused filesystem call into a message the model can act on.
//!
//! The component sees only the directories its policy grants (WASI
//! preopens, such as `/data`) and does not know which they are. What WASI
//! reports when a path is refused, and how it reads here:
//!
//! | situation | what `std` sees | message |
//! | --- | --- | --- |
//! | no granted directory contains the path (`/etc/passwd`) | `NotFound`, and no ancestor of the path exists either | `access denied: … is outside the directories granted to this tool` |
//! | inside a grant, but missing | `NotFound`, some ancestor exists | `no such file: …` / `no such directory: …` |
//! | `..` or a symlink leaves the grant | `PermissionDenied` (WASI `not-permitted`) | `access denied: …` |
//! | writing under a read-only grant | `PermissionDenied` or `ReadOnlyFilesystem` | `access denied: … is not writable by this tool …` |
//! | older wasi-libc, no matching grant | raw error 76, "Capabilities insufficient" | as `PermissionDenied` |
//! | the disk or quota is full | `StorageFull` / `QuotaExceeded`, or, writing through a stream, raw error 29 (`EIO`) | `no space left: …` / `writing … failed: … most often because the disk (or quota) holding it is full` |
//!
//! The "no ancestor exists" test is what tells a path outside every grant
//! from a missing file inside one: with a grant at `/data`, `/data` itself
//! is visible, `/etc` and `/` are not.

use corral_sdk::ToolError;
use std::io::{self, ErrorKind};
use std::path::Path;

/// What the tool was doing when the filesystem refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Reading a file.
    Read,
    /// Creating, truncating or appending to a file.
    Write,
    /// Listing or walking a directory.
    List,
}

/// Whether any ancestor of the refused path is visible to the component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Some ancestor exists: the path is inside a granted directory.
    InsideGrant,
    /// Nothing on the way to the path exists: no grant covers it.
    OutsideGrants,
}

/// WASI's `ENOTCAPABLE`, which older wasi-libc returns for a path that no
/// granted directory contains; `std` does not name it.
const WASI_ENOTCAPABLE: i32 = 76;

/// WASI's `EIO`: what a failed write to a file stream becomes in wasi-libc.
const WASI_EIO: i32 = 29;

/// Explains `error`, met while doing `operation` on `path`.
pub(crate) fn explain(operation: Operation, path: &Path, error: &io::Error) -> ToolError {
    let reach = if error.kind() == ErrorKind::NotFound && !any_ancestor_exists(path) {
        Reach::OutsideGrants
    } else {
        Reach::InsideGrant
    };
    describe(operation, path, error, reach)
}

fn any_ancestor_exists(path: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .filter(|ancestor| !ancestor.as_os_str().is_empty())
        .any(|ancestor| ancestor.symlink_metadata().is_ok())
}

/// The message for `error`, given whether the path is inside a grant.
pub(crate) fn describe(
    operation: Operation,
    path: &Path,
    error: &io::Error,
    reach: Reach,
) -> ToolError {
    let shown = path.display();
    let denied =
        matches!(error.kind(), ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem)
            || (cfg!(target_os = "wasi") && error.raw_os_error() == Some(WASI_ENOTCAPABLE));
    let message = match error.kind() {
        ErrorKind::NotFound if reach == Reach::OutsideGrants => {
            format!("access denied: {shown} is outside the directories granted to this tool")
        }
        ErrorKind::NotFound => match operation {
            Operation::Read => format!("no such file: {shown}"),
            Operation::List => format!("no such directory: {shown}"),
            Operation::Write => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => {
                    format!("no such directory: {} (create it first)", parent.display())
                }
                _ => format!("no such file or directory: {shown}"),
            },
        },
        _ if denied => match operation {
            Operation::Write => format!(
                "access denied: {shown} is not writable by this tool (its directory \
                 is granted read-only, or the path leads outside the granted directories)"
            ),
            Operation::Read | Operation::List => format!(
                "access denied: {shown} leads outside the directories granted to this \
                 tool (through `..` or a symbolic link), or is not readable"
            ),
        },
        ErrorKind::IsADirectory => format!("{shown} is a directory, not a file"),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => format!(
            "no space left: {shown} could not be written because the disk (or quota) holding \
             it is full"
        ),
        // WASI file writes go through streams, whose errors reach the
        // guest as a bare EIO; the host's error was most likely ENOSPC.
        _ if operation == Operation::Write
            && cfg!(target_os = "wasi")
            && error.raw_os_error() == Some(WASI_EIO) =>
        {
            format!(
                "writing {shown} failed: the host reported an I/O error, most often because \
                 the disk (or quota) holding it is full"
            )
        }
        ErrorKind::NotADirectory => format!("not a directory: {shown}"),
        _ => {
            let verb = match operation {
                Operation::Read => "reading",
                Operation::Write => "writing",
                Operation::List => "listing",
            };
            format!("{verb} {shown} failed: {error}")
        }
    };
    ToolError::new(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(operation: Operation, path: &str, kind: ErrorKind, reach: Reach) -> String {
        describe(operation, Path::new(path), &io::Error::from(kind), reach).message().to_owned()
    }

    #[test]
    fn missing_path_with_no_visible_ancestor_is_outside_the_grants() {
        assert_eq!(
            message(Operation::Read, "/etc/passwd", ErrorKind::NotFound, Reach::OutsideGrants),
            "access denied: /etc/passwd is outside the directories granted to this tool"
        );
    }

    #[test]
    fn missing_file_inside_a_grant_is_no_such_file() {
        assert_eq!(
            message(Operation::Read, "/data/x.txt", ErrorKind::NotFound, Reach::InsideGrant),
            "no such file: /data/x.txt"
        );
    }

    #[test]
    fn missing_directory_to_list_is_no_such_directory() {
        assert_eq!(
            message(Operation::List, "/data/sub", ErrorKind::NotFound, Reach::InsideGrant),
            "no such directory: /data/sub"
        );
    }

    #[test]
    fn write_into_a_missing_directory_names_the_directory() {
        assert_eq!(
            message(Operation::Write, "/data/sub/x.txt", ErrorKind::NotFound, Reach::InsideGrant),
            "no such directory: /data/sub (create it first)"
        );
    }

    #[test]
    fn denied_write_mentions_read_only_grants() {
        let text = message(
            Operation::Write,
            "/data/x.txt",
            ErrorKind::PermissionDenied,
            Reach::InsideGrant,
        );
        assert!(text.starts_with("access denied: /data/x.txt is not writable"), "{text}");
        assert!(text.contains("read-only"), "{text}");
    }

    #[test]
    fn read_only_filesystem_is_a_denied_write() {
        let text = message(
            Operation::Write,
            "/data/x.txt",
            ErrorKind::ReadOnlyFilesystem,
            Reach::InsideGrant,
        );
        assert!(text.starts_with("access denied: /data/x.txt is not writable"), "{text}");
    }

    #[test]
    fn denied_read_mentions_escaping_the_grant() {
        let text = message(
            Operation::Read,
            "/data/../etc/passwd",
            ErrorKind::PermissionDenied,
            Reach::InsideGrant,
        );
        assert!(text.starts_with("access denied: /data/../etc/passwd leads outside"), "{text}");
    }

    #[test]
    fn other_failures_keep_the_underlying_error() {
        let error = io::Error::other("disk on fire");
        let text = describe(Operation::Read, Path::new("/data/a"), &error, Reach::InsideGrant);
        assert_eq!(text.message(), "reading /data/a failed: disk on fire");
    }

    #[test]
    fn explain_finds_a_visible_ancestor_natively() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.txt");
        let error = io::Error::from(ErrorKind::NotFound);
        let text = explain(Operation::Read, &missing, &error);
        assert!(text.message().starts_with("no such file: "), "{text}");
    }
}
