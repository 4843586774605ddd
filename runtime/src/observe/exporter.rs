//! Everything wharf measures, in Prometheus's text format (feature
//! `prometheus`), on `metrics-exporter-prometheus`: a handler to mount on
//! the app's own HTTP server (a `tower::Service`, or an axum `Router`), or
//! a listener of its own for apps without one.
//!
//! Durations are histograms with buckets (not client-side summaries), so
//! Prometheus can aggregate them across instances and the alert rules
//! (`wharf alerts`) can take `histogram_quantile` of them.

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

/// Bucket bounds of every `_seconds` histogram: a millisecond to a minute,
/// the range of an API call's latency.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0,
];

/// How often recorded samples are folded into the buckets, scraped or not
/// (so memory stays bounded for apps nobody scrapes yet).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The exposition format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why the exporter could not be installed.
#[derive(Debug)]
pub struct ExporterError(String);

impl fmt::Display for ExporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prometheus exporter: {}", self.0)
    }
}

impl std::error::Error for ExporterError {}

/// The installed exporter: renders the current values. Cheap to clone.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exporter")
    }
}

impl Exporter {
    /// Installs the exporter as the process's `metrics` recorder. Install
    /// it before the first call of any integration: handles register with
    /// the recorder that is installed at that moment. Fails if another
    /// recorder is installed already.
    pub fn install() -> Result<Exporter, ExporterError> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
            .map_err(|e| ExporterError(e.to_string()))?
            .install_recorder()
            .map_err(|e| ExporterError(e.to_string()))?;
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("wharf-metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            })
            .map_err(|e| ExporterError(format!("upkeep thread: {e}")))?;
        Ok(Exporter { handle })
    }

    /// The current values in Prometheus's text format.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// The scrape response for `method`: the metrics for GET and HEAD,
    /// 405 otherwise.
    pub(crate) fn respond(&self, method: &Method) -> Response<Full<Bytes>> {
        let mut response = if method == Method::GET || method == Method::HEAD {
            let mut r = Response::new(Full::new(Bytes::from(self.render())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static(TEXT_FORMAT),
            );
            r
        } else {
            let mut r = Response::new(Full::new(Bytes::from_static(b"GET only\n")));
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            r.headers_mut()
                .insert(header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
            r
        };
        if method == Method::HEAD {
            *response.body_mut() = Full::new(Bytes::new());
        }
        response
    }

    /// Serves the metrics on `addr` (`127.0.0.1:0` for an ephemeral port)
    /// at `/metrics`, for apps without an HTTP server of their own (with
    /// the status page too: [`OpsServer`](super::OpsServer)). Stops when
    /// the returned listener is dropped.
    pub async fn listen(&self, addr: SocketAddr) -> std::io::Result<super::OpsListener> {
        super::OpsServer::new()
            .metrics(self.clone())
            .listen(addr)
            .await
    }
}

impl<B> tower_service::Service<Request<B>> for Exporter {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.respond(request.method())))
    }
}

#[cfg(feature = "axum")]
impl Exporter {
    /// An axum router with the metrics at `path`:
    /// `app.merge(exporter.router("/metrics"))`.
    pub fn router(self, path: &str) -> axum::Router {
        axum::Router::new().route_service(path, self)
    }
}
