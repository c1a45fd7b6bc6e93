//! HTTPS (`[server] tls_cert` and `tls_key`): requests over TLS are served
//! as over plain HTTP; a client that speaks plain HTTP to it, or stalls its
//! handshake, gets nothing and costs the server nothing lasting; a missing,
//! malformed or mismatched certificate or key stops the start with an error
//! naming the setting.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use corral::config::Config;
use corral::http::Server;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

use crate::support::*;

/// A self-signed certificate for `localhost` and 127.0.0.1, written as
/// `cert.pem` and `key.pem` in `dir`.
fn write_certificate(dir: &Path) -> String {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(names).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), signing_key.serialize_pem()).unwrap();
    cert.pem()
}

fn tls_config(dir: &Path, extra: &str) -> Config {
    conformance_config(
        &format!(
            "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\nheader_timeout_ms = 1000\n{extra}"
        ),
        dir,
    )
}

/// One request over TLS, trusting only `cert_pem`; the whole response.
fn https_post(addr: Addr, cert_pem: &str, message: &Value) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr.0).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let body = message.to_string();
    write!(
        tls,
        "POST /mcp HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\n\
         mcp-method: {}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        message["method"].as_str().unwrap(),
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    // The server closes without close_notify after `connection: close`;
    // what was read up to then is the whole response.
    let _ = tls.read_to_string(&mut response);
    response
}

fn discover() -> Value {
    stateless_request(1, "server/discover", json!({}))
}

#[test]
fn https_serves_mcp_and_plain_http_or_a_stalled_handshake_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cert = write_certificate(dir.path());
    let server = start_serving(tls_config(dir.path(), ""));

    let response = https_post(server, &cert, &discover());
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""result":{"#), "{response}");

    // Plain HTTP to an HTTPS port: the handshake fails, no HTTP answer.
    let mut plain = TcpStream::connect(server.0).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    plain.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let _ = plain.read_to_end(&mut seen);
    assert!(!seen.starts_with(b"HTTP/1.1"), "{:?}", String::from_utf8_lossy(&seen));

    // A client that opens a connection and never says hello is cut off
    // after header_timeout_ms.
    let mut stalled = TcpStream::connect(server.0).unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = stalled.read(&mut buf);
    assert!(matches!(read, Ok(0)) || read.is_err(), "{read:?}");
    assert!(started.elapsed() < Duration::from_secs(9), "not cut off: {:?}", started.elapsed());

    // And the server still serves.
    let response = https_post(server, &cert, &discover());
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn a_missing_malformed_or_mismatched_certificate_or_key_names_the_setting() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_certificate(dir.path());
    let other = rcgen::KeyPair::generate().unwrap();
    std::fs::write(dir.path().join("other-key.pem"), other.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("garbage.pem"), "not a certificate\n").unwrap();
    let start = |server_toml: &str| -> String {
        let config = conformance_config(server_toml, dir.path());
        runtime.block_on(async {
            match Server::bind(config, Some("127.0.0.1:0".parse().unwrap())).await {
                Ok(_) => panic!("{server_toml} started"),
                Err(err) => format!("{err}"),
            }
        })
    };
    let shown = dir.path().display().to_string();
    let err = start("tls_cert = \"cert.pem\"\ntls_key = \"absent.pem\"");
    assert!(err.starts_with("server.tls_key: cannot use "), "{err}");
    assert!(err.contains(&format!("{shown}/absent.pem")), "{err}");
    let err = start("tls_cert = \"garbage.pem\"\ntls_key = \"key.pem\"");
    assert!(err.starts_with("server.tls_cert: cannot use "), "{err}");
    assert!(err.contains("no CERTIFICATE block"), "{err}");
    let err = start("tls_cert = \"cert.pem\"\ntls_key = \"other-key.pem\"");
    assert!(
        err.starts_with("server.tls_cert and server.tls_key do not make a usable pair"),
        "{err}"
    );

    // Half a pair is a config error.
    let text = "[server]\ntls_cert = \"cert.pem\"\n";
    let err = Config::from_toml(text, Path::new("<test>"), dir.path()).unwrap_err().to_string();
    assert!(err.contains("server.tls_key") && err.contains("is missing"), "{err}");
}
