//! Scale-out (issue 13): three `corral serve` replicas behind a real nginx,
//! sharing one real `redis-server` (`[cluster] redis_url`), on loopback
//! only. Every part is a real program: the `corral` binary this test
//! builds (the image holds the same program built for musl and is checked
//! by `.ci/image.sh`; its containers run there with `--network none`, so
//! they could not reach one another, nginx or Redis), and nginx and
//! redis-server from Debian (installed by `.ci/run`; missing, the test
//! fails rather than skips).
//!
//! | scenario | test | what it asserts |
//! | --- | --- | --- |
//! | 1 | [`calls_through_nginx_are_served_by_all_three_replicas`] | 2026-07-28 calls through nginx succeed; each replica's `/metrics` counts some of them; a foreign `Host` is still refused behind nginx |
//! | 2 | [`one_rate_limit_holds_across_the_three_replicas`] | one token's burst through nginx: at least `burst` and at most `burst + per_second * elapsed` (+2) succeed, not 3x; the rest 429 + `Retry-After` + `-32000`; the allowed ones served by several replicas; the bucket is in Redis under the key prefix |
//! | 3 | [`a_session_is_served_by_every_replica`] | a 2025-11-25 session started through nginx: its next requests, round-robined, are served by all three; a call running on A is stopped by `notifications/cancelled` sent to B; a question asked on A is answered through C; `logging/setLevel` on C reaches the shared record; `DELETE` on C ends it everywhere |
//! | 4 | [`a_task_is_polled_cancelled_and_fetched_through_other_replicas`] | a task started on A (holding A's one slot) is read on B, cancelled on C; every replica sees it `cancelled` and A's slot is free again; a task started on B, polled on C, has its result read on A and through nginx |
//! | 5 | [`a_rolling_restart_under_load_fails_no_request`] | 32 clients, mixed calls and tasks through nginx; each replica in turn taken out of nginx, SIGTERMed (exit 0), restarted, put back: no request fails |
//! | 5 | [`a_sigterm_while_still_balanced_loses_at_most_a_request_per_idle_connection`] | the same, SIGTERM while nginx still sends the replica requests: the drain closes idle keep-alive connections at once, refuses new ones, finishes the call in flight, exits 0; a failed request can only be nginx's 502 from the replica being restarted (the HTTP/1.1 keep-alive race, explained there) |
//! | 6 | [`kill_9_of_a_replica_fails_only_requests_in_flight_on_it`] | under load, `kill -9` of one replica: every failure is nginx's 502 from that replica, begun before (or at) the kill, at most one per client; requests go on succeeding; the restarted replica serves again; its running task ends `failed` (`lost`) once its lease lapses |
//! | 7 | [`redis_down_under_load_falls_back_and_recovers`] | under load, Redis stopped: every request answered within 5 s, no failure; each replica reports `corral_redis_up` 0, counts `corral_redis_errors_total{op="rate_limit"}`, and one limits locally (`corral_rate_limit_fallback_total`); task operations answer 503 "task store unavailable"; a call that would become a task is answered or refused so, never hung; a 2025-11-25 session starts and is served where it started, and another replica answers it 503 "session store unavailable". Redis back: `corral_redis_up` 1 on all, one shared limit again, tasks work again |
//!
//! Scenarios 1 and 2 share one cluster (started once); the others each
//! start their own (4 needs one slot per replica; 5, 6 and 7 kill replicas
//! or Redis), and the load scenarios take turns (one load at a time on a
//! small machine). Every child process is killed when
//! its test ends (drop guards, also on panic), and, should the test process
//! itself die, by the kernel (`PR_SET_PDEATHSIG`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustix::process::Signal;
use serde_json::{Value, json};

/// The name clients use for the deployment: nginx forwards it as `Host`,
/// so the replicas list it in `[server] allowed_hosts`.
const HOST: &str = "corral.test";
/// `[server] shutdown_grace_ms` of every replica.
const GRACE_MS: u64 = 10_000;
/// Concurrent clients of the load scenarios.
const CLIENTS: usize = 32;

// ------------------------------------------------------------- processes

/// Runs `command` with its output appended to `log`; `stop` is the signal
/// that ends it (SIGKILL, or SIGTERM for a process that must stop its own
/// children). Every child is spawned from one thread that lives as long as
/// this process, with `PR_SET_PDEATHSIG` = `stop` (sent when the spawning
/// thread ends): a test process that dies leaves no replica, nginx or
/// redis behind.
fn spawn(name: &str, mut command: Command, log: &Path, stop: Signal) -> Proc {
    type Job = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    });
    let out = fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
    command.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(stop)).map_err(io::Error::from)
        });
    }
    let (tx, rx) = mpsc::channel();
    lock(spawner).send((command, tx)).expect("spawner alive");
    let child = rx.recv().expect("spawner answers").unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    Proc { name: name.to_owned(), child, log: log.to_owned(), stop }
}

/// A child process, stopped (its `stop` signal, then SIGKILL for it and
/// its children after 5 s) and reaped when dropped.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    stop: Signal,
}

impl Proc {
    fn pid(&self) -> rustix::process::Pid {
        rustix::process::Pid::from_child(&self.child)
    }

    fn signal(&self, signal: Signal) {
        rustix::process::kill_process(self.pid(), signal)
            .unwrap_or_else(|e| panic!("signal {}: {e}", self.name));
    }

    /// Its exit status, once it exited within `within`.
    fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Panics, showing its log, when it has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("{} exited ({status}):\n{}", self.name, tail(&self.log, 40));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let children = children(self.child.id());
        if self.stop != Signal::KILL
            && rustix::process::kill_process(self.pid(), self.stop).is_ok()
            && self.wait_exit(Duration::from_secs(5)).is_some()
        {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in children {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
            }
        }
    }
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // The field after the command name (in parentheses) and the state.
            fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

/// The last `lines` lines of a log file.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Waits until `check` holds, or panics naming `what` after `within`.
fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// The path of a program the tests need, searching `/usr/sbin` too (nginx
/// lives there, and some PATHs lack it). Missing, the test fails: `.ci/run`
/// installs nginx and redis-server.
fn program(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: the cluster tests need nginx and redis-server \
                 (apt-get install -y nginx redis-server; .ci/run installs them)"
            )
        })
}

// ------------------------------------------------------------------ redis

struct Redis {
    port: u16,
    dir: PathBuf,
    proc: Option<Proc>,
}

impl Redis {
    fn start(&mut self) {
        let mut command = Command::new(program("redis-server"));
        command.current_dir(&self.dir).args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            self.dir.to_str().unwrap(),
        ]);
        let mut proc = spawn("redis-server", command, &self.dir.join("redis.log"), Signal::KILL);
        let deadline = Instant::now() + Duration::from_secs(20);
        while redis_command(self.port, &["PING"]).ok().as_deref() != Some("+PONG\r\n") {
            proc.assert_running();
            assert!(Instant::now() < deadline, "redis-server did not answer PING in 20 s");
            thread::sleep(Duration::from_millis(20));
        }
        self.proc = Some(proc);
    }
}

/// Sends one command to Redis (RESP) and returns its raw answer.
fn redis_command(port: u16, args: &[&str]) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&loopback(port), Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        let _ = write!(request, "${}\r\n{arg}\r\n", arg.len());
    }
    stream.write_all(request.as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// The keys of the cluster's prefix in Redis.
fn redis_keys(port: u16, prefix: &str) -> Vec<String> {
    let answer = redis_command(port, &["KEYS", &format!("{prefix}*")]).expect("redis KEYS");
    answer
        .split("\r\n")
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|pair| pair[0].starts_with('$'))
        .map(|pair| pair[1].to_owned())
        .collect()
}

// --------------------------------------------------------------- replicas

struct Replica {
    index: usize,
    port: u16,
    config: PathBuf,
    log: PathBuf,
    proc: Option<Proc>,
}

impl Replica {
    fn addr(&self) -> SocketAddr {
        loopback(self.port)
    }

