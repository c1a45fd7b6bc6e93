//! The `[[native]]` entries of the configuration: MCP servers that exist
//! only as native programs, run in a hardened container (or, for
//! development and tests only, as a plain process).
//!
//! ```toml
//! [[native]]
//! name = "git"                      # [a-z0-9_-], unique; tools become "git_<tool>"
//! image = "corral-git-mcp:1.4"      # docker launcher: a local image (never pulled)
//! command = ["--stdio"]             # arguments after the image (docker) or argv (process)
//! network = "none"                  # or the name of a docker network to join
//! memory_mib = 256
//! cpus = 0.5
//! pids_limit = 64
//! call_timeout_ms = 30000
//!
//! [native.env]
//! LOG_FORMAT = "json"                         # literal: passed as an environment variable
//! API_KEY = { from_env = "HOST_API_KEY" }     # secret: a read-only file /run/secrets/API_KEY,
//!                                             # and API_KEY_FILE=/run/secrets/API_KEY
//!
//! [[native.dir]]                    # host directories, none by default
//! host = "./repo"
//! guest = "/repo"
//! mode = "ro"
//! ```
//!
//! Each field's default and range are on [`NativeConfig`]'s fields; beyond
//! them, `image` is required for `docker`, `command` for `process`, and
//! `restart_backoff_max_ms` is at least `restart_backoff_ms`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::settings::settings;
use super::{ConfigError, DirConfig, EnvValue, is_valid_name};

settings! {
    /// One `[[native]]` entry.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct NativeConfig in "native" {
        /// Unique name: lowercase letters, digits, `_` and `-`; its tools are
        /// exposed as `<name>_<tool>`.
        pub name: String = String::new(), toml "none: required";
        /// How the server is started: `docker`, or `process` (no isolation
        /// at all: development and tests only, warned at start).
        pub launcher: Launcher = Launcher::Docker, toml "\"docker\"";
        /// The docker image (a local one: it is never pulled). Required for the
        /// docker launcher; ignored by the process launcher.
        pub image: Option<String> = None, toml "none: required for docker";
        /// Docker: arguments after the image, replacing its `CMD`. Process: the
        /// program and its arguments, run in the config file's directory.
        pub command: Vec<String> = Vec::new(), toml "[]";
        /// Environment values. Literals are passed as variables; secrets
        /// (`from_env`, `from_file`) become read-only files under
        /// `/run/secrets/` named by a `<NAME>_FILE` variable.
        pub env: BTreeMap<String, EnvValue> = BTreeMap::new(), toml "{}";
        /// Host directories bind-mounted into the container (`[[native.dir]]`).
        pub dir: Vec<DirConfig> = Vec::new(), toml "[]";
        /// The docker network to join: `none` (no network at all), or a
        /// network's name; `host` and `container:...` are refused.
        pub network: String = "none".to_owned(), toml "\"none\"";
        /// Memory limit of the container, in MiB.
        pub memory_mib: u64 = 512, range 6..=65_536;
        /// CPU limit, in CPUs (0.01 to 64).
        pub cpus: f64 = 1.0;
        /// Processes and threads the container may hold.
        pub pids_limit: u32 = 128, range 1..=32_768;
        /// Size of the writable `/tmp` tmpfs, in MiB (the rest of the root is
        /// read-only).
        pub tmpfs_mib: u64 = 64, range 1..=4096;
        /// Wall-clock time for one call, in milliseconds.
        pub call_timeout_ms: u64 = 30_000, range 1..=86_400_000;
        /// Wall-clock time for one call run as a task, in milliseconds.
        pub task_timeout_ms: u64 = 900_000, range 1..=604_800_000;
        /// Which of its tools may run as tasks, by the name the server gives
        /// the tool; `"*"` sets the rest (else what the server declares in its
        /// tools' `execution.taskSupport`, else `forbidden`).
        pub task_support: BTreeMap<String, super::TaskSupport> = BTreeMap::new(), toml "{}";
        /// Calls of this server that may run at once.
        pub max_concurrency: u32 = 16, range 1..=10_000;
        /// How long a call may wait for one of those slots before it is refused
        /// as `busy`, in milliseconds.
        pub queue_timeout_ms: u64 = 5000, range 0..=86_400_000;
        /// Largest JSON-RPC message (one line) accepted from the server, in KiB.
        /// A longer line breaks the connection and the server is restarted.
        pub max_message_kib: u64 = 4096, range 1..=262_144;
        /// Period of the health ping, in milliseconds; a ping unanswered
        /// within `call_timeout_ms` or 5 s, whichever is less, restarts it.
        pub health_interval_ms: u64 = 10_000, range 10..=3_600_000;
        /// Delay before the first restart, in milliseconds; it doubles with
        /// each failed attempt up to `restart_backoff_max_ms`, with up to 25%
        /// jitter either way.
        pub restart_backoff_ms: u64 = 500, range 1..=3_600_000;
        /// Longest delay between restarts, in milliseconds; at least
        /// `restart_backoff_ms`.
        pub restart_backoff_max_ms: u64 = 30_000, range 1..=3_600_000;
        /// Time from launch until the server has answered `initialize` and
        /// `tools/list`, in milliseconds.
        pub start_timeout_ms: u64 = 30_000, range 1..=600_000;
    }
}

