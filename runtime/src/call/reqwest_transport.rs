//! The production transport, on `reqwest` with rustls: TLS 1.2 or newer,
//! Web PKI roots (plus any the app adds), optional certificate or public-key
//! pinning,
//! redirects never followed (a credentialed request must not be replayed to
//! another host), plain HTTP only to loopback and only when allowed, and a
//! stall timeout and size cap on response bodies. One instance is one
//! connection pool: an integration owns one.

use super::address_guard::{AddressGuard, GuardedResolver, RefusedAddress};
use super::error::{TransportError, TransportErrorKind};
use super::transport::{SendFuture, StreamingSendFuture, Transport};
use crate::operation::{ByteStream, Opened};
use crate::operation::{HttpRequest, Response, StreamingResponse};
use crate::policy::ConfigError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Bodies up to this size with a declared length are read in one go.
const SMALL_BODY: u64 = 64 * 1024;

/// Builds a [`ReqwestTransport`].
#[derive(Debug, Clone)]
pub struct ReqwestTransportBuilder {
    connect_timeout: Duration,
    stall_timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http_loopback: bool,
    extra_roots: Vec<Vec<u8>>,
    pins: Vec<Pin>,
    guard: Option<AddressGuard>,
}

/// A pinned SHA-256 digest: of the server's whole certificate, or of its
/// public key (the DER SubjectPublicKeyInfo), which survives the
/// certificate's renewal with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pin {
    Certificate([u8; 32]),
    PublicKey([u8; 32]),
}

impl Default for ReqwestTransportBuilder {
    fn default() -> Self {
        ReqwestTransportBuilder {
            connect_timeout: Duration::from_secs(3),
            stall_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024 * 1024,
            allow_plain_http_loopback: false,
            extra_roots: Vec::new(),
            pins: Vec::new(),
            guard: None,
        }
    }
}

impl ReqwestTransportBuilder {
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest wait for the next piece of a response body.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// Largest response body accepted.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Allows `http://` to loopback addresses (tests, local sandboxes).
    pub fn allow_plain_http_loopback(mut self, allow: bool) -> Self {
        self.allow_plain_http_loopback = allow;
        self
    }

    /// Trusts an extra root certificate (DER), e.g. a private CA.
    pub fn add_root_certificate_der(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(der);
        self
    }

    /// Only accepts servers whose certificate (DER) has one of these
    /// SHA-256 digests, on top of normal validation.
    pub fn pin_certificate_sha256(mut self, digest: [u8; 32]) -> Self {
        self.pins.push(Pin::Certificate(digest));
        self
    }

    /// Only accepts servers whose public key has one of these SHA-256
    /// digests (of the DER SubjectPublicKeyInfo, as `openssl x509 -pubkey
    /// | openssl pkey -pubin -outform der | sha256sum` prints), on top of
    /// normal validation. Unlike a certificate pin, it still holds when the
    /// certificate is renewed with the same key. Certificate and key pins
    /// may be mixed: a server matching any one is accepted.
    pub fn pin_public_key_sha256(mut self, digest: [u8; 32]) -> Self {
        self.pins.push(Pin::PublicKey(digest));
        self
    }

    /// Connects only to the addresses `guard` allows, checked for every
    /// address a host resolves to at every connection, and for addresses
    /// written in URLs (for URLs an app's customers supply: outbound
    /// webhook endpoints). A refusal is a permanent `Insecure` error.
    pub fn address_guard(mut self, guard: AddressGuard) -> Self {
        self.guard = Some(guard);
        self
    }

    pub fn build(self) -> Result<ReqwestTransport, ConfigError> {
        // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key
        // exchange; aws-lc-rs would add a CMake and C toolchain to every app's
        // build. ring stays until wharf offers the choice as a feature.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for der in &self.extra_roots {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| ConfigError::caused_by("transport.extra_roots", e))?;
        }
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(|e| ConfigError::caused_by("transport.certificate_verifier", e))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| ConfigError::caused_by("transport.tls_versions", e))?;
        let mut tls = if self.pins.is_empty() {
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned {
                    inner: verifier,
                    pins: self.pins.clone(),
                }))
                .with_no_client_auth()
        };
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut client = reqwest::Client::builder();
        if let Some(guard) = self.guard {
            client = client.dns_resolver(Arc::new(GuardedResolver { guard }));
        }
        let client = client
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            // Retries are the request path's (counted, budgeted, keyed);
            // reqwest's own would be attempts nobody sees. Zero also spares
            // a copy of every request made in case of a retry.
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .connect_timeout(self.connect_timeout)
            .https_only(!self.allow_plain_http_loopback)
            .build()
            .map_err(|e| ConfigError::caused_by("transport.http_client", e.without_url()))?;
        Ok(ReqwestTransport {
            client,
            stall_timeout: self.stall_timeout,
            max_body_bytes: self.max_body_bytes,
            allow_plain_http_loopback: self.allow_plain_http_loopback,
            guard: self.guard,
        })
    }
}

