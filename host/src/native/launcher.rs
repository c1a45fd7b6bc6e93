//! Starting a native server: a hardened `docker run`, or (development and
//! tests only) a plain process.
//!
//! Every container is started as
//!
//! ```text
//! docker run -i --rm --init --pull never --name corral-<server>-<pid>-<n>
//!   --label corral.managed=1 --label corral.pid=<host pid> --label corral.host=<instance>
//!   --label corral.server=<server>
//!   --network=none --read-only --log-driver=none --tmpfs=/tmp:rw,nosuid,nodev,noexec,size=<tmpfs_mib>m
//!   --cap-drop=ALL --security-opt=no-new-privileges
//!   --memory=<memory_mib>m --memory-swap=<memory_mib>m --cpus=<cpus> --pids-limit=<pids_limit>
//!   [--env=KEY=literal]... [--mount=type=bind,src=<secret file>,dst=/run/secrets/KEY,readonly
//!   --env=KEY_FILE=/run/secrets/KEY]... [--mount=type=bind,src=<dir>,dst=<guest>[,readonly]]...
//!   -- <image> [command...]
//! ```
//!
//! - `--flag=value` and the final `--`: no configured value can be taken
//!   for a docker option.
//! - `--pull never`: an image that is not present is an error naming it,
//!   never a download.
//! - Secret values never appear on a command line or in the container's
//!   environment (`docker inspect`): each is written to a file of mode
//!   0400 in a private (0700) temporary directory, bind-mounted read-only,
//!   and the directory is removed when the server stops. The directory's
//!   name carries the host's pid, so one left by a host that died
//!   (`kill -9`, a crash) is removed by the next start
//!   ([`remove_leftover_secrets`]).
//! - Containers are labelled with the host's pid; at start,
//!   [`remove_leftovers`] removes labelled containers whose host process is
//!   gone (an earlier crash).
//! - The `process` launcher runs the command with a cleared environment plus
//!   the configured values (secrets included, as plain variables) and no
//!   isolation at all.
//! - The server's stderr is read line by line into the tracing log (lines
//!   cut at 1 KiB, at most [`STDERR_LINES_PER_SECOND`] a second), and its
//!   last lines are kept for error messages.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub use super::spec::{EnvEntry, LaunchSpec};
use crate::config::Launcher;
use crate::lock::Locked as _;

/// The label every Corral container carries.
pub const MANAGED_LABEL: &str = "corral.managed=1";
/// Where secret files appear inside the container.
pub const SECRETS_DIR: &str = "/run/secrets";
/// Stderr lines logged per second per server; the rest are counted and dropped.
pub const STDERR_LINES_PER_SECOND: u32 = 50;
/// Stderr lines kept for error messages.
const STDERR_TAIL_LINES: usize = 20;
/// Longest stderr line kept, in bytes.
const STDERR_LINE_BYTES: usize = 1024;

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The `docker` (or the configured) program could not be run.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The secrets directory or a secret file could not be written.
    #[error("cannot write the secret file for {key}: {source}")]
    Secret {
        /// The variable.
        key: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A host path cannot be expressed as a bind mount.
    #[error("dir {guest:?}: host path {host} contains ',' and cannot be mounted")]
    Mount {
        /// The guest path.
        guest: String,
        /// The host path.
        host: PathBuf,
    },
    /// A docker command failed.
    #[error("docker {command} failed: {message}")]
    Docker {
        /// The docker subcommand.
        command: &'static str,
        /// Docker's stderr.
        message: String,
    },
}

/// A started server: its stdio, and what must be cleaned up after it.
pub struct Launched {
    child: Child,
    /// The server's stdin.
    pub stdin: Option<ChildStdin>,
    /// The server's stdout.
    pub stdout: Option<ChildStdout>,
    /// The container's name (docker launcher).
    pub container: Option<String>,
    stderr: Arc<StderrTail>,
    stderr_reader: Option<tokio::task::JoinHandle<()>>,
    /// Removed on drop, after the container.
    _secrets: Option<tempfile::TempDir>,
}

/// The last lines of a server's stderr.
#[derive(Default)]
pub struct StderrTail(Mutex<VecDeque<String>>);

impl StderrTail {
    /// The kept lines joined by `"; "`, or `None` if there were none.
    pub fn summary(&self) -> Option<String> {
        let lines = self.0.locked();
        (!lines.is_empty()).then(|| lines.iter().cloned().collect::<Vec<_>>().join("; "))
    }

    fn push(&self, line: String) {
        let mut lines = self.0.locked();
        if lines.len() == STDERR_TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }
}

impl Launched {
    /// The last lines the server wrote to stderr.
    pub fn stderr_summary(&self) -> Option<String> {
        self.stderr.summary()
    }

