//! The `[tasks]` table: long-running calls run as MCP tasks (see
//! [`crate::task_store`] for the lifecycle), and which tools may run so.
//!
//! ```toml
//! [tasks]
//! max_tasks = 64               # running at once, all clients
//! max_tasks_per_client = 8     # running at once, one client or token
//! max_kept = 1024              # finished tasks kept to be fetched
//! ttl_ms = 3600000             # a finished task is kept this long
//! poll_interval_ms = 500       # the pollIntervalMs clients are told
//! output_kib = 64              # log, progress and stdio kept per task
//! promote_after_ms = 250       # 2026-07-28: a call still running after this becomes a task
//!
//! [[component]]
//! name = "fs"
//! path = "builtin:fs"
//! task_support = { digest = "optional", "*" = "forbidden" }
//!
//! [component.limits]
//! task_timeout_ms = 900000     # a call run as a task
//! task_fuel = 1000000000000
//! ```
//!
//! Each field's default and range are on [`TasksConfig`]'s fields
//! (`max_tasks_per_client` is also at most `max_tasks`).
//!
//! A tool's task support (`execution.taskSupport` in MCP) is `forbidden`
//! unless its `[[component]]` or `[[native]]` entry says otherwise in
//! `task_support`, by the name the source gives the tool, or `"*"` for the
//! rest; a native server's own declaration counts when the entry names
//! nothing. `optional`: the client chooses; `required`: only as a task.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::settings::settings;

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

settings! {
    /// The `[tasks]` table.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TasksConfig in "tasks" {
        /// Tasks running at once (`working` or `input_required`), all clients.
        pub max_tasks: u32 = 64, range 1..=100_000;
        /// Tasks running at once for one client (bearer token, session, peer
        /// address, or the stdio connection); at most `max_tasks`.
        pub max_tasks_per_client: u32 = 8, range 1..=100_000;
        /// Finished tasks kept for their clients to fetch; past this, the
        /// oldest finished task is dropped before its time.
        pub max_kept: u32 = 1024, range 0..=1_000_000;
        /// How long a finished task is kept, from its end, in milliseconds:
        /// the `ttlMs` clients are told.
        pub ttl_ms: u64 = 3_600_000, range 1000..=604_800_000;
        /// The `pollIntervalMs` clients are told, in milliseconds.
        pub poll_interval_ms: u64 = 500, range 10..=3_600_000;
        /// Bytes of log and progress messages and captured stdout and stderr
        /// kept per task (the oldest lines go first), in KiB.
        pub output_kib: u64 = 64, range 1..=16_384;
        /// MCP 2026-07-28: how long a call of a task-capable tool runs inline
        /// before it becomes a task, in milliseconds. A call that finishes (or
        /// asks its first questions) sooner is answered directly.
        pub promote_after_ms: u64 = 250, range 0..=3_600_000;
    }
}

impl TasksConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_ranges()?;
        if self.max_tasks_per_client > self.max_tasks {
            return Err(ConfigError::invalid(
                "tasks.max_tasks_per_client",
                format!(
                    "{} is out of range 1..={} (at most max_tasks)",
                    self.max_tasks_per_client, self.max_tasks
                ),
            ));
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
