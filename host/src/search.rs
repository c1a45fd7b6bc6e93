//! Tool search for large catalogues (`[server] tool_search = true`).
//!
//! An agent given a thousand tool definitions spends its context on them
//! and picks worse. In search mode `tools/list` returns the host's own
//! `search_tools` tool and the few tools `tool_search_listed` names; the
//! model finds the rest by asking `search_tools`, which ranks every tool in
//! the catalogue by BM25 and returns the best ones' full definitions. Any
//! tool can be called by name whether it was listed or not.
//!
//! Ranking: each tool is one document of its name and title (three times,
//! so a word of the name counts more than one in the prose), description,
//! and its parameters' names and descriptions. Identifiers are split into
//! words first (`read_file`, `readFile` and `read-file` are "read file"),
//! then the `bm25` crate's tokenizer folds Unicode, drops English stop
//! words and stems (`files` finds `file`). The index is built on the first
//! search after the catalogue changes (about 60 ms for 1,000 tools on the
//! 2-core VM, `benches/tool_search.rs`), never on the request path of other methods.
//!
//! `search_tools` is a tool like any other: it goes through the same
//! argument check, metrics and audit, and is served by the [`Backend`] seam
//! as a source of kind [`SourceKind::Host`].

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bm25::{Language, SearchEngine, SearchEngineBuilder};
use serde_json::{Map, Value, json};

use crate::call::{CallOutcome, Failure};
use crate::lock::Locked as _;
use crate::registry::{
    Backend, CallFuture, Catalog, Finished, FinishedCall, NewOffer, NewTool, OpFuture, Registry,
    SourceKind, ToolEntry, ToolOutput,
};
use crate::sandbox::{CapturedStdio, CompletionRequest, EventSink};
use crate::schema::InputSchema;

/// The name of the search tool, and of the host's source that serves it.
pub const SEARCH_TOOL: &str = "search_tools";
/// The source that serves [`SEARCH_TOOL`], as `/readyz` and the logs name it.
pub const SOURCE: &str = "corral";
/// The most results one search may return: the top of the range of
/// `server.tool_search_results`.
pub fn max_results() -> u64 {
    crate::config::ServerConfig::SETTINGS
        .iter()
        .find(|setting| setting.key == "tool_search_results")
        .and_then(|setting| setting.range)
        .map_or(50, |(_, max)| max)
}

/// Installs `search_tools` in `registry`, under its bare name, ahead of
/// every component (so none can take the name). `results` is the number
/// of results a search returns when the caller does not say.
pub fn install(registry: &Arc<Registry>, results: u32) {
    let id = registry.add_source(SOURCE, SourceKind::Host);
    let backend = Arc::new(SearchBackend {
        registry: Arc::downgrade(registry),
        default_results: results,
        index: Mutex::new(None),
    });
    let offer = NewOffer::tools(vec![definition(results)]);
    if let Err(err) = registry.install_component(id, offer, backend, Duration::ZERO, false) {
        // Nothing else is installed yet, so nothing can clash.
        tracing::error!("tool search could not be installed: {err}");
    }
}

