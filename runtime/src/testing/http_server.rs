//! The fault server over real TCP on 127.0.0.1 (an ephemeral port), for
//! tests of the real transport. It speaks just enough HTTP/1.1 (one request
//! per connection, `connection: close`) to produce faults a full server
//! hides: resets (RST), bodies cut short, bodies that stall, silence.

use super::fault::{Fault, FaultServer};
use super::wire::{read_request, write_response, write_response_declaring, Received};
use crate::time::{Clock, TokioClock};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Connections held silent (black hole, stalled body) are closed after this,
/// so a test never leaves sockets behind for long.
const HOLD_AT_MOST: Duration = Duration::from_secs(30);

/// A running fault server; stops when dropped.
pub struct FaultHttpServer {
    pub addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl FaultHttpServer {
    /// Starts serving `server` on 127.0.0.1 at an ephemeral port.
    pub async fn start(server: Arc<FaultServer>) -> std::io::Result<FaultHttpServer> {
        Self::start_with(server, None).await
    }

    /// Starts serving `server` over TLS with `cert` (TLS 1.2 and 1.3, or
    /// only `versions` when given).
    pub async fn start_tls(
        server: Arc<FaultServer>,
        cert: &super::tls::ServerCert,
        versions: Option<&[&'static rustls::SupportedProtocolVersion]>,
    ) -> std::io::Result<FaultHttpServer> {
        let invalid = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key
        // exchange; aws-lc-rs would add a CMake and C toolchain to every app's
        // build. ring stays until wharf offers the choice as a feature.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        const ALL: &[&rustls::SupportedProtocolVersion] =
            &[&rustls::version::TLS13, &rustls::version::TLS12];
        let versions = versions.unwrap_or(ALL);
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_der.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(invalid)?
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert_der.clone().into()], key)
            .map_err(invalid)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        Self::start_with(server, Some(acceptor)).await
    }

    async fn start_with(
        server: Arc<FaultServer>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<FaultHttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => {
                            let mut stream = stream;
                            if let Ok(Ending::Reset) = serve(&mut stream, server).await {
                                let _ = stream.set_zero_linger();
                            }
                        }
                        Some(acceptor) => {
                            let Ok(mut stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            if let Ok(Ending::Reset) = serve(&mut stream, server).await {
                                let _ = stream.get_ref().0.set_zero_linger();
                            }
                        }
                    }
                });
            }
        });
        Ok(FaultHttpServer { addr, accept })
    }

    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `https://localhost:port` + `path` (for TLS servers).
    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

impl Drop for FaultHttpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// How a connection ended: normally, or by a reset the caller must send
/// (closing with SO_LINGER 0 sends RST instead of FIN).
pub(crate) enum Ending {
    Closed,
    Reset,
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    server: Arc<FaultServer>,
) -> std::io::Result<Ending> {
    let request = match read_request(stream).await? {
        Received::Request(r) => r,
        Received::Closed => return Ok(Ending::Closed),
        Received::Refused(status, why) => {
            write_response(stream, status, &[], why.as_bytes()).await?;
            return Ok(Ending::Closed);
        }
    };
    let clock = TokioClock;
    let (fault, _in_flight) = server.arrive(
        clock.now(),
        &request.method,
        &request.target,
        request.header("idempotency-key"),
        request.header("x-correlation-id"),
    );
    perform(stream, fault).await
}

/// Carries out `fault` on a connection whose request has been read.
pub(crate) async fn perform<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mut fault: Fault,
) -> std::io::Result<Ending> {
    loop {
        match fault {
            Fault::Latency(d, inner) => {
                tokio::time::sleep(d).await;
                fault = *inner;
            }
            Fault::Respond {
                status,
                headers,
                body,
            } => {
                write_response(stream, status, &headers, &body).await?;
                return Ok(Ending::Closed);
            }
            Fault::Reset { .. } => return Ok(Ending::Reset),
            Fault::BlackHole => {
                hold(stream).await;
                return Ok(Ending::Closed);
            }
            Fault::StallBody => {
                // A large declared body, so the client streams it.
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10000000\r\nconnection: close\r\n\r\n{\"partial\":")
                    .await?;
                hold(stream).await;
                return Ok(Ending::Closed);
            }
            Fault::Truncated { status } => {
                write_response_declaring(stream, status, &[], b"{\"partial\":", 1000).await?;
                return Ok(Ending::Closed);
            }
        }
    }
}

/// Keeps the connection open without answering, until the client leaves.
async fn hold<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(HOLD_AT_MOST, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
