//! Tool search (`[server] tool_search = true`): `tools/list` shows
//! `search_tools` and the tools `tool_search_listed` names; a search ranks
//! every tool; any tool is called by name, listed or not. And the ranking's
//! quality on a fixed catalogue of 1,000 tools and 30 queries
//! (`benches/tool_catalog.rs`).

use std::path::Path;
use std::sync::OnceLock;

use corral::search::ToolIndex;
use serde_json::{Value, json};

use crate::support::*;

#[path = "../../benches/tool_catalog.rs"]
mod tool_catalog;

fn server() -> Addr {
    static SERVER: OnceLock<Addr> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let toml = r#"
[server]
tool_search = true
tool_search_listed = ["text_count"]
tool_search_results = 3

[[component]]
name = "fs"
path = "builtin:fs"

[[component]]
name = "text"
path = "builtin:text"

[[component]]
name = "notes"
path = "builtin:notes"
"#;
        let base = tempfile::tempdir().expect("tempdir").keep();
        let config = corral::config::Config::from_toml(toml, Path::new("<search>"), &base)
            .expect("search config");
        start(config)
    })
}

fn names(tools: &Value) -> Vec<&str> {
    tools.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[test]
fn tools_list_shows_the_search_tool_and_the_listed_ones() {
    let server = server();
    for version in ["2026-07-28", "2025-11-25"] {
        let list = if version == "2025-11-25" {
            let session = server.session();
            server.request(&session, 2, "tools/list", json!({})).json()
        } else {
            server.stateless(&stateless_request(2, "tools/list", json!({})), &[]).json()
        };
        assert_eq!(
            names(&list["result"]["tools"]),
            ["search_tools", "text_count"],
            "{version}: {list}"
        );
        let search = &list["result"]["tools"][0];
        assert_eq!(search["inputSchema"]["required"], json!(["query"]));
        assert_eq!(search["annotations"]["readOnlyHint"], json!(true));
    }
}

#[test]
fn a_search_finds_unlisted_tools_which_are_then_called_by_name() {
    let server = server();
    let call = |id: i64, name: &str, arguments: Value| {
        let message =
            stateless_request(id, "tools/call", json!({"name": name, "arguments": arguments}));
        server.stateless(&message, &[]).json()["result"].clone()
    };
    let found = call(1, "search_tools", json!({"query": "write a file to a directory"}));
    assert_eq!(found["isError"], json!(false), "{found}");
    let tools = &found["structuredContent"]["tools"];
    assert_eq!(tools.as_array().unwrap().len(), 3, "tool_search_results = 3: {tools}");
    assert_eq!(tools[0]["name"], json!("fs_write_file"), "{tools}");
    assert!(tools[0]["inputSchema"]["properties"]["path"].is_object(), "the full definition");
    let found = call(2, "search_tools", json!({"query": "sha-256 hash of some text", "limit": 1}));
    assert_eq!(names(&found["structuredContent"]["tools"]), ["text_sha256"]);
    // Not listed, called by name all the same.
    let hashed = call(3, "text_sha256", json!({"text": "abc"}));
    assert_eq!(hashed["isError"], json!(false), "{hashed}");
    assert!(hashed["content"][0]["text"].as_str().unwrap().contains("ba7816bf"), "{hashed}");
    // Nothing matches: an empty list, not an error.
    let nothing = call(4, "search_tools", json!({"query": "zyxwvut"}));
    assert_eq!(nothing["structuredContent"]["tools"], json!([]));
    // Bad arguments are the model's to fix, like any tool's.
    let bad = call(5, "search_tools", json!({"query": "", "limit": 500}));
    assert_eq!(bad["isError"], json!(true));
    let text = bad["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("/limit") && text.contains("/query"), "{text}");
}

#[test]
fn the_search_is_counted_like_any_tool() {
    let server = server();
    let message = stateless_request(
        9,
        "tools/call",
        json!({"name": "search_tools", "arguments": {"query": "notes"}}),
    );
    assert_eq!(server.stateless(&message, &[]).json()["result"]["isError"], json!(false));
    let metrics = server.metrics();
    let series = r#"corral_tool_calls_total{tool="search_tools",outcome="ok"}"#;
    assert!(metric_value(&metrics, series).is_some_and(|n| n >= 1.0), "{metrics}");
}

/// On 1,000 tools the expected tool of every query of the fixed set is in
/// the top 5 (the bench measures latency and precision).
#[test]
fn every_query_of_the_fixed_set_finds_its_tool_in_the_top_five() {
    let catalog = tool_catalog::tools();
    let definitions: Vec<(String, String)> =
        catalog.iter().map(|(name, definition)| (name.clone(), definition.to_string())).collect();
    let index = ToolIndex::new(definitions.iter().map(|(n, d)| (n.as_str(), d.as_str())));
    let mut misses = Vec::new();
    for (query, expected) in tool_catalog::QUERIES {
        let top: Vec<&str> =
            index.search(query, 5).into_iter().map(|i| catalog[i].0.as_str()).collect();
        if !top.contains(&expected) {
            misses.push(format!("{query:?}: expected {expected}, got {top:?}"));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} queries missed:\n{}",
        misses.len(),
        tool_catalog::QUERIES.len(),
        misses.join("\n")
    );
}