    /// Starts `corral serve` on its port (not waiting for it).
    fn spawn(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_corral"));
        command
            .args(["serve", "--config"])
            .arg(&self.config)
            .args(["--listen", &self.addr().to_string()])
            // A compile cache shared by every run: only the first compiles.
            .env("CORRAL_CACHE_DIR", std::env::temp_dir().join("corral-cluster-test-cache"))
            .env("RUST_LOG", "info");
        let _ = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut f| writeln!(f, "---- test: starting replica {}", self.index));
        self.proc =
            Some(spawn(&format!("replica {}", self.index), command, &self.log, Signal::KILL));
    }

    /// Waits until `/readyz` answers 200.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            match get(self.addr(), "/readyz") {
                Ok(r) if r.status == 200 => return,
                Ok(r) if r.body.contains("\"status\":\"failed\"") => {
                    panic!("replica {} failed to load: {}", self.index, r.body)
                }
                _ => {}
            }
            self.proc.as_mut().expect("started").assert_running();
            assert!(Instant::now() < deadline, "replica {} not ready in 180 s", self.index);
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn metrics(&self) -> String {
        get(self.addr(), "/metrics").map(|r| r.body).unwrap_or_default()
    }
}

// ------------------------------------------------------------------ nginx

/// nginx in front of the `replicas`' ports; the one at `out` marked `down`
/// (taken out of the balancer, as a deployment does before stopping it).
fn nginx_config(dir: &Path, port: u16, replicas: &[u16], out: Option<usize>) -> String {
    let d = dir.display();
    let root = rustix::process::geteuid().is_root();
    let servers: String = replicas
        .iter()
        .enumerate()
        // A refused or failed replica is skipped for 1 s (fail_timeout), then
        // tried again: a restarted one gets traffic back soon.
        .map(|(i, p)| {
            let down = if out == Some(i) { " down" } else { "" };
            format!("        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s{down};\n")
        })
        .collect();
    format!(
        r#"# Generated by tests/cluster.rs.
{user}
worker_processes 1;
error_log {d}/error.log info;
events {{ worker_connections 2048; }}
http {{
    client_body_temp_path {d}/client_body_temp;
    proxy_temp_path {d}/proxy_temp;
    fastcgi_temp_path {d}/fastcgi_temp;
    uwsgi_temp_path {d}/uwsgi_temp;
    scgi_temp_path {d}/scgi_temp;
    log_format cluster '$http_x_test_id $status $upstream_addr $upstream_status $request_time';
    access_log {d}/access.log cluster;

    upstream corral {{
        # Round robin (the default).
{servers}        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{port};
        server_name {HOST};
        location / {{
            proxy_pass http://corral;
            # Keep-alive to the replicas.
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The replicas check Host against [server] allowed_hosts.
            proxy_set_header Host $host;
            # SSE answers (progress, subscriptions/listen) pass through as they come.
            proxy_buffering off;
            proxy_read_timeout 120s;
            proxy_connect_timeout 2s;
            # A replica that refuses the connection (stopped, restarting) or
            # fails before the request is sent: the next one is tried. A POST
            # already sent is never tried again, whatever went wrong (no
            # non_idempotent): a tools/call may have side effects, and nginx
            # cannot know whether the replica began it. So http_502 and
            # http_503 only retry GETs (/readyz, /metrics); a replica's 503
            # to a POST (calls in flight, task store unavailable) reaches
            # the client with its Retry-After.
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"#,
        user = if root { "user root;" } else { "" },
    )
}

// ---------------------------------------------------------------- cluster

/// Redis, three replicas, nginx, and the directory of their files (kept,
/// and named, when a test fails).
struct Cluster {
    replicas: Vec<Mutex<Replica>>,
    redis: Mutex<Redis>,
    nginx: Option<Proc>,
    nginx_port: u16,
    prefix: String,
    path: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for replica in &self.replicas {
            lock(replica).proc = None;
        }
        lock(&self.redis).proc = None;
        self.nginx = None;
        if thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("the cluster's logs and configs are kept in {}", dir.keep().display());
        }
    }
}

/// Every bearer token the replicas accept.
fn token(name: &str) -> String {
    format!("cluster-test-{name}")
}

fn token_names() -> Vec<String> {
    let mut names: Vec<String> = (0..64).map(|i| format!("load-{i}")).collect();
    names.extend((0..64).map(|i| format!("spread-{i}")));
    names.extend(["limit", "tasks", "hammer", "burst", "probe", "session"].map(String::from));
    names
}

impl Cluster {
    /// Starts Redis, the replicas (the first alone, so that it fills the
    /// compile cache the others read) and nginx. `server_extra` goes into
    /// the replicas' `[server]` table, `component_limits` into the
    /// component's `[component.limits]`.
    fn start(name: &str, server_extra: &str, component_limits: &str) -> Cluster {
        program("nginx");
        program("redis-server");
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let dir = tempfile::Builder::new().prefix(&format!("corral-{name}-")).tempdir().unwrap();
        let prefix = format!(
            "corral-test-{}-{}-{name}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        );
        let redis_port = free_port();
        let mut redis = Redis { port: redis_port, dir: dir.path().to_owned(), proc: None };
        redis.start();

        let tokens: String = token_names().iter().map(|n| token(n) + "\n").collect();
        fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(dir.path().join("tokens.txt"))
            .and_then(|mut f| f.write_all(tokens.as_bytes()))
            .expect("tokens file");
        let config = dir.path().join("corral.toml");
        fs::write(&config, replica_config(redis_port, &prefix, server_extra, component_limits))
            .unwrap();

        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut replicas: Vec<Replica> = ports
            .iter()
            .enumerate()
            .map(|(index, &port)| Replica {
                index,
                port,
                config: config.clone(),
                log: dir.path().join(format!("replica-{index}.log")),
                proc: None,
            })
            .collect();
        replicas[0].spawn();
        replicas[0].wait_ready();
        for replica in &mut replicas[1..] {
            replica.spawn();
        }
        for replica in &mut replicas[1..] {
            replica.wait_ready();
        }

        let nginx_dir = dir.path().join("nginx");
        fs::create_dir_all(&nginx_dir).unwrap();
        let nginx_port = free_port();
        fs::write(nginx_dir.join("nginx.conf"), nginx_config(&nginx_dir, nginx_port, &ports, None))
            .unwrap();
        let mut command = Command::new(program("nginx"));
        command
            .arg("-p")
            .arg(&nginx_dir)
            .arg("-c")
            .arg(nginx_dir.join("nginx.conf"))
            .arg("-e")
            .arg(nginx_dir.join("error.log"))
            .args(["-g", &format!("daemon off; pid {}/nginx.pid;", nginx_dir.display())]);
        let mut nginx = spawn("nginx", command, &nginx_dir.join("stderr.log"), Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(loopback(nginx_port)).is_err() {
            nginx.assert_running();
            assert!(Instant::now() < deadline, "nginx did not listen in 20 s");
            thread::sleep(Duration::from_millis(20));
        }
        Cluster {
            replicas: replicas.into_iter().map(Mutex::new).collect(),
            redis: Mutex::new(redis),
            nginx: Some(nginx),
            nginx_port,
            prefix,
            path: dir.path().to_owned(),
            dir: Some(dir),
        }
    }

    /// nginx.
    fn lb(&self) -> SocketAddr {
        loopback(self.nginx_port)
    }

    fn replica(&self, index: usize) -> MutexGuard<'_, Replica> {
        lock(&self.replicas[index])
    }

    fn addr(&self, index: usize) -> SocketAddr {
        self.replica(index).addr()
    }

    fn port(&self, index: usize) -> u16 {
        self.replica(index).port
    }

    fn metrics(&self, index: usize) -> String {
        self.replica(index).metrics()
    }

    /// nginx's access log: test id -> (status, upstream addresses, upstream statuses).
    fn access_log(&self) -> BTreeMap<String, String> {
        let text = fs::read_to_string(self.path.join("nginx/access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(id, rest)| (id.to_owned(), rest.to_owned()))
            .collect()
    }

    /// Rewrites nginx's configuration with the replica at `out` taken out
    /// of the balancer (none: all in) and reloads it; returns once the old
    /// worker exited, its requests in flight done: from then on no request
    /// goes to `out`.
    fn balance(&self, out: Option<usize>) {
        let ports: Vec<u16> = (0..3).map(|i| self.port(i)).collect();
        let dir = self.path.join("nginx");
        fs::write(dir.join("nginx.conf"), nginx_config(&dir, self.nginx_port, &ports, out))
            .unwrap();
        let master = self.nginx.as_ref().unwrap();
        let old = children(master.child.id());
        master.signal(Signal::HUP);
        wait_until("nginx reloads (its old worker exits)", Duration::from_secs(30), || {
            let now = children(master.child.id());
            !now.is_empty() && old.iter().all(|pid| !now.contains(pid))
        });
    }

    fn nginx_errors(&self) -> String {
        tail(&self.path.join("nginx/error.log"), 30)
    }
}

/// The replicas' configuration: the conformance tools with bare names
/// (`greet`, `slow_compute`, ...; slow_compute may run as a task) under
/// `component_limits`.
fn replica_config(
    redis_port: u16,
    prefix: &str,
    server_extra: &str,
    component_limits: &str,
) -> String {
    format!(
        r#"[server]
allowed_hosts = ["{HOST}"]
auth_tokens_file = "tokens.txt"
shutdown_grace_ms = {GRACE_MS}
{server_extra}

[cluster]
redis_url = "redis://127.0.0.1:{redis_port}/0"
timeout_ms = 250
key_prefix = "{prefix}"

[tasks]
max_tasks = 256
max_tasks_per_client = 64
promote_after_ms = 150
poll_interval_ms = 100

[[component]]
name = "conformance"
path = "builtin:conformance"
namespace = ""
task_support = {{ slow_compute = "optional" }}

[component.limits]
{component_limits}

"#
    )
}

/// Room for the load scenarios' calls.
const ROOMY: &str = "max_concurrency = 32";

/// The cluster of scenarios 1 and 2: a rate limit of 5/s, burst 10, per
/// token. Started once; its processes end with the test process.
fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    SHARED.get_or_init(|| {
        Cluster::start("shared", "rate_limit = { per_second = 5, burst = 10 }", ROOMY)
    })
}

/// One load scenario at a time: each takes both cores.
fn heavy() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    lock(&HEAVY)
}

// -------------------------------------------------------------------- http

/// A whole HTTP response, chunked bodies joined.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC response: the body, or the SSE event answering the request.
    fn message(&self) -> Option<Value> {
        if self.header("content-type").is_some_and(|t| t.starts_with("text/event-stream")) {
            self.body
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .rfind(|m| m.get("id").is_some() && m.get("method").is_none())
        } else {
            serde_json::from_str(&self.body).ok()
        }
    }

    fn result(&self) -> Value {
        let message = self.message().unwrap_or_else(|| panic!("no JSON-RPC answer: {self:?}"));
        assert!(message.get("error").is_none(), "an error: {message}");
        message["result"].clone()
    }
}

/// Sends one request (`Connection: close`) and reads the whole reply.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> io::Result<Reply> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        let _ = write!(head, "host: {HOST}\r\n");
    }
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    let _ = write!(head, "content-length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

fn get(addr: SocketAddr, path: &str) -> io::Result<Reply> {
    send(addr, "GET", path, &[], "", Duration::from_secs(10))
}

fn parse_reply(raw: &[u8]) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
        bad(&format!("no complete response head ({} bytes): {text:?}", raw.len()))
    })?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body).ok_or_else(|| bad("bad chunks"))? } else { body.into() };
    Ok(Reply { status, headers, body })
}

