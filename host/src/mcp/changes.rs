//! What the clients that listen are told: the lists changed, a resource
//! was updated, a task changed. Each change goes to every 2025-11-25
//! session's standalone stream (or stdio connection) and to every
//! `subscriptions/listen` stream that asked for it.

use std::sync::Arc;

use serde_json::{Value, json};

/// A change clients may subscribe to.
#[derive(Debug, Clone)]
pub enum Change {
    /// The tool list changed.
    ToolsListChanged,
    /// The resource or resource template list changed.
    ResourcesListChanged,
    /// The prompt list changed.
    PromptsListChanged,
    /// The resource at this URI changed.
    ResourceUpdated(Arc<str>),
    /// A task changed: its owner's 2025-11-25 session stream, or its
    /// listeners (2026-07-28), hear it.
    Task(Arc<crate::task_store::Task>),
}

impl Change {
    /// The notification's method.
    pub fn method(&self) -> &'static str {
        match self {
            Change::ToolsListChanged => "notifications/tools/list_changed",
            Change::ResourcesListChanged => "notifications/resources/list_changed",
            Change::PromptsListChanged => "notifications/prompts/list_changed",
            Change::ResourceUpdated(_) => "notifications/resources/updated",
            Change::Task(task) if task.stateless => "notifications/tasks",
            Change::Task(_) => "notifications/tasks/status",
        }
    }

    /// The notification's params, `extra` members added.
    pub fn params(&self, extra: Option<(&str, Value)>) -> Value {
        let mut params = match self {
            Change::ResourceUpdated(uri) => json!({ "uri": &**uri }),
            Change::Task(task) => super::tasks::shapes::status_params(task),
            _ => json!({}),
        };
        if let Some((key, value)) = extra {
            params[key] = value;
        }
        params
    }
}
