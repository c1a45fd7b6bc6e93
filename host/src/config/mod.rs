//! The TOML configuration file: its shape, its defaults, and its validation.
//!
//! A configuration names the components to load and what each is granted.
//! Nothing is granted by default: a component with no `[[component.dir]]`
//! sees no filesystem, one with no `[component.env]` sees no environment,
//! and one with no `network` rules reaches no network.
//!
//! ```toml
//! [limits]                 # defaults for every component (all optional)
//! timeout_ms = 10000
//!
//! [[component]]
//! name = "fs"              # [a-z0-9_-], unique
//! path = "fs.wasm"         # relative to this file; or "builtin:fs", or
//!                          # "oci://HOST/REPO@sha256:<hex>" (see crate::oci)
//! namespace = "fs"         # tool names become "fs_<tool>"; "" keeps them bare
//! network = ["api.example.com:443"]  # destinations (see crate::network); default none
//!
//! [[component.dir]]
//! host = "./data"          # relative to this file; must exist
//! guest = "/data"          # absolute path the component sees
//! mode = "ro"              # "ro" (default) or "rw"
//!
//! [component.env]
//! GREETING = "hello"                          # literal
//! API_KEY = { from_env = "HOST_API_KEY" }     # read from the host at start
//! TOKEN = { from_file = "/run/secrets/token" } # read from a file at start
//!
//! [component.limits]       # per-component overrides of [limits]
//! fuel = 5000000000
//! ```
//!
//! Parsing ([`Config::from_toml`]) checks the shape; [`crate::policy`] turns a
//! parsed config into resolved grants, reading the host paths and secrets.
//! Unknown keys are errors, so a misspelt limit is never silently ignored.
//!
//! Every table of the file is defined here: `[engine]`, `[limits]`,
//! `[oci]` and `[[component]]` in this module, `[server]` in [`server`] and
//! `[[native]]` in [`native`]. The transports and backends read these
//! types; this module imports none of them (an `oci://` path is parsed
//! into [`crate::oci::reference::OciReference`] here, so a malformed one stops the
//! load).

pub mod cluster;
pub mod native;
pub mod server;
pub mod settings;
pub mod tasks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use self::cluster::ClusterConfig;
pub use self::native::{Launcher, NativeConfig};
pub use self::server::{RateLimitConfig, ServerConfig};
use self::settings::{overridable, settings};
pub use self::tasks::{TaskSupport, TasksConfig};

/// Everything that can be wrong with a configuration file, naming the part.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("config {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the TOML parser said, with line and column.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("config: {context}: {message}")]
    Invalid {
        /// Which component and field, e.g. `component "fs": limits.fuel`.
        context: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid { context: context.into(), message: message.into() }
    }
}

/// A whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Engine-wide settings.
    #[serde(default)]
    pub engine: EngineConfig,
    /// Default limits for every component; each component may override any.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// The components to load, in order.
    #[serde(default, rename = "component")]
    pub components: Vec<ComponentConfig>,
    /// How `corral serve` listens, what it accepts and how it speaks MCP
    /// (the `[server]` table); defaults in [`ServerConfig`].
    #[serde(default)]
    pub server: ServerConfig,
    /// Native MCP servers run in containers (`[[native]]`); see
    /// [`native`]. Default: none.
    #[serde(default, rename = "native")]
    pub native: Vec<NativeConfig>,
    /// Where components pulled from OCI registries are kept and how
    /// registries are reached (the `[oci]` table); see [`OciConfig`].
    #[serde(default)]
    pub oci: OciConfig,
    /// Long-running calls run as MCP tasks (the `[tasks]` table); see
    /// [`tasks`].
    #[serde(default)]
    pub tasks: TasksConfig,
    /// State shared by replicas (the `[cluster]` table); see [`cluster`].
    /// Default: none, this process alone.
    #[serde(default)]
    pub cluster: ClusterConfig,
    /// Directory against which relative paths are resolved: the config
    /// file's directory, or the working directory for a config built in code.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