/// HTTP over reqwest; see the module docs.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    stall_timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http_loopback: bool,
    guard: Option<AddressGuard>,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("stall_timeout", &self.stall_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allow_plain_http_loopback", &self.allow_plain_http_loopback)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// Refuses URLs that are neither HTTPS nor (when allowed) loopback HTTP.
    fn check_url(&self, raw: &str) -> Result<reqwest::Url, TransportError> {
        let refused =
            |message: String| TransportError::new(TransportErrorKind::Insecure, false, message);
        let url = reqwest::Url::parse(raw).map_err(|e| refused(format!("invalid URL: {e}")))?;
        if let Some(guard) = self.guard {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(why) = literal.and_then(|ip| guard.refusal(ip)) {
                return Err(refused(format!("the URL's host is {why}: refused")));
            }
        }
        match url.scheme() {
            "https" => Ok(url),
            "http" if self.allow_plain_http_loopback && is_loopback(&url) => Ok(url),
            "http" => Err(refused(
                "plain HTTP is only allowed to loopback, and only when enabled".into(),
            )),
            other => Err(refused(format!("unsupported URL scheme {other:?}"))),
        }
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A reqwest error as a transport error, with the URL removed (it may hold
/// secrets in its query).
fn transport_error(e: reqwest::Error) -> TransportError {
    let kind = if is_tls_failure(&e) {
        TransportErrorKind::Tls
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_body() || e.is_decode() {
        TransportErrorKind::Body
    } else {
        TransportErrorKind::Reset
    };
    if refused_address(&e) {
        let message = format!("{}", e.without_url());
        return TransportError::new(TransportErrorKind::Insecure, false, message);
    }
    let e = e.without_url();
    // The innermost cause says most (a reset, a refused connection, a
    // certificate); the chain itself stays reachable through `source()`.
    let mut innermost: &dyn std::error::Error = &e;
    while let Some(inner) = innermost.source() {
        innermost = inner;
    }
    let message = if std::ptr::addr_eq(innermost, &e as &dyn std::error::Error) {
        e.to_string()
    } else {
        format!("{e} ({innermost})")
    };
    let sent = !matches!(kind, TransportErrorKind::Connect | TransportErrorKind::Tls);
    TransportError::new(kind, sent, message).with_source(e)
}

/// Whether the address guard refused the host (its error is in the chain).
fn refused_address(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut depth = 0;
    while let Some(err) = current {
        if err.downcast_ref::<RefusedAddress>().is_some() {
            return true;
        }
        depth += 1;
        if depth > 16 {
            return false;
        }
        current = err.source();
    }
    false
}

/// Whether a rustls error (bad certificate, failed pin, protocol) is in the
/// error's chain: a TLS failure is permanent, not a connection hiccup.
/// `io::Error` needs care: its `source()` skips the error it wraps, and
/// connectors nest them (`io::Error(Other, io::Error(InvalidData, rustls))`).
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut depth = 0;
    while let Some(err) = current {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &(dyn std::error::Error + 'static) = inner;
            if depth < 16 && is_tls_failure(inner) {
                return true;
            }
        }
        depth += 1;
        current = err.source();
    }
    false
}

impl ReqwestTransport {
    /// The reqwest request for `request`, or why it cannot be sent. Built
    /// directly (not through a builder) so the header map moves in whole.
    fn start(&self, request: HttpRequest) -> Result<reqwest::Request, TransportError> {
        let url = self.check_url(&request.url)?;
        let mut out = reqwest::Request::new(request.method, url);
        *out.headers_mut() = request.headers;
        Self::with_body(out, &request.body)
    }

    /// [`ReqwestTransport::start`] of an attempt: the request is kept by
    /// the caller, so its URL is parsed from it and its headers copied
    /// (when it has any) straight into the reqwest request.
    fn start_attempt(
        &self,
        request: &HttpRequest,
        headers: &[(&http::HeaderName, &http::HeaderValue)],
    ) -> Result<reqwest::Request, TransportError> {
        let url = self.check_url(&request.url)?;
        let mut out = reqwest::Request::new(request.method.clone(), url);
        let map = out.headers_mut();
        if !request.headers.is_empty() {
            *map = request.headers.clone();
        }
        for (name, value) in headers {
            map.insert((*name).clone(), (*value).clone());
        }
        Self::with_body(out, &request.body)
    }

    /// `out` with `body` (an empty one is no body).
    fn with_body(
        mut out: reqwest::Request,
        body: &crate::call::Body,
    ) -> Result<reqwest::Request, TransportError> {
        match body.open() {
            // An empty body is no body: a GET must not announce one.
            Ok(Opened::Bytes(bytes)) if bytes.is_empty() => {}
            Ok(Opened::Bytes(bytes)) => *out.body_mut() = Some(bytes.into()),
            Ok(Opened::Stream { chunks, length }) => {
                if let Some(length) = length {
                    out.headers_mut()
                        .insert(http::header::CONTENT_LENGTH, length.into());
                }
                *out.body_mut() = Some(reqwest::Body::wrap_stream(chunks));
            }
            Err(e) => {
                return Err(TransportError::new(
                    TransportErrorKind::Other,
                    false,
                    format!("request body: {e}"),
                ))
            }
        }
        Ok(out)
    }
}

/// The rest of `response`'s body as it arrives, each chunk within `stall`.
fn chunks(response: reqwest::Response, stall: Duration) -> ByteStream {
    ByteStream::new(futures_util::stream::unfold(
        Some(response),
        move |state| async move {
            let mut response = state?;
            match tokio::time::timeout(stall, response.chunk()).await {
                Err(_) => Some((
                    Err(TransportError::new(
                        TransportErrorKind::Body,
                        true,
                        format!("response body stalled for {stall:?}"),
                    )),
                    None,
                )),
                Ok(Err(e)) => Some((Err(transport_error(e)), None)),
                Ok(Ok(None)) => None,
                Ok(Ok(Some(piece))) => Some((Ok(piece), Some(response))),
            }
        },
    ))
}

impl ReqwestTransport {
    /// Sends `request` (or fails with why it could not be made) and reads
    /// the whole response.
    fn exchange(&self, request: Result<reqwest::Request, TransportError>) -> SendFuture {
        let send = match request {
            Ok(request) => self.client.execute(request),
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let (stall, max) = (self.stall_timeout, self.max_body_bytes);
        Box::pin(async move {
            let mut response = send.await.map_err(transport_error)?;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            // A small body of known size: read at once. The attempt timeout
            // bounds it; a stall timer of its own would cost a timer
            // registration per call for nothing. Stall protection is for
            // larger bodies, below.
            // (Within the size cap too: a cap below it is still a cap.)
            let small = SMALL_BODY.min(u64::try_from(max).unwrap_or(u64::MAX));
            if response.content_length().is_some_and(|l| l <= small) {
                let body = response.bytes().await.map_err(transport_error)?;
                return Ok(Response {
                    status,
                    headers,
                    body,
                });
            }
            Ok(Response {
                status,
                headers,
                body: chunks(response, stall).collect(max).await?,
            })
        })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> SendFuture {
        self.exchange(self.start(request))
    }

    fn send_attempt(
        &self,
        request: &HttpRequest,
        headers: &[(&http::HeaderName, &http::HeaderValue)],
    ) -> SendFuture {
        self.exchange(self.start_attempt(request, headers))
    }

    /// The body is handed over as it arrives, each chunk within the stall
    /// timeout; no size cap (the caller consumes it).
    fn send_streaming(&self, request: HttpRequest) -> StreamingSendFuture {
        let send = match self.start(request) {
            Ok(request) => self.client.execute(request),
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let stall = self.stall_timeout;
        Box::pin(async move {
            let mut response = send.await.map_err(transport_error)?;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            Ok(StreamingResponse {
                status,
                headers,
                body: chunks(response, stall),
                attempts: 1,
            })
        })
    }
}

/// Web PKI validation, then a check of the end-entity certificate's (or
/// its public key's) digest against the pins.
#[derive(Debug)]
struct Pinned {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    pins: Vec<Pin>,
}

fn sha256(der: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

impl Pinned {
    fn matches(&self, end_entity: &CertificateDer<'_>) -> bool {
        let certificate = sha256(end_entity.as_ref());
        if self.pins.contains(&Pin::Certificate(certificate)) {
            return true;
        }
        if !self.pins.iter().any(|p| matches!(p, Pin::PublicKey(_))) {
            return false;
        }
        // Already validated by the inner verifier, so it parses; if it did
        // not, no key pin could match.
        webpki::EndEntityCert::try_from(end_entity).is_ok_and(|cert| {
            let key = sha256(cert.subject_public_key_info().as_ref());
            self.pins.contains(&Pin::PublicKey(key))
        })
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
        if self.matches(end_entity) {
            Ok(verified)
        } else {
            Err(rustls::Error::General(
                "server certificate matches no pinned certificate or public key digest".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
