//! A call's way out to the network: the `wasi:http` send hook and the
//! `wasi:sockets` address check, both decided by the component's
//! [`NetRules`](crate::network::NetRules).
//!
//! For `wasi:http` the host, not the guest, turns a name into an address:
//! the name is checked against the rules, resolved here, and every resolved
//! address checked again ([`NetRules::allows_resolved`]) before the host
//! connects to the one it checked. A redirect the guest follows is a new
//! request and goes through all of this again. Connect, first-byte and
//! between-bytes timeouts and a response size cap apply to every request;
//! a guest may ask for shorter timeouts, never longer ones.
//!
//! Every attempt is reported to the [`NetworkObserver`] (the metrics) and a
//! denied one is logged with the component, the target and the reason.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::network::{Decision, NetRules};
use crate::policy::Limits;

/// Told of every outgoing connection attempt: the component's name and how
/// the attempt was decided. The server counts them in
/// `corral_network_connections_total`.
pub type NetworkObserver = Arc<dyn Fn(&str, Decision) + Send + Sync>;

/// What one call may reach and how long it may wait, cloned into every
/// request the guest sends.
#[derive(Clone)]
pub(super) struct NetGuard {
    component: Arc<str>,
    rules: Arc<NetRules>,
    timeouts: RequestOptions,
    response_bytes: u64,
    observer: Option<NetworkObserver>,
}

/// The future `send_request` returns, as `WasiHttpHooks` spells it.
type SendFuture = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>),
                Error,
            >,
        > + Send,
>;

impl NetGuard {
    pub(super) fn new(
        component: Arc<str>,
        rules: Arc<NetRules>,
        limits: &Limits,
        observer: Option<NetworkObserver>,
    ) -> NetGuard {
        NetGuard {
            component,
            rules,
            timeouts: RequestOptions {
                connect_timeout: Some(limits.http_connect_timeout),
                first_byte_timeout: Some(limits.http_first_byte_timeout),
                between_bytes_timeout: Some(limits.http_between_bytes_timeout),
            },
            response_bytes: limits.http_response_bytes,
            observer,
        }
    }

    /// Reports an attempt, and logs it when denied.
    fn record(&self, target: &dyn fmt::Display, decision: Decision, reason: &dyn fmt::Display) {
        if let Some(observer) = &self.observer {
            observer(&self.component, decision);
        }
        match decision {
            Decision::Allowed => {
                tracing::debug!(component = %self.component, %target, "network connection allowed")
            }
            _ => tracing::warn!(
                component = %self.component,
                %target,
                decision = decision.as_str(),
                "network connection denied: {reason}"
            ),
        }
    }

