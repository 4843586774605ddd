//! A scripted, fault-injecting server for resilience tests, and an in-memory
//! [`Transport`] that serves it on the injected clock (so a test on tokio's
//! paused clock gets exact figures). The same [`Fault`]s drive a real HTTP
//! server on 127.0.0.1 (see `http_server`).

use crate::call::{
    HttpRequest, Response, SendFuture, Transport, TransportError, TransportErrorKind,
};
use crate::time::{Clock, Instant};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status, headers and body.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Wait, then do the inner fault.
    Latency(Duration, Box<Fault>),
    /// Close the connection without an answer. With `processed`, the
    /// request's side effect happened first ("commit, then drop").
    Reset { processed: bool },
    /// Accept and never answer.
    BlackHole,
    /// Send the status line and headers (declaring a large body), then part
    /// of the body, then stall.
    StallBody,
    /// Send a response with this status whose body is cut short.
    Truncated { status: u16 },
}

impl Fault {
    pub fn ok() -> Fault {
        Fault::status(200)
    }

    pub fn status(code: u16) -> Fault {
        Fault::Respond {
            status: code,
            headers: Vec::new(),
            body: Bytes::from_static(b"{}"),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Fault {
        match self {
            Fault::Respond {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Fault::Respond {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    pub fn after(self, latency: Duration) -> Fault {
        Fault::Latency(latency, Box::new(self))
    }

    /// Whether a request met with this fault had its side effect.
    fn processes(&self) -> bool {
        match self {
            Fault::Respond { status, .. } => *status < 400,
            Fault::Latency(_, inner) => inner.processes(),
            Fault::Reset { processed } => *processed,
            Fault::BlackHole => false,
            Fault::StallBody | Fault::Truncated { .. } => true,
        }
    }
}

/// What the server knows about a request when choosing its fault.
#[derive(Debug, Clone)]
pub struct Seen {
    /// 0-based arrival order.
    pub index: usize,
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    /// The correlation id header (`x-correlation-id`), if sent.
    pub correlation_id: Option<String>,
    /// Earlier requests with the same idempotency key.
    pub earlier_with_key: usize,
}

type Script = dyn Fn(&Seen) -> Fault + Send + Sync;

/// The server: a script choosing a fault per request, and a log of what it
/// saw.
pub struct FaultServer {
    script: Box<Script>,
    log: Mutex<Log>,
}

#[derive(Debug, Default, Clone)]
pub struct Log {
    pub requests: Vec<Seen>,
    pub in_flight: usize,
    pub peak_in_flight: usize,
    /// Side effects applied, by idempotency key (a server that honours keys
    /// applies each key's effect once and replays it after that).
    pub effects_by_key: HashMap<String, u32>,
    /// Side effects of requests without a key (each one applies).
    pub unkeyed_effects: u32,
}

impl Log {
    /// Effects applied in all: once per key, plus every unkeyed one.
    pub fn effects(&self) -> usize {
        self.effects_by_key.len() + self.unkeyed_effects as usize
    }

    /// Requests that arrived in `[from, to)`.
    pub fn arrivals_between(&self, from: Instant, to: Instant) -> usize {
        self.requests
            .iter()
            .filter(|s| s.at >= from && s.at < to)
            .count()
    }
}

impl fmt::Debug for FaultServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultServer").finish_non_exhaustive()
    }
}

impl FaultServer {
    pub fn new(script: impl Fn(&Seen) -> Fault + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(FaultServer {
            script: Box::new(script),
            log: Mutex::new(Log::default()),
        })
    }

    /// A server that answers the first `n` requests with `fault`, then 200.
    pub fn failing_first(n: usize, fault: Fault) -> Arc<Self> {
        FaultServer::new(move |seen| {
            if seen.index < n {
                fault.clone()
            } else {
                Fault::ok()
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        match self.log.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A copy of what the server saw so far.
    pub fn log(&self) -> Log {
        self.lock().clone()
    }

    /// Records an arrival and chooses its fault.
    pub fn arrive(
        &self,
        at: Instant,
        method: &str,
        path: &str,
        key: Option<&str>,
        correlation_id: Option<&str>,
    ) -> (Fault, InFlight<'_>) {
        let seen = {
            let mut log = self.lock();
            let earlier_with_key = key.map_or(0, |k| {
                log.requests
                    .iter()
                    .filter(|s| s.idempotency_key.as_deref() == Some(k))
                    .count()
            });
            let seen = Seen {
                index: log.requests.len(),
                at,
                method: method.to_owned(),
                path: path.to_owned(),
                idempotency_key: key.map(str::to_owned),
                correlation_id: correlation_id.map(str::to_owned),
                earlier_with_key,
            };
            log.requests.push(seen.clone());
            log.in_flight += 1;
            log.peak_in_flight = log.peak_in_flight.max(log.in_flight);
            seen
        };
        let fault = (self.script)(&seen);
        if fault.processes() && method != "GET" && method != "HEAD" {
            let mut log = self.lock();
            match key {
                Some(k) => *log.effects_by_key.entry(k.to_owned()).or_insert(0) += 1,
                None => log.unkeyed_effects += 1,
            }
        }
        (fault, InFlight(self))
    }
}

/// Marks a request in flight until dropped (also when the client gives up).
pub struct InFlight<'a>(&'a FaultServer);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut log = self.0.lock();
        log.in_flight = log.in_flight.saturating_sub(1);
    }
}

/// Serves a [`FaultServer`] in memory, on the given clock.
#[derive(Debug, Clone)]
pub struct FaultTransport {
    server: Arc<FaultServer>,
    clock: Arc<dyn Clock>,
    idempotency_header: String,
}

impl FaultTransport {
    pub fn new(server: Arc<FaultServer>, clock: Arc<dyn Clock>) -> Self {
        FaultTransport {
            server,
            clock,
            idempotency_header: "idempotency-key".to_owned(),
        }
    }

    /// Reads the idempotency key from `name` (default `idempotency-key`),
    /// for an integration configured with another header.
    pub fn with_idempotency_header(mut self, name: &str) -> Self {
        self.idempotency_header = name.to_ascii_lowercase();
        self
    }
}

impl Transport for FaultTransport {
    fn send(&self, request: HttpRequest) -> SendFuture {
        let server = self.server.clone();
        let clock = self.clock.clone();
        let header = self.idempotency_header.clone();
        Box::pin(async move {
            // Read the body as a server would (a streamed one is used up).
            if let Err(e) = request.body.collect(crate::testing::wire::MAX_BODY).await {
                return Err(TransportError::new(
                    TransportErrorKind::Other,
                    false,
                    format!("request body: {e}"),
                ));
            }
            let text = |name: &str| {
                request
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let key = text(header.as_str());
            let correlation = text("x-correlation-id");
            let path = request
                .url
                .split_once("://")
                .map_or(request.url.as_str(), |(_, rest)| {
                    rest.find('/').map_or("/", |i| &rest[i..])
                });
            let (mut fault, _in_flight) = server.arrive(
                clock.now(),
                request.method.as_str(),
                path,
                key.as_deref(),
                correlation.as_deref(),
            );
            loop {
                match fault {
                    Fault::Latency(d, inner) => {
                        clock.sleep(d).await;
                        fault = *inner;
                    }
                    Fault::Respond {
                        status,
                        headers,
                        body,
                    } => {
                        let mut map = HeaderMap::new();
                        for (k, v) in headers {
                            if let (Ok(k), Ok(v)) =
                                (k.parse::<http::HeaderName>(), HeaderValue::from_str(&v))
                            {
                                map.append(k, v);
                            }
                        }
                        let status = StatusCode::from_u16(status)
                            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                        return Ok(Response {
                            status,
                            headers: map,
                            body,
                        });
                    }
                    Fault::Reset { .. } => {
                        return Err(TransportError::new(
                            TransportErrorKind::Reset,
                            true,
                            "connection reset by peer",
                        ))
                    }
                    Fault::Truncated { .. } => {
                        return Err(TransportError::new(
                            TransportErrorKind::Body,
                            true,
                            "response body cut short",
                        ))
                    }
                    Fault::BlackHole | Fault::StallBody => std::future::pending::<()>().await,
                }
            }
        })
    }
}