settings! {
    /// Settings shared by all components because wasmtime fixes them per engine.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EngineConfig in "engine" {
        /// Calls that may run at once across all components, and so the
        /// number of instance slots in the pooling allocator.
        pub max_instances: u32 = 64, range 1..=1000;
        /// Native stack a call's wasm may use before it traps with
        /// `stack_overflow`, in KiB. wasmtime sets this per engine, not per
        /// store, so it cannot be overridden per component.
        pub max_wasm_stack_kib: u32 = 512, range 64..=65_536;
        /// Linear memory a call wrote that is reset by copying it back from
        /// the component's image, and so stays resident for the next call in
        /// the same pool slot, instead of being returned to the kernel, per
        /// slot, in KiB (Linux 6.7+, which finds the written pages; elsewhere
        /// memory is always returned). More saves the next call the page
        /// faults of an interpreter that touches megabytes (Python,
        /// JavaScript) at the cost of up to `max_instances` times this of
        /// resident memory.
        pub memory_keep_resident_kib: u32 = 1024, range 0..=1_048_576;
        /// Where compiled components are cached, keyed by the component's
        /// SHA-256 and the engine's compatibility hash. The directory must be
        /// writable by the host only: its files are loaded as native code.
        pub cache_dir: Option<PathBuf> = None,
            toml "none: $CORRAL_CACHE_DIR, else $XDG_CACHE_HOME/corral, else ~/.cache/corral";
        /// Turns the compile cache off.
        pub no_cache: bool = false;
    }
}

settings! {
    /// The `[oci]` table: components whose `path` is `oci://...` (see
    /// [`crate::oci`]).
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct OciConfig in "oci" {
        /// The store of pulled manifests and components, relative to the
        /// config file; kept even with `no_cache`.
        pub dir: Option<PathBuf> = None, toml "none: oci/ in the compile cache directory";
        /// Registries (`HOST[:PORT]`, as written in references) reached over
        /// plain HTTP although not on loopback (others over HTTPS, except
        /// loopback registries, which are reached over plain HTTP).
        pub insecure: Vec<String> = Vec::new(), toml "[]";
        /// Largest component layer pulled, in MiB.
        pub max_blob_mib: u64 = 256, range 1..=4096;
    }
}

overridable! {
    /// Limits as written in the file (`[limits]`, `[component.limits]`):
    /// each may be absent, meaning "inherit".
    #[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct LimitOverrides resolves to LimitValues in "limits" {
        /// Wall-clock time for one call, in milliseconds.
        pub timeout_ms: u64 = 10_000, range 1..=86_400_000;
        /// Fuel (roughly, wasm instructions) for one call: about two seconds
        /// of pure compute by default.
        pub fuel: u64 = 2_000_000_000, range 1..=18_446_744_073_709_551_615;
        /// Linear memory for one call, in MiB.
        pub memory_mib: u64 = 64, range 1..=4096;
        /// Bytes of result content plus log and progress messages for one
        /// call, in KiB.
        pub output_kib: u64 = 1024, range 1..=1_048_576;
        /// Calls of this component that may run at once.
        pub max_concurrency: u32 = 16, range 1..=10_000;
        /// How long a call may wait for a free slot before it is refused as
        /// busy, in milliseconds.
        pub queue_timeout_ms: u64 = 5000, range 0..=86_400_000;
        /// Time to establish an outgoing `wasi:http` connection (TCP and
        /// TLS), in milliseconds.
        pub http_connect_timeout_ms: u64 = 5000, range 1..=86_400_000;
        /// Time from request sent to the first byte of the response, in
        /// milliseconds.
        pub http_first_byte_timeout_ms: u64 = 10_000, range 1..=86_400_000;
        /// Longest pause between two chunks of a response body, in
        /// milliseconds.
        pub http_between_bytes_timeout_ms: u64 = 10_000, range 1..=86_400_000;
        /// Bytes of one response body a component may receive, in KiB.
        pub http_response_kib: u64 = 4096, range 1..=1_048_576;
        /// Wall-clock time for one call run as a task, in milliseconds (15
        /// minutes by default).
        pub task_timeout_ms: u64 = 900_000, range 1..=604_800_000;
        /// Fuel for one call run as a task: about a quarter of an hour of
        /// pure compute by default.
        pub task_fuel: u64 = 1_000_000_000_000, range 1..=18_446_744_073_709_551_615;
    }
}