fn dechunk(mut rest: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(after.get(..size)?);
        rest = after.get(size + 2..)?;
    }
}

// ------------------------------------------------------------ 2026-07-28

/// A 2026-07-28 request; `tasks` declares the tasks extension.
fn request(id: u64, method: &str, mut params: Value, tasks: bool) -> Value {
    let extensions = if tasks { json!({ "io.modelcontextprotocol/tasks": {} }) } else { json!({}) };
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": { "extensions": extensions },
        "io.modelcontextprotocol/clientInfo": { "name": "cluster-test", "version": "1" }
    });
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

fn call(id: u64, tool: &str, arguments: Value, tasks: bool) -> Value {
    request(id, "tools/call", json!({ "name": tool, "arguments": arguments }), tasks)
}

/// POSTs a 2026-07-28 request with its headers, as `token`; `test_id`
/// names it in nginx's access log.
fn post(
    addr: SocketAddr,
    token_name: &str,
    message: &Value,
    test_id: &str,
    timeout: Duration,
) -> io::Result<Reply> {
    let method = message["method"].as_str().unwrap_or_default();
    let params = &message["params"];
    let name = params["name"].as_str().or(params["taskId"].as_str()).unwrap_or_default();
    let authorization = format!("Bearer {}", token(token_name));
    let mut headers = vec![
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
        ("authorization", &authorization),
        ("x-test-id", test_id),
    ];
    if !name.is_empty() {
        headers.push(("mcp-name", name));
    }
    send(addr, "POST", "/mcp", &headers, &message.to_string(), timeout)
}

/// [`post`], waiting out 429s (`Retry-After`): for the scenarios that do
/// not test the limit but run under one.
fn post_patiently(addr: SocketAddr, token_name: &str, message: &Value) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = post(addr, token_name, message, "patient", Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{addr}: {e}"));
        if reply.status != 429 {
            return reply;
        }
        assert!(Instant::now() < deadline, "rate-limited for 30 s: {reply:?}");
        let wait: u64 = reply.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(1);
        thread::sleep(Duration::from_millis(200).max(Duration::from_secs(wait) / 4));
    }
}

/// The sum of a metric's series whose labels contain every `labels` item.
fn metric(metrics: &str, name: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (base, rest) = series.split_once('{').unwrap_or((series, ""));
            base == name && labels.iter().all(|label| rest.contains(label))
        })
        .filter_map(|(_, value)| value.parse::<f64>().ok())
        .sum()
}

fn tool_calls(metrics: &str, tool: &str, outcome: &str) -> f64 {
    metric(
        metrics,
        "corral_tool_calls_total",
        &[&format!("tool=\"{tool}\""), &format!("outcome=\"{outcome}\"")],
    )
}

fn all_tool_calls(metrics: &str) -> f64 {
    metric(metrics, "corral_tool_calls_total", &[])
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

// ------------------------------------------------------------ scenario 1

#[test]
fn calls_through_nginx_are_served_by_all_three_replicas() {
    let cluster = shared();
    let before: Vec<f64> = (0..3).map(|i| tool_calls(&cluster.metrics(i), "greet", "ok")).collect();
    // One token per call: the shared cluster limits each token to 5/s.
    for n in 0..30 {
        let message = call(n, "greet", json!({ "name": format!("n{n}") }), false);
        let reply =
            post(cluster.lb(), &format!("spread-{n}"), &message, "s1", Duration::from_secs(30))
                .expect("through nginx");
        assert_eq!(reply.status, 200, "{reply:?}");
        let result = reply.result();
        assert_eq!(result["isError"], false, "{result}");
        assert_eq!(text_of(&result), format!("Hello, n{n}!"));
    }
    let served: Vec<f64> =
        (0..3).map(|i| tool_calls(&cluster.metrics(i), "greet", "ok") - before[i]).collect();
    eprintln!("30 greet calls through nginx, served per replica: {served:?}");
    assert_eq!(served.iter().sum::<f64>(), 30.0, "{served:?}");
    assert!(served.iter().all(|&n| n >= 1.0), "every replica serves: {served:?}");
    // nginx forwards the client's Host; a name the replicas do not list is
    // still refused (the DNS-rebinding defence holds behind the balancer).
    let message = call(99, "greet", json!({ "name": "x" }), false);
    let foreign = send(
        cluster.lb(),
        "POST",
        "/mcp",
        &[
            ("host", "evil.example"),
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "greet"),
            ("authorization", &format!("Bearer {}", token("spread-0"))),
        ],
        &message.to_string(),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(foreign.status, 403, "{foreign:?}");
}

// ------------------------------------------------------------ scenario 2

/// Fires `total` calls as `token_name` through nginx from `threads`
/// threads at once: (allowed, refused, seconds from the first send to the
/// last answer). Every refusal is a 429 with `Retry-After` and `-32000`.
fn burst(cluster: &Cluster, token_name: &str, total: usize, threads: usize) -> (usize, usize, f64) {
    let lb = cluster.lb();
    let start = Instant::now();
    let handles: Vec<JoinHandle<Vec<Reply>>> = (0..threads)
        .map(|t| {
            let token_name = token_name.to_owned();
            thread::spawn(move || {
                (0..total / threads)
                    .map(|n| {
                        let message = call(
                            n as u64,
                            "slow_compute",
                            json!({ "seconds": 0, "label": format!("b{t}-{n}") }),
                            false,
                        );
                        post(lb, &token_name, &message, "burst", Duration::from_secs(30))
                            .expect("through nginx")
                    })
                    .collect()
            })
        })
        .collect();
    let replies: Vec<Reply> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let elapsed = start.elapsed().as_secs_f64();
    let (mut allowed, mut refused) = (0, 0);
    for reply in &replies {
        match reply.status {
            200 => {
                assert_eq!(reply.result()["isError"], false, "{reply:?}");
                allowed += 1;
            }
            429 => {
                let retry: u64 = reply
                    .header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("429 without Retry-After: {reply:?}"));
                assert!(retry >= 1, "{reply:?}");
                let message = reply.message().expect("a JSON-RPC error body");
                assert_eq!(message["error"]["code"], -32000, "{message}");
                refused += 1;
            }
            _ => panic!("neither 200 nor 429: {reply:?}"),
        }
    }
    (allowed, refused, elapsed)
}

