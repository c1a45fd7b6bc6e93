//! The native-server client: arbitrary bytes as a native MCP server's
//! stdout, line by line, while the host has an `initialize`, a
//! `tools/list`, a `tools/call` and a `resources/read` waiting for answers
//! (ids 1 to 4; a list's further pages take the next ids). The server's own
//! requests (sampling, elicitation, roots) reach the call's event sink and
//! are answered with an error, as a client without the capability would.
//!
//! Checked: no panic; every request ends (answered, refused or closed) once
//! the server's output ends; what the host writes to the server is JSON-RPC.

use std::time::Duration;

use corral::native::client::Client;
use corral::sandbox::{AskError, Capability, GuestEvent};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

const LONG: Duration = Duration::from_secs(3600);

/// One input, as libFuzzer hands it to the target.
pub fn run(output: &[u8]) {
    super::runtime().block_on(async {
        let (server_out, client_in) = tokio::io::duplex(1 << 16);
        let (client_out, mut server_in) = tokio::io::duplex(1 << 16);
        let client = std::sync::Arc::new(Client::start("fuzz", client_in, client_out, 16 * 1024));
        let (events, mut asked) = mpsc::unbounded_channel();
        let answering = tokio::spawn(async move {
            while let Some(event) = asked.recv().await {
                if let GuestEvent::Ask { reply, .. } = event {
                    let _ = reply.send(Err(AskError::Unsupported(Capability::Sampling)));
                }
            }
        });
        let requests = {
            let client = client.clone();
            tokio::spawn(async move {
                let events = Some(events);
                tokio::join!(
                    client.initialize(LONG),
                    client.list_tools(LONG),
                    client.call_tool("echo", json!({ "text": "hi" }), events.clone(), true, LONG),
                    client.operation("resources/read", json!({ "uri": "file:///a" }), events, LONG),
                )
            })
        };
        let sent = tokio::spawn(async move {
            let mut sent = Vec::new();
            server_in.read_to_end(&mut sent).await.map(|_| sent)
        });
        tokio::task::yield_now().await;
        let mut server_out = server_out;
        for line in output.split_inclusive(|b| *b == b'\n') {
            if server_out.write_all(line).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(server_out);
        // Every request ends (an answer, an error, or the closed
        // connection) and the client sees the end of the output.
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            let _ = requests.await.expect("the requests ran");
            client.closed().await
        })
        .await;
        assert!(ended.is_ok(), "a request or the connection outlived the server's output");
        drop(client);
        answering.abort();
        let sent = sent.await.expect("the writer ran").expect("the duplex reads");
        for line in sent.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let message: Value = serde_json::from_slice(line).expect("the host writes JSON");
            assert_eq!(message["jsonrpc"], "2.0", "{message}");
        }
    });
}
