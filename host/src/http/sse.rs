//! Server-Sent Events: the streams of Streamable HTTP.
//!
//! - A POST whose call sends notifications is answered with a stream that
//!   carries them, then the response, then ends. A call that never sends a
//!   notification is answered with plain JSON instead: the transport waits
//!   for the call's first message and picks the form from it.
//! - GET `/mcp` opens the session's standalone stream, which carries
//!   server-initiated notifications (`notifications/tools/list_changed`)
//!   and a keep-alive comment every `server.sse_keepalive_secs`; it ends
//!   when the session ends or the server shuts down. Events carry no `id`:
//!   streams are not resumable, so a client that loses one re-sends or
//!   re-opens rather than waiting to resume.
//! - Each event is `event: message` with one JSON-RPC message as `data`.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};

use crate::mcp::Outgoing;

/// Events buffered between a producer and a slow client before the
/// producer waits.
const BUFFERED_EVENTS: usize = 64;

/// A response body fed event by event from a channel.
pub struct SseBody {
    rx: mpsc::Receiver<Bytes>,
}

impl HttpBody for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// One SSE event carrying a JSON-RPC message.
pub fn event(message: &Value) -> Bytes {
    Bytes::from(format!("event: message\ndata: {message}\n\n"))
}

/// A stream that sends `first`, then the rest of a call's messages, and ends
/// after the response (or when the call is cancelled).
pub fn call_stream(
    first: Option<Outgoing>,
    mut rest: mpsc::UnboundedReceiver<Outgoing>,
) -> SseBody {
    let (tx, rx) = mpsc::channel(BUFFERED_EVENTS);
    tokio::spawn(async move {
        let mut next = first;
        while let Some(message) = next {
            let (value, last) = match message {
                Outgoing::Notification(value) => (value, false),
                Outgoing::Response(value) => (value, true),
            };
            // A closed body means the client went away; the call goes on.
            if tx.send(event(&value)).await.is_err() || last {
                return;
            }
            next = rest.recv().await;
        }
    });
    SseBody { rx }
}

/// The standalone GET stream: server notifications and keep-alives until the
/// session closes or the server shuts down.
pub fn standalone_stream(
    mut notifications: broadcast::Receiver<Value>,
    mut session_closed: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    keepalive: Duration,
) -> SseBody {
    let (tx, rx) = mpsc::channel(BUFFERED_EVENTS);
    tokio::spawn(async move {
        if tx.send(Bytes::from_static(b": stream open\n\n")).await.is_err() {
            return;
        }
        let mut ticker = tokio::time::interval(keepalive);
        ticker.tick().await;
        loop {
            let chunk = tokio::select! {
                _ = session_closed.wait_for(|closed| *closed) => return,
                _ = shutdown.wait_for(|down| *down) => return,
                _ = ticker.tick() => Bytes::from_static(b": keep-alive\n\n"),
                message = notifications.recv() => match message {
                    Ok(message) => event(&message),
                    // Missed notifications: a list_changed is idempotent,
                    // so sending the next one is enough.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    SseBody { rx }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_is_one_data_line_and_a_blank_line() {
        let bytes = event(&json!({ "jsonrpc": "2.0", "method": "x" }));
        assert_eq!(&bytes[..], b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n");
    }
}
