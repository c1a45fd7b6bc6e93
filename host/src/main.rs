//! The `corral` command line: `serve`, `tools`, `call`, `check` and `push`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use corral::app::{App, NativeMode};
use corral::config::{ComponentConfig, Config, DirConfig, DirMode, EnvValue, LimitOverrides};
use corral::registry::{Lookup, exposed_name};

#[derive(Parser)]
#[command(name = "corral", version, about = "Run MCP tools as sandboxed WebAssembly components")]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over Streamable HTTP on /mcp, with /healthz, /readyz and
    /// /metrics; or, with --stdio, over stdin and stdout (as desktop clients
    /// start a server). Without --config, serves the bundled example tools.
    Serve {
        /// The config file; without it, the built-in configuration.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on, overriding `[server] listen`
        /// (default 127.0.0.1:7070; port 0 picks a free port).
        #[arg(long, conflicts_with = "stdio")]
        listen: Option<std::net::SocketAddr>,
        /// Serve an address that is not loopback without bearer tokens
        /// (`[server] allow_unauthenticated_network = true`): only behind
        /// something that authenticates.
        #[arg(long, conflicts_with = "stdio")]
        allow_unauthenticated_network: bool,
        /// Speak MCP over stdin and stdout instead of HTTP: one JSON-RPC
        /// message per line; logs go to stderr. Ends when stdin closes.
        #[arg(long)]
        stdio: bool,
    },
    /// Print what a component file, or every component in a config,
    /// offers: its tools (as MCP `tools/list` gives them) and, when it has
    /// them, its resources, resource templates and prompts.
    Tools {
        /// A component `.wasm` file.
        component: Option<PathBuf>,
        /// A config file instead of a component file.
        #[arg(long, conflicts_with = "component")]
        config: Option<PathBuf>,
    },
    /// Run one tool call and print the MCP `CallToolResult`.
    /// Exit status: 0 success, 1 the result is an error, 2 usage or config error.
    Call {
        /// A component `.wasm` file, or a component name from `--config`.
        component: String,
        /// The tool's name as the component declares it.
        tool: String,
        /// The arguments, a JSON object.
        #[arg(default_value = "{}")]
        arguments: String,
        /// Config file in which to look up the component by name.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        grants: GrantArgs,
    },
    /// Validate a config, load its components, and print the effective
    /// grants and limits (native servers' too; they are not started).
    Check {
        /// The config file; without it, the built-in configuration.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Approve every tool the config serves, as it is now: write the lock
    /// file (`[server] lock_file`, default `corral.lock` beside the config)
    /// with each tool's definition and each component's digest, printing
    /// what changed. `corral serve` then quarantines anything that differs.
    Lock {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Approve quarantined tools: update the lock file for the named tools,
    /// and for every tool and the `.wasm` of the named components; without
    /// names, like `corral lock`. Restart the server to serve them.
    Approve {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
        /// Tools (by exposed name) and components (by name) to approve.
        names: Vec<String>,
    },
    /// Publish a component to an OCI registry (the wasm OCI artifact
    /// layout) and print its reference pinned by manifest digest,
    /// `oci://HOST/REPO@sha256:...`, for a config's `path`.
    Push {
        /// The component `.wasm` file.
        component: PathBuf,
        /// Where to publish it: `oci://HOST[:PORT]/REPO:TAG`.
        reference: String,
        /// Reach this registry over plain HTTP although it is not on
        /// loopback (loopback registries always are).
        #[arg(long)]
        insecure: bool,
    },
}

/// Grants and limit overrides given on the command line.
#[derive(clap::Args)]
struct GrantArgs {
    /// Grant a directory: HOST:GUEST[:ro|rw] (read-only by default).
    #[arg(long = "dir", value_name = "HOST:GUEST[:MODE]")]
    dirs: Vec<String>,
    /// Give the component an environment value: KEY=VALUE.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Let the component reach a destination, as a network rule
    /// (`host[:port]`, `*.suffix[:port]`, `IP[:port]`, `CIDR`, `[v6]:port`).
    #[arg(long = "net", value_name = "RULE")]
    net: Vec<String>,
    /// Wall-clock limit in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Fuel limit.
    #[arg(long)]
    fuel: Option<u64>,
    /// Memory limit in MiB.
    #[arg(long)]
    memory_mib: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs its calls (the audit lines) by default; the one-shot
    // commands only warnings, and `call` what the guest wrote to stdout and
    // stderr. RUST_LOG overrides them.
    let default_filter = match cli.command {
        Command::Serve { .. } => "info",
        Command::Call { .. } => "warn,corral::guest=debug",
        _ => "warn",
    };
    init_logging(cli.log_format, default_filter);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    // Colours only for a terminal: log files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Serve { config, listen, stdio, allow_unauthenticated_network } => {
            let mut config = load_config(config.as_deref())?;
            config.server.allow_unauthenticated_network |= allow_unauthenticated_network;
            if stdio {
                serve_stdio(config).await?;
            } else {
                serve(config, listen).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tools { component, config } => {
            let config = match (component, config) {
                (Some(path), None) => single_component_config(&path, &GrantArgs::none())?,
                (None, Some(path)) => Config::load(&path)?,
                _ => bail!("give a component file or --config FILE"),
            };
            let app = load(&config).await?;
            for native in &config.native {
                eprintln!(
                    "note: native server {:?} is not started by `corral tools`; `corral serve` lists its tools once it is up",
                    native.name
                );
            }
            let catalog = app.registry.catalog();
            let mut list = serde_json::Map::new();
            let tools: Vec<&serde_json::value::RawValue> =
                catalog.tools().map(|t| &*t.definition).collect();
            list.insert("tools".into(), serde_json::to_value(tools)?);
            let others = [
                ("resources", catalog.resources().map(|r| &*r.served.definition).collect()),
                (
                    "resourceTemplates",
                    catalog.templates().iter().map(|t| &*t.served.definition).collect(),
                ),
                ("prompts", catalog.prompts().map(|p| &*p.served.definition).collect()),
            ];
            for (key, items) in others {
                let items: Vec<&serde_json::value::RawValue> = items;
                if !items.is_empty() {
                    list.insert(key.into(), serde_json::to_value(items)?);
                }
            }
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Call { component, tool, arguments, config, grants } => {
            call(&component, &tool, &arguments, config.as_deref(), &grants).await
        }
        Command::Check { config } => {
            let config = load_config(config.as_deref())?;
            check(&config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lock { config } => {
            approve(&Config::load(&config)?, &[]).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Approve { config, names } => {
            approve(&Config::load(&config)?, &names).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Push { component, reference, insecure } => {
            push(&component, &reference, insecure).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `push`: the component's bytes, checked to be a component, to a tag.
async fn push(component: &Path, reference: &str, insecure: bool) -> Result<()> {
    use corral::oci::{Access, OciReference, Target};
    let reference: OciReference = reference.parse().map_err(anyhow::Error::msg)?;
    if let Target::Digest(_) = reference.target {
        bail!("{reference}: push to a tag (REPO:TAG); the digest is printed once pushed");
    }
    let wasm =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    // The preamble of a component: magic, version 0x0d, layer 1 (a core
    // module has layer 0).
    if wasm.get(..4) != Some(b"\0asm") || wasm.get(6..8) != Some(&[1, 0]) {
        bail!("{}: not a WebAssembly component", component.display());
    }
    let access =
        Access { insecure: if insecure { vec![reference.registry.clone()] } else { Vec::new() } };
    let pinned = corral::oci::push(&wasm, &reference, &access).await?;
    println!("{pinned}");
    Ok(())
}

/// The config file, or the built-in configuration.
fn load_config(path: Option<&Path>) -> Result<Config> {
    Ok(match path {
        Some(path) => Config::load(path)?,
        None => corral::config::builtin(&corral::config::default_data_dir())?,
    })
}

async fn serve(config: Config, listen: Option<std::net::SocketAddr>) -> Result<()> {
    let server = corral::http::Server::bind(config, listen).await?;
    // Scripts and tests started with port 0 read the address from this line.
    println!("corral: listening on {}://{}/mcp", server.scheme(), server.local_addr());
    use std::io::Write as _;
    std::io::stdout().flush()?;
    server.run(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// `serve --stdio`: nothing but JSON-RPC goes to stdout.
async fn serve_stdio(config: Config) -> Result<()> {
    let app = App::start(&config, NativeMode::Start)?;
    let (input, output) = corral::stdio::process_stdio();
    let served = corral::stdio::serve(&app, &config.server, input, output, shutdown_signal()).await;
    app.shutdown().await;
    if let Err(err) = served {
        // The client closed stdout: nobody is left to answer.
        tracing::info!(error = %err, "stdout closed");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Assembles the host without native servers and waits for every
/// component; a component that does not load is an error here.
/// `corral lock` (no names) and `corral approve NAMES`: loads every
/// component, starts the native servers until they have listed their tools,
/// and writes the lock file that approves them.
async fn approve(config: &Config, names: &[String]) -> Result<()> {
    let path = config.lock_path();
    let old = corral::pins::Lock::load(&path)?;
    if !names.is_empty() && old.is_none() {
        bail!(
            "there is no lock file at {} to approve tools in; write one with `corral lock`",
            path.display()
        );
    }
    let app = App::start(config, NativeMode::Start)?;
    let loaded = app.loaded().await;
    if let Some(first) = loaded.failures.first() {
        app.shutdown().await;
        bail!("{first} (every component must load for its tools to be approved)");
    }
    if let Some(native) = &app.native {
        native.wait_listed(std::time::Duration::from_secs(30)).await;
    }
    let (tools, digests) = app.registry.pinnable();
    app.shutdown().await;
    let (lock, approval) = corral::pins::approve(old.as_ref(), &tools, &digests, names)
        .map_err(|err| anyhow::anyhow!(err))?;
    lock.save(&path)?;
    for change in &approval.changes {
        println!("{change}");
    }
    println!(
        "{}: {} tools of {} components and native servers approved ({} changes)",
        path.display(),
        lock.tools.len(),
        tools.iter().map(|(source, _)| source).collect::<std::collections::BTreeSet<_>>().len(),
        approval.changes.len()
    );
    Ok(())
}

async fn load(config: &Config) -> Result<App> {
    let app = App::start(config, NativeMode::Skip)?;
    let loaded = app.loaded().await;
    if let Some(first) = loaded.failures.first() {
        for failure in &loaded.failures[1..] {
            eprintln!("error: {failure}");
        }
        bail!("{first}");
    }
    Ok(app)
}

async fn call(
    component: &str,
    tool: &str,
    arguments: &str,
    config: Option<&Path>,
    grants: &GrantArgs,
) -> Result<ExitCode> {
    let arguments: serde_json::Value =
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(arguments) {
            Ok(map) => serde_json::Value::Object(map),
            Err(err) => bail!("arguments must be a JSON object: {err}"),
        };
    let config = match config {
        None => single_component_config(Path::new(component), grants)?,
        Some(path) => {
            let mut config = Config::load(path)?;
            config.components.retain(|c| c.name == component);
            config.native.clear();
            let Some(entry) = config.components.first_mut() else {
                bail!("config {}: no component named {component:?}", path.display());
            };
            grants.apply(entry)?;
            config.validate()?;
            config
        }
    };
    let namespace =
        config.components[0].namespace.clone().unwrap_or_else(|| config.components[0].name.clone());
    let app = load(&config).await?;
    let exposed = exposed_name(&namespace, tool);
    if let Lookup::Unknown = app.registry.lookup(&exposed) {
        let known: Vec<String> =
            app.registry.catalog().tools().map(|t| t.remote.to_string()).collect();
        bail!("component {component:?} has no tool {tool:?} (its tools: {})", known.join(", "));
    }
    // The call goes through the MCP core as a desktop client's does.
    let params = serde_json::json!({
        "name": exposed,
        "arguments": arguments,
        "_meta": { "progressToken": 1 },
    });
    let result = corral::local::session(
        &app,
        &config.server,
        serde_json::json!({}),
        |mut session| async move { session.request("tools/call", params, &mut Terminal).await },
    )
    .await?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    let is_error = result.get("isError") == Some(&serde_json::Value::Bool(true));
    Ok(if is_error { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// What a call tells the terminal while it runs: its log and progress
/// messages on stderr. It declares no client capability, so a tool that
/// asks a question is told the client cannot answer.
struct Terminal;

impl corral::local::Listener for Terminal {
    fn notification(&mut self, method: &str, params: &serde_json::Value) {
        let text = |key: &str| params.get(key).and_then(serde_json::Value::as_str);
        match method {
            "notifications/message" => {
                let data = match &params["data"] {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                eprintln!("[{}] {data}", text("level").unwrap_or("info"));
            }
            "notifications/progress" => eprintln!(
                "[progress] {}{} {}",
                params["progress"],
                params.get("total").map(|t| format!("/{t}")).unwrap_or_default(),
                text("message").unwrap_or_default()
            ),
            "notifications/resources/updated" => {
                eprintln!("[resource updated] {}", text("uri").unwrap_or_default());
            }
            _ => {}
        }
    }

    fn request(
        &mut self,
        method: &str,
        _params: &serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        eprintln!("[ask] {method} (no client to ask: answered unsupported)");
        Err(
            serde_json::json!({ "code": -32601, "message": "no client to ask on the command line" }),
        )
    }
}

async fn check(config: &Config) -> Result<()> {
    let app = load(config).await?;
    let engine = app.sandbox.settings();
    println!(
        "engine: max_instances = {}, max_wasm_stack_kib = {}, compile cache = {}",
        engine.max_instances,
        engine.max_wasm_stack_kib,
        match (
            &engine.no_cache,
            engine.cache_dir.clone().or_else(corral::sandbox::CompileCache::default_dir)
        ) {
            (true, _) | (false, None) => "off".to_owned(),
            (false, Some(dir)) => dir.display().to_string(),
        }
    );
    let from_registry = |c: &ComponentConfig| {
        matches!(c.source(&config.base_dir), Ok(corral::config::ComponentSource::Oci(_)))
    };
    if config.components.iter().any(from_registry) {
        let store = corral::oci::ComponentStore::from_config(config);
        println!(
            "oci: store = {}, insecure = {:?}, max_blob_mib = {}",
            store.dir().map_or("none".to_owned(), |dir| dir.display().to_string()),
            config.oci.insecure,
            config.oci.max_blob_mib
        );
    }
    let status = app.registry.status();
    for component in &app.loaded().await.components {
        let policy = component.policy();
        let limits = &policy.limits;
        println!("component \"{}\" ({})", component.name(), component.contract());
        println!(
            "  compiled in {:.1} ms{}",
            component.compile_time.as_secs_f64() * 1e3,
            if component.from_cache { " (from cache)" } else { "" }
        );
        if let Some(source) = status.iter().find(|s| &*s.name == component.name()) {
            let join = |items: &[std::sync::Arc<str>]| {
                items.iter().map(|i| &**i).collect::<Vec<_>>().join(", ")
            };
            println!("  tools: {}", join(&source.tools));
            for (tool, reason) in &source.quarantined {
                println!("  quarantined: {tool} ({reason})");
            }
            if !source.resources.is_empty() {
                println!("  resources: {}", join(&source.resources));
            }
            if !source.templates.is_empty() {
                println!("  resource templates: {}", source.templates.join(", "));
            }
            if !source.prompts.is_empty() {
                println!("  prompts: {}", join(&source.prompts));
            }
        }
        for refused in &component.offers().refused {
            println!("  not a tool: {} ({})", refused.function, refused.reason);
        }
        if policy.dirs.is_empty() {
            println!("  dirs: none");
        }
        for dir in &policy.dirs {
            let mode = if dir.writable { "rw" } else { "ro" };
            println!("  dir: {} -> {} ({mode})", dir.guest, dir.host.display());
        }
        if policy.env.is_empty() {
            println!("  env: none");
        }
        for (key, value) in &policy.env {
            let shown = serde_json::to_string(value)?;
            println!("  env: {key} = {shown}");
        }
        if policy.network.is_empty() {
            println!("  network: none (every destination denied)");
        } else {
            println!("  network: {}", serde_json::to_string(&*policy.network)?);
        }
        println!(
            "  limits: timeout_ms = {}, fuel = {}, memory_mib = {}, output_kib = {}, max_concurrency = {}, queue_timeout_ms = {}",
            limits.timeout.as_millis(),
            limits.fuel,
            limits.memory_bytes >> 20,
            limits.output_bytes >> 10,
            limits.max_concurrency,
            limits.queue_timeout.as_millis()
        );
        if !policy.network.is_empty() {
            println!(
                "  http: connect_timeout_ms = {}, first_byte_timeout_ms = {}, between_bytes_timeout_ms = {}, response_kib = {}",
                limits.http_connect_timeout.as_millis(),
                limits.http_first_byte_timeout.as_millis(),
                limits.http_between_bytes_timeout.as_millis(),
                limits.http_response_bytes >> 10
            );
        }
    }
    if config.native.iter().any(|n| n.launcher == corral::config::Launcher::Docker) {
        match corral::native::launcher::engine_version().await {
            Ok(version) => println!("docker engine: reachable (version {version})"),
            Err(err) => println!("docker engine: UNREACHABLE: {err}"),
        }
    }
    for native in &config.native {
        print_native(native, &config.base_dir).await?;
    }
    Ok(())
}

/// The effective settings of one `[[native]]` server (not started: its
/// secrets are read and its directories checked, nothing more).
async fn print_native(native: &corral::config::NativeConfig, base_dir: &Path) -> Result<()> {
    use corral::native::launcher::{EnvEntry, LaunchSpec};
    let spec = LaunchSpec::resolve(native, base_dir, "check")?;
    println!("native \"{}\"", native.name);
    match native.launcher {
        corral::config::Launcher::Docker => {
            let image = native.image.as_deref().unwrap_or_default();
            let presence = match corral::native::launcher::image_present(image).await {
                Ok(true) => "present".to_owned(),
                Ok(false) => "NOT PRESENT on the docker engine".to_owned(),
                Err(err) => format!("unknown ({err})"),
            };
            println!(
                "  launcher: docker, image {image} (never pulled: {presence}), command {:?}",
                native.command
            )
        }
        corral::config::Launcher::Process => {
            println!(
                "  launcher: process (NO isolation: development and tests only), command {:?}",
                native.command
            )
        }
    }
    println!("  tools: exposed as {}_<tool> once the server is up", native.name);
    println!("  network: {}", native.network);
    if spec.dirs.is_empty() {
        println!("  dirs: none");
    }
    for dir in &spec.dirs {
        let mode = if dir.writable { "rw" } else { "ro" };
        println!("  dir: {} -> {} ({mode})", dir.guest, dir.host.display());
    }
    if spec.env.is_empty() {
        println!("  env: none");
    }
    for (key, value) in &spec.env {
        match value {
            EnvEntry::Literal(v) => println!("  env: {key} = {}", serde_json::to_string(v)?),
            EnvEntry::Secret(_) => println!(
                "  env: {key} = <redacted>, as the file {}/{key} ({key}_FILE)",
                corral::native::launcher::SECRETS_DIR
            ),
        }
    }
    println!(
        "  limits: memory_mib = {}, cpus = {}, pids_limit = {}, tmpfs_mib = {}, call_timeout_ms = {}, max_message_kib = {}, max_concurrency = {}, queue_timeout_ms = {}",
        native.memory_mib,
        native.cpus,
        native.pids_limit,
        native.tmpfs_mib,
        native.call_timeout_ms,
        native.max_message_kib,
        native.max_concurrency,
        native.queue_timeout_ms
    );
    println!(
        "  supervision: health_interval_ms = {}, start_timeout_ms = {}, restart_backoff_ms = {}..{}",
        native.health_interval_ms,
        native.start_timeout_ms,
        native.restart_backoff_ms,
        native.restart_backoff_max_ms
    );
    Ok(())
}

/// A config holding one component file, with bare tool names.
fn single_component_config(path: &Path, grants: &GrantArgs) -> Result<Config> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("component");
    let name: String = stem
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    let mut component = ComponentConfig {
        name,
        path: path.to_owned(),
        namespace: Some(String::new()),
        dirs: Vec::new(),
        env: Default::default(),
        network: Vec::new(),
        limits: LimitOverrides::default(),
        task_support: Default::default(),
    };
    grants.apply(&mut component)?;
    let config =
        Config { components: vec![component], base_dir: PathBuf::from("."), ..Config::default() };
    config.validate()?;
    Ok(config)
}

impl GrantArgs {
    fn none() -> GrantArgs {
        GrantArgs {
            dirs: Vec::new(),
            env: Vec::new(),
            net: Vec::new(),
            timeout_ms: None,
            fuel: None,
            memory_mib: None,
        }
    }

    fn apply(&self, component: &mut ComponentConfig) -> Result<()> {
        for spec in &self.dirs {
            component.dirs.push(parse_dir(spec)?);
        }
        for spec in &self.env {
            let Some((key, value)) = spec.split_once('=') else {
                bail!("--env {spec:?}: expected KEY=VALUE");
            };
            component.env.insert(key.to_owned(), EnvValue::Literal(value.to_owned()));
        }
        component.network.extend(self.net.iter().cloned());
        let flags = LimitOverrides {
            timeout_ms: self.timeout_ms,
            fuel: self.fuel,
            memory_mib: self.memory_mib,
            ..Default::default()
        };
        component.limits = flags.or(component.limits);
        Ok(())
    }
}

/// `HOST:GUEST[:ro|rw]`.
fn parse_dir(spec: &str) -> Result<DirConfig> {
    let (rest, mode) = match spec.rsplit_once(':') {
        Some((rest, "ro")) => (rest, DirMode::Ro),
        Some((rest, "rw")) => (rest, DirMode::Rw),
        _ => (spec, DirMode::Ro),
    };
    let Some((host, guest)) = rest.split_once(':') else {
        bail!("--dir {spec:?}: expected HOST:GUEST[:ro|rw]");
    };
    Ok(DirConfig { host: host.into(), guest: guest.to_owned(), mode })
}
