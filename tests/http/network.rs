//! The `fetch` tool through `corral serve`: a granted loopback server is
//! reached, anything else is refused with a clear result, and every attempt
//! is counted in `corral_network_connections_total`.

use std::path::Path;

use corral::config::Config;
use serde_json::json;

use crate::support::{metric_value, start};

/// An HTTP server on 127.0.0.1 answering every request with a short text.
fn text_server() -> std::net::SocketAddr {
    crate::loopback::serve(|_| crate::loopback::Reply::ok("text/plain", "hello from loopback"))
}

#[test]
fn fetch_reaches_a_granted_server_through_corral_serve() {
    let granted = text_server();
    let other = text_server();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[[component]]\nname = \"fetch\"\npath = \"builtin:fetch\"\nnetwork = [\"{granted}\"]\n"
    );
    let config = Config::from_toml(&text, Path::new("<test>"), dir.path()).unwrap();
    let server = start(config);
    let session = server.session();

    let reply = server.request(
        &session,
        1,
        "tools/call",
        json!({ "name": "fetch_fetch", "arguments": { "url": format!("http://{granted}/") } }),
    );
    let result = &reply.json()["result"];
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["status"], 200);
    assert_eq!(result["structuredContent"]["body"], "hello from loopback");

    let reply = server.request(
        &session,
        2,
        "tools/call",
        json!({ "name": "fetch_fetch", "arguments": { "url": format!("http://{other}/") } }),
    );
    let result = &reply.json()["result"];
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(
        result["content"][0]["text"],
        format!(
            "request to http://{other}/ was denied by the host: no network rule of this tool grants that host and port"
        )
    );

    let m = server.metrics();
    let series = |decision: &str| {
        metric_value(
            &m,
            &format!(
                r#"corral_network_connections_total{{component="fetch",decision="{decision}"}}"#
            ),
        )
    };
    assert_eq!(series("allowed"), Some(1.0));
    assert_eq!(series("denied_rule"), Some(1.0));
    assert_eq!(series("denied_address"), Some(0.0));
}