    /// The `wasi:sockets` check. Only client sockets exist: a bind is allowed
    /// only to the wildcard address and an ephemeral port (what connect and
    /// send do implicitly), listening and accepting never, a connect or a
    /// datagram sent only to an address an address rule grants, and a
    /// datagram received only from one (others are dropped unseen).
    pub(super) fn check_socket(&self, addr: SocketAddr, use_: SocketAddrUse) -> bool {
        match use_ {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                addr.ip().is_unspecified() && addr.port() == 0
            }
            SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => {
                self.record(&addr, Decision::DeniedRule, &"components may not accept connections");
                false
            }
            SocketAddrUse::UdpReceive => self.rules.allows_addr(addr),
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend => {
                if self.rules.allows_addr(addr) {
                    self.record(&addr, Decision::Allowed, &"");
                    true
                } else {
                    self.record(
                        &addr,
                        Decision::DeniedRule,
                        &"no address rule grants it (sockets are checked by address only)",
                    );
                    false
                }
            }
        }
    }

    /// Checks the request's destination and picks the address to connect to.
    async fn destination(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<SocketAddr, Error> {
        let target = Target { host, port };
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            if self.rules.allows_addr(addr) {
                self.record(&target, Decision::Allowed, &"");
                return Ok(addr);
            }
            self.record(&target, Decision::DeniedRule, &"no address rule grants it");
            return Err(Error::HttpRequestDenied);
        }
        if !self.rules.allows_name(host, port) {
            self.record(&target, Decision::DeniedRule, &"no network rule grants it");
            return Err(Error::HttpRequestDenied);
        }
        let resolved: Vec<SocketAddr> =
            match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
                Err(_) => return Err(Error::DnsTimeout),
                Ok(Err(_)) => return Err(Error::DnsError { rcode: None, info_code: None }),
                Ok(Ok(addrs)) => addrs.collect(),
            };
        match resolved.iter().find(|addr| self.rules.allows_resolved(**addr)) {
            Some(addr) => {
                self.record(&target, Decision::Allowed, &"");
                Ok(*addr)
            }
            None => {
                let reason = format!(
                    "it resolves to {}, which is not public and not granted by an address rule",
                    AddrList(&resolved)
                );
                self.record(&target, Decision::DeniedAddress, &reason);
                Err(Error::DestinationIpProhibited)
            }
        }
    }

    async fn send(
        self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error>
    {
        let shorter = |ours: Option<Duration>, theirs: Option<Duration>| match (ours, theirs) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(Duration::MAX),
        };
        let theirs = options.unwrap_or_default();
        let connect_timeout = shorter(self.timeouts.connect_timeout, theirs.connect_timeout);
        let first_byte_timeout =
            shorter(self.timeouts.first_byte_timeout, theirs.first_byte_timeout);
        let between_bytes_timeout =
            shorter(self.timeouts.between_bytes_timeout, theirs.between_bytes_timeout);

        let uri = request.uri();
        let use_tls = uri.scheme() == Some(&Scheme::HTTPS);
        let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.to_owned();
        let port = uri.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
        let addr = self.destination(&host, port, connect_timeout).await?;

        let connect = async {
            let tcp = TcpStream::connect(addr).await.map_err(Error::Connect)?;
            let stream: Box<dyn Stream> = if use_tls {
                let bare =
                    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&host);
                let name = rustls::pki_types::ServerName::try_from(bare.to_owned())
                    .map_err(|_| Error::HttpRequestUriInvalid)?;
                let tls = tokio_rustls::TlsConnector::from(tls_config())
                    .connect(name, tcp)
                    .await
                    .map_err(Error::Tls)?;
                Box::new(tls)
            } else {
                Box::new(tcp)
            };
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(Error::from)
        };
        let (mut sender, conn) = tokio::time::timeout(connect_timeout, connect)
            .await
            .map_err(|_| Error::ConnectionTimeout)??;

        // The request carries scheme and authority; on the wire, to a server
        // that is not a proxy, only the path goes in the request line.
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;

        let mut conn = Box::pin(conn);
        let send = tokio::time::timeout(first_byte_timeout, sender.send_request(request));
        tokio::pin!(send);
        // Drive the connection while waiting for the response head.
        let response = tokio::select! {
            biased;
            response = &mut send => response,
            ended = &mut conn => match ended {
                Ok(()) => send.await,
                Err(err) => return Err(err.into()),
            },
        };
        let response = response.map_err(|_| Error::ConnectionReadTimeout)?.map_err(Error::from)?;
        let limit = self.response_bytes;
        let response = response.map(|incoming| {
            GuardedBody::new(incoming, between_bytes_timeout, limit).boxed_unsync()
        });
        let io = async move { conn.await.map_err(Error::from) };
        Ok((response, Box::new(io)))
    }
}

impl WasiHttpHooks for NetGuard {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_error: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        Box::new(self.clone().send(request, options))
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T> Stream for T where T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}

/// TLS with the Mozilla root set (webpki-roots) and the `ring` provider,
/// built once.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

/// A response body under the between-bytes timeout and the size cap.
struct GuardedBody {
    incoming: Incoming,
    pause: Pin<Box<tokio::time::Sleep>>,
    between_bytes: Duration,
    left: u64,
    limit: u64,
}

impl GuardedBody {
    fn new(incoming: Incoming, between_bytes: Duration, limit: u64) -> GuardedBody {
        GuardedBody {
            incoming,
            pause: Box::pin(tokio::time::sleep(between_bytes)),
            between_bytes,
            left: limit,
            limit,
        }
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > this.left {
                    return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(this.limit)))));
                }
                this.left -= len;
                let next = tokio::time::Instant::now() + this.between_bytes;
                this.pause.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(this.pause.as_mut().poll(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

/// `host:port` as a log field.
struct Target<'a> {
    host: &'a str,
    port: u16,
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

struct AddrList<'a>(&'a [SocketAddr]);

impl fmt::Display for AddrList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, addr) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            addr.ip().fmt(f)?;
        }
        if self.0.is_empty() {
            f.write_str("no address")?;
        }
        Ok(())
    }
}