/// How a native server is started.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Launcher {
    /// In a hardened container, by the `docker` command line.
    #[default]
    Docker,
    /// As a plain child process with a cleared environment: no isolation at
    /// all. For development and tests only; a warning is logged at start.
    Process,
}

impl NativeConfig {
    /// Checks the entry without touching the filesystem or docker.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ctx = format!("native {:?}", self.name);
        if !is_valid_name(&self.name) {
            return Err(ConfigError::invalid(
                ctx,
                "name must be 1-64 characters of a-z, 0-9, '_' or '-'",
            ));
        }
        match self.launcher {
            Launcher::Docker => match &self.image {
                None => {
                    return Err(ConfigError::invalid(
                        format!("{ctx}: image"),
                        "is required with the docker launcher",
                    ));
                }
                Some(image) => check_image_reference(image)
                    .map_err(|why| ConfigError::invalid(format!("{ctx}: image"), why))?,
            },
            Launcher::Process => {
                if self.command.first().is_none_or(String::is_empty) {
                    return Err(ConfigError::invalid(
                        format!("{ctx}: command"),
                        "is required with the process launcher: the program and its arguments",
                    ));
                }
            }
        }
        check_network(&self.network)
            .map_err(|why| ConfigError::invalid(format!("{ctx}: network"), why))?;
        self.check_ranges().map_err(|err| match err {
            ConfigError::Invalid { context, message } => ConfigError::invalid(
                format!("{ctx}: {}", context.trim_start_matches("native.")),
                message,
            ),
            other => other,
        })?;
        if self.restart_backoff_max_ms < self.restart_backoff_ms {
            return Err(ConfigError::invalid(
                format!("{ctx}: restart_backoff_max_ms"),
                format!(
                    "{} is out of range {}..=3600000 (at least restart_backoff_ms)",
                    self.restart_backoff_max_ms, self.restart_backoff_ms
                ),
            ));
        }
        if !(self.cpus.is_finite() && (0.01..=64.0).contains(&self.cpus)) {
            return Err(ConfigError::invalid(
                format!("{ctx}: cpus"),
                format!("{} is out of range 0.01..=64", self.cpus),
            ));
        }
        for key in self.env.keys() {
            let valid = !key.is_empty()
                && !key.starts_with(|c: char| c.is_ascii_digit())
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(ConfigError::invalid(
                    format!("{ctx}: env {key:?}"),
                    "variable names must be A-Z, a-z, 0-9 and '_', not starting with a digit",
                ));
            }
        }
        let mut guests = std::collections::HashSet::new();
        for dir in &self.dir {
            let dctx = format!("{ctx}: dir {:?}", dir.guest);
            if !dir.guest.starts_with('/') || dir.guest.split('/').any(|s| s == ".." || s == ".") {
                return Err(ConfigError::invalid(
                    dctx,
                    "guest path must be absolute, without '.' or '..'",
                ));
            }
            if dir.guest.contains([',', '\0']) {
                return Err(ConfigError::invalid(dctx, "guest path must not contain ',' or NUL"));
            }
            if !guests.insert(dir.guest.trim_end_matches('/')) {
                return Err(ConfigError::invalid(dctx, "guest path is granted twice"));
            }
        }
        Ok(())
    }
}

/// Checks a docker image reference: `[host[:port]/]path[:tag][@sha256:<64 hex>]`,
/// where each path component is lowercase letters and digits joined by
/// `.`, `_`, `__` or runs of `-`. Nothing is looked up.
pub fn check_image_reference(image: &str) -> Result<(), String> {
    if image.is_empty() || image.len() > 512 {
        return Err("must be 1-512 characters".into());
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let hex = digest.strip_prefix("sha256:").ok_or("digest must start with \"sha256:\"")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("digest must be sha256: followed by 64 lowercase hex digits".into());
        }
    }
    // A tag follows the last ':' after the last '/' (a ':' before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let valid = (1..=128).contains(&tag.len())
            && !tag.starts_with(['.', '-'])
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            return Err(format!(
                "tag {tag:?} must be 1-128 of A-Z, a-z, 0-9, '_', '.', '-', not starting with '.' or '-'"
            ));
        }
    }
    let mut components: Vec<&str> = name.split('/').collect();
    let first = components[0];
    if components.len() > 1
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase()))
    {
        check_registry_host(first)?;
        components.remove(0);
    }
    for component in components {
        check_path_component(component)
            .map_err(|why| format!("repository path component {component:?} {why}"))?;
    }
    Ok(())
}

