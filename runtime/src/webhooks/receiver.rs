//! [`Receiver`]: one endpoint's inbox. It bounds what an unverified caller
//! can cost (concurrent requests, body size, read time), verifies the raw
//! bytes before reading anything in them, stores the event durably, and
//! only then answers 2xx. A refusal gets a bare status; why goes to the log.

use super::delivery::{Delivery, Verified};
use super::error::VerifyError;
use super::verifier::Verifier;
use crate::store::{Inserted, NewEvent, Store, StoreError};
use crate::time::{unix_ms, Clock, TokioClock};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// Largest body accepted by default: 1 MiB (GitHub caps its payloads at
/// 25 MB, most providers send a few kB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Picks an order key from a verified delivery's headers and body.
pub type OrderKey = dyn Fn(&HeaderMap, &[u8]) -> Option<String> + Send + Sync;

/// What became of a delivery.
#[derive(Debug)]
#[non_exhaustive]
pub enum Receipt {
    /// Verified and stored: acknowledged.
    Stored { event_id: String },
    /// Verified, and already stored by an earlier delivery: acknowledged,
    /// not stored again.
    Duplicate { event_id: String },
    /// Not a POST.
    WrongMethod,
    /// More than the configured number of requests were being read and
    /// verified at once.
    Busy,
    /// The body (or its declared length) is over the limit.
    TooLarge,
    /// The body did not arrive within the read timeout, or broke off.
    ReadFailed,
    /// Verification failed: never stored.
    Refused(VerifyError),
    /// Verified but not stored (the provider will redeliver).
    StoreFailed(StoreError),
}

impl Receipt {
    /// The status the provider gets: deliberately terse.
    pub fn status(&self) -> StatusCode {
        match self {
            Receipt::Stored { .. } | Receipt::Duplicate { .. } => StatusCode::OK,
            Receipt::WrongMethod => StatusCode::METHOD_NOT_ALLOWED,
            Receipt::Busy | Receipt::StoreFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
            Receipt::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Receipt::ReadFailed => StatusCode::REQUEST_TIMEOUT,
            Receipt::Refused(_) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The outcome label of `wharf_webhook_received_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Receipt::Stored { .. } => "stored",
            Receipt::Duplicate { .. } => "duplicate",
            Receipt::WrongMethod => "wrong_method",
            Receipt::Busy => "busy",
            Receipt::TooLarge => "too_large",
            Receipt::ReadFailed => "read_failed",
            Receipt::Refused(_) => "refused",
            Receipt::StoreFailed(_) => "store_failed",
        }
    }

    fn response(&self) -> Response<Full<Bytes>> {
        let status = self.status();
        let text = status.canonical_reason().unwrap_or("").to_ascii_lowercase();
        let mut response = Response::new(Full::new(Bytes::from(text)));
        *response.status_mut() = status;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

struct Inner<S> {
    source: String,
    verifier: Verifier,
    store: Arc<S>,
    max_body: usize,
    read_timeout: Duration,
    store_timeout: Duration,
    unverified: Semaphore,
    public_url: Option<String>,
    order_key: Option<Box<OrderKey>>,
    wake: Option<Arc<Notify>>,
    clock: Arc<dyn Clock>,
}

/// An endpoint that receives one source's deliveries into a store. Cheap
/// to clone; a `tower::Service` (and, with the `axum` feature, a route).
pub struct Receiver<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Receiver<S> {
    fn clone(&self) -> Self {
        Receiver {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("source", &self.inner.source)
            .field("scheme", &self.inner.verifier.scheme())
            .field("max_body", &self.inner.max_body)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Receiver`].
pub struct ReceiverBuilder<S> {
    inner: Inner<S>,
}

impl<S: Store> Receiver<S> {
    /// A receiver of `source`'s deliveries (the name events are stored
    /// under), verified by `verifier`, stored in `store`.
    pub fn builder(
        source: impl Into<String>,
        verifier: Verifier,
        store: Arc<S>,
    ) -> ReceiverBuilder<S> {
        ReceiverBuilder {
            inner: Inner {
                source: source.into(),
                verifier,
                store,
                max_body: DEFAULT_MAX_BODY,
                read_timeout: Duration::from_secs(10),
                store_timeout: Duration::from_secs(10),
                unverified: Semaphore::new(256),
                public_url: None,
                order_key: None,
                wake: None,
                clock: Arc::new(TokioClock),
            },
        }
    }
}

impl<S> ReceiverBuilder<S> {
    /// Bodies over `bytes` get 413 (default [`DEFAULT_MAX_BODY`]).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.inner.max_body = bytes;
        self
    }

    /// How long a body may take to arrive (default 10 s); then 408.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.inner.read_timeout = timeout;
        self
    }

    /// How long storing may take (default 10 s); then 503, and the
    /// provider redelivers.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.inner.store_timeout = timeout;
        self
    }

    /// Requests read and verified at once (default 256); more get 503.
    pub fn max_unverified(mut self, requests: usize) -> Self {
        self.inner.unverified = Semaphore::new(requests.max(1));
        self
    }

    /// The scheme and host the provider sends to (`https://app.example`),
    /// for schemes that sign the URL (Twilio): the request's path and query
    /// are appended.
    pub fn public_url(mut self, base: impl Into<String>) -> Self {
        self.inner.public_url = Some(base.into().trim_end_matches('/').to_owned());
        self
    }

    /// Processes events with the same key one at a time, in arrival order
    /// (e.g. a customer id from the body).
    pub fn order_key(
        mut self,
        key: impl Fn(&HeaderMap, &[u8]) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.inner.order_key = Some(Box::new(key));
        self
    }

    /// Notified after each stored event (a [`super::Worker::waker`]).
    pub fn wake(mut self, notify: Arc<Notify>) -> Self {
        self.inner.wake = Some(notify);
        self
    }

    /// The clock for the tolerance window and arrival times.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.inner.clock = clock;
        self
    }

    pub fn build(self) -> Receiver<S> {
        Receiver {
            inner: Arc::new(self.inner),
        }
    }
}

