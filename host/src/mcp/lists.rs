//! The four lists (`tools/list`, `resources/list`,
//! `resources/templates/list`, `prompts/list`), one page at a time, the
//! same in both revisions but for the members a 2026-07-28 result adds.
//!
//! - A list is answered once no source is still loading (at most
//!   `server.load_timeout_ms`, [`McpServer::when_settled`]): a client's
//!   first list has every tool, however soon it asks.
//! - 2026-07-28: it may be cached for `cache_ttl_ms`, but not at all while
//!   it may be incomplete (a source still loading at the limit, or one that
//!   failed to load, which is left out and logged).
//! - The cursor is the base64url of the first name (or URI) of the next
//!   page; templates, kept in source order because that order decides
//!   matching, page by position. A cursor that does not decode is `-32602`.
//! - In search mode (`server.tool_search`) `tools/list` shows
//!   `search_tools` and the tools of `tool_search_listed` only.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use serde_json::value::RawValue;

use super::jsonrpc::{McpError, RequestId};
use super::protocol::Revision;
use super::reply::{Answer, Reply};
use super::server::McpServer;
use super::shapes::ListPage;
use crate::registry::{Catalog, ToolEntry};

/// Which list.
#[derive(Debug, Clone, Copy)]
enum List {
    Tools,
    Resources,
    Templates,
    Prompts,
}

/// One page: its items and the cursor of the next.
type Page<'c> = (Vec<&'c RawValue>, Option<String>);

impl McpServer {
    /// One page of the list `method` (`tools/list`, `resources/list`,
    /// `resources/templates/list` or `prompts/list`) from the request's
    /// cursor.
    pub(super) fn list(
        self: &Arc<Self>,
        method: &str,
        id: &RequestId,
        params: &Value,
        revision: Revision,
    ) -> Reply {
        let list = match method {
            "tools/list" => List::Tools,
            "resources/list" => List::Resources,
            "resources/templates/list" => List::Templates,
            _ => List::Prompts,
        };
        let after = match cursor(params) {
            Ok(after) => after,
            Err(error) => return Reply::Answer(Answer::error(Some(id), error, revision)),
        };
        self.when_settled(id, move |server, id| {
            let catalog = server.registry.catalog();
            let size = server.options.page_size;
            let (key, page) = match list {
                List::Tools => ("tools", Ok(server.tools_page(&catalog, &after, size))),
                List::Resources => ("resources", Ok(resources_page(&catalog, &after, size))),
                List::Templates => ("resourceTemplates", templates_page(&catalog, &after, size)),
                List::Prompts => ("prompts", Ok(prompts_page(&catalog, &after, size))),
            };
            match page {
                Ok((items, next_cursor)) => {
                    let caching = server.list_caching(&catalog);
                    let result = ListPage { key, items, next_cursor, revision, caching };
                    Answer::result(id, &result, revision)
                }
                Err(error) => Answer::error(Some(id), error, revision),
            }
        })
    }

    fn tools_page<'c>(&self, catalog: &'c Catalog, after: &str, size: usize) -> Page<'c> {
        let mut tools = catalog.tools_from(after).filter(|entry| self.is_listed(entry));
        let page = tools.by_ref().take(size).map(|entry| &*entry.definition).collect();
        (page, tools.next().map(|next| next_cursor(&next.name)))
    }

    /// Whether `tools/list` shows `entry`: every tool, or in search mode
    /// `search_tools` and the tools `tool_search_listed` names.
    fn is_listed(&self, entry: &ToolEntry) -> bool {
        match &self.options.tool_search {
            None => true,
            Some(listed) => {
                &*entry.source == crate::search::SOURCE
                    || listed.iter().any(|name| **name == *entry.name)
            }
        }
    }
}

fn resources_page<'c>(catalog: &'c Catalog, after: &str, size: usize) -> Page<'c> {
    let mut resources = catalog.resources_from(after);
    let page = resources.by_ref().take(size).map(|entry| &*entry.served.definition).collect();
    (page, resources.next().map(|next| next_cursor(&next.uri)))
}

fn prompts_page<'c>(catalog: &'c Catalog, after: &str, size: usize) -> Page<'c> {
    let mut prompts = catalog.prompts_from(after);
    let page = prompts.by_ref().take(size).map(|entry| &*entry.served.definition).collect();
    (page, prompts.next().map(|next| next_cursor(&next.name)))
}

fn templates_page<'c>(
    catalog: &'c Catalog,
    after: &str,
    size: usize,
) -> Result<Page<'c>, McpError> {
    let start = match after {
        "" => 0,
        after => {
            after.parse::<usize>().map_err(|_| McpError::InvalidParams("invalid cursor".into()))?
        }
    };
    let templates = catalog.templates();
    let end = templates.len().min(start.saturating_add(size));
    let page = templates.get(start..end).unwrap_or_default();
    let items = page.iter().map(|entry| &*entry.served.definition).collect();
    Ok((items, (end < templates.len()).then(|| next_cursor(&end.to_string()))))
}

/// The position a list request's `cursor` names (`""`: the start).
pub(super) fn cursor(params: &Value) -> Result<String, McpError> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(cursor)) => URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| McpError::InvalidParams(format!("invalid cursor {cursor:?}"))),
        Some(_) => Err(McpError::InvalidParams("cursor must be a string".into())),
    }
}

/// The cursor of the page starting at `key`.
pub(super) fn next_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}
