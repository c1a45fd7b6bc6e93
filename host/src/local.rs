//! A client of the MCP core inside the process, over the stdio door: the
//! command line's calls (`corral call`) take exactly the path a desktop
//! client's do (the door, the router, the invocation pipeline, the
//! accounting), with no second copy of it.
//!
//! One session (MCP 2025-11-25) per [`session`]: `initialize`, then the
//! requests the caller makes, then end of input, which ends the door.
//! Notifications and the server's own requests (elicitation, sampling,
//! roots) go to the caller's [`Listener`] while a request runs.

use std::future::Future;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, DuplexStream};

use crate::app::App;
use crate::config::ServerConfig;

/// Bytes buffered between the client and the door each way.
const PIPE_BYTES: usize = 1 << 16;

/// What the caller hears while a request runs.
pub trait Listener {
    /// A notification (progress, a log message).
    fn notification(&mut self, method: &str, params: &Value);
    /// A request of the server's for the client (`elicitation/create`,
    /// `sampling/createMessage`, `roots/list`): its result, or a JSON-RPC
    /// error object.
    fn request(&mut self, method: &str, params: &Value) -> Result<Value, Value>;
}

/// Why a local request failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The door stopped answering (its stream ended, or a line was not JSON).
    #[error("the MCP core stopped answering: {0}")]
    Broken(String),
    /// The server answered with a JSON-RPC error.
    #[error("{message} (JSON-RPC error {code})")]
    Rpc {
        /// The error's code.
        code: i64,
        /// The error's message.
        message: String,
    },
}

/// One session's connection to the door.
pub struct Session {
    lines: tokio::io::Lines<BufReader<tokio::io::ReadHalf<DuplexStream>>>,
    writer: tokio::io::WriteHalf<DuplexStream>,
    next_id: u64,
}

/// Runs `work` with a session of `app`'s MCP core (the stdio door, as
/// `corral serve --stdio` serves it, with `server`'s settings), declaring
/// `capabilities`; returns what `work` returns once the door has ended.
pub async fn session<T, F>(
    app: &App,
    server: &ServerConfig,
    capabilities: Value,
    work: impl FnOnce(Session) -> F,
) -> Result<T, LocalError>
where
    F: Future<Output = Result<T, LocalError>>,
{
    let (client, door) = tokio::io::duplex(PIPE_BYTES);
    let (door_read, door_write) = tokio::io::split(door);
    let (client_read, client_write) = tokio::io::split(client);
    let mut session =
        Session { lines: BufReader::new(client_read).lines(), writer: client_write, next_id: 0 };
    let served = crate::stdio::serve(app, server, door_read, door_write, std::future::pending());
    let client = async move {
        let params = json!({
            "protocolVersion": crate::mcp::protocol::SESSION_LATEST,
            "capabilities": capabilities,
            "clientInfo": { "name": "corral", "version": env!("CARGO_PKG_VERSION") },
        });
        session.request("initialize", params, &mut Ignore).await?;
        session.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await?;
        // The session is dropped when `work` ends: end of input ends the door.
        work(session).await
    };
    // The door's own error is not the client's: once the client has what
    // it asked for, the door may still write (a list change heard late) to
    // a client that is gone; a door that breaks before answering shows as
    // the client's read error.
    let (_, result) = tokio::join!(served, client);
    result
}

impl Session {
    /// Sends `method` with `params` and waits for its result, handing what
    /// comes meanwhile to `listener`.
    pub async fn request(
        &mut self,
        method: &str,
        params: Value,
        listener: &mut impl Listener,
    ) -> Result<Value, LocalError> {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.send(&request).await?;
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .map_err(|err| LocalError::Broken(err.to_string()))?
                .ok_or_else(|| LocalError::Broken("the door closed its output".into()))?;
            let message: Value = serde_json::from_str(&line)
                .map_err(|err| LocalError::Broken(format!("a line that is not JSON: {err}")))?;
            match (message.get("id"), message.get("method").and_then(Value::as_str)) {
                (Some(their_id), Some(method)) => {
                    let params = message.get("params").cloned().unwrap_or(Value::Null);
                    let reply = match listener.request(method, &params) {
                        Ok(result) => json!({ "jsonrpc": "2.0", "id": their_id, "result": result }),
                        Err(error) => json!({ "jsonrpc": "2.0", "id": their_id, "error": error }),
                    };
                    self.send(&reply).await?;
                }
                (None, Some(method)) => {
                    listener.notification(method, message.get("params").unwrap_or(&Value::Null));
                }
                (Some(their_id), None) if their_id == &json!(id) => {
                    if let Some(error) = message.get("error") {
                        return Err(LocalError::Rpc {
                            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                            message: error
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("(no message)")
                                .to_owned(),
                        });
                    }
                    return Ok(message.get("result").cloned().unwrap_or(Value::Null));
                }
                _ => {}
            }
        }
    }

    async fn send(&mut self, message: &Value) -> Result<(), LocalError> {
        let mut line =
            serde_json::to_vec(message).map_err(|e| LocalError::Broken(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line).await.map_err(|err| LocalError::Broken(err.to_string()))?;
        self.writer.flush().await.map_err(|err| LocalError::Broken(err.to_string()))
    }
}

/// A listener that hears nothing and answers no request.
struct Ignore;

impl Listener for Ignore {
    fn notification(&mut self, _method: &str, _params: &Value) {}

    fn request(&mut self, method: &str, _params: &Value) -> Result<Value, Value> {
        Err(json!({ "code": -32601, "message": format!("{method}: not answered here") }))
    }
}
