//! Every metric Corral exports, defined in one place so that names, labels
//! and buckets are written once and read by `/metrics`.
//!
//! | metric | type | labels | meaning |
//! | --- | --- | --- | --- |
//! | `corral_tool_calls_total` | counter | `tool`, `outcome` | finished `tools/call` requests, by [`CallOutcome`] label |
//! | `corral_tool_call_duration_seconds` | histogram | `tool` | host wall time of a call: schema check, queueing and the guest |
//! | `corral_tool_fuel_consumed_total` | counter | `tool` | fuel the guests consumed |
//! | `corral_calls_in_flight` | gauge | - | `tools/call`, `resources/read` and `prompts/get` requests running now |
//! | `corral_operations_total` | counter | `kind`, `source`, `outcome` | finished `resources/read`, `prompts/get` and `completion/complete` requests, by the component or native server that served them (`_none` when nothing did) |
//! | `corral_operation_duration_seconds` | histogram | `kind` | host wall time of those requests |
//! | `corral_http_requests_total` | counter | `status` | HTTP responses, by status code |
//! | `corral_http_connections_refused_total` | counter | - | connections answered 503 and closed because `server.max_connections` were open |
//! | `corral_component_compile_seconds` | histogram | - | time to compile (or load from cache) each component at start |
//! | `corral_native_server_up` | gauge | `server` | 1 while a native MCP server answers pings |
//! | `corral_circuit_open` | gauge | `server` | 1 while a native server's circuit breaker fails fast |
//! | `corral_tools_quarantined` | gauge | - | tools offered but quarantined: not the definition or component the lock file approved, or a suspicious description |
//! | `corral_tasks` | gauge | `status` | tasks in the store by status: running (`working`, `input_required`) and kept after their end (`completed`, `failed`, `cancelled`) |
//! | `corral_task_duration_seconds` | histogram | `status` | time from a task's creation to its end, by how it ended |
//! | `corral_tasks_refused_total` | counter | - | tasks refused because `tasks.max_tasks` or `tasks.max_tasks_per_client` were running |
//! | `corral_redis_errors_total` | counter | `op` | shared-state operations (`[cluster] redis_url`) that failed or timed out, by operation (`rate_limit`, `tasks`, `sessions`, `signals`) |
//! | `corral_redis_up` | gauge | - | 1 while this replica's last shared-state operation succeeded (these three only with `[cluster]`) |
//! | `corral_rate_limit_fallback_total` | counter | - | requests rate-limited by this replica's own buckets because the shared ones could not be reached |
//! | `corral_network_connections_total` | counter | `component`, `decision` | outgoing connection attempts (`wasi:http` requests, socket connects and datagrams), by [`Decision`] label |
//!
//! Label values are bounded: `tool` is an exposed tool name, or
//! [`UNKNOWN_TOOL_LABEL`] for a name no tool has, so a client cannot grow the
//! series set by calling made-up names. Every `tool` x `outcome` pair of the
//! loaded tools is registered at start, so a scrape sees zeros rather than
//! missing series.
//!
//! The text format is OpenMetrics 1.0 (what `prometheus-client` writes),
//! which Prometheus scrapes natively.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::call::CallOutcome;
use crate::network::Decision;

/// The `tool` label of calls naming a tool that does not exist.
pub const UNKNOWN_TOOL_LABEL: &str = "_unknown";

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels `{tool, outcome}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolOutcomeLabels {
    tool: String,
    outcome: &'static str,
}

/// Label `{tool}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

/// Labels `{kind, source, outcome}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    kind: &'static str,
    source: String,
    outcome: &'static str,
}

/// Label `{op}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

/// Label `{kind}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// Label `{status}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

/// Labels `{component, decision}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NetworkLabels {
    component: String,
    decision: &'static str,
}

/// Label `{status}` of a task.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    status: &'static str,
}

fn task_histogram() -> Histogram {
    // 10 ms .. ~1.5 h: tasks are the long calls.
    Histogram::new(exponential_buckets(0.01, 2.0, 20))
}

/// Label `{server}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabels {
    server: String,
}

fn duration_histogram() -> Histogram {
    // 100 µs .. ~13 s: tool calls cost microseconds when warm and are cut
    // off by `timeout_ms` (10 s by default).
    Histogram::new(exponential_buckets(0.000_1, 2.0, 18))
}

