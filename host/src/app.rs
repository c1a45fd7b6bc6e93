//! Assembling the host from a [`Config`]: the wasm engine, the catalogue
//! of tools, the native servers, the metrics and the MCP core. Every
//! command builds through here (`serve` over HTTP or stdio, `call`,
//! `tools`, `check`), so they all load, name and check tools alike.
//!
//! Starting is quick and fails only on what the operator must fix: the
//! grants of a component or native server (a directory that does not
//! exist, a secret that cannot be read), the engine, the cache directory.
//! Components then compile in the background, one after another in config
//! order, each serving as soon as it is ready; [`App::loaded`] waits for
//! them all. A component that fails to load is logged, named in the
//! registry's status (and `/readyz`), and the rest serve.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::cluster::Cluster;
use crate::config::{Config, ConfigError};
use crate::lock::Locked as _;
use crate::mcp::{McpOptions, McpServer};
use crate::metrics::Metrics;
use crate::native::NativeServers;
use crate::pins::{Lock, LockError, Trust};
use crate::registry::Registry;
use crate::registry::components::{self, Loaded};
use crate::sandbox::{Sandbox, SandboxError};
use crate::task_store::RedisStore;

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A grant or setting of the configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The wasm engine or its compile cache could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The system gave no randomness for the key that signs request states.
    #[error("cannot draw the request-state key: {0}")]
    Entropy(String),
    /// The lock file cannot be read, or is required and missing.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// `[server] require_lock = true` and there is no lock file.
    #[error(
        "config: server.require_lock: there is no lock file at {0}; write one with `corral lock`"
    )]
    LockMissing(std::path::PathBuf),
    /// `[cluster] redis_url` cannot be used.
    #[error("config: cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// Whether native servers are started: `serve` runs them, the one-shot
/// commands describe them without starting a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeMode {
    /// Start and supervise every `[[native]]` server.
    Start,
    /// Leave them alone.
    Skip,
}

/// The assembled host.
pub struct App {
    /// The engine every component runs in.
    pub sandbox: Arc<Sandbox>,
    /// Every tool of every source.
    pub registry: Arc<Registry>,
    /// The native servers, when configured and started.
    pub native: Option<Arc<NativeServers>>,
    /// The MCP core the doors serve.
    pub mcp: Arc<McpServer>,
    /// Every metric.
    pub metrics: Arc<Metrics>,
    /// The shared state of replicas (`[cluster] redis_url`), if any.
    pub cluster: Option<Arc<Cluster>>,
    loading: std::sync::Mutex<Option<JoinHandle<Loaded>>>,
    loaded: OnceCell<Loaded>,
}

impl App {
    /// Builds the host and starts loading its components in the background.
    /// Must be called within a tokio runtime.
    pub fn start(config: &Config, native: NativeMode) -> Result<App, StartError> {
        let metrics = Arc::new(match config.cluster.redis_url {
            Some(_) => Metrics::for_cluster(),
            None => Metrics::new(),
        });
        let mut sandbox = Sandbox::new(&config.engine)?;
        let observer = metrics.clone();
        sandbox.observe_network(Arc::new(move |component, decision| {
            observer.record_network(component, decision)
        }));
        let sandbox = Arc::new(sandbox);
        metrics.register_components(config.components.iter().map(|c| c.name.as_str()));
        let registry =
            Arc::new(Registry::new(Duration::from_millis(config.server.load_timeout_ms)));
        let lock = Lock::load(&config.lock_path())?;
        if lock.is_none() && config.server.require_lock {
            return Err(StartError::LockMissing(config.lock_path()));
        }
        if lock.is_some() {
            tracing::info!(lock = %config.lock_path().display(), "serving only the tools the lock file approves");
        }
        registry
            .set_trust(Trust { lock, quarantine_suspicious: config.server.quarantine_suspicious });
        if config.server.tool_search {
            crate::search::install(&registry, config.server.tool_search_results);
        }
        let prepared = components::prepare(config, &registry)?;
        let native = match (native, config.native.is_empty()) {
            (NativeMode::Start, false) => Some(NativeServers::start(
                &config.native,
                &config.base_dir,
                registry.clone(),
                metrics.clone(),
            )?),
            _ => None,
        };
        let cluster = Cluster::from_config(&config.cluster, metrics.clone())?;
        let options = McpOptions::from_config(&config.server, &config.tasks);
        let store = cluster.as_ref().map(|cluster| {
            let store: Arc<dyn crate::task_store::TaskStore> =
                RedisStore::new(cluster.clone(), options.task_limits);
            store
        });
        let mcp =
            McpServer::new(registry.clone(), options, metrics.clone(), store, cluster.clone())
                .map_err(|err| StartError::Entropy(err.to_string()))?;
        let loading = tokio::spawn({
            let (sandbox, registry, metrics) = (sandbox.clone(), registry.clone(), metrics.clone());
            async move { components::load(prepared, &sandbox, &registry, &metrics).await }
        });
        Ok(App {
            sandbox,
            registry,
            native,
            mcp,
            metrics,
            cluster,
            loading: std::sync::Mutex::new(Some(loading)),
            loaded: OnceCell::new(),
        })
    }

    /// Waits until every component has loaded or failed.
    pub async fn loaded(&self) -> &Loaded {
        self.loaded
            .get_or_init(|| async {
                let handle = self.loading.locked().take();
                match handle {
                    Some(handle) => handle.await.unwrap_or_else(|err| {
                        tracing::error!(error = %err, "the component loader stopped");
                        Loaded::default()
                    }),
                    None => Loaded::default(),
                }
            })
            .await
    }

    /// Stops: components stop loading, listen streams end, sessions close,
    /// native servers' containers are removed. Calls in flight are the
    /// doors' to drain first.
    pub async fn shutdown(&self) {
        if let Some(handle) = self.loading.locked().take() {
            handle.abort();
        }
        self.mcp.shutdown();
        if let Some(native) = &self.native {
            native.shutdown().await;
        }
    }
}
