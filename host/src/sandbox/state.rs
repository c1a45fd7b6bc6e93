//! Per-call store state: the WASI context built from a policy, the host
//! imports a component may call (`log`, `progress`, and in 0.2.0 asking the
//! client: `elicit`, `sample`, `list-roots`), and the accounting that turns
//! limit breaches into precise outcomes.
//!
//! One [`CallState`] lives in one `Store` for one call and is dropped with it.

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::ask::{client_request, parse_answer};
use super::bindings::{content_v2, v1, v2};
use super::net::NetGuard;
use super::output::Captured;
use super::types::{Answer, AskError, ElicitAnswer, LogLevel, Question};
use crate::call::ClientRequest;

/// Something a guest reported during a call, for the client to see.
#[derive(Debug)]
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
    /// A request for the client (a guest's `elicit`, `sample` or
    /// `list-roots`, or a native server's request): whoever serves the call
    /// answers on `reply` with the client's JSON answer.
    Ask {
        /// What to send the client.
        request: ClientRequest,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Value, AskError>>,
    },
    /// A `resource-updated` call: subscribers of `uri` are told.
    ResourceUpdated {
        /// The resource that changed.
        uri: String,
    },
}

impl PartialEq for GuestEvent {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                GuestEvent::Log { level: a, message: b },
                GuestEvent::Log { level: c, message: d },
            ) => a == c && b == d,
            (
                GuestEvent::Progress { done: a, total: b, message: c },
                GuestEvent::Progress { done: d, total: e, message: f },
            ) => a == d && b == e && c == f,
            (GuestEvent::Ask { request: a, .. }, GuestEvent::Ask { request: b, .. }) => a == b,
            (GuestEvent::ResourceUpdated { uri: a }, GuestEvent::ResourceUpdated { uri: b }) => {
                a == b
            }
            _ => false,
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

impl CallState {
    fn log_message(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.spend_output(message.len())?;
        self.emit(GuestEvent::Log { level, message });
        Ok(())
    }

    fn progress_report(
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

    /// Hands a question to whoever serves the call and waits for the
    /// answer. A question goes to the client, so it is paid for from the
    /// output budget like a log message: a guest that asks in a loop is
    /// stopped by it.
    async fn ask(&mut self, question: Question) -> wasmtime::Result<Result<Answer, AskError>> {
        let request = match client_request(&question) {
            Ok(request) => request,
            Err(error) => return Ok(Err(error)),
        };
        self.spend_output(64 + request.params.to_string().len())?;
        let Some(sink) = &self.events else {
            // Nobody to ask (a call from the command line).
            return Ok(Err(AskError::Unsupported(question.capability())));
        };
        let (reply, answer) = oneshot::channel();
        if sink.send(GuestEvent::Ask { request, reply }).is_err() {
            return Ok(Err(AskError::Failed("the request has ended".into())));
        }
        Ok(match answer.await {
            Ok(Ok(answer)) => parse_answer(&question, answer),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(AskError::Failed("the request has ended".into())),
        })
    }

    fn announce_update(&mut self, uri: String) -> wasmtime::Result<()> {
        self.spend_output(64 + uri.len())?;
        self.emit(GuestEvent::ResourceUpdated { uri });
        Ok(())
    }
}

impl v1::corral::mcp::types::Host for CallState {}

impl v1::corral::mcp::host::Host for CallState {
    fn log(
        &mut self,
        level: v1::corral::mcp::types::LogLevel,
        message: String,
    ) -> wasmtime::Result<()> {
        self.log_message(level.into(), message)
    }

    fn progress(
        &mut self,
        done: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        self.progress_report(done, total, message)
    }
}

use v2::corral::mcp::types as t2;

impl t2::Host for CallState {}

impl v2::corral::mcp::host::Host for CallState {
    fn log(&mut self, level: t2::LogLevel, message: String) -> wasmtime::Result<()> {
        self.log_message(level.into(), message)
    }

    fn progress(
        &mut self,
        done: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        self.progress_report(done, total, message)
    }

    async fn elicit(
        &mut self,
        request: t2::ElicitRequest,
    ) -> wasmtime::Result<Result<t2::ElicitAnswer, t2::AskError>> {
        Ok(match self.ask(request.into()).await? {
            Ok(Answer::Elicit(ElicitAnswer::Accept(content))) => {
                Ok(t2::ElicitAnswer::Accept(content))
            }
            Ok(Answer::Elicit(ElicitAnswer::Decline)) => Ok(t2::ElicitAnswer::Decline),
            Ok(Answer::Elicit(ElicitAnswer::Cancel)) => Ok(t2::ElicitAnswer::Cancel),
            Ok(_) => Err(t2::AskError::Failed("the answer is not an elicitation result".into())),
            Err(error) => Err(error.into()),
        })
    }

    async fn sample(
        &mut self,
        request: t2::SampleRequest,
    ) -> wasmtime::Result<Result<t2::SampleAnswer, t2::AskError>> {
        Ok(match self.ask(request.into()).await? {
            Ok(Answer::Sample(answer)) => Ok(t2::SampleAnswer {
                role: answer.role.into(),
                content: content_v2(answer.content),
                model: answer.model,
                stop_reason: answer.stop_reason,
            }),
            Ok(_) => Err(t2::AskError::Failed("the answer is not a sampling result".into())),
            Err(error) => Err(error.into()),
        })
    }

    async fn list_roots(
        &mut self,
        id: Option<String>,
    ) -> wasmtime::Result<Result<Vec<t2::Root>, t2::AskError>> {
        Ok(match self.ask(Question::ListRoots { id }).await? {
            Ok(Answer::Roots(roots)) => {
                Ok(roots.into_iter().map(|r| t2::Root { uri: r.uri, name: r.name }).collect())
            }
            Ok(_) => Err(t2::AskError::Failed("the answer is not a roots list".into())),
            Err(error) => Err(error.into()),
        })
    }

    fn resource_updated(&mut self, uri: String) -> wasmtime::Result<()> {
        self.announce_update(uri)
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