/// One `[[component]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// Unique name: lowercase letters, digits, `_` and `-`.
    pub name: String,
    /// Where the component comes from: a `.wasm` file relative to the
    /// config file, `builtin:<name>` for a bundled tool, or
    /// `oci://HOST[:PORT]/REPO@sha256:<hex>` (or `:TAG`) for one pulled
    /// from a registry. See [`ComponentConfig::source`].
    pub path: PathBuf,
    /// Prefix for this component's tool names: `<namespace>_<tool>`.
    /// Default: the component's name. An empty string exposes bare names.
    pub namespace: Option<String>,
    /// Directory grants. Default: none.
    #[serde(default, rename = "dir")]
    pub dirs: Vec<DirConfig>,
    /// Environment values the component sees. Default: none.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Network destinations the component may reach, in the forms of
    /// [`crate::network`]. Default: none, and an empty list denies everything.
    #[serde(default)]
    pub network: Vec<String>,
    /// Overrides of the default limits.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// Which of its tools may run as tasks, by the name the component
    /// gives the tool; `"*"` sets the rest. Default: `forbidden` for every
    /// tool. See [`tasks`].
    #[serde(default)]
    pub task_support: BTreeMap<String, TaskSupport>,
}

/// Where a component's bytes come from, as its `path` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentSource {
    /// A tool bundled in the binary, by name (`builtin:<name>`).
    Builtin(String),
    /// A file, resolved against the config file's directory.
    File(PathBuf),
    /// A component in an OCI registry (`oci://...`).
    Oci(crate::oci::reference::OciReference),
}

impl ComponentConfig {
    /// Where this component's bytes come from, `path` resolved against
    /// `base_dir`; a malformed `oci://` reference is an error naming it.
    pub fn source(&self, base_dir: &Path) -> Result<ComponentSource, ConfigError> {
        let text = self.path.to_str().unwrap_or_default();
        if let Some(name) = text.strip_prefix(BUILTIN_PREFIX) {
            return Ok(ComponentSource::Builtin(name.to_owned()));
        }
        if text.starts_with(crate::oci::reference::OCI_PREFIX) {
            return text.parse().map(ComponentSource::Oci).map_err(|err: String| {
                ConfigError::invalid(format!("component {:?}: path", self.name), err)
            });
        }
        Ok(ComponentSource::File(base_dir.join(&self.path)))
    }
}

/// One directory grant as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirConfig {
    /// Directory on the host, relative to the config file.
    pub host: PathBuf,
    /// Absolute path under which the component sees it.
    pub guest: String,
    /// Access mode. Default: read-only.
    #[serde(default)]
    pub mode: DirMode,
}

/// Whether a granted directory may be written.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DirMode {
    /// Read-only: files and directories can be read, nothing created or changed.
    #[default]
    Ro,
    /// Read-write.
    Rw,
}

/// An environment value: a literal, or a secret read at start.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged, deny_unknown_fields)]
pub enum EnvValue {
    /// The value itself, written in the file.
    Literal(String),
    /// Copied from the host's environment variable of this name at start.
    FromEnv {
        /// Host variable name.
        from_env: String,
    },
    /// Read from this file at start (trailing newline removed).
    FromFile {
        /// File path, relative to the config file.
        from_file: PathBuf,
    },
}

