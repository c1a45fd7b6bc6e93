//! The narrow waist between Corral and wasmtime: one engine, compiled
//! components, and one fresh store and instance per call.
//!
//! Nothing outside this module names a wasmtime type. The rest of the host
//! sees [`Sandbox`], [`LoadedComponent`], the contract's data as host types
//! ([`types`]), and [`Report`]s. Components built against either version of
//! the contract load: `corral:mcp@0.1.0` (tools) and `corral:mcp@0.2.0`
//! (tools, resources, prompts, completion, asking the client); see
//! [`component`] and [`bindings`].
//!
//! # Isolation
//!
//! Every call gets a new `Store` built from the component's [`Policy`] and
//! a new instance from the cached `InstancePre`; the store is dropped when
//! the call ends, so no state survives between calls and no call can see
//! another's memory. Instances come from wasmtime's pooling allocator, whose
//! slots are pre-reserved, so instantiation costs microseconds. Before a
//! slot serves another instance its linear memory is back to the module's
//! image: the pages the call wrote are copied back from the image (up to
//! `[engine] memory_keep_resident_kib`) and the rest are returned to the kernel.
//!
//! # Limits, and how each is enforced
//!
//! | limit | mechanism | outcome |
//! | --- | --- | --- |
//! | wall time | epoch deadline (10 ms ticker) and a tokio timeout around the call | `timeout` |
//! | CPU | fuel, yielding to tokio every [`FUEL_YIELD_INTERVAL`] units | `out_of_fuel` |
//! | memory | a `ResourceLimiter` per store, under the pool's 4 GiB ceiling | `memory_limit` |
//! | stack | `max_wasm_stack` (engine-wide) | `stack_overflow` |
//! | output | result bytes checked after the call; log/progress bytes as they come | `output_too_large` |
//! | concurrency | a semaphore per component and one for the whole pool, waited on for at most `queue_timeout_ms` | `busy` |
//! | stdout/stderr | captured, first [`STDIO_CAPTURE_BYTES`] kept, the rest dropped | - |

mod ask;
pub mod bindings;
mod cache;
mod checks;
pub mod component;
mod net;
mod outcome;
mod output;
mod plain;
mod reused;
mod state;
pub mod types;
mod wit_json;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{HasSelf, Instance, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;

pub use self::cache::CompileCache;
pub use self::checks::is_valid_tool_name;
use self::component::Exports;
pub use self::component::{CallReport, LoadedComponent, Report, ToolResult};
use self::net::NetGuard;
pub use self::net::NetworkObserver;
pub use self::reused::ReusedInstance;
use self::state::{CallState, MemoryLimiter};
pub use self::state::{CapturedStdio, EventSink, GuestEvent};
pub use self::types::*;
pub use crate::call::{CallOutcome, Failure};
use crate::config::EngineConfig;
use crate::policy::{Limits, Policy};

/// What a run is for: its limits differ.
#[derive(Clone, Copy)]
enum Purpose {
    /// An operation (tool call, resource read, prompt, completion), under
    /// the component's limits.
    Call,
    /// Listing what the component offers, at load, under at least the
    /// default limits: a component given a tiny per-call budget must still
    /// be able to describe itself.
    List,
    /// A tool call run as a task, under the task limits.
    Task,
}

/// Fuel units between yields to the async runtime, so a CPU-bound guest
/// cannot hold a runtime thread: about 100 µs of wasm.
pub const FUEL_YIELD_INTERVAL: u64 = 100_000;
/// Period of the epoch ticker that enforces wall-clock deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Bytes of each of stdout and stderr kept per call; the rest is dropped.
pub const STDIO_CAPTURE_BYTES: usize = 64 * 1024;
/// The pool reserves address space for memories of up to this size; the
/// per-component `memory_mib` limit (at most 4096) is enforced below it.
const POOL_MAX_MEMORY_BYTES: usize = 4 << 30;
/// Core instances, memories and tables a single component may contain. A
/// Rust `wasm32-wasip2` component uses about five core instances, one or two
/// memories and a few tables; these bounds leave room and fix the pool size.
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 32;
const MAX_MEMORIES_PER_COMPONENT: u32 = 4;
const MAX_TABLES_PER_COMPONENT: u32 = 32;

/// Why a component could not be loaded. Each message names the component.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a valid component, or compilation failed.
    #[error("component \"{component}\": not a valid wasm component: {reason}")]
    Compile {
        /// The component's name.
        component: String,
        /// wasmtime's reason, with its causes.
        reason: String,
    },
    /// The component imports something Corral does not provide, or exports
    /// none of the contract's interfaces.
    #[error(
        "component \"{component}\": cannot be linked (is it built against corral-sdk's WIT, corral:mcp@0.1.0 or 0.2.0?): {reason}"
    )]
    Link {
        /// The component's name.
        component: String,
        /// wasmtime's reason, naming the import or export.
        reason: String,
    },
    /// Listing its tools, resources or prompts failed.
    #[error("component \"{component}\": listing what it offers failed: {message}")]
    List {
        /// The component's name.
        component: String,
        /// The classified failure.
        message: String,
    },
    /// A definition (of a tool, resource, template or prompt) is unusable.
    #[error("component \"{component}\": {what}: {message}")]
    Invalid {
        /// The component's name.
        component: String,
        /// What, e.g. `tool "x"`.
        what: String,
        /// What is wrong.
        message: String,
    },
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// wasmtime refused the engine configuration.
    #[error("cannot create the wasm engine")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The compile cache directory could not be created, or is not
    /// private to the host's user.
    #[error(
        "cannot use the compile cache {path}: {source} (fix it, choose another \
         engine.cache_dir, or set engine.no_cache = true)"
    )]
    Cache {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The wasm engine, its linker, and the global concurrency budget.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<CallState>,
    cache: Option<CompileCache>,
    slots: Arc<Semaphore>,
    settings: EngineConfig,
    ticker_stop: Arc<AtomicBool>,
    network_observer: Option<NetworkObserver>,
}

