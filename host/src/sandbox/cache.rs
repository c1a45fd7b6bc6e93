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
//! Trust: artifacts are native code loaded without verification, so the
//! directory is created mode 0700 and must not be writable by anyone but the
//! host's user.

use std::hash::{Hash, Hasher};
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
    /// Opens (creating if needed) a cache directory for `engine`.
    pub fn open(dir: &Path, engine: &Engine) -> std::io::Result<CompileCache> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
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
        if path.exists() {
            // SAFETY: the cache directory is private to the host (see the
            // module docs) and the key includes the engine's compatibility
            // hash; wasmtime re-checks the header before using the artifact.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, true)),
                Err(err) => {
                    tracing::warn!(path = %path.display(), "ignoring unusable cache entry: {err}")
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = self.store(&path, &component) {
            tracing::warn!(path = %path.display(), "could not write compile cache: {err}");
        }
        Ok((component, false))
    }

    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        // Write then rename, so a concurrent reader never sees half a file.
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut tmp, &bytes)?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }
}