/// A component `path` of the form `builtin:<name>` names a tool bundled in
/// the `corral` binary (see [`crate::bundled`]) instead of a file.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// Where the built-in configuration's `fs` tool keeps its files:
/// `$CORRAL_DATA_DIR`, else `./corral-data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("CORRAL_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("corral-data"))
}

/// The configuration used when none is given: the bundled `fs` tool granted
/// `data_dir` (created if missing) read-write at `/data`, the `text` tool,
/// the `conformance` tools with bare names, and the `notes` example granted
/// `data_dir/notes` read-write at `/notes`.
pub fn builtin(data_dir: &Path) -> Result<Config, ConfigError> {
    let notes_dir = data_dir.join("notes");
    std::fs::create_dir_all(&notes_dir).map_err(|err| {
        ConfigError::invalid(
            "component \"notes\": dir \"/notes\"",
            format!("cannot create {}: {err}", notes_dir.display()),
        )
    })?;
    let host = toml::Value::String(data_dir.display().to_string());
    let notes = toml::Value::String(notes_dir.display().to_string());
    let text = format!(
        r#"
        [[component]]
        name = "fs"
        path = "builtin:fs"
        [[component.dir]]
        host = {host}
        guest = "/data"
        mode = "rw"

        [[component]]
        name = "text"
        path = "builtin:text"

        [[component]]
        name = "conformance"
        path = "builtin:conformance"
        namespace = ""

        [[component]]
        name = "notes"
        path = "builtin:notes"
        # delete_note waits for its user's confirmation within the call.
        limits.timeout_ms = 120000
        [[component.dir]]
        host = {notes}
        guest = "/notes"
        mode = "rw"
        "#
    );
    Config::from_toml(&text, Path::new("<built-in config>"), Path::new("."))
}

impl Config {
    /// Reads and parses a configuration file; relative paths in it are
    /// resolved against its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::from_toml(&text, path, &base)
    }

    /// The lock file of approved tool definitions: `[server] lock_file`,
    /// else `corral.lock`, relative to the config's directory.
    pub fn lock_path(&self) -> PathBuf {
        let file = self.server.lock_file.as_deref().unwrap_or(Path::new("corral.lock"));
        self.base_dir.join(file)
    }

    /// Parses configuration text. `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path, base_dir: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            path: origin.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        config.base_dir =
            if base_dir.as_os_str().is_empty() { PathBuf::from(".") } else { base_dir.to_owned() };
        config.validate()?;
        Ok(config)
    }

    /// Checks what can be checked without touching the filesystem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.engine.check_ranges()?;
        self.oci.check_ranges()?;
        self.limits.validate("limits")?;
        self.server.validate()?;
        self.tasks.validate()?;
        self.cluster.validate()?;
        let mut names = std::collections::HashSet::new();
        for component in &self.components {
            let ctx = format!("component {:?}", component.name);
            if !is_valid_name(&component.name) {
                return Err(ConfigError::invalid(
                    ctx,
                    "name must be 1-64 characters of a-z, 0-9, '_' or '-'",
                ));
            }
            if !names.insert(component.name.as_str()) {
                return Err(ConfigError::invalid(ctx, "name is used by another component"));
            }
            if let Some(ns) = &component.namespace
                && !ns.is_empty()
                && !ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(ConfigError::invalid(
                    format!("{ctx}: namespace"),
                    "must contain only A-Z, a-z, 0-9, '_' or '-'",
                ));
            }
            component.source(&self.base_dir)?;
            component.limits.validate(&format!("{ctx}: limits"))?;
            let mut guests = std::collections::HashSet::new();
            for dir in &component.dirs {
                let dctx = format!("{ctx}: dir {:?}", dir.guest);
                if !dir.guest.starts_with('/') {
                    return Err(ConfigError::invalid(dctx, "guest path must be absolute"));
                }
                if dir.guest.split('/').any(|seg| seg == ".." || seg == ".") {
                    return Err(ConfigError::invalid(
                        dctx,
                        "guest path must not contain '.' or '..'",
                    ));
                }
                if !guests.insert(dir.guest.trim_end_matches('/')) {
                    return Err(ConfigError::invalid(dctx, "guest path is granted twice"));
                }
            }
            crate::network::NetRules::parse(&component.network)
                .map_err(|err| ConfigError::invalid(format!("{ctx}: network"), err.to_string()))?;
            for key in component.env.keys() {
                if key.is_empty() || key.contains('=') || key.contains('\0') {
                    return Err(ConfigError::invalid(
                        format!("{ctx}: env {key:?}"),
                        "variable names must be non-empty and contain no '=' or NUL",
                    ));
                }
            }
        }
        for native in &self.native {
            native.validate()?;
            if !names.insert(native.name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("native {:?}", native.name),
                    "name is used by another component or native server",
                ));
            }
        }
        Ok(())
    }
}

