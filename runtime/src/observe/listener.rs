//! A small HTTP server of wharf's own for the operational endpoints
//! (`/metrics`, and the status page when one is given), for apps that do
//! not run an HTTP server to mount them on.

use super::exporter::Exporter;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 64;
/// A client that sends no complete request head within this is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the listener serves, by path.
#[derive(Clone, Default)]
pub(crate) struct OpsRoutes {
    metrics: Option<Exporter>,
}

impl OpsRoutes {
    pub(crate) fn metrics(exporter: Exporter) -> Self {
        OpsRoutes {
            metrics: Some(exporter),
        }
    }

    fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        match (request.uri().path(), &self.metrics) {
            ("/metrics", Some(exporter)) => exporter.respond(request.method()),
            _ => {
                let mut r = Response::new(Full::new(Bytes::from_static(b"not found\n")));
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            }
        }
    }
}

/// A running listener; stops when dropped.
pub struct OpsListener {
    /// The address it is bound to (the port chosen when `:0` was asked).
    pub addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for OpsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsListener")
            .field("addr", &self.addr)
            .finish()
    }
}

impl OpsListener {
    pub(crate) async fn start(addr: SocketAddr, routes: OpsRoutes) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let routes = Arc::new(routes);
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let accept = tokio::spawn(async move {
            loop {
                let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    // Out of descriptors or similar: wait instead of spinning.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let routes = Arc::clone(&routes);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let response = routes.respond(&request);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    drop(permit);
                });
            }
        });
        Ok(OpsListener { addr, accept })
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for OpsListener {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
