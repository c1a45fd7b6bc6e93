//! The local content-addressed store of pulled manifests and components:
//! `<dir>/sha256/<hex>`, each file the bytes whose sha256 is its name.
//!
//! Every read checks the bytes against the name, so the store needs no
//! trust of its own: a file changed on disk is refused as a digest
//! mismatch and removed, never compiled. Writes go to a temporary file in
//! the same directory and are renamed into place, so a reader (another
//! `corral` included) sees a whole file or none.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Digest, OciErrorKind};

/// A directory of blobs named by their sha256.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    /// The store rooted at `dir` (created on the first write).
    pub fn new(dir: PathBuf) -> BlobStore {
        BlobStore { dir }
    }

    /// The store's root.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob of `digest` lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("sha256").join(digest.hex())
    }

    /// The stored bytes of `digest`, checked; `None` when not stored. A file
    /// whose bytes do not match is removed and reported as a mismatch.
    pub fn get(
        &self,
        digest: &Digest,
        what: &'static str,
    ) -> Result<Option<Vec<u8>>, OciErrorKind> {
        let path = self.path(digest);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(OciErrorKind::Store { path, source }),
        };
        let actual = Digest::of(&bytes);
        if &actual != digest {
            // Not kept: the next pull fetches it again.
            let _ = std::fs::remove_file(&path);
            return Err(OciErrorKind::DigestMismatch {
                what,
                expected: digest.to_string(),
                actual: actual.to_string(),
                place: format!("in the local store ({}, removed)", path.display()),
            });
        }
        Ok(Some(bytes))
    }

    /// Stores `bytes`, which the caller has checked to be `digest`'s.
    pub fn put(&self, digest: &Digest, bytes: &[u8]) -> Result<(), OciErrorKind> {
        let path = self.path(digest);
        let dir = path.parent().unwrap_or(Path::new("."));
        let store_error = |source| OciErrorKind::Store { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(store_error)?;
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(store_error)?;
        file.write_all(bytes).map_err(store_error)?;
        file.as_file().sync_all().map_err(store_error)?;
        file.persist(&path).map_err(|err| store_error(err.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_blob_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().to_owned());
        let digest = Digest::of(b"component");
        assert!(store.get(&digest, "layer").unwrap().is_none());
        store.put(&digest, b"component").unwrap();
        assert_eq!(store.get(&digest, "layer").unwrap().unwrap(), b"component");
    }

    #[test]
    fn changed_blob_is_refused_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().to_owned());
        let digest = Digest::of(b"component");
        store.put(&digest, b"component").unwrap();
        std::fs::write(store.path(&digest), b"tampered").unwrap();
        let err = store.get(&digest, "layer").unwrap_err();
        assert!(
            matches!(&err, OciErrorKind::DigestMismatch { actual, .. } if *actual == Digest::of(b"tampered").to_string())
        );
        assert!(!store.path(&digest).exists());
    }
}