/// Component names: 1-64 of `a-z`, `0-9`, `_`, `-`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"), Path::new("/base"))
    }

    #[test]
    fn empty_config_has_no_components_and_default_engine() {
        let config = parse("").unwrap();
        assert!(config.components.is_empty());
        assert_eq!(config.engine.max_instances, 64);
        assert_eq!(config.engine.max_wasm_stack_kib, 512);
    }

    #[test]
    fn full_component_entry_parses() {
        let config = parse(
            r#"
            [limits]
            timeout_ms = 500
            [[component]]
            name = "fs"
            path = "fs.wasm"
            namespace = ""
            [[component.dir]]
            host = "data"
            guest = "/data"
            mode = "rw"
            [component.env]
            A = "1"
            B = { from_env = "HOST_B" }
            C = { from_file = "c.txt" }
            [component.limits]
            fuel = 10
            "#,
        )
        .unwrap();
        let c = &config.components[0];
        assert_eq!(c.namespace.as_deref(), Some(""));
        assert_eq!(c.dirs[0].mode, DirMode::Rw);
        assert_eq!(c.env["A"], EnvValue::Literal("1".into()));
        assert_eq!(c.env["B"], EnvValue::FromEnv { from_env: "HOST_B".into() });
        assert_eq!(c.env["C"], EnvValue::FromFile { from_file: "c.txt".into() });
        assert_eq!(c.limits.or(config.limits).timeout_ms, Some(500));
        assert_eq!(c.limits.fuel, Some(10));
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = parse("[limits]\nfuell = 3\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `fuell`"), "{err}");
        assert!(err.contains("test.toml"), "{err}");
    }

    #[test]
    fn relative_guest_path_is_rejected_naming_component() {
        let err = parse("[[component]]\nname = \"x\"\npath = \"x.wasm\"\n[[component.dir]]\nhost = \".\"\nguest = \"data\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "config: component \"x\": dir \"data\": guest path must be absolute");
    }

    #[test]
    fn dot_dot_in_guest_path_is_rejected() {
        let err = parse("[[component]]\nname = \"x\"\npath = \"x.wasm\"\n[[component.dir]]\nhost = \".\"\nguest = \"/a/../b\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("must not contain"), "{err}");
    }

    #[test]
    fn duplicate_component_names_are_rejected() {
        let err = parse("[[component]]\nname = \"x\"\npath = \"a\"\n[[component]]\nname = \"x\"\npath = \"b\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "config: component \"x\": name is used by another component");
    }

    #[test]
    fn zero_limit_is_out_of_range_naming_field() {
        let err = parse(
            "[[component]]\nname = \"x\"\npath = \"a\"\n[component.limits]\nmemory_mib = 0\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "config: component \"x\": limits.memory_mib: 0 is out of range 1..=4096");
    }

    #[test]
    fn uppercase_component_name_is_rejected() {
        assert!(parse("[[component]]\nname = \"Fs\"\npath = \"a\"\n").is_err());
    }
}
