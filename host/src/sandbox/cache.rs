//! On-disk cache of compiled components.
//!
//! Compiling a component with Cranelift takes tens to hundreds of
//! milliseconds; loading a compiled artifact takes well under one. Entries
//! are keyed by the SHA-256 of the component bytes together with the engine's
//! compatibility hash (wasmtime version, compiler settings, enabled
//! features), so a change to either is a miss, never a wrong hit. wasmtime
//! checks compatibility again when loading; an entry it refuses is
//! recompiled and replaced.
//!
//! Artifacts are native code, loaded and run, so the cache guards what it
//! loads:
//!
//! | threat | guard |
//! | --- | --- |
//! | a truncated or altered file (a crash mid-write, a bad disk, a stray edit), or one swapped for another entry | each entry is `SHA-256(entry name ‖ artifact) ‖ artifact`, the name being its key; a mismatch is never loaded: it is recompiled and replaced, with a warning |
//! | another user writing the cache | the directory is created 0700; a directory owned by another user, or writable by group or others, is refused: the host does not start, and the error names the path, why, and `engine.no_cache = true` (compile at each start instead); such an entry is never loaded: it is compiled again, with a warning naming it |
//! | a half-written file seen by a concurrent loader | entries are written to a temporary file and renamed |
//!
//! The digest detects corruption, not an attacker who can write the
//! directory: that is what the ownership check is for.

use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of compiled components for one engine configuration.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

/// Feeds `Hash` output into SHA-256 so the key is stable across processes,
/// unlike `DefaultHasher`'s.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        // Only the full digest is used as a key; this is for completeness.
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CompileCache {
    /// Opens (creating if needed) a cache directory for `engine`. A
    /// directory another user owns, or that group or others may write, is
    /// an error naming it.
    pub fn open(dir: &Path, engine: &Engine) -> io::Result<CompileCache> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        check_private(dir, "directory")?;
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(CompileCache { dir: dir.to_owned(), engine_key: hex(&hasher.0.finalize()[..16]) })
    }

    /// The default location: `$CORRAL_CACHE_DIR`, else `$XDG_CACHE_HOME/corral`,
    /// else `$HOME/.cache/corral`; `None` when none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        var("CORRAL_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("corral")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("corral")))
    }

    fn entry(&self, wasm: &[u8]) -> PathBuf {
        let digest = hex(&Sha256::digest(wasm));
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    /// The compiled component, from the cache or compiled now and stored.
    /// A cache that cannot be written is not an error: the component still loads.
    pub fn get_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, bool)> {
        let path = self.entry(wasm);
        match self.read(&path) {
            Ok(Some(artifact)) => {
                // SAFETY: the artifact is the one this cache wrote (its digest
                // matches, and only the host's user can write the directory
                // and the file, as `read` checked); the key includes the
                // engine's compatibility hash, and wasmtime re-checks the
                // header before using it.
                match unsafe { Component::deserialize(engine, artifact) } {
                    Ok(component) => return Ok((component, true)),
                    Err(err) => {
                        tracing::warn!(path = %path.display(), "ignoring unusable cache entry: {err}")
                    }
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(path = %path.display(), "ignoring cache entry, compiling again: {err}")
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = self.store(&path, &component) {
            tracing::warn!(path = %path.display(), "could not write compile cache: {err}");
        }
        Ok((component, false))
    }

    /// The artifact stored at `path`, its digest checked; `None` if there
    /// is none.
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        let mut bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        check_private(path, "entry")?;
        if bytes.len() < DIGEST_LEN {
            return Err(io::Error::other(format!(
                "{} bytes, shorter than its digest",
                bytes.len()
            )));
        }
        let artifact = bytes.split_off(DIGEST_LEN);
        if digest(path, &artifact)[..] != bytes[..] {
            return Err(io::Error::other(
                "its digest does not match its name and contents (truncated, altered or swapped)",
            ));
        }
        Ok(Some(artifact))
    }

    fn store(&self, path: &Path, component: &Component) -> io::Result<()> {
        let artifact = component.serialize().map_err(io::Error::other)?;
        // Write then rename, so a concurrent reader never sees half a file.
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        io::Write::write_all(&mut tmp, &digest(path, &artifact))?;
        io::Write::write_all(&mut tmp, &artifact)?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }
}

/// Bytes of the SHA-256 digest in front of each artifact.
const DIGEST_LEN: usize = 32;

/// The digest in front of the artifact stored at `path`: over the entry's
/// name (its key) and the artifact, so an entry copied to another key does
/// not match.
fn digest(path: &Path, artifact: &[u8]) -> [u8; DIGEST_LEN] {
    let name = path.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name);
    hasher.update(artifact);
    hasher.finalize().into()
}

/// Refuses a `what` (the directory, an entry) that another user owns or
/// that group or others may write: its contents could then be anyone's
/// native code.
#[cfg(unix)]
fn check_private(path: &Path, what: &str) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "cache {what} {} is owned by uid {}, not by this process's user (uid {me}); \
                 its files are loaded as native code",
                path.display(),
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "cache {what} {} is writable by group or others (mode {:o}); \
                 its files are loaded as native code",
                path.display(),
                meta.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _what: &str) -> io::Result<()> {
    Ok(())
}
