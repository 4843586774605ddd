//! A small HTTP server of wharf's own for the operational endpoints
//! (`/metrics`, the status page), for apps that do not run an HTTP server
//! to mount them on.

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

/// wharf's own HTTP server for the operational endpoints: `/metrics`
/// (with an exporter) and `/status`, `/status.json` (with a status page).
#[derive(Clone, Default)]
pub struct OpsServer {
    #[cfg(feature = "prometheus")]
    metrics: Option<super::Exporter>,
    #[cfg(feature = "status-page")]
    status: Option<super::StatusPage>,
}

impl std::fmt::Debug for OpsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsServer").finish_non_exhaustive()
    }
}

fn not_found() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"not found\n")));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

impl OpsServer {
    pub fn new() -> Self {
        OpsServer::default()
    }

    /// Serves `exporter`'s metrics at `/metrics`.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, exporter: super::Exporter) -> Self {
        self.metrics = Some(exporter);
        self
    }

    /// Serves `page` at `/status` and its JSON at `/status.json`.
    #[cfg(feature = "status-page")]
    pub fn status(mut self, page: super::StatusPage) -> Self {
        self.status = Some(page);
        self
    }

    /// Listens on `addr` (`127.0.0.1:0` for an ephemeral port).
    pub async fn listen(self, addr: SocketAddr) -> std::io::Result<OpsListener> {
        OpsListener::start(addr, self).await
    }

    async fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let method = request.method();
        match request.uri().path() {
            #[cfg(feature = "prometheus")]
            "/metrics" => match &self.metrics {
                Some(exporter) => exporter.respond(method),
                None => not_found(),
            },
            #[cfg(feature = "status-page")]
            path @ ("/status" | "/status.json") => match &self.status {
                Some(page) => page.respond(method, path.ends_with(".json")).await,
                None => not_found(),
            },
            _ => {
                let _ = method;
                not_found()
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
    async fn start(addr: SocketAddr, routes: OpsServer) -> std::io::Result<Self> {
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
                        let routes = Arc::clone(&routes);
                        async move { Ok::<_, Infallible>(routes.respond(&request).await) }
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