/// Asserts that a burst saw one shared bucket of `per_second`/`burst_size`:
/// at most what one bucket allows in the elapsed time (plus 2 for the
/// refill between measuring and sending), not one bucket per replica.
fn assert_one_bucket(allowed: usize, refused: usize, elapsed: f64, per_second: f64, size: usize) {
    let bound = size + (per_second * elapsed).ceil() as usize + 2;
    eprintln!(
        "burst of {}: {allowed} allowed, {refused} refused (429) in {elapsed:.2} s; one shared \
         bucket allows at most {bound}, one per replica would allow about {}",
        allowed + refused,
        3 * size + (3.0 * per_second * elapsed) as usize
    );
    assert!(allowed >= size, "a fresh bucket allows its burst: {allowed} < {size}");
    assert!(
        allowed <= bound,
        "{allowed} allowed in {elapsed:.2} s: more than one bucket of {per_second}/s, burst \
         {size} allows ({bound}); the replicas do not share the limit"
    );
    assert!(refused > 0, "nothing refused");
}

#[test]
fn one_rate_limit_holds_across_the_three_replicas() {
    let cluster = shared();
    let before: Vec<f64> =
        (0..3).map(|i| tool_calls(&cluster.metrics(i), "slow_compute", "ok")).collect();
    let (allowed, refused, elapsed) = burst(cluster, "limit", 60, 6);
    assert_one_bucket(allowed, refused, elapsed, 5.0, 10);
    // The allowed calls were spread over the replicas: the limit is shared,
    // not one replica's.
    let served: Vec<f64> =
        (0..3).map(|i| tool_calls(&cluster.metrics(i), "slow_compute", "ok") - before[i]).collect();
    assert!(served.iter().filter(|&&n| n > 0.0).count() >= 2, "served per replica: {served:?}");
    // The bucket lives in Redis, under the cluster's key prefix.
    let port = lock(&cluster.redis).port;
    let keys = redis_keys(port, &cluster.prefix);
    assert!(!keys.is_empty(), "no key under {} in Redis", cluster.prefix);
}

// ------------------------------------------------------------ scenario 3

/// POSTs `message` in the 2025-11-25 session `session` (none: `initialize`).
fn session_post(addr: SocketAddr, session: Option<&str>, message: &Value) -> Reply {
    let authorization = format!("Bearer {}", token("session"));
    let mut headers = vec![
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("authorization", authorization.as_str()),
    ];
    if let Some(session) = session {
        headers.push(("mcp-session-id", session));
        headers.push(("mcp-protocol-version", "2025-11-25"));
    }
    send(addr, "POST", "/mcp", &headers, &message.to_string(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{addr}: {e}"))
}

/// POSTs `message` in `session` and returns the open response stream.
fn session_stream(addr: SocketAddr, session: &str, message: &Value) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = message.to_string();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\
         accept: application/json, text/event-stream\r\ncontent-type: application/json\r\n\
         authorization: Bearer {}\r\nmcp-session-id: {session}\r\n\
         mcp-protocol-version: 2025-11-25\r\ncontent-length: {}\r\n\r\n",
        token("session"),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    BufReader::new(stream)
}

/// The next SSE event's JSON on `stream` (chunk-size lines skipped).
fn next_event(stream: &mut BufReader<TcpStream>) -> Value {
    let mut line = String::new();
    loop {
        line.clear();
        let read = stream.read_line(&mut line).expect("the stream goes on");
        assert!(read > 0, "the stream ended before the event");
        if let Some(data) = line.trim_end().strip_prefix("data:") {
            return serde_json::from_str(data.trim()).expect("JSON in the event");
        }
    }
}

#[test]
fn a_session_is_served_by_every_replica() {
    let cluster = Cluster::start("sessions", "", "max_concurrency = 4");
    let (a, b, c) = (cluster.addr(0), cluster.addr(1), cluster.addr(2));
    let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": { "name": "cluster-test", "version": "1" } } });
    let started = session_post(cluster.lb(), None, &initialize);
    assert_eq!(started.status, 200, "{started:?}");
    let session = started.header("mcp-session-id").expect("a session id").to_owned();
    let port = lock(&cluster.redis).port;
    assert!(
        redis_keys(port, &cluster.prefix).iter().any(|k| k.ends_with(&format!("sess:{session}"))),
        "the session is in Redis before initialize is answered"
    );
    // Its requests, round-robined by nginx, are served by every replica.
    let before: Vec<f64> = (0..3).map(|i| tool_calls(&cluster.metrics(i), "greet", "ok")).collect();
    for n in 0..6 {
        let message = json!({ "jsonrpc": "2.0", "id": 10 + n, "method": "tools/call",
            "params": { "name": "greet", "arguments": { "name": format!("s{n}") } } });
        let reply = session_post(cluster.lb(), Some(&session), &message);
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(text_of(&reply.result()), format!("Hello, s{n}!"));
    }
    let served: Vec<f64> =
        (0..3).map(|i| tool_calls(&cluster.metrics(i), "greet", "ok") - before[i]).collect();
    eprintln!("6 calls of one session through nginx, served per replica: {served:?}");
    assert!(served.iter().all(|&n| n >= 1.0), "every replica serves the session: {served:?}");
    // A call running on A, cancelled by a notification sent to B.
    let slow = json!({ "jsonrpc": "2.0", "id": 20, "method": "tools/call",
        "params": { "name": "slow_compute", "arguments": { "seconds": 30, "label": "far" } } });
    let running = {
        let session = session.clone();
        thread::spawn(move || {
            let asked = Instant::now();
            let reply = session_post(a, Some(&session), &slow);
            (asked.elapsed(), reply)
        })
    };
    wait_until("the call runs on A", Duration::from_secs(10), || {
        metric(&cluster.metrics(0), "corral_calls_in_flight", &[]) >= 1.0
    });
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": { "requestId": 20, "reason": "the user moved on" } });
    assert_eq!(session_post(b, Some(&session), &cancel).status, 202);
    let (took, reply) = running.join().unwrap();
    eprintln!("a call on A cancelled through B: its stream ended after {took:?}: {reply:?}");
    assert!(took < Duration::from_secs(20), "the cancel reached A: {took:?}");
    assert!(reply.message().is_none(), "a cancelled request gets no response: {reply:?}");
    wait_until("A counts the call cancelled", Duration::from_secs(5), || {
        tool_calls(&cluster.metrics(0), "slow_compute", "cancelled") >= 1.0
    });
    // A question asked on A (on the call's stream), answered through C:
    // the answer reaches A, and the tool resumes with it.
    let asking = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": { "elicitation": {} },
        "clientInfo": { "name": "cluster-test", "version": "1" } } });
    let asking = session_post(a, None, &asking);
    let asking = asking.header("mcp-session-id").expect("a session id").to_owned();
    let call = json!({ "jsonrpc": "2.0", "id": 21, "method": "tools/call",
        "params": { "name": "test_elicitation", "arguments": { "message": "Who are you?" } } });
    let mut stream = session_stream(a, &asking, &call);
    let question = next_event(&mut stream);
    assert_eq!(question["method"], "elicitation/create", "{question}");
    let answer = json!({ "jsonrpc": "2.0", "id": question["id"], "result":
        { "action": "accept", "content": { "username": "ada", "email": "ada@example.org" } } });
    assert_eq!(session_post(c, Some(&asking), &answer).status, 202);
    let response = next_event(&mut stream);
    assert_eq!(response["id"], 21, "{response}");
    let text = text_of(&response["result"]);
    assert!(text.contains("action=accept") && text.contains("ada@example.org"), "{response}");
    // The log level set on C is the session's everywhere (in Redis).
    let level = json!({ "jsonrpc": "2.0", "id": 30, "method": "logging/setLevel",
        "params": { "level": "error" } });
    assert_eq!(session_post(c, Some(&session), &level).status, 200);
    let key = format!("{}:sess:{session}", cluster.prefix);
    wait_until("the level reaches Redis", Duration::from_secs(5), || {
        redis_command(port, &["HGET", &key, "rank"])
            .is_ok_and(|rank| rank.starts_with('$') && rank.split("\r\n").nth(1) != Some("0"))
    });
    // DELETE on C ends it on every replica.
    let authorization = format!("Bearer {}", token("session"));
    let deleted = send(
        c,
        "DELETE",
        "/mcp",
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-11-25"),
            ("authorization", &authorization),
        ],
        "",
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(deleted.status, 204, "{deleted:?}");
    let ping = json!({ "jsonrpc": "2.0", "id": 40, "method": "ping" });
    for addr in [a, b, c] {
        wait_until("the session ends everywhere", Duration::from_secs(5), || {
            session_post(addr, Some(&session), &ping).status == 404
        });
    }
}

