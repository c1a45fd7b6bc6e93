//! How the MCP core answers: at once ([`Answer`]), not at all (a
//! notification), or over time ([`Stream`]); the doors turn these into HTTP
//! responses, SSE streams or stdout lines.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

use super::jsonrpc::{self, McpError, RequestId};
use super::protocol::Revision;
use super::session::Session;

/// A message for the client while a request is answered.
#[derive(Debug)]
pub enum Outgoing {
    /// A notification about the request (progress, log message, list change).
    Notification(Bytes),
    /// A request for the client that the request's work waits on
    /// (2025-11-25: elicitation, sampling, roots); the client answers with
    /// a message of its own.
    Request(Bytes),
    /// The response, always last.
    Response(Answer),
}

/// The response to one request, serialized.
pub struct Answer {
    /// The JSON-RPC response.
    pub body: Bytes,
    /// The error it carries, for the transport's status code.
    pub error: Option<McpError>,
    /// The revision of the request it answers (a 2026-07-28 error has an
    /// HTTP status of its own).
    pub revision: Revision,
    /// The session `initialize` started over HTTP, to name in `Mcp-Session-Id`.
    pub session: Option<Arc<Session>>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("body", &String::from_utf8_lossy(&self.body))
            .field("error", &self.error)
            .field("session", &self.session.as_ref().map(|s| s.id()))
            .finish()
    }
}

impl Answer {
    /// The response carrying `result`.
    pub(super) fn result<R: Serialize + ?Sized>(
        id: &RequestId,
        result: &R,
        revision: Revision,
    ) -> Answer {
        Answer { body: jsonrpc::result_response(id, result), error: None, revision, session: None }
    }

    /// The error response to a request (`id` when it could be read).
    pub fn error(id: Option<&RequestId>, error: McpError, revision: Revision) -> Answer {
        Answer { body: error.to_response(id), error: Some(error), revision, session: None }
    }
}

/// The future that drives a stream's messages.
pub type StreamTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;

/// A request answered over time: notifications, then (unless cancelled)
/// the response.
pub struct Stream {
    /// The messages, in order. The channel closes without a response when
    /// the request is cancelled.
    pub messages: mpsc::UnboundedReceiver<Outgoing>,
    /// Drives the stream and must be polled to completion: a transport may
    /// poll it inline while it waits for the first message, and spawn it
    /// once it starts streaming.
    pub task: StreamTask,
    /// What the transport does when its client goes away before the end:
    /// `true` drops the task, which stops the work (2026-07-28: closing the
    /// response stream is how a request is cancelled); `false` spawns it to
    /// finish anyway (2025-11-25: a disconnect is not a cancellation).
    pub cancel_on_drop: bool,
}

impl Reply {
    /// A stream answering one request: `work` runs with the stream's
    /// sender and ends by sending the response (or, cancelled, sends
    /// nothing). `cancel_on_drop`: see [`Stream::cancel_on_drop`].
    pub fn stream<F>(
        cancel_on_drop: bool,
        work: impl FnOnce(mpsc::UnboundedSender<Outgoing>) -> F,
    ) -> Reply
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = work(tx);
        Reply::Stream(Stream { messages: rx, task: Box::pin(task), cancel_on_drop })
    }
}

/// How a message is answered.
pub enum Reply {
    /// Nothing to send: a notification or a client's response (HTTP 202).
    Accepted,
    /// One response, at once.
    Answer(Answer),
    /// A stream of messages ending with the response.
    Stream(Stream),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Accepted => f.write_str("Accepted"),
            Reply::Answer(answer) => f.debug_tuple("Answer").field(answer).finish(),
            Reply::Stream(_) => f.write_str("Stream"),
        }
    }
}