impl Sandbox {
    /// Creates the engine (pooling allocator sized from `settings`), the
    /// linker with WASI and the `corral:mcp/host` imports, and the epoch ticker.
    pub fn new(settings: &EngineConfig) -> Result<Sandbox, SandboxError> {
        let n = settings.max_instances;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(n * MAX_CORE_INSTANCES_PER_COMPONENT)
            .total_memories(n * MAX_MEMORIES_PER_COMPONENT)
            .total_tables(n * MAX_TABLES_PER_COMPONENT)
            .total_stacks(n)
            .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
            .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
            .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
            .max_memory_size(POOL_MAX_MEMORY_BYTES)
            // Returning a slot's pages to the kernel is a madvise plus a TLB
            // shootdown across the runtime's threads; batching 16 of them
            // took the small-tool fresh-instance call from ~33 to ~27 µs
            // (benches/call_path.rs).
            .decommit_batch_size(16)
            // Resetting the first 64 KiB of each table with memset instead of
            // madvise avoids page faults on the next instantiation: a further
            // ~27 -> ~20 µs.
            .table_keep_resident(64 << 10);
        // Linear memory: where the PAGEMAP_SCAN ioctl exists (Linux 6.7+),
        // it finds the pages a call wrote, and up to
        // `memory_keep_resident_kib` of them (1 MiB by default; the bundled
        // tools write 100-300 KiB a call) are copied back from the module's image instead of being
        // returned to the kernel. The next call in the slot then takes no
        // page faults, and no copy-on-write fault sends a TLB-flush IPI to
        // the other CPUs: fresh-instance calls went from ~20 to ~11 µs, and
        // tools/call at concurrency 32 over HTTP from ~14k to ~29k/s
        // (benches/call_path.rs, benches/http.rs). Without the scan, keeping
        // memory resident means a memset of all of it on every call, which
        // measured slower than the faults it saves, so memory is left to
        // madvise there.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.linear_memory_keep_resident(settings.memory_keep_resident_kib as usize * 1024)
                .pagemap_scan(wasmtime::Enabled::Yes);
        }