// ------------------------------------------------------------ scenario 4

fn task_get(addr: SocketAddr, token_name: &str, task: &str) -> Value {
    let get = request(2, "tasks/get", json!({ "taskId": task }), true);
    let reply = post_patiently(addr, token_name, &get);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.result()
}

/// Polls `task` (of the client `tasks`) on `addr` until it is in one of
/// `statuses`.
fn poll_task(addr: SocketAddr, task: &str, statuses: &[&str]) -> Value {
    poll_task_as(addr, "tasks", task, statuses)
}

fn poll_task_as(addr: SocketAddr, token_name: &str, task: &str, statuses: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = task_get(addr, token_name, task);
        if statuses.iter().any(|s| now["status"] == *s) {
            return now;
        }
        assert!(Instant::now() < deadline, "task never reached {statuses:?}: {now}");
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_task_is_polled_cancelled_and_fetched_through_other_replicas() {
    // One slot per replica, no queue: a call finds it taken or free.
    let cluster = Cluster::start("tasks", "", "max_concurrency = 1\nqueue_timeout_ms = 0");
    let (a, b, c) = (cluster.addr(0), cluster.addr(1), cluster.addr(2));
    // Started on A, where it holds the one slot.
    let slow = call(1, "slow_compute", json!({ "seconds": 60, "label": "held" }), true);
    let created = post_patiently(a, "tasks", &slow).result();
    assert_eq!(created["resultType"], "task", "{created}");
    let task = created["taskId"].as_str().unwrap().to_owned();
    let quick = call(2, "slow_compute", json!({ "seconds": 0, "label": "quick" }), false);
    let busy = post_patiently(a, "tasks", &quick).result();
    assert_eq!(busy["isError"], true, "A's slot is held by the task: {busy}");
    // B reads it.
    let seen = task_get(b, "tasks", &task);
    assert_eq!(seen["status"], "working", "{seen}");
    assert_eq!(seen["taskId"], task.as_str());
    // The task is in Redis.
    let port = lock(&cluster.redis).port;
    assert!(!redis_keys(port, &cluster.prefix).is_empty());
    // C cancels it.
    let cancel = request(3, "tasks/cancel", json!({ "taskId": &task }), true);
    let ack = post_patiently(c, "tasks", &cancel);
    assert_eq!(ack.status, 200, "{ack:?}");
    assert_eq!(ack.result()["resultType"], "complete", "{ack:?}");
    // Every replica sees it cancelled, and A's call stopped: its one slot is
    // free again (a call needing it succeeds).
    for addr in [a, b, c] {
        let now = poll_task(addr, &task, &["completed", "failed", "cancelled"]);
        assert_eq!(now["status"], "cancelled", "{now}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let free = post_patiently(a, "tasks", &quick).result();
        if free["isError"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "A's slot still held 10 s after the cancel: {free}");
        thread::sleep(Duration::from_millis(100));
    }
    let metrics = cluster.metrics(0);
    assert!(tool_calls(&metrics, "slow_compute", "cancelled") >= 1.0, "{metrics}");

    // A task that completes: started on B, polled on C, its result read on A
    // and through nginx.
    let short = call(4, "slow_compute", json!({ "seconds": 1, "label": "fetched" }), true);
    let created = post_patiently(b, "tasks", &short).result();
    assert_eq!(created["resultType"], "task", "{created}");
    let task = created["taskId"].as_str().unwrap().to_owned();
    let done = poll_task(c, &task, &["completed", "failed", "cancelled"]);
    assert_eq!(done["status"], "completed", "{done}");
    for addr in [a, cluster.lb()] {
        let fetched = task_get(addr, "tasks", &task);
        assert_eq!(fetched["status"], "completed", "{fetched}");
        assert_eq!(fetched["result"]["isError"], false, "{fetched}");
        assert_eq!(
            text_of(&fetched["result"]),
            "slow_compute fetched: done after 1 s",
            "{fetched}"
        );
    }
}

// ------------------------------------------------------------------ load

/// What a load request was.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Discover,
    List,
    Greet,
    /// `slow_compute` inline for a while: in flight when a replica drains.
    Slow,
    /// `slow_compute` as a task, polled through nginx until it completes.
    Task,
}

/// One finished load request.
#[derive(Debug)]
struct Record {
    kind: Kind,
    started: Instant,
    took: Duration,
    /// `Ok(true)`: a success; `Ok(false)`: refused by the rate limit (429).
    outcome: Result<bool, Failure>,
}

/// A failed load request: which HTTP request failed (its test id, as in
/// nginx's access log: a task's poll, say), when it was sent, and why.
#[derive(Debug, PartialEq)]
struct Failure {
    id: String,
    sent: Instant,
    why: String,
}

struct Load {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<Vec<Record>>>,
}

/// `clients` clients through nginx, each with its own token, cycling
/// through `mix`, pausing `pause` between requests, until stopped. A
/// request must be answered within `timeout`.
fn start_load(
    lb: SocketAddr,
    clients: usize,
    mix: &'static [Kind],
    pause: Duration,
    timeout: Duration,
) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = (0..clients)
        .map(|c| {
            let stop = stop.clone();
            thread::spawn(move || {
                let token_name = format!("load-{c}");
                let mut records = Vec::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let kind = mix[(c + n as usize) % mix.len()];
                    let id = format!("c{c}-{n}");
                    let started = Instant::now();
                    let outcome = one(lb, &token_name, kind, n, &id, timeout);
                    records.push(Record { kind, started, took: started.elapsed(), outcome });
                    n += 1;
                    thread::sleep(pause);
                }
                records
            })
        })
        .collect();
    Load { stop, handles }
}

impl Load {
    fn finish(self) -> Vec<Record> {
        self.stop.store(true, Ordering::Relaxed);
        self.handles.into_iter().flat_map(|h| h.join().expect("load client")).collect()
    }
}

