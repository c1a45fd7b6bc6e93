//! What one component is granted: directories, environment, and limits.
//!
//! A [`Policy`] is resolved once, at load, from the configuration:
//!
//! | grant | default | resolved how |
//! | --- | --- | --- |
//! | directories | none | host path canonicalised, must exist and be a directory |
//! | environment | none | literals as written; `from_env` / `from_file` read now |
//! | network | none: an empty list denies everything | rules parsed by [`crate::network`] |
//! | stdin | closed | - |
//! | stdout, stderr | captured per call, bounded | - |
//! | limits | [`crate::config::LimitOverrides`] (each key's default) | per-component value, else `[limits]`, else default |
//!
//! Secret values ([`EnvValue::FromEnv`], [`EnvValue::FromFile`]) are held in
//! [`Secret`], whose `Debug` and `Display` print `<redacted>`, so a policy can
//! be logged or printed by `corral check` without leaking them.
//!
//! Paths a component names are resolved inside its grants by wasmtime-wasi on
//! top of cap-std: `..`, absolute paths and symlinks that leave a granted
//! directory fail inside WASI, so this module does no path filtering of its own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::{ComponentConfig, ConfigError, DirConfig, DirMode, EnvValue, LimitOverrides};
use crate::network::NetRules;

/// Everything one component may use.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// Directory grants, in config order.
    pub dirs: Vec<DirGrant>,
    /// Environment values, in name order.
    pub env: Vec<(String, EnvEntry)>,
    /// Network destinations; empty denies everything.
    pub network: Arc<NetRules>,
    /// Per-call limits.
    pub limits: Limits,
}

/// A host directory made visible to the component at `guest`.
#[derive(Debug, Clone, Serialize)]
pub struct DirGrant {
    /// Canonical host path.
    pub host: PathBuf,
    /// Absolute path inside the component.
    pub guest: String,
    /// Whether the component may write.
    pub writable: bool,
}

/// One environment value, literal or secret.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EnvEntry {
    /// A value written in the config; shown by `corral check`.
    Literal(String),
    /// A value read from the host environment or a file; never shown.
    Secret(Secret),
}

impl EnvEntry {
    /// The value to hand to the component.
    pub fn expose(&self) -> &str {
        match self {
            EnvEntry::Literal(v) => v,
            EnvEntry::Secret(s) => &s.0,
        }
    }
}

/// A value that must not appear in logs, errors or `corral check` output.
#[derive(Clone)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

/// Per-call limits after defaults are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock time for one call.
    #[serde(serialize_with = "as_millis")]
    pub timeout: Duration,
    /// Fuel for one call.
    pub fuel: u64,
    /// Linear-memory bytes for one call.
    pub memory_bytes: u64,
    /// Bytes of result content plus log and progress messages.
    pub output_bytes: u64,
    /// Concurrent calls of this component.
    pub max_concurrency: u32,
    /// Longest wait for a free slot before the call is refused as busy.
    #[serde(serialize_with = "as_millis")]
    pub queue_timeout: Duration,
    /// Outgoing HTTP connection set-up (TCP and TLS).
    #[serde(serialize_with = "as_millis")]
    pub http_connect_timeout: Duration,
    /// Outgoing HTTP wait for the first response byte.
    #[serde(serialize_with = "as_millis")]
    pub http_first_byte_timeout: Duration,
    /// Outgoing HTTP pause between response chunks.
    #[serde(serialize_with = "as_millis")]
    pub http_between_bytes_timeout: Duration,
    /// Bytes of one outgoing HTTP response body.
    pub http_response_bytes: u64,
    /// Wall-clock time for one call run as a task.
    #[serde(serialize_with = "as_millis")]
    pub task_timeout: Duration,
    /// Fuel for one call run as a task.
    pub task_fuel: u64,
    /// The settings `timeout` and `fuel` came from, for messages.
    #[serde(skip)]
    pub names: LimitNames,
}

/// The names of the settings a call's time and fuel limits came from, so
/// that a failure names the one to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitNames {
    /// `timeout_ms`, or `task_timeout_ms` for a task.
    pub timeout: &'static str,
    /// `fuel`, or `task_fuel` for a task.
    pub fuel: &'static str,
}