    /// Waits up to `within` for stderr to reach its end (the process has
    /// exited), so that [`Launched::stderr_summary`] holds its last words.
    pub async fn drain_stderr(&mut self, within: std::time::Duration) {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = tokio::time::timeout(within, reader).await;
        }
    }

    /// Waits up to `within` for the process to end; its exit code if it did.
    pub async fn wait_exit(&mut self, within: std::time::Duration) -> Option<Option<i32>> {
        tokio::time::timeout(within, self.child.wait()).await.ok()?.ok().map(|s| s.code())
    }

    /// Stops the server: removes the container (docker) or kills the process,
    /// and waits for it.
    pub async fn stop(mut self) {
        if let Some(name) = self.container.take() {
            let _ = Command::new("docker").args(["rm", "-f", &name]).output().await;
        }
        let _ = self.child.kill().await;
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        // Killing `docker run` does not stop its container: remove it too.
        if let Some(name) = self.container.take() {
            std::thread::spawn(move || {
                let _ = std::process::Command::new("docker")
                    .args(["rm", "-f", &name])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            });
        }
        let _ = self.child.start_kill();
    }
}

/// A fresh container name: `corral-<server>-<pid>-<n>`.
fn container_name(server: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("corral-{server}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The `docker run` arguments for `spec`; `secrets` is the directory
/// holding one file per secret variable.
pub fn docker_args(
    spec: &LaunchSpec,
    name: &str,
    secrets: Option<&Path>,
) -> Result<Vec<String>, LaunchError> {
    let c = &spec.config;
    let mut args: Vec<String> = [
        "run",
        "-i",
        "--rm",
        "--init",
        "--pull",
        "never",
        "--name",
        name,
        "--label",
        MANAGED_LABEL,
    ]
    .map(String::from)
    .to_vec();
    args.push("--label".into());
    args.push(format!("corral.pid={}", std::process::id()));
    args.push("--label".into());
    args.push(format!("corral.host={}", spec.instance));
    args.push("--label".into());
    args.push(format!("corral.server={}", c.name));
    // `--flag=value` throughout: no configured value can be read as a flag.
    args.push(format!("--network={}", c.network));
    args.push("--read-only".into());
    // Stdio is attached to Corral; the daemon's own copy of the logs
    // (json-file, unbounded by default) would let a chatty server fill the disk.
    args.push("--log-driver=none".into());
    args.push(format!("--tmpfs=/tmp:rw,nosuid,nodev,noexec,size={}m", c.tmpfs_mib));
    args.push("--cap-drop=ALL".into());
    args.push("--security-opt=no-new-privileges".into());
    args.push(format!("--memory={}m", c.memory_mib));
    // Equal to --memory: no swap beyond the memory limit.
    args.push(format!("--memory-swap={}m", c.memory_mib));
    args.push(format!("--cpus={}", c.cpus));
    args.push(format!("--pids-limit={}", c.pids_limit));
    for (key, value) in &spec.env {
        match value {
            EnvEntry::Literal(value) => args.push(format!("--env={key}={value}")),
            EnvEntry::Secret(_) => {
                let Some(dir) = secrets else { continue };
                let src = dir.join(key);
                args.push(format!(
                    "--mount=type=bind,src={},dst={SECRETS_DIR}/{key},readonly",
                    src.display()
                ));
                args.push(format!("--env={key}_FILE={SECRETS_DIR}/{key}"));
            }
        }
    }
    for dir in &spec.dirs {
        if dir.host.to_string_lossy().contains(',') {
            return Err(LaunchError::Mount { guest: dir.guest.clone(), host: dir.host.clone() });
        }
        let mut mount = format!("type=bind,src={},dst={}", dir.host.display(), dir.guest);
        if !dir.writable {
            mount.push_str(",readonly");
        }
        args.push(format!("--mount={mount}"));
    }
    // `--` ends docker's options: the image and its arguments follow.
    args.push("--".into());
    args.push(c.image.clone().unwrap_or_default());
    args.extend(c.command.iter().cloned());
    Ok(args)
}

/// Secret directories are `$TMPDIR/corral-secrets-<host pid>-<random>`.
const SECRETS_PREFIX: &str = "corral-secrets-";

/// Removes secret directories whose host process is gone; the number removed.
pub fn remove_leftover_secrets() -> usize {
    remove_dead_secret_dirs(&std::env::temp_dir())
}

fn remove_dead_secret_dirs(tmp: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(tmp) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SECRETS_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        // Only directories this user owns and made private are ours to remove.
        let ours = entry.metadata().is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt as _;
            m.is_dir() && m.uid() == own_uid() && m.mode() & 0o077 == 0
        });
        if !alive && ours && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The effective user id, read from `/proc/self` (owned by the process's user).
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// Writes each secret to `<dir>/<KEY>`, mode 0400, in a new private directory.
fn write_secrets(env: &[(String, EnvEntry)]) -> Result<Option<tempfile::TempDir>, LaunchError> {
    if !env.iter().any(|(_, v)| matches!(v, EnvEntry::Secret(_))) {
        return Ok(None);
    }
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::Builder::new()
        .prefix(&format!("{SECRETS_PREFIX}{}-", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|source| LaunchError::Secret { key: "(directory)".into(), source })?;
    for (key, value) in env {
        if let EnvEntry::Secret(_) = value {
            let written = (|| {
                use std::os::unix::fs::OpenOptionsExt as _;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o400)
                    .open(dir.path().join(key))?;
                file.write_all(value.expose().as_bytes())
            })();
            written.map_err(|source| LaunchError::Secret { key: key.clone(), source })?;
        }
    }
    Ok(Some(dir))
}

/// Starts the server of `spec`, its stdio piped.
pub fn launch(spec: &LaunchSpec) -> Result<Launched, LaunchError> {
    let c = &spec.config;
    let (mut command, program, container, secrets) = match c.launcher {
        Launcher::Docker => {
            let secrets = write_secrets(&spec.env)?;
            let name = container_name(&c.name);
            let args = docker_args(spec, &name, secrets.as_ref().map(tempfile::TempDir::path))?;
            let mut command = Command::new("docker");
            command.args(args);
            (command, "docker".to_owned(), Some(name), secrets)
        }
        Launcher::Process => {
            // Config validation requires a program; an empty one fails to spawn.
            let (program, args) =
                c.command.split_first().map_or(("", &[][..]), |(p, a)| (p.as_str(), a));
            let mut command = Command::new(program);
            command.args(args).env_clear().current_dir(&spec.base_dir);
            for (key, value) in &spec.env {
                command.env(key, value.expose());
            }
            (command, program.to_owned(), None, None)
        }
    };
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| LaunchError::Spawn { program, source })?;
    let stderr = Arc::new(StderrTail::default());
    let stderr_reader = child
        .stderr
        .take()
        .map(|pipe| tokio::spawn(read_stderr(c.name.clone(), pipe, stderr.clone())));
    Ok(Launched {
        stdin: child.stdin.take(),
        stdout: child.stdout.take(),
        child,
        container,
        stderr,
        stderr_reader,
        _secrets: secrets,
    })
}

async fn read_stderr<R: AsyncRead + Unpin>(server: String, pipe: R, tail: Arc<StderrTail>) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    let mut window = Instant::now();
    let (mut logged, mut dropped) = (0u32, 0u64);
    loop {
        buf.clear();
        // A line is read whole, however long, but only its start is kept.
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let end = buf.len().min(STDERR_LINE_BYTES);
        let line = String::from_utf8_lossy(&buf[..end]).trim_end().to_owned();
        if line.is_empty() {
            continue;
        }
        if window.elapsed().as_secs() >= 1 {
            if dropped > 0 {
                tracing::warn!(server = %server, dropped, "native server stderr lines dropped (rate limit)");
            }
            window = Instant::now();
            (logged, dropped) = (0, 0);
        }
        if logged < STDERR_LINES_PER_SECOND {
            logged += 1;
            tracing::info!(server = %server, line = %line, "native server stderr");
        } else {
            dropped += 1;
        }
        tail.push(line);
    }
}

