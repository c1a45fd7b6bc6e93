//! The `[tasks]` table: long-running calls run as MCP tasks (see
//! [`crate::task_store`] for the lifecycle), and which tools may run so.
//!
//! ```toml
//! [tasks]
//! max_tasks = 64               # running at once, all clients (default 64)
//! max_tasks_per_client = 8     # running at once, one client or token (default 8)
//! max_kept = 1024              # finished tasks kept to be fetched (default 1024)
//! ttl_ms = 3600000             # a finished task is kept this long (default 1 h)
//! poll_interval_ms = 500       # the pollIntervalMs clients are told (default 500)
//! output_kib = 64              # log, progress and stdio kept per task (default 64)
//! promote_after_ms = 250       # 2026-07-28: a call still running after this becomes a task
//!
//! [[component]]
//! name = "fs"
//! path = "builtin:fs"
//! task_support = { digest = "optional", "*" = "forbidden" }
//!
//! [component.limits]
//! task_timeout_ms = 900000     # a call run as a task (default 15 min)
//! task_fuel = 1000000000000    # (default 1e12)
//! ```
//!
//! | field | default | checked at load |
//! | --- | --- | --- |
//! | `max_tasks` | 64 | 1..=100000 |
//! | `max_tasks_per_client` | 8 | 1..=`max_tasks` |
//! | `max_kept` | 1024 | 0..=1000000 (past it, the oldest finished task is dropped) |
//! | `ttl_ms` | 3600000 | 1000..=604800000 (counts from the task's end) |
//! | `poll_interval_ms` | 500 | 10..=3600000 |
//! | `output_kib` | 64 | 1..=16384 |
//! | `promote_after_ms` | 250 | 0..=3600000 |
//!
//! A tool's task support (`execution.taskSupport` in MCP) is `forbidden`
//! unless its `[[component]]` or `[[native]]` entry says otherwise in
//! `task_support`, by the name the source gives the tool, or `"*"` for the
//! rest; a native server's own declaration counts when the entry names
//! nothing. `optional`: the client chooses; `required`: only as a task.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Whether a tool may run as a task (`execution.taskSupport`).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task (MCP's default).
    #[default]
    Forbidden,
    /// As a task or not, as the client asks.
    Optional,
    /// Only as a task.
    Required,
}

impl TaskSupport {
    /// The MCP name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }

    /// The support a source's config gives `tool`: its own entry, else
    /// `"*"`, else `declared` (what the source itself said), else forbidden.
    pub fn of(
        config: &std::collections::BTreeMap<String, TaskSupport>,
        tool: &str,
        declared: Option<TaskSupport>,
    ) -> TaskSupport {
        config.get(tool).or_else(|| config.get("*")).copied().or(declared).unwrap_or_default()
    }
}

/// The `[tasks]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksConfig {
    /// Tasks running at once (`working` or `input_required`), all clients.
    #[serde(default = "defaults::max_tasks")]
    pub max_tasks: u32,
    /// Tasks running at once for one client (bearer token, session, peer
    /// address, or the stdio connection).
    #[serde(default = "defaults::max_tasks_per_client")]
    pub max_tasks_per_client: u32,
    /// Finished tasks kept for their clients to fetch; past this, the
    /// oldest finished task is dropped before its time.
    #[serde(default = "defaults::max_kept")]
    pub max_kept: u32,
    /// How long a finished task is kept, from its end, in milliseconds:
    /// the `ttlMs` clients are told.
    #[serde(default = "defaults::ttl_ms")]
    pub ttl_ms: u64,
    /// The `pollIntervalMs` clients are told, in milliseconds.
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Bytes of log and progress messages and captured stdout and stderr
    /// kept per task (the oldest lines go first), in KiB.
    #[serde(default = "defaults::output_kib")]
    pub output_kib: u64,
    /// MCP 2026-07-28: how long a call of a task-capable tool runs inline
    /// before it becomes a task, in milliseconds. A call that finishes (or
    /// asks its first questions) sooner is answered directly.
    #[serde(default = "defaults::promote_after_ms")]
    pub promote_after_ms: u64,
}

mod defaults {
    pub(super) fn max_tasks() -> u32 {
        64
    }
    pub(super) fn max_tasks_per_client() -> u32 {
        8
    }
    pub(super) fn max_kept() -> u32 {
        1024
    }
    pub(super) fn ttl_ms() -> u64 {
        3_600_000
    }
    pub(super) fn poll_interval_ms() -> u64 {
        500
    }
    pub(super) fn output_kib() -> u64 {
        64
    }
    pub(super) fn promote_after_ms() -> u64 {
        250
    }
}

impl Default for TasksConfig {
    fn default() -> Self {
        TasksConfig {
            max_tasks: defaults::max_tasks(),
            max_tasks_per_client: defaults::max_tasks_per_client(),
            max_kept: defaults::max_kept(),
            ttl_ms: defaults::ttl_ms(),
            poll_interval_ms: defaults::poll_interval_ms(),
            output_kib: defaults::output_kib(),
            promote_after_ms: defaults::promote_after_ms(),
        }
    }
}

impl TasksConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ranges: [(&str, u64, u64, u64); 7] = [
            ("max_tasks", self.max_tasks.into(), 1, 100_000),
            ("max_tasks_per_client", self.max_tasks_per_client.into(), 1, self.max_tasks.into()),
            ("max_kept", self.max_kept.into(), 0, 1_000_000),
            ("ttl_ms", self.ttl_ms, 1000, 7 * 24 * 3600 * 1000),
            ("poll_interval_ms", self.poll_interval_ms, 10, 3600 * 1000),
            ("output_kib", self.output_kib, 1, 16 * 1024),
            ("promote_after_ms", self.promote_after_ms, 0, 3600 * 1000),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::invalid(
                    format!("tasks.{field}"),
                    format!("{value} is out of range {min}..={max}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_tool_entry_beats_the_wildcard_which_beats_the_declaration() {
        let config = BTreeMap::from([
            ("slow".to_owned(), TaskSupport::Required),
            ("*".to_owned(), TaskSupport::Optional),
        ]);
        assert_eq!(TaskSupport::of(&config, "slow", None), TaskSupport::Required);
        assert_eq!(
            TaskSupport::of(&config, "other", Some(TaskSupport::Forbidden)),
            TaskSupport::Optional
        );
        let empty = BTreeMap::new();
        assert_eq!(
            TaskSupport::of(&empty, "x", Some(TaskSupport::Optional)),
            TaskSupport::Optional
        );
        assert_eq!(TaskSupport::of(&empty, "x", None), TaskSupport::Forbidden);
    }

    #[test]
    fn limits_are_checked() {
        let config = TasksConfig { max_tasks_per_client: 100, max_tasks: 10, ..Default::default() };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("tasks.max_tasks_per_client"), "{err}");
    }
}