/// Runs one load request: `Ok(true)` when it succeeded, `Ok(false)` when
/// the rate limit refused it, else why it failed.
fn one(
    lb: SocketAddr,
    token_name: &str,
    kind: Kind,
    n: u64,
    id: &str,
    timeout: Duration,
) -> Result<bool, Failure> {
    let message = match kind {
        Kind::Discover => request(n, "server/discover", json!({}), false),
        Kind::List => request(n, "tools/list", json!({}), false),
        Kind::Greet => call(n, "greet", json!({ "name": id }), false),
        Kind::Slow => call(n, "slow_compute", json!({ "seconds": 0.3, "label": id }), false),
        Kind::Task => call(n, "slow_compute", json!({ "seconds": 0.5, "label": id }), true),
    };
    let sent = Instant::now();
    let failure = |id: &str, sent: Instant, why: String| Failure { id: id.to_owned(), sent, why };
    let result =
        answer(post(lb, token_name, &message, id, timeout)).map_err(|e| failure(id, sent, e))?;
    let Some(result) = result else { return Ok(false) };
    match kind {
        Kind::Discover | Kind::List => Ok(true),
        Kind::Greet | Kind::Slow if result["isError"] == false => Ok(true),
        Kind::Greet | Kind::Slow => Err(failure(id, sent, format!("tool error: {result}"))),
        Kind::Task if result["resultType"] == "complete" && result["isError"] == false => Ok(true),
        Kind::Task if result["resultType"] == "task" => {
            let task = result["taskId"].as_str().unwrap_or_default().to_owned();
            let deadline = Instant::now() + Duration::from_secs(30);
            for poll in 0.. {
                thread::sleep(Duration::from_millis(100));
                let get = request(n, "tasks/get", json!({ "taskId": &task }), true);
                let poll_id = format!("{id}-poll{poll}");
                let sent = Instant::now();
                let Some(now) = answer(post(lb, token_name, &get, &poll_id, timeout))
                    .map_err(|e| failure(&poll_id, sent, format!("tasks/get of {task}: {e}")))?
                else {
                    continue;
                };
                match now["status"].as_str() {
                    Some("completed") if now["result"]["isError"] == false => return Ok(true),
                    Some("working") if Instant::now() < deadline => continue,
                    _ => return Err(failure(&poll_id, sent, format!("task {task}: {now}"))),
                }
            }
            unreachable!()
        }
        Kind::Task => Err(failure(id, sent, format!("neither a result nor a task: {result}"))),
    }
}

/// The result of an answer; `None` for a 429; `Err` for anything else that
/// is not a 200 with a JSON-RPC result.
fn answer(reply: io::Result<Reply>) -> Result<Option<Value>, String> {
    let reply = reply.map_err(|e| format!("transport: {e}"))?;
    if reply.status == 429 {
        return Ok(None);
    }
    let message = reply.message();
    match (reply.status, &message) {
        (200, Some(m)) if m.get("result").is_some() => Ok(Some(m["result"].clone())),
        _ => Err(format!(
            "HTTP {}: {}",
            reply.status,
            reply.body.chars().take(300).collect::<String>().replace('\n', " ")
        )),
    }
}

/// The failures, each with what nginx logged for its request (status,
/// upstream addresses, upstream statuses, time).
fn failures<'r>(records: &'r [Record], cluster: &Cluster) -> Vec<(&'r Failure, String)> {
    let log = cluster.access_log();
    records
        .iter()
        .filter_map(|r| Some((r.kind, r.outcome.as_ref().err()?)))
        .map(|(kind, f)| {
            let nginx = log.get(&f.id).map_or("not in the access log", |l| l.as_str());
            (f, format!("{nginx} (a {kind:?} request)"))
        })
        .collect()
}

fn summary(records: &[Record]) -> String {
    let ok = records.iter().filter(|r| r.outcome == Ok(true)).count();
    let limited = records.iter().filter(|r| r.outcome == Ok(false)).count();
    let failed = records.len() - ok - limited;
    let slowest = records.iter().map(|r| r.took).max().unwrap_or_default();
    format!(
        "{} requests: {ok} ok, {limited} rate-limited, {failed} failed; slowest {slowest:?}",
        records.len()
    )
}

fn print_failures(what: &str, failed: &[(&Failure, String)], origin: Instant) {
    eprintln!("{what}: {} failed request(s)", failed.len());
    for (failure, nginx) in failed {
        eprintln!(
            "  {} sent at +{:.3} s: {}\n    nginx: {nginx}",
            failure.id,
            failure.sent.duration_since(origin).as_secs_f64(),
            failure.why
        );
    }
}

// ------------------------------------------------------------ scenario 5

const MIXED: &[Kind] =
    &[Kind::Discover, Kind::Greet, Kind::List, Kind::Slow, Kind::Greet, Kind::Task];

/// Reads one response on a kept-alive connection (its `Content-Length`).
fn read_one(reader: &mut BufReader<TcpStream>) -> io::Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(status)
}

/// SIGTERMs replica `index` and waits for its exit: status 0 within the
/// grace period (plus 10 s).
fn stop(cluster: &Cluster, index: usize) -> ExitStatus {
    let mut replica = cluster.replica(index);
    let proc = replica.proc.as_mut().unwrap();
    proc.signal(Signal::TERM);
    let status = proc
        .wait_exit(Duration::from_millis(GRACE_MS + 10_000))
        .unwrap_or_else(|| panic!("replica {index} still running after the grace period"));
    assert_eq!(status.code(), Some(0), "replica {index}: {status}\n{}", tail(&replica.log, 30));
    replica.proc = None;
    status
}

/// Starts replica `index` again on its port; returns once it is ready.
fn restart(cluster: &Cluster, index: usize) {
    let mut replica = cluster.replica(index);
    replica.spawn();
    replica.wait_ready();
}

/// Waits until nginx sends the (restarted) replica calls again: its
/// `/metrics` counts some.
fn wait_serving(cluster: &Cluster, index: usize) {
    wait_until("the restarted replica serves calls", Duration::from_secs(20), || {
        all_tool_calls(&cluster.metrics(index)) > 0.0
    });
}

/// SIGTERMs `index` with a call in flight on it and an idle keep-alive
/// connection open, and checks the drain: the idle connection closed while
/// the call still ran, the listener closed, the call finished, exit 0.
fn drain_with_a_call_in_flight(cluster: &Cluster, index: usize) {
    let addr = cluster.addr(index);
    let idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_millis(GRACE_MS + 5_000))).unwrap();
    let mut idle = BufReader::new(idle);
    write!(idle.get_mut(), "GET /healthz HTTP/1.1\r\nhost: {HOST}\r\n\r\n").unwrap();
    assert_eq!(read_one(&mut idle).unwrap(), 200);
    // A call streaming its progress: once its first progress event came,
    // it runs.
    let mut message = call(1, "slow_compute", json!({ "seconds": 1.5, "label": "drain" }), false);
    message["params"]["_meta"]["progressToken"] = json!("drain");
    let body = message.to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\
         authorization: Bearer {}\r\naccept: application/json, text/event-stream\r\n\
         content-type: application/json\r\nmcp-protocol-version: 2026-07-28\r\n\
         mcp-method: tools/call\r\nmcp-name: slow_compute\r\ncontent-length: {}\r\n\r\n{body}",
        token("probe"),
        body.len()
    )
    .unwrap();
    let mut call_stream = BufReader::new(stream);
    let mut line = String::new();
    while !(line.starts_with("data:") && line.contains("notifications/progress")) {
        line.clear();
        assert!(call_stream.read_line(&mut line).unwrap() > 0, "the call's stream ended early");
    }
    let in_flight = thread::spawn(move || {
        let mut rest = String::new();
        let read = call_stream.read_to_string(&mut rest);
        (read, rest, Instant::now())
    });
    let sigterm = Instant::now();
    let pid = cluster.replica(index).proc.as_ref().unwrap().pid();
    rustix::process::kill_process(pid, Signal::TERM).unwrap();
    // The idle connection is closed at once (EOF, no answer).
    let mut rest = Vec::new();
    let eof = idle.read_to_end(&mut rest);
    let idle_closed = Instant::now();
    assert!(eof.is_ok() && rest.is_empty(), "idle keep-alive connection: {eof:?} {rest:?}");
    // The listener is closed: new connections are refused.
    wait_until("the listener closes", Duration::from_secs(5), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err()
    });
    // The call in flight finishes, after the idle connection was closed.
    let (read, rest, answered) = in_flight.join().unwrap();
    let response = rest
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|m| m["id"] == 1);
    assert!(
        read.is_ok() && response.as_ref().is_some_and(|r| r["result"]["isError"] == false),
        "the call in flight on the draining replica: {read:?}, its stream's rest: {rest}"
    );
    assert!(idle_closed < answered, "the idle connection was kept until the call ended");
    let status = stop(cluster, index);
    eprintln!(
        "replica {index}: SIGTERM; idle connection closed after {:?}, the call in flight \
         answered after {:?}, {status} after {:?}",
        idle_closed - sigterm,
        answered - sigterm,
        sigterm.elapsed()
    );
}