        let stack = settings.max_wasm_stack_kib as usize * 1024;
        let mut config = Config::new();
        config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(stack)
            // The fiber stack must hold the wasm stack plus host frames.
            .async_stack_size(stack + (1 << 20));
        let engine = Engine::new(&config).map_err(|e| SandboxError::Engine(e.into()))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker))
            .and_then(|()| bindings::v1::Tool::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s))
            .and_then(|()| bindings::v2::Server::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s))
            .map_err(|e| SandboxError::Engine(e.into()))?;

        let cache = if settings.no_cache {
            None
        } else {
            match settings.cache_dir.clone().or_else(CompileCache::default_dir) {
                Some(dir) => Some(
                    CompileCache::open(&dir, &engine)
                        .map_err(|source| SandboxError::Cache { path: dir, source })?,
                ),
                None => None,
            }
        };

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), ticker_stop.clone());

        Ok(Sandbox {
            engine,
            linker,
            cache,
            slots: Arc::new(Semaphore::new(n as usize)),
            settings: settings.clone(),
            ticker_stop,
            network_observer: None,
        })
    }

    /// Reports every outgoing connection attempt of every call to
    /// `observer` (for metrics). Affects components loaded afterwards too.
    pub fn observe_network(&mut self, observer: NetworkObserver) {
        self.network_observer = Some(observer);
    }

    /// The engine-wide settings in force.
    pub fn settings(&self) -> &EngineConfig {
        &self.settings
    }

    /// Compiles (or loads from cache) and links a component, then asks it
    /// what it offers (tools, resources, prompts) under its own limits.
    ///
    /// Compiling takes up to seconds of CPU, so it runs on a blocking
    /// thread, never on a thread that serves requests.
    pub async fn load(
        &self,
        name: &str,
        wasm: impl AsRef<[u8]> + Send + 'static,
        policy: Policy,
    ) -> Result<LoadedComponent, LoadError> {
        let started = Instant::now();
        let docs = plain::package_docs(wasm.as_ref());
        let (engine, cache) = (self.engine.clone(), self.cache.clone());
        let compiled = tokio::task::spawn_blocking(move || match &cache {
            Some(cache) => cache.get_or_compile(&engine, wasm.as_ref()),
            None => wasmtime::component::Component::new(&engine, wasm.as_ref()).map(|c| (c, false)),
        })
        .await
        .unwrap_or_else(|join| {
            Err(wasmtime::Error::msg(format!("the compiler thread failed: {join}")))
        });
        let (component, from_cache) = compiled.map_err(|e| LoadError::Compile {
            component: name.to_owned(),
            reason: format!("{e:#}"),
        })?;
        let compile_time = started.elapsed();
        self.link(name, &component, policy, compile_time, from_cache, docs).await
    }

    /// Acquires slots, builds a store from the policy, instantiates, runs
    /// `body` under the limits, and classifies what went wrong.
    async fn run<R>(
        &self,
        component: &LoadedComponent,
        purpose: Purpose,
        events: EventSink,
        body: impl AsyncFnOnce(&mut Store<CallState>, &Instance, &Exports) -> wasmtime::Result<R>,
    ) -> Result<(R, u64, CapturedStdio), (Failure, Option<(u64, CapturedStdio)>)> {
        let limits = match purpose {
            Purpose::Call => component.policy.limits,
            Purpose::List => component.policy.limits.at_least_defaults(),
            Purpose::Task => component.policy.limits.for_task(),
        };
        let queue_deadline = tokio::time::Instant::now() + limits.queue_timeout;
        let _permits =
            self.acquire(component, queue_deadline).await.map_err(|failure| (failure, None))?;
        // The time limit counts from the moment the call has a slot.
        let deadline = tokio::time::Instant::now() + limits.timeout;

        let mut store = self.new_store(component, &limits, events);
        let outcome = tokio::time::timeout_at(deadline, async {
            let instance = component.pre.instantiate_async(&mut store).await?;
            body(&mut store, &instance, &component.exports).await
        })
        .await;
        let fuel = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        // Classify before taking stdio: a panic's message is read from stderr.
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(outcome::classify(
                &err,
                store.data(),
                &limits,
                self.settings.max_wasm_stack_kib,
            )),
            Err(_elapsed) => Err(Failure::timeout(limits.timeout, limits.names.timeout)),
        };
        let stdio = store.data().take_stdio();
        match result {
            Ok(value) => Ok((value, fuel, stdio)),
            Err(failure) => Err((failure, Some((fuel, stdio)))),
        }
    }

    async fn acquire(
        &self,
        component: &LoadedComponent,
        deadline: tokio::time::Instant,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), Failure> {
        let limits = &component.policy.limits;
        let busy = || {
            Failure::busy(
                &component.name,
                limits.queue_timeout,
                limits.max_concurrency,
                self.settings.max_instances,
            )
        };
        // Component slot first: a component at its own limit must not hold
        // a global slot that another component could use.
        let local = tokio::time::timeout_at(deadline, component.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let global = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        Ok((local, global))
    }

    fn new_store(
        &self,
        component: &LoadedComponent,
        limits: &Limits,
        events: EventSink,
    ) -> Store<CallState> {
        let policy = &component.policy;
        let stdout = output::Captured::new(STDIO_CAPTURE_BYTES);
        let stderr = output::Captured::new(STDIO_CAPTURE_BYTES);
        let net = NetGuard::new(
            component.name.clone(),
            policy.network.clone(),
            limits,
            self.network_observer.clone(),
        );
        let socket_guard = net.clone();
        let mut wasi = WasiCtxBuilder::new();
        // Defaults kept on purpose: stdin closed, no args, no inherited env,
        // name lookup denied (see crate::network for why). TCP and UDP are
        // on so that every attempt reaches the address check, which applies
        // the rules and counts the attempt; with no rules it refuses all.
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(false)
            .socket_addr_check(move |addr, use_| {
                let allowed = socket_guard.check_socket(addr, use_);
                Box::pin(async move { allowed })
            });
        for (key, value) in &policy.env {
            wasi.env(key, value.expose());
        }
        for dir in &policy.dirs {
            let perms = if dir.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            if let Err(err) = wasi.preopened_dir(&dir.host, &dir.guest, perms) {
                // The directory was checked at load; if it has gone since,
                // the guest sees the grant missing and its own error says so.
                tracing::warn!(guest = %dir.guest, host = %dir.host.display(), "granted directory unavailable: {err}");
            }
        }
        let state = CallState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            net,
            table: ResourceTable::new(),
            memory: MemoryLimiter { max_bytes: limits.memory_bytes as usize, hit: false },
            output_left: limits.output_bytes,
            output_limit: limits.output_bytes,
            output_exceeded: false,
            events,
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        // Fuel is always enabled on this engine, so these cannot fail.
        let _ = store.set_fuel(limits.fuel);
        let _ = store.fuel_async_yield_interval(Some(FUEL_YIELD_INTERVAL));
        let ticks = limits.timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("corral-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch ticker thread");
}
