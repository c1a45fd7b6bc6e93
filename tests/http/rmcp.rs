//! rmcp, the official Rust MCP SDK, as a client over Streamable HTTP: its
//! Discover lifecycle (2026-07-28, no fallback) and its initialize
//! lifecycle (2025-11-25).

use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _};
use rmcp::transport::StreamableHttpClientTransport;

use crate::support::*;

async fn call_simple_text(
    url: String,
    lifecycle: ClientLifecycleMode,
) -> (ProtocolVersion, String, usize) {
    // rmcp's reqwest shares its features with the host's OCI client, which
    // leaves the TLS provider to the process (ring, as the host installs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let transport = StreamableHttpClientTransport::from_uri(url);
    let client = ().serve_with_lifecycle(transport, lifecycle).await.expect("connects");
    let version = client.peer_info().expect("server info").protocol_version.clone();
    let tools = client.list_all_tools().await.expect("tools/list");
    let result =
        client.call_tool(CallToolRequestParams::new("test_simple_text")).await.expect("tools/call");
    let text = result.content[0].as_text().expect("text content").text.clone();
    client.cancel().await.expect("closes");
    (version, text, tools.len())
}

#[tokio::test]
async fn rmcp_discover_lifecycle_speaks_2026_07_28() {
    let lifecycle =
        ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let (version, text, tools) = call_simple_text(shared().url(), lifecycle).await;
    assert_eq!(version, ProtocolVersion::V_2026_07_28);
    assert_eq!(text, "This is a simple text response for testing.");
    assert_eq!(tools, 47);
}

#[tokio::test]
async fn rmcp_initialize_lifecycle_speaks_2025_11_25() {
    let (version, text, tools) =
        call_simple_text(shared().url(), ClientLifecycleMode::Initialize).await;
    assert_eq!(version.as_str(), "2025-11-25");
    assert_eq!(text, "This is a simple text response for testing.");
    assert_eq!(tools, 47);
}