/// Headers that are not kept with a stored event: signatures and
/// credentials (a handler dispatches on the others, e.g. `X-GitHub-Event`).
fn kept(name: &str) -> bool {
    !(crate::redact::is_sensitive(name) || name.to_ascii_lowercase().contains("hmac"))
}

/// The event id: the scheme's header, else the body's top-level `id`
/// (Stripe) or `event_id` (Slack), else a digest of the body.
fn event_id(verified: &Verified, body: &[u8]) -> String {
    if let Some(id) = verified.event_id.as_ref().filter(|id| !id.is_empty()) {
        return id.clone();
    }
    #[derive(serde::Deserialize)]
    struct Ids {
        id: Option<String>,
        event_id: Option<String>,
    }
    if let Ok(ids) = serde_json::from_slice::<Ids>(body) {
        if let Some(id) = ids.event_id.or(ids.id).filter(|id| !id.is_empty()) {
            return id;
        }
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

impl<S: Store> Receiver<S> {
    /// Verifies and stores a delivery whose body has been read.
    pub async fn receive(&self, headers: &HeaderMap, body: Bytes, url: Option<&str>) -> Receipt {
        let inner = &*self.inner;
        if body.len() > inner.max_body {
            return Receipt::TooLarge;
        }
        let delivery = Delivery {
            headers,
            body: &body,
            url,
        };
        let verified = match inner.verifier.verify(&delivery, inner.clock.wall()) {
            Ok(verified) => verified,
            Err(e) => return Receipt::Refused(e),
        };
        let event_id = event_id(&verified, &body);
        let order_key = inner.order_key.as_ref().and_then(|key| key(headers, &body));
        let event = NewEvent {
            source: inner.source.clone(),
            event_id: event_id.clone(),
            received_at: unix_ms(&*inner.clock),
            headers: headers
                .iter()
                .filter(|(name, _)| kept(name.as_str()))
                .map(|(name, value)| {
                    // Kept whole: bytes that are not text are replaced, not
                    // the header dropped.
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
            body,
            order_key,
        };
        let stored = crate::time::timeout(
            &*inner.clock,
            inner.store_timeout,
            inner.store.insert(event),
        )
        .await;
        match stored {
            Ok(Ok(Inserted::Stored(_))) => {
                if let Some(wake) = &inner.wake {
                    wake.notify_one();
                }
                Receipt::Stored { event_id }
            }
            Ok(Ok(Inserted::Duplicate)) => Receipt::Duplicate { event_id },
            Ok(Err(e)) => Receipt::StoreFailed(e),
            Err(elapsed) => Receipt::StoreFailed(StoreError::Backend(format!(
                "store took longer than {:?}",
                elapsed.0
            ))),
        }
    }

    /// Reads, verifies and stores an HTTP request: what the `tower::Service`
    /// and the axum route run.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let receipt = self.read_and_receive(request).await;
        super::metrics::received(&self.inner.source, receipt.outcome());
        match &receipt {
            Receipt::Stored { .. } | Receipt::Duplicate { .. } => {}
            Receipt::Refused(e) => {
                tracing::info!(source = %self.inner.source, reason = %e, "webhook delivery refused")
            }
            Receipt::StoreFailed(e) => {
                tracing::error!(source = %self.inner.source, error = %e, "webhook delivery verified but not stored")
            }
            other => {
                tracing::info!(source = %self.inner.source, outcome = other.outcome(), "webhook delivery refused")
            }
        }
        receipt.response()
    }

    async fn read_and_receive<B>(&self, request: Request<B>) -> Receipt
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let inner = &*self.inner;
        if request.method() != Method::POST {
            return Receipt::WrongMethod;
        }
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > inner.max_body as u64) {
            return Receipt::TooLarge;
        }
        let Ok(_permit) = inner.unverified.try_acquire() else {
            return Receipt::Busy;
        };
        let (parts, body) = request.into_parts();
        let limited = Limited::new(body, inner.max_body);
        let read = crate::time::timeout(&*inner.clock, inner.read_timeout, limited.collect()).await;
        let body = match read {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Receipt::TooLarge,
            Ok(Err(_)) | Err(_) => return Receipt::ReadFailed,
        };
        let url = inner.public_url.as_ref().map(|base| {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            format!("{base}{path}")
        });
        self.receive(&parts.headers, body, url.as_deref()).await
    }
}

impl<S, B> tower_service::Service<Request<B>> for Receiver<S>
where
    S: Store,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let receiver = self.clone();
        Box::pin(async move { Ok(receiver.handle(request).await) })
    }
}

#[cfg(feature = "axum")]
impl<S: Store> Receiver<S> {
    /// An axum router with this receiver at `path` (POST):
    /// `app.merge(receiver.router("/webhooks/github"))`.
    pub fn router(self, path: &str) -> axum::Router {
        axum::Router::new().route(path, axum::routing::post_service(self))
    }
}