fn check_registry_host(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(format!("registry port {port:?} is not a number up to 65535"));
    }
    let valid = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid { Ok(()) } else { Err(format!("registry host {name:?} is not a host name")) }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn check_path_component(component: &str) -> Result<(), &'static str> {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() {
        return Err("is empty");
    }
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err("must be lowercase letters and digits joined by '.', '_', '__' or '-'");
        }
        if i == bytes.len() {
            return Ok(());
        }
        let sep = i;
        match bytes[i] {
            b'.' => i += 1,
            b'_' => i += if bytes.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => {
                return Err("must be lowercase letters and digits joined by '.', '_', '__' or '-'");
            }
        }
        if i == bytes.len() || i == sep {
            return Err("must not end with a separator");
        }
    }
}

/// `none`, or a docker network name; `host` (the host's own network stack)
/// and `container:<id>` (another container's) would undo the isolation.
fn check_network(network: &str) -> Result<(), String> {
    if network == "host" || network.starts_with("container:") {
        return Err(format!(
            "{network:?} would share a network namespace; use \"none\" or a docker network name"
        ));
    }
    let valid = (1..=128).contains(&network.len())
        && network.starts_with(|c: char| c.is_ascii_alphanumeric())
        && network.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{network:?} is not a network name (A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, crate::config::ConfigError> {
        Config::from_toml(text, Path::new("test.toml"), Path::new("/base"))
    }

    #[test]
    fn minimal_entry_gets_the_documented_defaults() {
        let config =
            parse("[[native]]\nname = \"echo\"\nimage = \"corral-native-echo:test\"\n").unwrap();
        let n = &config.native[0];
        assert_eq!(n.launcher, super::Launcher::Docker);
        assert_eq!(n.network, "none");
        assert_eq!((n.memory_mib, n.cpus, n.pids_limit, n.tmpfs_mib), (512, 1.0, 128, 64));
        assert_eq!((n.call_timeout_ms, n.max_message_kib), (30_000, 4096));
    }

    #[test]
    fn image_references_in_their_usual_forms_are_accepted() {
        for image in [
            "alpine",
            "alpine:3.20",
            "library/alpine",
            "ghcr.io/org/server:1.2.3",
            "localhost:5000/a/b",
            "my-registry.example.com:443/team/mcp_server__x:v1",
            "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(super::check_image_reference(image), Ok(()), "{image}");
        }
    }

    #[test]
    fn malformed_image_reference_is_rejected_naming_server_and_field() {
        let err =
            parse("[[native]]\nname = \"git\"\nimage = \"Git Server\"\n").unwrap_err().to_string();
        assert!(err.starts_with("config: native \"git\": image: "), "{err}");
        for image in ["", "a:", "a/", "-a", "a:-x", "a@sha256:12", "a/UPPER", "a b", "x:99999/y"] {
            assert!(super::check_image_reference(image).is_err(), "{image:?}");
        }
    }

    #[test]
    fn docker_launcher_without_image_is_rejected() {
        let err = parse("[[native]]\nname = \"git\"\n").unwrap_err().to_string();
        assert_eq!(err, "config: native \"git\": image: is required with the docker launcher");
    }

    #[test]
    fn process_launcher_needs_a_command() {
        let err =
            parse("[[native]]\nname = \"p\"\nlauncher = \"process\"\n").unwrap_err().to_string();
        assert!(err.starts_with("config: native \"p\": command: is required"), "{err}");
    }

    #[test]
    fn host_network_is_refused() {
        let err = parse("[[native]]\nname = \"n\"\nimage = \"x\"\nnetwork = \"host\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config: native \"n\": network: \"host\" would share"), "{err}");
    }

    #[test]
    fn a_network_name_that_looks_like_a_flag_is_refused() {
        let err = parse("[[native]]\nname = \"n\"\nimage = \"x\"\nnetwork = \"--privileged\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "config: native \"n\": network: \"--privileged\" is not a network name"
            ),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_limit_names_the_field() {
        let err = parse("[[native]]\nname = \"n\"\nimage = \"x\"\npids_limit = 0\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "config: native \"n\": pids_limit: 0 is out of range 1..=32768");
        let err =
            parse("[[native]]\nname = \"n\"\nimage = \"x\"\ncpus = 0.0\n").unwrap_err().to_string();
        assert_eq!(err, "config: native \"n\": cpus: 0 is out of range 0.01..=64");
    }

    #[test]
    fn unknown_native_field_is_an_error() {
        let err =
            parse("[[native]]\nname = \"n\"\nimage = \"x\"\nmemory = 3\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `memory`"), "{err}");
    }

    #[test]
    fn native_name_must_differ_from_components() {
        let err = parse(
            "[[component]]\nname = \"x\"\npath = \"a\"\n[[native]]\nname = \"x\"\nimage = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "config: native \"x\": name is used by another component or native server");
    }

    #[test]
    fn env_names_that_a_shell_cannot_hold_are_rejected() {
        let err = parse("[[native]]\nname = \"n\"\nimage = \"x\"\n[native.env]\n\"A-B\" = \"1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config: native \"n\": env \"A-B\""), "{err}");
    }
}