/// Runs `clients` through nginx while `restart_all` restarts the replicas;
/// returns the records and when the load began.
fn under_load(cluster: &Cluster, restart_all: impl FnOnce()) -> (Vec<Record>, Instant) {
    let origin = Instant::now();
    let load = start_load(cluster.lb(), CLIENTS, MIXED, Duration::ZERO, Duration::from_secs(60));
    // Every replica serves before the first goes.
    wait_until("every replica serves calls", Duration::from_secs(20), || {
        (0..3).all(|i| all_tool_calls(&cluster.metrics(i)) > 0.0)
    });
    restart_all();
    let records = load.finish();
    assert!(
        records.iter().filter(|r| r.outcome == Ok(true)).count() > 100,
        "{}",
        summary(&records)
    );
    (records, origin)
}

/// Scenario 5 as a deployment does it (Kubernetes: the pod leaves the
/// endpoints, preStop waits, then SIGTERM): each replica is taken out of
/// nginx (reload; the old worker finishes its requests), SIGTERMed, exits
/// 0, is started again and put back. No request fails.
#[test]
fn a_rolling_restart_under_load_fails_no_request() {
    let _turn = heavy();
    let cluster = Cluster::start("rolling", "", ROOMY);
    let (records, origin) = under_load(&cluster, || {
        for index in 0..3 {
            let began = Instant::now();
            cluster.balance(Some(index));
            stop(&cluster, index);
            restart(&cluster, index);
            cluster.balance(None);
            wait_serving(&cluster, index);
            eprintln!("replica {index} out, stopped, restarted and back in {:?}", began.elapsed());
        }
    });
    eprintln!("rolling restart: {}", summary(&records));
    let failed = failures(&records, &cluster);
    print_failures("rolling restart", &failed, origin);
    if !failed.is_empty() {
        eprintln!("nginx error log:\n{}", cluster.nginx_errors());
    }
    assert!(failed.is_empty(), "{} of {} requests failed", failed.len(), records.len());
}

/// Scenario 5 without taking the replica out of nginx first: SIGTERM while
/// nginx still sends it requests. The drain itself loses nothing (the
/// replica finishes what it read and refuses new connections, which nginx
/// retries on another), but a request nginx writes on a kept-alive
/// connection in the instant the replica closes it as idle is lost: nginx
/// sees the connection close before any answer ("upstream prematurely
/// closed connection") and, the POST being sent, does not retry it (only
/// `proxy_next_upstream non_idempotent` would, which would also repeat
/// calls a crashed replica had begun: wrong for tools with side effects).
/// HTTP/1.1 has no way to close a kept-alive connection without this race;
/// the remedy is the balancer's (take the replica out first, as above).
/// So: each failure must be that (a 502 of nginx from the SIGTERMed
/// replica), at most one per kept-alive connection, so at most one per
/// client.
#[test]
fn a_sigterm_while_still_balanced_loses_at_most_a_request_per_idle_connection() {
    let _turn = heavy();
    let cluster = Cluster::start("sigterm", "", ROOMY);
    let mut windows = Vec::new();
    let (records, origin) = under_load(&cluster, || {
        for index in 0..3 {
            let began = Instant::now();
            drain_with_a_call_in_flight(&cluster, index);
            restart(&cluster, index);
            wait_serving(&cluster, index);
            windows.push((index, began, Instant::now()));
        }
    });
    eprintln!("SIGTERM while balanced: {}", summary(&records));
    let failed = failures(&records, &cluster);
    print_failures("SIGTERM while balanced", &failed, origin);
    if !failed.is_empty() {
        eprintln!("nginx error log:\n{}", cluster.nginx_errors());
    }
    for (failure, nginx) in &failed {
        // The replica being restarted when the request was sent.
        let window = windows
            .iter()
            .find(|(_, began, ended)| failure.sent >= *began && failure.sent <= *ended);
        let Some((index, ..)) = window else {
            panic!("failed outside a restart: {failure:?} / nginx: {nginx}")
        };
        let upstream = format!("127.0.0.1:{}", cluster.port(*index));
        assert!(
            nginx.split(' ').next() == Some("502") && nginx.contains(&upstream),
            "failed otherwise than by replica {index}'s closing: {failure:?} / nginx: {nginx}"
        );
    }
    assert!(failed.len() <= 3 * CLIENTS, "{} failed", failed.len());
}

// ------------------------------------------------------------ scenario 6

const PLAIN: &[Kind] = &[Kind::Discover, Kind::Greet, Kind::List, Kind::Slow, Kind::Greet];

#[test]
fn kill_9_of_a_replica_fails_only_requests_in_flight_on_it() {
    let _turn = heavy();
    let cluster = Cluster::start("kill", "", ROOMY);
    let origin = Instant::now();
    let victim = 1;
    let victim_upstream = format!("127.0.0.1:{}", cluster.port(victim));
    // A task running on the victim, to see what becomes of it.
    let slow = call(1, "slow_compute", json!({ "seconds": 60, "label": "orphan" }), true);
    let created = post_patiently(cluster.addr(victim), "probe", &slow).result();
    let orphan = created["taskId"].as_str().expect("a task").to_owned();
    let load = start_load(cluster.lb(), CLIENTS, PLAIN, Duration::ZERO, Duration::from_secs(60));
    thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    eprintln!("kill -9 of replica {victim} at +{:.3} s", (killed - origin).as_secs_f64());
    {
        let mut replica = cluster.replica(victim);
        let proc = replica.proc.as_mut().unwrap();
        proc.signal(Signal::KILL);
        let status = proc.wait_exit(Duration::from_secs(10)).expect("killed");
        assert_eq!(status.signal(), Some(9));
    }
    thread::sleep(Duration::from_secs(2));
    // It rejoins: nginx sends it calls again.
    restart(&cluster, victim);
    wait_serving(&cluster, victim);
    let records = load.finish();
    eprintln!("kill -9: {}", summary(&records));
    let failed = failures(&records, &cluster);
    print_failures("kill -9", &failed, origin);
    // Only requests nginx had sent to the victim fail: each a 502 of nginx
    // whose upstream was the victim, begun before the kill (or within the
    // moment nginx still took a kept-alive connection to it for alive).
    for (failure, nginx) in &failed {
        assert!(
            nginx.contains(&victim_upstream) && nginx.split(' ').next() == Some("502"),
            "failed elsewhere than on the killed replica: {failure:?} / nginx: {nginx}"
        );
        assert!(failure.sent < killed + Duration::from_secs(1), "sent after the kill: {failure:?}");
    }
    assert!(failed.len() <= CLIENTS, "{} failures: more than the clients in flight", failed.len());
    let after = records.iter().filter(|r| r.started > killed && r.outcome == Ok(true)).count();
    assert!(after > 100, "requests after the kill: {after} succeeded");
    // The task that ran on the killed replica: its lease lapses (10 s
    // without renewal) and another replica ends it failed, saying why.
    let lost =
        poll_task_as(cluster.addr(0), "probe", &orphan, &["completed", "failed", "cancelled"]);
    eprintln!(
        "the task that ran on the killed replica ended {:.1} s after the kill: {lost}",
        killed.elapsed().as_secs_f64()
    );
    assert_eq!(lost["status"], "failed", "{lost}");
    assert_eq!(lost["error"]["data"]["outcome"], "lost", "{lost}");
}