impl Default for LimitNames {
    fn default() -> Self {
        LimitNames { timeout: "timeout_ms", fuel: "fuel" }
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Limits {
    /// Applies the defaults ([`LimitOverrides`]) to whatever `overrides`
    /// leaves unset.
    pub fn resolve(overrides: LimitOverrides) -> Limits {
        let v = overrides.resolved();
        Limits {
            timeout: Duration::from_millis(v.timeout_ms),
            fuel: v.fuel,
            memory_bytes: v.memory_mib << 20,
            output_bytes: v.output_kib << 10,
            max_concurrency: v.max_concurrency,
            queue_timeout: Duration::from_millis(v.queue_timeout_ms),
            http_connect_timeout: Duration::from_millis(v.http_connect_timeout_ms),
            http_first_byte_timeout: Duration::from_millis(v.http_first_byte_timeout_ms),
            http_between_bytes_timeout: Duration::from_millis(v.http_between_bytes_timeout_ms),
            http_response_bytes: v.http_response_kib << 10,
            task_timeout: Duration::from_millis(v.task_timeout_ms),
            task_fuel: v.task_fuel,
            names: LimitNames::default(),
        }
    }

    /// The limits of a call run as a task: its time and fuel are the task
    /// limits, the rest the same.
    pub fn for_task(self) -> Limits {
        Limits {
            timeout: self.task_timeout,
            fuel: self.task_fuel,
            names: LimitNames { timeout: "task_timeout_ms", fuel: "task_fuel" },
            ..self
        }
    }
}

impl Limits {
    /// Each limit raised to at least its default (concurrency and queueing kept).
    pub fn at_least_defaults(self) -> Limits {
        let d = Limits::default();
        Limits {
            timeout: self.timeout.max(d.timeout),
            fuel: self.fuel.max(d.fuel),
            memory_bytes: self.memory_bytes.max(d.memory_bytes),
            output_bytes: self.output_bytes.max(d.output_bytes),
            ..self
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::resolve(LimitOverrides::default())
    }
}

impl Policy {
    /// A policy that grants nothing, with default limits.
    pub fn deny_all() -> Policy {
        Policy {
            dirs: Vec::new(),
            env: Vec::new(),
            network: Arc::default(),
            limits: Limits::default(),
        }
    }

    /// Resolves a component's config entry: checks each host directory,
    /// reads secrets, and applies `defaults` then built-in limits.
    pub fn resolve(
        component: &ComponentConfig,
        base_dir: &Path,
        defaults: LimitOverrides,
    ) -> Result<Policy, ConfigError> {
        let ctx = format!("component {:?}", component.name);
        let dirs = resolve_dirs(&ctx, &component.dirs, base_dir)?;
        let env = resolve_env(&ctx, &component.env, base_dir)?;
        let network = NetRules::parse(&component.network)
            .map_err(|err| ConfigError::invalid(format!("{ctx}: network"), err.to_string()))?;
        Ok(Policy {
            dirs,
            env,
            network: Arc::new(network),
            limits: Limits::resolve(component.limits.or(defaults)),
        })
    }
}

/// Resolves the directory grants of the part named by `ctx` (`component
/// "x"`, `native "y"`), host paths relative to `base_dir`. Errors name
/// `ctx` and the grant's guest path.
pub fn resolve_dirs(
    ctx: &str,
    dirs: &[DirConfig],
    base_dir: &Path,
) -> Result<Vec<DirGrant>, ConfigError> {
    dirs.iter()
        .map(|dir| {
            DirGrant::resolve(
                &format!("{ctx}: dir {:?}", dir.guest),
                &base_dir.join(&dir.host),
                &dir.guest,
                dir.mode == DirMode::Rw,
            )
        })
        .collect()
}

/// Resolves environment values for the part named by `ctx` (`component
/// "x"`, `native "y"`): literals as written, `from_env` and `from_file`
/// read now and held as [`Secret`]s. Errors name `ctx` and the variable.
pub fn resolve_env(
    ctx: &str,
    env: &BTreeMap<String, EnvValue>,
    base_dir: &Path,
) -> Result<Vec<(String, EnvEntry)>, ConfigError> {
    let mut resolved = Vec::with_capacity(env.len());
    for (key, value) in env {
        let ectx = format!("{ctx}: env {key:?}");
        let entry = match value {
            EnvValue::Literal(v) => EnvEntry::Literal(v.clone()),
            EnvValue::FromEnv { from_env } => {
                let v = std::env::var(from_env).map_err(|_| {
                    ConfigError::invalid(
                        &ectx,
                        format!("host environment variable {from_env} is not set (or not UTF-8)"),
                    )
                })?;
                EnvEntry::Secret(Secret(v))
            }
            EnvValue::FromFile { from_file } => {
                let v = read_secret_file(&base_dir.join(from_file))
                    .map_err(|why| ConfigError::invalid(&ectx, why))?;
                EnvEntry::Secret(Secret(v.trim_end_matches(['\n', '\r']).to_owned()))
            }
        };
        resolved.push((key.clone(), entry));
    }
    Ok(resolved)
}

/// The largest secret file `from_file` reads.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Reads a `from_file` secret: a regular file (a device such as
/// `/dev/zero` or a FIFO would never end or never open) of at most
/// [`MAX_SECRET_FILE`] bytes of UTF-8.
fn read_secret_file(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|err| format!("cannot read {shown}: {err}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    let file = std::fs::File::open(path).map_err(|err| format!("cannot read {shown}: {err}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot read {shown}: {err}"))?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(format!(
            "{shown} is larger than {MAX_SECRET_FILE} bytes, too large for a secret"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

impl DirGrant {
    /// Checks that `host` is an existing directory and canonicalises it.
    pub fn resolve(
        ctx: &str,
        host: &Path,
        guest: &str,
        writable: bool,
    ) -> Result<DirGrant, ConfigError> {
        let canonical = host.canonicalize().map_err(|err| {
            ConfigError::invalid(
                ctx,
                format!("host path {} does not exist ({err})", host.display()),
            )
        })?;
        if !canonical.is_dir() {
            return Err(ConfigError::invalid(
                ctx,
                format!("host path {} is not a directory", host.display()),
            ));
        }
        Ok(DirGrant { host: canonical, guest: guest.to_owned(), writable })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn component(env: BTreeMap<String, EnvValue>) -> ComponentConfig {
        ComponentConfig {
            name: "t".into(),
            path: "t.wasm".into(),
            namespace: None,
            task_support: BTreeMap::new(),
            dirs: Vec::new(),
            env,
            network: Vec::new(),
            limits: LimitOverrides::default(),
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let limits = Limits::default();
        assert_eq!(limits.timeout, Duration::from_secs(10));
        assert_eq!(limits.fuel, 2_000_000_000);
        assert_eq!(limits.memory_bytes, 64 << 20);
        assert_eq!(limits.output_bytes, 1 << 20);
        assert_eq!(limits.max_concurrency, 16);
        assert_eq!(limits.http_connect_timeout, Duration::from_secs(5));
        assert_eq!(limits.http_response_bytes, 4 << 20);
    }

    #[test]
    fn bad_network_rule_names_component_and_rule() {
        let mut c = component(BTreeMap::new());
        c.network = vec!["example.com:443".into(), "10.0.0.1/8".into()];
        let err =
            Policy::resolve(&c, Path::new("."), LimitOverrides::default()).unwrap_err().to_string();
        assert_eq!(
            err,
            "config: component \"t\": network: network rule \"10.0.0.1/8\": is not a valid IPv4 address or CIDR block"
        );
    }

    #[test]
    fn component_limit_wins_over_global_default() {
        let mut c = component(BTreeMap::new());
        c.limits.fuel = Some(7);
        let global = LimitOverrides { fuel: Some(9), timeout_ms: Some(5), ..Default::default() };
        let policy = Policy::resolve(&c, Path::new("."), global).unwrap();
        assert_eq!(policy.limits.fuel, 7);
        assert_eq!(policy.limits.timeout, Duration::from_millis(5));
    }

    #[test]
    fn missing_host_dir_names_component_and_path() {
        let mut c = component(BTreeMap::new());
        c.dirs.push(crate::config::DirConfig {
            host: "does-not-exist".into(),
            guest: "/data".into(),
            mode: DirMode::Ro,
        });
        let err = Policy::resolve(&c, Path::new("/nonexistent-base"), LimitOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "config: component \"t\": dir \"/data\": host path /nonexistent-base/does-not-exist does not exist"
            ),
            "{err}"
        );
    }

    #[test]
    fn secret_from_file_is_read_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
        let env = BTreeMap::from([(
            "TOKEN".to_owned(),
            EnvValue::FromFile { from_file: "token".into() },
        )]);
        let policy =
            Policy::resolve(&component(env), dir.path(), LimitOverrides::default()).unwrap();
        assert_eq!(policy.env[0].1.expose(), "s3cret");
        let shown = format!("{policy:?} {}", serde_json::to_string(&policy).unwrap());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_secret_file_that_is_a_device_a_directory_or_too_large_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), vec![b'x'; MAX_SECRET_FILE as usize + 1]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for (file, why) in [
            // Read whole, /dev/zero never ends: the host would not start.
            ("/dev/zero", "/dev/zero is not a regular file"),
            ("sub", "sub is not a regular file"),
            ("big", "big is larger than 65536 bytes, too large for a secret"),
        ] {
            let env = BTreeMap::from([(
                "TOKEN".to_owned(),
                EnvValue::FromFile { from_file: file.into() },
            )]);
            let err = Policy::resolve(&component(env), dir.path(), LimitOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("config: component \"t\": env \"TOKEN\": "), "{err}");
            assert!(err.ends_with(why), "{err}");
        }
    }

    #[test]
    fn unset_host_variable_is_an_error_naming_it() {
        let env = BTreeMap::from([(
            "KEY".to_owned(),
            EnvValue::FromEnv { from_env: "CORRAL_TEST_SURELY_UNSET_VAR".into() },
        )]);
        let err = Policy::resolve(&component(env), Path::new("."), LimitOverrides::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "config: component \"t\": env \"KEY\": host environment variable CORRAL_TEST_SURELY_UNSET_VAR is not set (or not UTF-8)"
        );
    }
}
