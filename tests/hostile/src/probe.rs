//! Tools that reach for capabilities: files, environment, argv, network,
//! stdin. Each failure names the `io::ErrorKind` (and the raw OS error when
//! there is one), so a test can assert how WASI refused.

use corral_sdk::ToolError;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::path::Path;

/// Arguments naming one path.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PathArgs {
    /// The guest path.
    pub path: String,
}

/// Arguments of `write`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WriteArgs {
    /// The guest path.
    pub path: String,
    /// The text to write.
    pub content: String,
}

/// Arguments of `connect`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectArgs {
    /// `host:port`, e.g. `127.0.0.1:22` or `example.com:443`.
    pub address: String,
}

/// Arguments of `resolve`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ResolveArgs {
    /// A host name.
    pub host: String,
}

/// Arguments of `echo`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// Returned as is.
    pub text: String,
}

/// `"{what}: {error} (kind {kind:?}, os error {n})"`: everything a test may assert on.
fn refused(what: &str, error: &io::Error) -> ToolError {
    let os = error.raw_os_error().map(|code| format!(", os error {code}")).unwrap_or_default();
    ToolError::new(format!("{what}: {error} (kind {:?}{os})", error.kind()))
}

/// The file's text.
pub fn read(path: &str) -> Result<String, ToolError> {
    fs::read_to_string(path).map_err(|error| refused(&format!("read {path}"), &error))
}

/// Writes the text; says how much.
pub fn write(path: &str, content: &str) -> Result<String, ToolError> {
    fs::write(path, content).map_err(|error| refused(&format!("write {path}"), &error))?;
    Ok(format!("wrote {} bytes to {path}", content.len()))
}

/// The directory's entry names, sorted, one per line.
pub fn list(path: &str) -> Result<String, ToolError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(path).map_err(|error| refused(&format!("list {path}"), &error))? {
        let entry = entry.map_err(|error| refused(&format!("list {path}"), &error))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names.join("\n"))
}

/// Creates one directory.
pub fn mkdir(path: &str) -> Result<String, ToolError> {
    fs::create_dir(path).map_err(|error| refused(&format!("mkdir {path}"), &error))?;
    Ok(format!("created {path}"))
}

/// Reads the link's target, then the file it points to (relative targets
/// are taken from the link's directory): `"{target}\n{contents}"`.
pub fn symlink_read(path: &str) -> Result<String, ToolError> {
    let target =
        fs::read_link(path).map_err(|error| refused(&format!("read_link {path}"), &error))?;
    let resolved = match Path::new(path).parent() {
        Some(parent) if target.is_relative() => parent.join(&target),
        _ => target.clone(),
    };
    let contents = fs::read_to_string(&resolved)
        .map_err(|error| refused(&format!("read {}", resolved.display()), &error))?;
    Ok(format!("{}\n{contents}", target.display()))
}

/// Every environment variable the guest can see.
pub fn env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// The command-line arguments, as a JSON array (not structured output:
/// MCP's `structuredContent` must be an object).
pub fn args() -> Result<String, ToolError> {
    let args: Vec<String> = std::env::args().collect();
    Ok(serde_json::to_string(&args)?)
}

/// Connects over TCP and closes the connection at once.
pub fn connect(address: &str) -> Result<String, ToolError> {
    let stream = TcpStream::connect(address)
        .map_err(|error| refused(&format!("connect {address}"), &error))?;
    let peer = stream.peer_addr().map_or_else(|_| address.to_owned(), |peer| peer.to_string());
    Ok(format!("connected to {peer}"))
}

/// Sends the datagram `corral` to `address` from `0.0.0.0:0`.
pub fn udp_send(address: &str) -> Result<String, ToolError> {
    let socket = UdpSocket::bind("0.0.0.0:0").map_err(|error| refused("bind 0.0.0.0:0", &error))?;
    let sent = socket
        .send_to(b"corral", address)
        .map_err(|error| refused(&format!("send to {address}"), &error))?;
    Ok(format!("sent {sent} bytes to {address}"))
}

/// Binds a TCP listener, which a tool should never be allowed to do.
pub fn listen(address: &str) -> Result<String, ToolError> {
    let listener = TcpListener::bind(address)
        .map_err(|error| refused(&format!("listen {address}"), &error))?;
    let local = listener.local_addr().map_or_else(|_| address.to_owned(), |a| a.to_string());
    Ok(format!("listening on {local}"))
}

/// The host's addresses, one per line.
pub fn resolve(host: &str) -> Result<String, ToolError> {
    let addresses =
        (host, 0).to_socket_addrs().map_err(|error| refused(&format!("resolve {host}"), &error))?;
    Ok(addresses.map(|address| address.ip().to_string()).collect::<Vec<_>>().join("\n"))
}

/// Reads stdin to its end; the host should have closed it, so this is 0.
pub fn stdin() -> Result<String, ToolError> {
    let mut bytes = Vec::new();
    io::stdin().read_to_end(&mut bytes).map_err(|error| refused("stdin", &error))?;
    Ok(format!("read {} bytes from stdin", bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_names_the_kind() {
        let error = read("/definitely/not/here").unwrap_err();
        assert!(error.message().starts_with("read /definitely/not/here: "), "{error}");
        assert!(error.message().contains("kind NotFound, os error 2)"), "{error}");
    }

    #[test]
    fn args_are_a_json_array() {
        let args: Vec<String> = serde_json::from_str(&args().unwrap()).unwrap();
        assert!(!args.is_empty());
    }
}
