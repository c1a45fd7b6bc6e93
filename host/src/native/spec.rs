//! What a native server is granted, resolved once at load: its `[[native]]`
//! entry, its environment with secrets read, and its directories checked.
//!
//! | grant | default | resolved how |
//! | --- | --- | --- |
//! | environment | none | literals as written; `from_env` / `from_file` read now, held as [`crate::policy::Secret`] |
//! | directories | none | host path canonicalised, must exist and be a directory |
//! | network | `none` | as configured (checked at parse) |
//!
//! Environment values are resolved by [`crate::policy::resolve_env`], as a
//! component's are; secrets print `<redacted>`, and the launcher hands them
//! to a container only as files.

use std::path::Path;

use crate::config::ConfigError;
use crate::config::NativeConfig;
pub use crate::policy::EnvEntry;
use crate::policy::{DirGrant, resolve_dirs, resolve_env};

/// What the launcher needs of a server, resolved at load.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The `[[native]]` entry.
    pub config: NativeConfig,
    /// Environment values, secrets read.
    pub env: Vec<(String, EnvEntry)>,
    /// Directory grants, host paths canonicalised.
    pub dirs: Vec<DirGrant>,
    /// Identifies this host instance on its containers (`corral.host` label).
    pub instance: String,
    /// The config file's directory: the working directory of a server run
    /// by the process launcher, so that relative paths in its command are
    /// relative to the config, like every other path in it.
    pub base_dir: std::path::PathBuf,
}

impl LaunchSpec {
    /// Reads the secrets and checks the host directories of `config`;
    /// errors name the server and the variable or directory.
    pub fn resolve(
        config: &NativeConfig,
        base_dir: &Path,
        instance: &str,
    ) -> Result<LaunchSpec, ConfigError> {
        let ctx = format!("native {:?}", config.name);
        let env = resolve_env(&ctx, &config.env, base_dir)?;
        let dirs = resolve_dirs(&ctx, &config.dir, base_dir)?;
        Ok(LaunchSpec {
            config: config.clone(),
            env,
            dirs,
            instance: instance.to_owned(),
            base_dir: base_dir.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    use super::*;

    fn resolve(toml: &str, base: &Path) -> Result<LaunchSpec, ConfigError> {
        let config = Config::from_toml(toml, Path::new("t"), base).unwrap();
        LaunchSpec::resolve(&config.native[0], base, "i")
    }

    #[test]
    fn unset_host_variable_is_an_error_naming_server_and_variable() {
        let err = resolve(
            "[[native]]\nname = \"n\"\nimage = \"x\"\n[native.env]\nKEY = { from_env = \"CORRAL_TEST_SURELY_UNSET_VAR\" }\n",
            Path::new("."),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "config: native \"n\": env \"KEY\": host environment variable CORRAL_TEST_SURELY_UNSET_VAR is not set (or not UTF-8)"
        );
    }

    #[test]
    fn secret_is_read_trimmed_and_redacted_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t"), "hunter2\n").unwrap();
        let spec = resolve(
            "[[native]]\nname = \"n\"\nimage = \"x\"\n[native.env]\nT = { from_file = \"t\" }\n",
            dir.path(),
        )
        .unwrap();
        assert_eq!(spec.env[0].1.expose(), "hunter2");
        let shown = format!("{spec:?}");
        assert!(!shown.contains("hunter2") && shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn missing_host_directory_names_server_and_guest_path() {
        let err = resolve(
            "[[native]]\nname = \"n\"\nimage = \"x\"\n[[native.dir]]\nhost = \"nope\"\nguest = \"/d\"\n",
            Path::new("/nonexistent-base"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "config: native \"n\": dir \"/d\": host path /nonexistent-base/nope does not exist"
            ),
            "{err}"
        );
    }
}