/// The host's metrics registry.
pub struct Metrics {
    registry: Registry,
    tool_calls: Family<ToolOutcomeLabels, Counter>,
    tool_call_duration: Family<ToolLabels, Histogram, fn() -> Histogram>,
    tool_fuel: Family<ToolLabels, Counter>,
    calls_in_flight: Gauge,
    operations: Family<OperationLabels, Counter>,
    operation_duration: Family<KindLabels, Histogram, fn() -> Histogram>,
    http_requests: Family<StatusLabels, Counter>,
    connections_refused: Counter,
    component_compile: Histogram,
    native_server_up: Family<ServerLabels, Gauge>,
    circuit_open: Family<ServerLabels, Gauge>,
    tools_quarantined: Gauge,
    tasks: Family<TaskLabels, Gauge>,
    task_duration: Family<TaskLabels, Histogram, fn() -> Histogram>,
    tasks_refused: Counter,
    redis_errors: Family<OpLabels, Counter>,
    redis_up: Gauge,
    rate_limit_fallback: Counter,
    network_connections: Family<NetworkLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric, with no series yet.
    pub fn new() -> Metrics {
        Metrics::build(false)
    }

    /// Every metric, and those of the shared state (`corral_redis_*`,
    /// `corral_rate_limit_fallback_total`), which only a replica with
    /// `[cluster]` exports: a single process has no Redis to be down.
    pub fn for_cluster() -> Metrics {
        Metrics::build(true)
    }

