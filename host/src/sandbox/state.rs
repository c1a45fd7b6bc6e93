//! Per-call store state: the WASI context built from a policy, the host
//! imports a tool may call (`log`, `progress`), and the accounting that turns
//! limit breaches into precise outcomes.
//!
//! One [`CallState`] lives in one `Store` for one call and is dropped with it.

use tokio::sync::mpsc::UnboundedSender;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::corral::mcp::{host, types};
use super::net::NetGuard;
use super::output::Captured;

/// Something a guest reported during a call, for the client to see.
#[derive(Debug, Clone, PartialEq)]
pub enum GuestEvent {
    /// A `log` call: MCP `notifications/message`.
    Log {
        /// The level the guest gave.
        level: LogLevel,
        /// The message text.
        message: String,
    },
    /// A `progress` call: MCP `notifications/progress`.
    Progress {
        /// Work done so far.
        done: f64,
        /// Total work, when known.
        total: Option<f64>,
        /// What is being done.
        message: Option<String>,
    },
}

pub use types::LogLevel;

impl LogLevel {
    /// The MCP / syslog name of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::Critical => "critical",
            LogLevel::Alert => "alert",
            LogLevel::Emergency => "emergency",
        }
    }
}

/// Where a call's guest events go; `None` drops them.
pub type EventSink = Option<UnboundedSender<GuestEvent>>;

/// The error a host import raises (as a trap) when the guest's log and
/// progress messages exceed the call's output budget.
#[derive(Debug, thiserror::Error)]
#[error("log and progress messages exceeded the output limit of {limit} bytes")]
pub struct OutputLimitExceeded {
    /// The limit in bytes.
    pub limit: u64,
}

/// Memory accounting: wraps wasmtime's growth check so that a refused growth
/// is remembered and the resulting trap classified as `memory_limit`.
pub struct MemoryLimiter {
    /// Maximum bytes of any one linear memory.
    pub max_bytes: usize,
    /// Set when a growth beyond `max_bytes` was refused.
    pub hit: bool,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a component that needs more than
        // this is not a tool, it is an attack on host memory.
        Ok(desired <= 100_000)
    }
}

/// The data of one call's `Store`.
pub struct CallState {
    pub(super) wasi: WasiCtx,
    pub(super) http: WasiHttpCtx,
    /// Decides every outgoing request against the component's rules.
    pub(super) net: NetGuard,
    pub(super) table: ResourceTable,
    pub(super) memory: MemoryLimiter,
    /// Bytes of log and progress text still allowed.
    pub(super) output_left: u64,
    pub(super) output_limit: u64,
    pub(super) output_exceeded: bool,
    pub(super) events: EventSink,
    pub(super) stdout: Captured,
    pub(super) stderr: Captured,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.net }
    }
}

impl CallState {
    fn spend_output(&mut self, bytes: usize) -> wasmtime::Result<()> {
        let bytes = bytes as u64;
        if bytes > self.output_left {
            self.output_exceeded = true;
            return Err(OutputLimitExceeded { limit: self.output_limit }.into());
        }
        self.output_left -= bytes;
        Ok(())
    }

    fn emit(&self, event: GuestEvent) {
        if let Some(sink) = &self.events {
            // A receiver that went away (client disconnected) is not the
            // guest's problem; the call finishes and its result is dropped.
            let _ = sink.send(event);
        }
    }
}

impl types::Host for CallState {}

impl host::Host for CallState {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.spend_output(message.len())?;
        self.emit(GuestEvent::Log { level, message });
        Ok(())
    }

    fn progress(
        &mut self,
        done: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        // Each notification costs at least its fixed JSON framing, so a
        // message-less progress flood is bounded too.
        self.spend_output(64 + message.as_ref().map_or(0, String::len))?;
        self.emit(GuestEvent::Progress { done, total, message });
        Ok(())
    }
}

/// Captured stdout and stderr of a finished call.
#[derive(Debug, Clone, Default)]
pub struct CapturedStdio {
    /// What the guest wrote to stdout, up to the capture limit.
    pub stdout: Vec<u8>,
    /// What the guest wrote to stderr, up to the capture limit.
    pub stderr: Vec<u8>,
    /// Bytes written past the capture limit and dropped.
    pub dropped: u64,
}

impl CallState {
    /// Stderr so far as text, without consuming it (for panic messages).
    pub(super) fn stderr_text(&self) -> String {
        self.stderr.peek_text()
    }

    pub(super) fn take_stdio(&self) -> CapturedStdio {
        let (stdout, d1) = self.stdout.take();
        let (stderr, d2) = self.stderr.take();
        CapturedStdio { stdout, stderr, dropped: d1 + d2 }
    }
}
