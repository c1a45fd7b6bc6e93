//! A docker engine of the test's own: `dockerd` on a private socket, data
//! and state directories, so that a test can stop and start it without
//! touching the engine other tests use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `dockerd`; stopped and its directories removed on drop.
pub struct Engine {
    dir: tempfile::TempDir,
    daemon: Option<Child>,
}

impl Engine {
    /// Starts one and waits until it answers.
    pub fn start() -> Engine {
        crate::fixture::require_docker();
        // A short path: a unix socket's path has at most 107 bytes.
        let dir = tempfile::Builder::new().prefix("corral-engine-").tempdir_in("/tmp").unwrap();
        let mut engine = Engine { dir, daemon: None };
        engine.resume();
        engine
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `DOCKER_HOST` for this engine.
    pub fn host(&self) -> String {
        format!("unix://{}", self.path("docker.sock").display())
    }

    /// A `docker` command talking to this engine.
    pub fn docker(&self) -> Command {
        let mut command = Command::new("docker");
        command.env("DOCKER_HOST", self.host());
        command
    }

    /// Starts the daemon (again) on the same socket and directories.
    pub fn resume(&mut self) {
        assert!(self.daemon.is_none(), "the engine is running");
        let log = std::fs::File::create(self.path("dockerd.log")).unwrap();
        let daemon = Command::new("dockerd")
            .arg("--host")
            .arg(self.host())
            .arg("--data-root")
            .arg(self.path("root"))
            .arg("--exec-root")
            .arg(self.path("exec"))
            .arg("--pidfile")
            .arg(self.path("docker.pid"))
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd runs (bash .ci/run installs it)");
        self.daemon = Some(daemon);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self
            .docker()
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
        {
            assert!(Instant::now() < deadline, "the private engine did not answer: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the daemon (SIGTERM, as `systemctl stop docker` does) and
    /// waits for it to exit.
    pub fn stop(&mut self) {
        let Some(mut daemon) = self.daemon.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while daemon.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = daemon.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("dockerd.log")).unwrap_or_default()
    }

    /// The engine's directory.
    #[allow(dead_code)]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.daemon.is_some() {
            // Its containers first, so that no overlay mount is left behind.
            if let Ok(out) = self.docker().args(["ps", "-aq"]).output() {
                for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = self.docker().args(["rm", "-f", id]).output();
                }
            }
            self.stop();
        }
    }
}