    fn build(cluster: bool) -> Metrics {
        let mut registry = Registry::default();
        let tool_calls = Family::<ToolOutcomeLabels, Counter>::default();
        // `prometheus-client` appends `_total` to counter names.
        registry.register(
            "corral_tool_calls",
            "Finished tool calls by outcome",
            tool_calls.clone(),
        );
        let tool_call_duration =
            Family::<ToolLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "corral_tool_call_duration_seconds",
            "Host wall time of a tool call, schema check and queueing included",
            tool_call_duration.clone(),
        );
        let tool_fuel = Family::<ToolLabels, Counter>::default();
        registry.register(
            "corral_tool_fuel_consumed",
            "Fuel consumed by tool calls",
            tool_fuel.clone(),
        );
        let calls_in_flight = Gauge::default();
        registry.register(
            "corral_calls_in_flight",
            "Tool calls running now",
            calls_in_flight.clone(),
        );
        let operations = Family::<OperationLabels, Counter>::default();
        registry.register(
            "corral_operations",
            "Finished resource reads, prompts and completions by source and outcome",
            operations.clone(),
        );
        let operation_duration =
            Family::<KindLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "corral_operation_duration_seconds",
            "Host wall time of resource reads, prompts and completions",
            operation_duration.clone(),
        );
        let http_requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "corral_http_requests",
            "HTTP responses by status code",
            http_requests.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "corral_http_connections_refused",
            "Connections refused because server.max_connections were open",
            connections_refused.clone(),
        );
        let component_compile = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "corral_component_compile_seconds",
            "Time to compile or load each component from the cache at start",
            component_compile.clone(),
        );
        let native_server_up = Family::<ServerLabels, Gauge>::default();
        registry.register(
            "corral_native_server_up",
            "1 while a native MCP server answers pings",
            native_server_up.clone(),
        );
        let circuit_open = Family::<ServerLabels, Gauge>::default();
        registry.register(
            "corral_circuit_open",
            "1 while a native server's circuit breaker is open",
            circuit_open.clone(),
        );
        let tools_quarantined = Gauge::default();
        registry.register(
            "corral_tools_quarantined",
            "Tools offered but quarantined (not as the lock file approved them, or suspicious)",
            tools_quarantined.clone(),
        );
        let tasks = Family::<TaskLabels, Gauge>::default();
        registry.register("corral_tasks", "Tasks in the store, by status", tasks.clone());
        let task_duration =
            Family::<TaskLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                task_histogram,
            );
        registry.register(
            "corral_task_duration_seconds",
            "Time from a task's creation to its end, by how it ended",
            task_duration.clone(),
        );
        let tasks_refused = Counter::default();
        registry.register(
            "corral_tasks_refused",
            "Tasks refused because tasks.max_tasks or tasks.max_tasks_per_client were running",
            tasks_refused.clone(),
        );
        let redis_errors = Family::<OpLabels, Counter>::default();
        let redis_up = Gauge::default();
        let rate_limit_fallback = Counter::default();
        if cluster {
            registry.register(
                "corral_redis_errors",
                "Shared-state operations that failed or timed out, by operation",
                redis_errors.clone(),
            );
            registry.register(
                "corral_redis_up",
                "1 while this replica's last shared-state operation succeeded",
                redis_up.clone(),
            );
            registry.register(
                "corral_rate_limit_fallback",
                "Requests rate-limited by this replica's own buckets because the shared ones \
                 could not be reached",
                rate_limit_fallback.clone(),
            );
        }
        for status in crate::task_store::TaskStatus::ALL {
            let _ = tasks.get_or_create(&TaskLabels { status: status.as_str() });
        }
        let network_connections = Family::<NetworkLabels, Counter>::default();
        registry.register(
            "corral_network_connections",
            "Outgoing connection attempts of components, by rule decision",
            network_connections.clone(),
        );
        Metrics {
            registry,
            tool_calls,
            tool_call_duration,
            tool_fuel,
            calls_in_flight,
            operations,
            operation_duration,
            http_requests,
            connections_refused,
            component_compile,
            native_server_up,
            circuit_open,
            tools_quarantined,
            tasks,
            task_duration,
            tasks_refused,
            redis_errors,
            redis_up,
            rate_limit_fallback,
            network_connections,
        }
    }

    /// Creates the zero-valued series of every `component` x `decision` pair.
    pub fn register_components<'a>(&self, components: impl IntoIterator<Item = &'a str>) {
        for component in components {
            for decision in Decision::ALL {
                let _ = self.network_connections.get_or_create(&NetworkLabels {
                    component: component.to_owned(),
                    decision: decision.as_str(),
                });
            }
        }
    }

    /// Counts one outgoing connection attempt of `component`.
    pub fn record_network(&self, component: &str, decision: Decision) {
        self.network_connections
            .get_or_create(&NetworkLabels {
                component: component.to_owned(),
                decision: decision.as_str(),
            })
            .inc();
    }

    /// Creates the zero-valued series of every `tool` x `outcome` pair.
    pub fn register_tools<'a>(&self, tools: impl IntoIterator<Item = &'a str>) {
        for tool in tools {
            for outcome in CallOutcome::ALL {
                let _ = self.tool_calls.get_or_create(&ToolOutcomeLabels {
                    tool: tool.to_owned(),
                    outcome: outcome.as_str(),
                });
            }
            let labels = ToolLabels { tool: tool.to_owned() };
            let _ = self.tool_call_duration.get_or_create(&labels);
            let _ = self.tool_fuel.get_or_create(&labels);
        }
    }

    /// Records one finished call of `tool` (an exposed name, or
    /// [`UNKNOWN_TOOL_LABEL`]).
    pub fn record_call(&self, tool: &str, outcome: CallOutcome, wall: Duration, fuel: u64) {
        self.tool_calls
            .get_or_create(&ToolOutcomeLabels { tool: tool.to_owned(), outcome: outcome.as_str() })
            .inc();
        let labels = ToolLabels { tool: tool.to_owned() };
        self.tool_call_duration.get_or_create(&labels).observe(wall.as_secs_f64());
        if fuel > 0 {
            self.tool_fuel.get_or_create(&labels).inc_by(fuel);
        }
    }

    /// Records one finished operation of `kind` (`resources/read`,
    /// `prompts/get`, `completion/complete`) served by `source` (a
    /// configured name, or `_none`).
    pub fn record_operation(
        &self,
        kind: &'static str,
        source: &str,
        outcome: CallOutcome,
        wall: Duration,
    ) {
        self.operations
            .get_or_create(&OperationLabels {
                kind,
                source: source.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
        self.operation_duration.get_or_create(&KindLabels { kind }).observe(wall.as_secs_f64());
    }

    /// Sets `corral_tasks` from a store's census ([`crate::task_store::TaskStore::census`]).
    pub fn set_tasks(&self, census: [u64; 5]) {
        for status in crate::task_store::TaskStatus::ALL {
            let count = i64::try_from(census[status.index()]).unwrap_or(i64::MAX);
            self.tasks.get_or_create(&TaskLabels { status: status.as_str() }).set(count);
        }
    }

    /// A task ended `status` after `age`.
    pub fn record_task_end(&self, status: crate::task_store::TaskStatus, age: Duration) {
        self.task_duration
            .get_or_create(&TaskLabels { status: status.as_str() })
            .observe(age.as_secs_f64());
    }

    /// A task was refused at a limit.
    pub fn record_task_refused(&self) {
        self.tasks_refused.inc();
    }

    /// A shared-state operation failed (`op`), or one succeeded (`None`).
    pub fn record_redis(&self, failed: Option<&'static str>) {
        match failed {
            Some(op) => {
                self.redis_errors.get_or_create(&OpLabels { op }).inc();
                self.redis_up.set(0);
            }
            None => {
                self.redis_up.set(1);
            }
        }
    }

    /// A request was rate-limited locally because Redis could not be reached.
    pub fn record_rate_limit_fallback(&self) {
        self.rate_limit_fallback.inc();
    }

    /// The `corral_calls_in_flight` gauge.
    pub fn calls_in_flight(&self) -> &Gauge {
        &self.calls_in_flight
    }

    /// Counts one HTTP response.
    pub fn record_http_response(&self, status: u16) {
        self.http_requests.get_or_create(&StatusLabels { status }).inc();
    }

    /// Counts one connection refused at `server.max_connections`.
    pub fn record_connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// Records one component's compile (or cache load) time.
    pub fn record_compile(&self, time: Duration) {
        self.component_compile.observe(time.as_secs_f64());
    }

    /// Sets `corral_native_server_up{server}`.
    pub fn set_native_server_up(&self, server: &str, up: bool) {
        self.native_server_up
            .get_or_create(&ServerLabels { server: server.to_owned() })
            .set(i64::from(up));
    }

    /// Sets `corral_circuit_open{server}`.
    pub fn set_circuit_open(&self, server: &str, open: bool) {
        self.circuit_open
            .get_or_create(&ServerLabels { server: server.to_owned() })
            .set(i64::from(open));
    }

    /// Sets `corral_tools_quarantined`.
    pub fn set_tools_quarantined(&self, count: usize) {
        self.tools_quarantined.set(count as i64);
    }

    /// Every metric in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_replica_with_a_cluster_exports_the_shared_state_metrics() {
        assert!(!Metrics::new().encode().contains("corral_redis_up"));
        let cluster = Metrics::for_cluster();
        cluster.record_redis(None);
        let text = cluster.encode();
        assert!(text.contains("corral_redis_up 1"), "{text}");
        assert!(text.contains("corral_rate_limit_fallback_total 0"), "{text}");
    }

    #[test]
    fn every_design_metric_name_is_exported() {
        let metrics = Metrics::new();
        metrics.register_tools(["echo"]);
        metrics.record_http_response(200);
        metrics.set_native_server_up("git", true);
        metrics.set_circuit_open("git", false);
        metrics.record_operation("resources/read", "notes", CallOutcome::Ok, Duration::ZERO);
        let text = metrics.encode();
        for name in [
            "corral_tool_calls_total{",
            "corral_tool_call_duration_seconds_bucket{",
            "corral_tool_fuel_consumed_total{",
            "corral_calls_in_flight ",
            "corral_http_requests_total{",
            "corral_component_compile_seconds_count ",
            "corral_native_server_up{",
            "corral_circuit_open{",
            "corral_operations_total{",
            "corral_operation_duration_seconds_bucket{",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }

    #[test]
    fn a_recorded_call_counts_its_outcome_and_fuel() {
        let metrics = Metrics::new();
        metrics.record_call("echo", CallOutcome::Timeout, Duration::from_millis(3), 42);
        let text = metrics.encode();
        assert!(
            text.contains(r#"corral_tool_calls_total{tool="echo",outcome="timeout"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"corral_tool_fuel_consumed_total{tool="echo"} 42"#), "{text}");
    }
}