fn definition(results: u32) -> NewTool {
    let input = json!({
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1000,
                "description": "What the tool should do, in a few words (\"read a file\", \"resize an image\").",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": max_results(),
                "description": format!("How many tools to return, best first. Default: {results}."),
            },
        },
        "required": ["query"],
        "additionalProperties": false,
    });
    let output = json!({
        "type": "object",
        "properties": {
            "tools": {
                "type": "array",
                "description": "The best matches, best first: each an MCP Tool definition, callable by its name.",
                "items": {"type": "object"},
            },
        },
        "required": ["tools"],
    });
    let mut tool = Map::new();
    tool.insert("name".into(), SEARCH_TOOL.into());
    tool.insert("title".into(), "Search tools".into());
    tool.insert(
        "description".into(),
        "Finds tools for a task among all the tools this server has, most of which are not \
         listed. Returns the best matches' full definitions; call any of them by its name."
            .into(),
    );
    tool.insert("inputSchema".into(), input.clone());
    tool.insert("outputSchema".into(), output);
    tool.insert(
        "annotations".into(),
        json!({"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false}),
    );
    NewTool {
        remote: SEARCH_TOOL.into(),
        definition: tool,
        input: InputSchema::compile(&input).expect("the search tool's schema compiles"),
    }
}

/// Serves `search_tools` over the registry's current catalogue.
struct SearchBackend {
    /// Weak: the registry holds this backend.
    registry: Weak<Registry>,
    default_results: u32,
    /// The catalogue it last indexed, its tools and their index.
    index: Mutex<Option<Indexed>>,
}

/// A catalogue's tools and their index.
struct Indexed {
    catalog: Arc<Catalog>,
    tools: Vec<Arc<ToolEntry>>,
    index: ToolIndex,
}

impl SearchBackend {
    /// The best `limit` matches for `query` in `catalog`, indexed again
    /// if it is not the one indexed last.
    fn search(&self, catalog: Arc<Catalog>, query: &str, limit: usize) -> Vec<Arc<ToolEntry>> {
        let mut cached = self.index.locked();
        let current = cached.as_ref().is_some_and(|c| Arc::ptr_eq(&c.catalog, &catalog));
        if !current {
            let tools: Vec<Arc<ToolEntry>> =
                catalog.tools().filter(|t| &*t.source != SOURCE).cloned().collect();
            let index = ToolIndex::new(tools.iter().map(|t| (&*t.name, t.definition.get())));
            *cached = Some(Indexed { catalog, tools, index });
        }
        let Some(indexed) = cached.as_ref() else { return Vec::new() };
        indexed.index.search(query, limit).into_iter().map(|i| indexed.tools[i].clone()).collect()
    }
}

impl Backend for SearchBackend {
    fn call<'a>(
        &'a self,
        _tool: &'a str,
        arguments: Value,
        _events: EventSink,
        _progress: bool,
    ) -> CallFuture<'a> {
        Box::pin(async move {
            let started = Instant::now();
            let Some(registry) = self.registry.upgrade() else {
                return FinishedCall::failed(Failure::tool_failed("the server is stopping"));
            };
            // A search made while sources load waits for them (at most
            // `server.load_timeout_ms`), as a list does: the first search a
            // client makes must see every tool.
            registry.settled_or_timeout().await;
            // The arguments passed the input schema.
            let query = arguments["query"].as_str().unwrap_or_default();
            let limit = arguments["limit"].as_u64().unwrap_or(self.default_results.into()) as usize;
            let tools: Vec<Value> = self
                .search(registry.catalog(), query, limit)
                .into_iter()
                .map(|entry| serde_json::from_str(entry.definition.get()).unwrap_or(Value::Null))
                .collect();
            let structured = json!({ "tools": tools });
            let text = structured.to_string();
            let mut result = Map::new();
            result.insert("content".into(), json!([{"type": "text", "text": text}]));
            result.insert("structuredContent".into(), structured);
            result.insert("isError".into(), false.into());
            Finished {
                outcome: CallOutcome::Ok,
                output: ToolOutput::Members(result),
                fuel: 0,
                elapsed: started.elapsed(),
                stdio: CapturedStdio::default(),
            }
        })
    }

    fn read_resource<'a>(&'a self, uri: &'a str, _events: EventSink) -> OpFuture<'a> {
        Box::pin(
            async move { crate::registry::FinishedOp::failed(Failure::resource_not_found(uri)) },
        )
    }

    fn get_prompt<'a>(
        &'a self,
        prompt: &'a str,
        _arguments: Map<String, Value>,
        _events: EventSink,
    ) -> OpFuture<'a> {
        Box::pin(
            async move { crate::registry::FinishedOp::failed(Failure::unknown_prompt(prompt)) },
        )
    }

    fn complete(&self, _request: CompletionRequest) -> OpFuture<'_> {
        Box::pin(async {
            crate::registry::FinishedOp::failed(Failure::tool_failed(
                "the host's tools complete nothing",
            ))
        })
    }

    fn subscribe(&self, _uri: &str) {}
}

/// A BM25 index over a set of tools, which it knows by their position.
pub struct ToolIndex {
    engine: SearchEngine<usize>,
}

impl ToolIndex {
    /// Indexes tools given as (exposed name, MCP `Tool` definition as JSON).
    pub fn new<'a>(tools: impl Iterator<Item = (&'a str, &'a str)>) -> ToolIndex {
        let documents: Vec<bm25::Document<usize>> = tools
            .enumerate()
            .map(|(i, (name, definition))| bm25::Document::new(i, document(name, definition)))
            .collect();
        ToolIndex {
            engine: SearchEngineBuilder::<usize>::with_documents(Language::English, documents)
                .build(),
        }
    }

    /// The positions of the `limit` best matches for `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        self.engine.search(&words(query), limit).into_iter().map(|hit| hit.document.id).collect()
    }
}

/// The text a tool is found by: its name and title three times, its
/// description, its parameters' names and descriptions.
pub fn document(name: &str, definition: &str) -> String {
    let tool: Value = serde_json::from_str(definition).unwrap_or(Value::Null);
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut parts = Vec::new();
    let title = text(&tool["title"]);
    for _ in 0..3 {
        parts.push(words(name));
        parts.push(title.clone());
    }
    parts.push(text(&tool["description"]));
    if let Some(properties) = tool["inputSchema"]["properties"].as_object() {
        for (parameter, schema) in properties {
            parts.push(words(parameter));
            parts.push(text(&schema["description"]));
        }
    }
    parts.join(" ")
}

/// `read_file`, `readFile`, `read-file` and `fs.read` as separate words.
fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if matches!(c, '_' | '-' | '.' | '/' | ':') {
            out.push(' ');
        } else {
            if c.is_uppercase() && previous.is_some_and(|p| p.is_lowercase()) {
                out.push(' ');
            }
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_split_into_words() {
        assert_eq!(words("read_file"), "read file");
        assert_eq!(words("readFile"), "read File");
        assert_eq!(words("fs.read-dir"), "fs read dir");
        assert_eq!(words("HTTPServer"), "HTTPServer");
    }

    #[test]
    fn a_document_weighs_the_name_and_keeps_parameters() {
        let definition = r#"{"name":"fs_read_file","description":"Reads a file.","inputSchema":{"properties":{"path":{"description":"Where it is."}}}}"#;
        let text = document("fs_read_file", definition);
        assert_eq!(text.matches("fs read file").count(), 3);
        assert!(
            text.contains("Reads a file.")
                && text.contains("path")
                && text.contains("Where it is.")
        );
    }
}
