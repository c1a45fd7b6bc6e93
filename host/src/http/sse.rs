//! Server-Sent Events: the streams of Streamable HTTP.
//!
//! - A POST answered over time (a call that sends notifications, a
//!   `subscriptions/listen`) gets a stream that carries the notifications,
//!   then the response, then ends. A call that never sends a notification
//!   is answered with plain JSON instead: the door waits for its first
//!   message and picks the form from it.
//! - `GET /mcp` opens a 2025-11-25 session's standalone stream of server
//!   notifications (`notifications/tools/list_changed`).
//! - An idle stream gets a keep-alive comment every
//!   `server.sse_keepalive_secs`, so that proxies do not close it.
//! - Each event is `event: message` with one JSON-RPC message as `data`.
//!   Events carry no `id`: streams are not resumable, so a client that loses
//!   one re-sends or re-opens rather than waiting to resume.
//! - A stream whose client went away stops: its producer sees the channel
//!   closed. Whether the work behind it stops too is the MCP core's
//!   decision ([`crate::mcp::Stream::cancel_on_drop`]).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut as _, Bytes, BytesMut};
use hyper::body::{Body as HttpBody, Frame};
use tokio::sync::mpsc;

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

/// One SSE event carrying a serialized JSON-RPC message.
pub fn event(message: &[u8]) -> Bytes {
    let mut event = BytesMut::with_capacity(message.len() + 24);
    event.put_slice(b"event: message\ndata: ");
    event.put_slice(message);
    event.put_slice(b"\n\n");
    event.freeze()
}

/// A stream that sends `first`, then the rest of the messages, with
/// keep-alives while idle, and ends after the response (or when the
/// producer stops without one). A standalone stream opens with a comment,
/// so the client sees it is live before any notification.
pub fn stream(
    first: Option<Outgoing>,
    mut rest: mpsc::UnboundedReceiver<Outgoing>,
    keepalive: Duration,
    standalone: bool,
) -> SseBody {
    let (tx, rx) = mpsc::channel(BUFFERED_EVENTS);
    tokio::spawn(async move {
        if standalone && tx.send(Bytes::from_static(b": stream open\n\n")).await.is_err() {
            return;
        }
        let mut next = first;
        let mut ticker = tokio::time::interval(keepalive);
        ticker.tick().await;
        loop {
            let Some(message) = next.take() else {
                tokio::select! {
                    message = rest.recv() => match message {
                        Some(message) => next = Some(message),
                        None => return,
                    },
                    _ = ticker.tick() => {
                        if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                            return;
                        }
                    }
                }
                continue;
            };
            let (bytes, last) = match message {
                Outgoing::Notification(bytes) | Outgoing::Request(bytes) => (bytes, false),
                Outgoing::Response(answer) => (answer.body, true),
            };
            // A closed body means the client went away; dropping `rest`
            // tells the producer.
            if tx.send(event(&bytes)).await.is_err() || last {
                return;
            }
            ticker.reset();
        }
    });
    SseBody { rx }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_data_line_and_a_blank_line() {
        let bytes = event(br#"{"jsonrpc":"2.0","method":"x"}"#);
        assert_eq!(&bytes[..], b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n");
    }
}