/// Runs a docker subcommand; its stdout, or its stderr as the error.
async fn docker(command: &'static str, args: &[&str]) -> Result<String, LaunchError> {
    let output = Command::new("docker")
        .arg(command)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|source| LaunchError::Spawn { program: "docker".into(), source })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(LaunchError::Docker {
            command,
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// The docker engine's version, if it answers.
pub async fn engine_version() -> Result<String, LaunchError> {
    docker("version", &["--format", "{{.Server.Version}}"]).await.map(|v| v.trim().to_owned())
}

/// Whether `image` is present on the docker engine (it is never pulled).
pub async fn image_present(image: &str) -> Result<bool, LaunchError> {
    match docker("image", &["inspect", "--format", "{{.Id}}", "--", image]).await {
        Ok(_) => Ok(true),
        Err(LaunchError::Docker { message, .. }) if message.contains("No such image") => Ok(false),
        Err(err) => Err(err),
    }
}

/// Removes Corral containers whose host process is gone (left by a crash);
/// the number removed.
pub async fn remove_leftovers() -> Result<usize, LaunchError> {
    let listed = docker(
        "ps",
        &[
            "-a",
            "--filter",
            &format!("label={MANAGED_LABEL}"),
            "--format",
            "{{.ID}} {{.Label \"corral.pid\"}}",
        ],
    )
    .await?;
    let mut removed = 0;
    for line in listed.lines() {
        let mut fields = line.split_whitespace();
        let (Some(id), pid) = (fields.next(), fields.next()) else { continue };
        let alive = pid
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            docker("rm", &["-f", id]).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes every container of one host instance (at shutdown), waiting up
/// to 10 s until docker lists none of them.
pub async fn remove_instance(instance: &str) -> Result<(), LaunchError> {
    let filter = format!("label=corral.host={instance}");
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listed = docker("ps", &["-aq", "--filter", &filter]).await?;
        let ids: Vec<&str> = listed.split_whitespace().collect();
        if ids.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LaunchError::Docker {
                command: "rm",
                message: format!("containers {} still present after 10 s", ids.join(", ")),
            });
        }
        let mut args = vec!["-f"];
        args.extend(ids);
        // A container already being removed (its `docker run` was killed)
        // makes this fail; the next listing tells.
        let _ = docker("rm", &args).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_dirs_of_dead_hosts_are_removed_and_others_kept() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dead_pid = 4_194_303; // above any pid_max Linux allows
        assert!(!Path::new(&format!("/proc/{dead_pid}")).exists());
        let make = |name: String| {
            let dir = tmp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
            std::fs::write(dir.join("TOKEN"), "s3cret").unwrap();
            dir
        };
        let dead = make(format!("{SECRETS_PREFIX}{dead_pid}-abc"));
        let live = make(format!("{SECRETS_PREFIX}{}-abc", std::process::id()));
        let other = make(format!("{SECRETS_PREFIX}notapid"));
        assert_eq!(remove_dead_secret_dirs(tmp.path()), 1);
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }
    use crate::config::Config;

    /// A spec whose env has a literal `MODE` and a secret `TOKEN` = `s3cret`.
    fn spec(toml: &str) -> LaunchSpec {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
        let toml =
            format!("{toml}[native.env]\nMODE = \"fast\"\nTOKEN = {{ from_file = \"token\" }}\n");
        let config = Config::from_toml(&toml, Path::new("t"), dir.path()).unwrap();
        LaunchSpec::resolve(&config.native[0], dir.path(), "i1").unwrap()
    }

    #[test]
    fn docker_args_carry_every_hardening_flag_and_no_secret_value() {
        let spec = spec(
            "[[native]]\nname = \"git\"\nimage = \"img:1\"\ncommand = [\"--stdio\"]\nmemory_mib = 100\ncpus = 0.5\npids_limit = 7\n",
        );
        let args = docker_args(&spec, "corral-git-1", Some(Path::new("/s"))).unwrap().join(" ");
        for flag in [
            "run -i --rm --init --pull never --name corral-git-1",
            "--network=none --read-only --log-driver=none --tmpfs=/tmp:rw,nosuid,nodev,noexec,size=64m",
            "--cap-drop=ALL --security-opt=no-new-privileges",
            "--memory=100m --memory-swap=100m --cpus=0.5 --pids-limit=7",
            "--env=MODE=fast",
            "--mount=type=bind,src=/s/TOKEN,dst=/run/secrets/TOKEN,readonly --env=TOKEN_FILE=/run/secrets/TOKEN",
            "-- img:1 --stdio",
        ] {
            assert!(args.contains(flag), "{flag:?} missing from {args}");
        }
        assert!(!args.contains("s3cret"), "{args}");
    }

    #[tokio::test]
    async fn stderr_keeps_the_last_lines_each_cut_at_a_kibibyte() {
        let mut text = String::new();
        for i in 0..30 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str(&"y".repeat(5000));
        text.push('\n');
        let tail = Arc::new(StderrTail::default());
        read_stderr("t".into(), text.as_bytes(), tail.clone()).await;
        let lines = tail.0.lock().unwrap().clone();
        assert_eq!(lines.len(), STDERR_TAIL_LINES);
        assert_eq!(lines[0], "line 11");
        assert_eq!(lines[STDERR_TAIL_LINES - 1], "y".repeat(STDERR_LINE_BYTES));
    }

    #[test]
    fn secret_files_are_owner_read_only_in_a_private_directory() {
        use std::os::unix::fs::PermissionsExt as _;
        let spec = spec("[[native]]\nname = \"git\"\nimage = \"img\"\n");
        let dir = write_secrets(&spec.env).unwrap().unwrap();
        let file = dir.path().join("TOKEN");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "s3cret");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o400);
        assert_eq!(std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(!dir.path().join("MODE").exists());
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }
}