// ------------------------------------------------------------ scenario 7

#[test]
fn redis_down_under_load_falls_back_and_recovers() {
    let _turn = heavy();
    let cluster = Cluster::start("redis", "rate_limit = { per_second = 5, burst = 10 }", ROOMY);
    let origin = Instant::now();
    // Clients below the limit (one request per 250 ms or slower, each its
    // own token) and one client far above it.
    let load =
        start_load(cluster.lb(), 24, PLAIN, Duration::from_millis(250), Duration::from_secs(5));
    let hammer = start_hammer(cluster.lb());
    wait_until("every replica reaches Redis", Duration::from_secs(10), || {
        (0..3).all(|index| metric(&cluster.metrics(index), "corral_redis_up", &[]) == 1.0)
    });
    // Redis stops.
    {
        let mut redis = lock(&cluster.redis);
        let proc = redis.proc.as_mut().unwrap();
        proc.signal(Signal::TERM);
        proc.wait_exit(Duration::from_secs(10)).expect("redis-server stops");
        redis.proc = None;
    }
    let down = Instant::now();
    // Task operations answer a clear error, at once.
    let get = request(3, "tasks/get", json!({ "taskId": "any" }), true);
    let asked = Instant::now();
    let reply =
        post(cluster.addr(0), "probe", &get, "probe", Duration::from_secs(5)).expect("answered");
    let took = asked.elapsed();
    eprintln!("tasks/get with Redis down: {took:?}, HTTP {} {}", reply.status, reply.body);
    assert_eq!(reply.status, 503, "{reply:?}");
    let message = reply.message().expect("JSON-RPC");
    assert!(
        message["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("task store unavailable")),
        "{message}"
    );
    assert!(took < Duration::from_secs(5));
    // A call that would become a task cannot: it is answered all the same
    // (run inline to its end), or refused with that error; it never hangs.
    let slow = call(4, "slow_compute", json!({ "seconds": 1, "label": "no-store" }), true);
    let asked = Instant::now();
    let reply = post(cluster.addr(1), "probe", &slow, "probe-task", Duration::from_secs(10))
        .expect("answered");
    eprintln!(
        "a call that would become a task, with Redis down: {:?}, HTTP {} {}",
        asked.elapsed(),
        reply.status,
        reply.body
    );
    let message = reply.message().expect("JSON-RPC");
    if reply.status == 200 {
        let result = &message["result"];
        assert_eq!(result["resultType"], "complete", "{message}");
        assert_eq!(text_of(result), "slow_compute no-store: done after 1 s", "{message}");
    } else {
        assert_eq!(reply.status, 503, "{reply:?}");
        let why = message["error"]["message"].as_str().unwrap_or_default();
        assert!(why.starts_with("task store unavailable"), "{message}");
    }
    // 2025-11-25: a session starts and is served where it started; one
    // this replica does not hold cannot be looked up, and says so.
    let initialize = json!({ "jsonrpc": "2.0", "id": 6, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": { "name": "cluster-test", "version": "1" } } });
    let started = session_post(cluster.addr(0), None, &initialize);
    assert_eq!(started.status, 200, "{started:?}");
    let session = started.header("mcp-session-id").expect("a session id").to_owned();
    let ping = json!({ "jsonrpc": "2.0", "id": 7, "method": "ping" });
    assert_eq!(session_post(cluster.addr(0), Some(&session), &ping).status, 200);
    let elsewhere = session_post(cluster.addr(1), Some(&session), &ping);
    assert_eq!(elsewhere.status, 503, "{elsewhere:?}");
    let message = elsewhere.message().expect("JSON-RPC");
    assert!(
        message["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("session store unavailable")),
        "{message}"
    );
    // Every replica notices, and limits with its own buckets.
    wait_until("every replica reports Redis down", Duration::from_secs(10), || {
        (0..3).all(|i| metric(&cluster.metrics(i), "corral_redis_up", &[]) == 0.0)
    });
    // Once a replica has seen Redis fail, a call of a tool whose task
    // support is optional runs inline (under its inline limits) instead.
    let slow = call(5, "slow_compute", json!({ "seconds": 1, "label": "inline" }), true);
    let reply = post(cluster.addr(1), "probe", &slow, "probe-inline", Duration::from_secs(10))
        .expect("answered");
    let message = reply.message().expect("JSON-RPC");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(message["result"]["resultType"], "complete", "{message}");
    assert_eq!(text_of(&message["result"]), "slow_compute inline: done after 1 s", "{message}");
    wait_until("a replica rate-limits locally", Duration::from_secs(10), || {
        (0..3).any(|i| metric(&cluster.metrics(i), "corral_rate_limit_fallback_total", &[]) > 0.0)
    });
    let rate_limit_errors =
        |i: usize| metric(&cluster.metrics(i), "corral_redis_errors_total", &["op=\"rate_limit\""]);
    wait_until(
        "every replica counts its failed rate limit checks",
        Duration::from_secs(10),
        || (0..3).all(|i| rate_limit_errors(i) > 0.0),
    );
    // Redis returns (empty: no persistence).
    lock(&cluster.redis).start();
    let back = Instant::now();
    wait_until("every replica reports Redis up again", Duration::from_secs(15), || {
        (0..3).all(|i| metric(&cluster.metrics(i), "corral_redis_up", &[]) == 1.0)
    });
    eprintln!(
        "Redis down for {:?}; every replica up again {:?} after its return",
        back - down,
        back.elapsed()
    );
    thread::sleep(Duration::from_millis(500));
    let records = load.finish();
    let hammered = hammer.finish();
    eprintln!("Redis outage, paced clients: {}", summary(&records));
    eprintln!("Redis outage, the client above the limit: {}", summary(&hammered));
    let mut failed = failures(&records, &cluster);
    failed.extend(failures(&hammered, &cluster));
    print_failures("Redis outage", &failed, origin);
    assert!(failed.is_empty(), "{} requests failed", failed.len());
    // Nothing hung: every request was answered within 5 s (a slower one also
    // failed above); the paced clients stayed below the limit throughout.
    let slowest = records.iter().chain(&hammered).map(|r| r.took).max().unwrap_or_default();
    assert!(slowest < Duration::from_secs(5), "a request took {slowest:?}");
    assert_eq!(
        records.iter().filter(|r| r.outcome == Ok(false)).count(),
        0,
        "paced clients limited"
    );
    assert!(hammered.iter().any(|r| r.outcome == Ok(false)), "the hammer was never limited");
    // One shared limit again.
    let (allowed, refused, elapsed) = burst(&cluster, "burst", 60, 6);
    assert_one_bucket(allowed, refused, elapsed, 5.0, 10);
    // Tasks work again.
    let short = call(5, "slow_compute", json!({ "seconds": 0.5, "label": "after" }), true);
    let created = post_patiently(cluster.lb(), "tasks", &short).result();
    assert_eq!(created["resultType"], "task", "{created}");
    let task = created["taskId"].as_str().unwrap().to_owned();
    let done = poll_task(cluster.lb(), &task, &["completed", "failed", "cancelled"]);
    assert_eq!(done["status"], "completed", "{done}");
}

/// One client calling `greet` as fast as it can through nginx, far above
/// the limit; each request must be answered within 5 s.
fn start_hammer(lb: SocketAddr) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let handle = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut records = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("hammer-{n}");
                let started = Instant::now();
                let outcome = one(lb, "hammer", Kind::Greet, n, &id, Duration::from_secs(5));
                records.push(Record {
                    kind: Kind::Greet,
                    started,
                    took: started.elapsed(),
                    outcome,
                });
                n += 1;
                thread::sleep(Duration::from_millis(10));
            }
            records
        })
    };
    Load { stop, handles: vec![handle] }
}
