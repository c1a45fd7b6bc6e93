//! The stdio door: MCP over the process's stdin and stdout, one JSON-RPC
//! message per line ([`crate::framing`]), as desktop clients start a server
//! (`corral serve --stdio`).
//!
//! - Both generations of the protocol, decided by the MCP core: a message
//!   with `_meta` `io.modelcontextprotocol/protocolVersion` is 2026-07-28;
//!   otherwise the connection is a 2025-11-25 session after `initialize`.
//! - stdout carries nothing but JSON-RPC messages, each written whole; every
//!   log line goes to stderr.
//! - Requests run concurrently and their answers come as they finish; a
//!   call's progress and log notifications come before its response.
//!   `notifications/cancelled` stops the named request (and its wasm).
//! - A line that is not one JSON-RPC message is answered with `-32700` or
//!   `-32600` (id `null` when it cannot be read) and the stream goes on; a
//!   line longer than `server.max_body_kib` is skipped unread and answered
//!   with `-32600`; a request id already in flight is `-32600`.
//! - End of input (or SIGTERM/SIGINT) stops reading; requests in flight get
//!   `server.shutdown_grace_ms` to finish, the rest are cancelled, open
//!   `subscriptions/listen` streams get their final result, and the door
//!   returns once stdout has everything.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::app::App;
use crate::config::ServerConfig;
use crate::framing::{LineError, LineReader, write_line};
use crate::mcp::{Answer, Connection, Door, Exchange, McpError, Outgoing, Reply, Revision, Stream};

/// Serves MCP on `input` and `output` until `input` ends or `stop`
/// resolves. Errors are those of writing `output` (the client is gone).
pub async fn serve<R, W>(
    app: &App,
    config: &ServerConfig,
    input: R,
    output: W,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let limit = (config.max_body_kib as usize).saturating_mul(1024);
    let mut reader = LineReader::new(input, limit);
    let (lines, writes) = mpsc::unbounded_channel::<Bytes>();
    let writer = tokio::spawn(write_all(output, writes));
    let connection = Arc::new(Connection::new());
    let client: Arc<str> = Arc::from("stdio");
    let mut streams = JoinSet::new();
    streams.spawn(forward(app.mcp.connection_stream(connection.clone()), lines.clone()));
    tokio::pin!(stop);
    loop {
        while streams.try_join_next().is_some() {}
        // Reading a line is not cancel safe: only stopping may interrupt it.
        let line = tokio::select! {
            line = reader.next_line() => line,
            () = &mut stop => break,
        };
        let line = match line {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(LineError::TooLong { limit }) => {
                let error = McpError::InvalidRequest(format!(
                    "the message is longer than {limit} bytes (server.max_body_kib) and was skipped"
                ));
                let _ = lines.send(error.to_response(None));
                match reader.skip_rest().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "reading stdin failed");
                        break;
                    }
                }
            }
            Err(LineError::Io(err)) => {
                tracing::warn!(error = %err, "reading stdin failed");
                break;
            }
        };
        let message = match crate::mcp::jsonrpc::parse(line) {
            Ok(message) => message,
            Err((error, id)) => {
                let _ = lines.send(Answer::error(id.as_ref(), error, Revision::Stateless).body);
                continue;
            }
        };
        let exchange = Exchange { client: client.clone(), door: Door::Stdio(&connection) };
        match app.mcp.handle(message, exchange) {
            Reply::Accepted => {}
            Reply::Answer(answer) => {
                let _ = lines.send(answer.body);
            }
            Reply::Stream(stream) => {
                streams.spawn(forward(stream, lines.clone()));
            }
        }
    }
    tracing::info!(
        in_flight = connection.in_flight().len(),
        "stdin closed: finishing requests in flight"
    );
    // Listen streams end with their result; sessions close.
    app.mcp.shutdown();
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    // Tasks run on without a request: they get the same grace, then end
    // cancelled, saying why.
    let (drained, ()) = tokio::join!(
        tokio::time::timeout(grace, async { while streams.join_next().await.is_some() {} }),
        app.mcp.drain_tasks(grace)
    );
    if drained.is_err() {
        tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            cancelled = streams.len(),
            "requests still in flight at the end of the grace period were cancelled"
        );
        connection.in_flight().cancel_all();
        // A cancelled request stops at its next poll; give it a moment to
        // account for itself, then drop what is left.
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while streams.join_next().await.is_some() {}
        })
        .await;
        streams.shutdown().await;
    }
    drop(lines);
    writer.await.unwrap_or_else(|err| Err(std::io::Error::other(err)))
}

/// Runs a stream and writes its messages as they come.
async fn forward(stream: Stream, lines: mpsc::UnboundedSender<Bytes>) {
    let Stream { mut messages, task, .. } = stream;
    let relay = async {
        while let Some(message) = messages.recv().await {
            let bytes = match message {
                Outgoing::Notification(bytes) | Outgoing::Request(bytes) => bytes,
                Outgoing::Response(answer) => answer.body,
            };
            if lines.send(bytes).is_err() {
                return;
            }
        }
    };
    tokio::join!(task, relay);
}

/// Writes every line to `output`, in order, until the senders are gone.
/// Lines that are already waiting go out in one write; the output is
/// flushed whenever nothing more is waiting, so no message is held back.
async fn write_all<W: AsyncWrite + Unpin>(
    output: W,
    mut lines: mpsc::UnboundedReceiver<Bytes>,
) -> std::io::Result<()> {
    let mut output = tokio::io::BufWriter::new(output);
    while let Some(line) = lines.recv().await {
        write_line(&mut output, &line).await?;
        if lines.is_empty() {
            output.flush().await?;
        }
    }
    output.flush().await
}

/// The process's stdin and stdout. Where they are pipes (as MCP clients
/// start a server) they are read and written without blocking a thread;
/// otherwise (a terminal, a file) through tokio's blocking adapters.
pub fn process_stdio() -> (Box<dyn AsyncRead + Unpin + Send>, Box<dyn AsyncWrite + Unpin + Send>) {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        use tokio::net::unix::pipe;
        let input =
            std::io::stdin().as_fd().try_clone_to_owned().and_then(pipe::Receiver::from_owned_fd);
        let output =
            std::io::stdout().as_fd().try_clone_to_owned().and_then(pipe::Sender::from_owned_fd);
        let input: Box<dyn AsyncRead + Unpin + Send> = match input {
            Ok(pipe) => Box::new(pipe),
            Err(_) => Box::new(tokio::io::stdin()),
        };
        let output: Box<dyn AsyncWrite + Unpin + Send> = match output {
            Ok(pipe) => Box::new(pipe),
            Err(_) => Box::new(tokio::io::stdout()),
        };
        (input, output)
    }
    #[cfg(not(unix))]
    {
        (Box::new(tokio::io::stdin()), Box::new(tokio::io::stdout()))
    }
}
