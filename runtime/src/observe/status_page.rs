//! An HTML status page an app mounts (feature `status-page`): per
//! integration the breaker's state and latest transitions, calls and error
//! rate by class, p50/p95/p99 latency with a chart of the last minutes, the
//! retry budget, rate-limit waits, drift by operation and the health
//! check's latest result; the inbox, outbox and dead-letter depths; each
//! credential's state and expiry. Rendered on the server with no external
//! assets (it works offline) and refreshing itself every 5 seconds;
//! `status.json` beside it carries the same for `wharf status --url`.

use crate::auth::Credential;
use crate::call::{Health, Integration};
use crate::policy::breaker::BreakerState;
use crate::store::{OutboxStore, Store, KIND_CALL};
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt::Write;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

/// Latency samples kept per integration for the chart, one per
/// [`SAMPLE_EVERY`] at most: ten minutes.
const SAMPLES_KEPT: usize = 120;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The page reloads itself this often.
const REFRESH_SECONDS: u32 = 5;

type QueueFuture = Pin<Box<dyn Future<Output = Result<Vec<QueueStatus>, String>> + Send>>;
type QueueReader = dyn Fn() -> QueueFuture + Send + Sync;

/// One queue's depth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueStatus {
    /// `inbox` or `outbox`.
    pub queue: &'static str,
    /// The webhook source, the integration of queued calls, or
    /// `outbound_webhooks` for all outbound webhook endpoints.
    pub name: String,
    pub pending: u64,
    pub in_flight: u64,
    pub dead: u64,
    /// How long the oldest pending item has waited, in seconds.
    pub oldest_age_seconds: Option<f64>,
}

/// One point of the latency chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySample {
    pub at_ms: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionStatus {
    pub at_ms: i64,
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckStatus {
    pub operation: String,
    pub passed: bool,
    pub at_ms: i64,
    pub latency_ms: f64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntegrationStatus {
    pub name: String,
    /// `closed`, `half_open` or `open` (the worst of its breakers).
    pub breaker: &'static str,
    pub breaker_transitions: Vec<TransitionStatus>,
    /// Failure rate over the breaker's window.
    pub error_rate: f64,
    /// Finished calls by outcome (`success` and each error class).
    pub calls: BTreeMap<&'static str, u64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub history: Vec<LatencySample>,
    pub retry_budget: f64,
    pub in_flight: usize,
    pub rate_limit_waits: u64,
    pub drift: BTreeMap<String, u64>,
    pub health_check: Option<CheckStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialStatus {
    pub integration: String,
    pub subject: Option<String>,
    /// `ok`, `expired` or `reauthorization_required`.
    pub state: &'static str,
    pub expires_at_ms: Option<i64>,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusSnapshot {
    pub generated_at_ms: i64,
    pub integrations: Vec<IntegrationStatus>,
    pub queues: Vec<QueueStatus>,
    /// Queue sources that could not be read, and why.
    pub queue_errors: Vec<String>,
    pub credentials: Vec<CredentialStatus>,
}

#[derive(Default)]
struct Inner {
    integrations: RwLock<Vec<Integration>>,
    credentials: RwLock<Vec<Credential>>,
    queues: RwLock<Vec<Arc<QueueReader>>>,
    history: Mutex<HashMap<String, VecDeque<LatencySample>>>,
}

/// The status page (see the module's docs). Cheap to clone.
#[derive(Clone, Default)]
pub struct StatusPage {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for StatusPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusPage").finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    crate::time::system_ms(SystemTime::now())
}

fn ms(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1000.0)
}

fn breaker_name(state: BreakerState) -> &'static str {
    state.as_str()
}

fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    match l.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    match l.read() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl StatusPage {
    pub fn new() -> Self {
        StatusPage::default()
    }

    /// Shows `integration`.
    pub fn integration(&self, integration: &Integration) -> &Self {
        write_lock(&self.inner.integrations).push(integration.clone());
        self
    }

    /// Shows `credential`'s state and expiry (never its tokens).
    pub fn credential(&self, credential: &Credential) -> &Self {
        write_lock(&self.inner.credentials).push(credential.clone());
        self
    }

    /// Shows the webhook inbox's depth per source.
    pub fn inbox<S: Store>(&self, store: Arc<S>) -> &Self {
        let reader: Arc<QueueReader> = Arc::new(move || {
            let store = Arc::clone(&store);
            Box::pin(async move {
                let now = now_ms();
                let depths = store.depth().await.map_err(|e| format!("inbox: {e}"))?;
                Ok(depths
                    .into_iter()
                    .map(|d| QueueStatus {
                        queue: "inbox",
                        name: d.source,
                        pending: d.pending,
                        in_flight: 0,
                        dead: d.dead,
                        oldest_age_seconds: d
                            .oldest_pending
                            .map(|at| now.saturating_sub(at).max(0) as f64 / 1000.0),
                    })
                    .collect())
            })
        });
        write_lock(&self.inner.queues).push(reader);
        self
    }

    /// Shows the outbox's depth: per integration for queued calls, all
    /// outbound webhook endpoints together.
    pub fn outbox<S: OutboxStore>(&self, store: Arc<S>) -> &Self {
        let reader: Arc<QueueReader> = Arc::new(move || {
            let store = Arc::clone(&store);
            Box::pin(async move {
                let now = now_ms();
                let status = store
                    .outbox_status()
                    .await
                    .map_err(|e| format!("outbox: {e}"))?;
                let mut rows: BTreeMap<String, QueueStatus> = BTreeMap::new();
                for q in status {
                    let name = if q.kind == KIND_CALL {
                        q.endpoint
                    } else {
                        crate::outbox_loop::OUTBOUND_WEBHOOKS.to_owned()
                    };
                    let row = rows.entry(name.clone()).or_insert(QueueStatus {
                        queue: "outbox",
                        name,
                        pending: 0,
                        in_flight: 0,
                        dead: 0,
                        oldest_age_seconds: None,
                    });
                    row.pending += q.pending;
                    row.in_flight += q.in_flight;
                    row.dead += q.dead;
                    let age = q
                        .oldest_pending
                        .map(|at| now.saturating_sub(at).max(0) as f64 / 1000.0);
                    row.oldest_age_seconds = match (row.oldest_age_seconds, age) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
                Ok(rows.into_values().collect())
            })
        });
        write_lock(&self.inner.queues).push(reader);
        self
    }

    /// Adds a point to each integration's latency chart now (the page also
    /// adds one when it is rendered and the last is 5 seconds old).
    pub fn sample(&self) {
        self.sample_if_older_than(Duration::ZERO);
    }

    fn sample_if_older_than(&self, age: Duration) {
        let at_ms = now_ms();
        let due = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        let integrations = read_lock(&self.inner.integrations).clone();
        let mut history = match self.inner.history.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        for integration in integrations {
            let samples = history.entry(integration.name().to_owned()).or_default();
            if samples
                .back()
                .is_some_and(|last| at_ms.saturating_sub(last.at_ms) < due)
            {
                continue;
            }
            let health = integration.health();
            if samples.len() == SAMPLES_KEPT {
                samples.pop_front();
            }
            samples.push_back(LatencySample {
                at_ms,
                p50_ms: ms(health.p50),
                p95_ms: ms(health.p95),
                p99_ms: ms(health.p99),
                error_rate: health.error_rate,
            });
        }
    }

    /// What the page shows, now.
    pub async fn snapshot(&self) -> StatusSnapshot {
        self.sample_if_older_than(SAMPLE_EVERY);
        let integrations = read_lock(&self.inner.integrations).clone();
        let history = match self.inner.history.lock() {
            Ok(h) => h.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let integrations = integrations
            .iter()
            .map(|i| {
                let samples = history.get(i.name()).map(|h| h.iter().copied().collect());
                integration_status(i.health(), samples.unwrap_or_default())
            })
            .collect();
        let readers = read_lock(&self.inner.queues).clone();
        let (mut queues, mut queue_errors) = (Vec::new(), Vec::new());
        for reader in readers {
            match reader().await {
                Ok(rows) => queues.extend(rows),
                Err(e) => queue_errors.push(e),
            }
        }
        let now = SystemTime::now();
        let credentials = read_lock(&self.inner.credentials)
            .iter()
            .map(|c| {
                let (integration, subject) = crate::auth::key_parts(c.key());
                let expires = c.expires_at();
                CredentialStatus {
                    integration: integration.to_owned(),
                    subject: subject.map(str::to_owned),
                    state: if c.needs_reauthorization() {
                        "reauthorization_required"
                    } else if expires.is_some_and(|at| at <= now) {
                        "expired"
                    } else {
                        "ok"
                    },
                    expires_at_ms: expires.map(crate::time::system_ms),
                }
            })
            .collect();
        StatusSnapshot {
            generated_at_ms: now_ms(),
            integrations,
            queues,
            queue_errors,
            credentials,
        }
    }

    /// The snapshot as JSON.
    pub async fn json(&self) -> String {
        serde_json::to_string_pretty(&self.snapshot().await)
            .unwrap_or_else(|e| format!("{{\"error\":{}}}", serde_json::Value::from(e.to_string())))
    }

    /// The page.
    pub async fn html(&self) -> String {
        render(&self.snapshot().await)
    }

    /// The response to a GET of the page (`json`: of `status.json`).
    pub(crate) async fn respond(&self, method: &Method, json: bool) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            let mut r = Response::new(Full::new(Bytes::from_static(b"GET only\n")));
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            return r;
        }
        let (body, kind) = if json {
            (self.json().await, "application/json")
        } else {
            (self.html().await, "text/html; charset=utf-8")
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(kind));
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        r
    }

    /// Serves the page at `/status` (and `/status.json`) on `addr`, for
    /// apps without an HTTP server of their own (with the metrics too:
    /// [`OpsServer`](super::OpsServer)). Stops when the listener is dropped.
    pub async fn listen(&self, addr: std::net::SocketAddr) -> std::io::Result<super::OpsListener> {
        super::OpsServer::new()
            .status(self.clone())
            .listen(addr)
            .await
    }
}

fn integration_status(h: Health, history: Vec<LatencySample>) -> IntegrationStatus {
    let calls = BTreeMap::from([
        ("success", h.calls.success),
        ("transient", h.calls.transient),
        ("rate_limited", h.calls.rate_limited),
        ("permanent", h.calls.permanent),
        ("ambiguous", h.calls.ambiguous),
    ]);
    IntegrationStatus {
        name: h.integration,
        breaker: breaker_name(h.breaker),
        breaker_transitions: h
            .breaker_transitions
            .iter()
            .map(|t| TransitionStatus {
                at_ms: t.at_ms,
                from: breaker_name(t.from),
                to: breaker_name(t.to),
            })
            .collect(),
        error_rate: h.error_rate,
        calls,
        p50_ms: ms(h.p50),
        p95_ms: ms(h.p95),
        p99_ms: ms(h.p99),
        history,
        retry_budget: h.budget,
        in_flight: h.in_flight,
        rate_limit_waits: h.rate_limit_waits,
        drift: h.drift,
        health_check: h.check.map(|c| CheckStatus {
            passed: c.passed(),
            operation: c.operation,
            at_ms: c.at_ms,
            latency_ms: c.latency.as_secs_f64() * 1000.0,
            error: c.error,
        }),
    }
}

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn time_text(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms).map_or_else(
        || at_ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn latency_text(ms: Option<f64>) -> String {
    ms.map_or_else(|| "–".to_owned(), |v| format!("{v:.1} ms"))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#f6f7f9}\
h1{font-size:1.4rem}h2{font-size:1.15rem;margin:0 0 .5rem}h3{font-size:.95rem;margin:.8rem 0 .3rem}\
section{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:1rem;margin:0 0 1rem}\
table{border-collapse:collapse;margin:.2rem 0}td,th{padding:.2rem .7rem;text-align:left;border-bottom:1px solid #eceef1}\
.state{display:inline-block;padding:.1rem .5rem;border-radius:4px;font-size:.85rem;color:#fff}\
.closed,.ok,.passed{background:#1f883d}.half_open,.expired{background:#bf8700}.open,.reauthorization_required,.failed{background:#cf222e}\
.muted{color:#656d76}svg{background:#fbfbfc;border:1px solid #eceef1}";

/// The page for `s`.
pub fn render(s: &StatusSnapshot) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <title>wharf status</title><style>{STYLE}</style></head><body>\
         <h1>wharf status</h1><p class=\"muted\">{} · refreshes every {REFRESH_SECONDS} s</p>",
        escape(&time_text(s.generated_at_ms))
    );
    for i in &s.integrations {
        integration_section(&mut h, i);
    }
    h.push_str("<section id=\"queues\"><h2>Queues</h2>");
    if s.queues.is_empty() && s.queue_errors.is_empty() {
        h.push_str("<p class=\"muted\">No queues shown.</p>");
    } else {
        h.push_str("<table><tr><th>queue</th><th>name</th><th>pending</th><th>in flight</th><th>dead letters</th><th>oldest waiting</th></tr>");
        for q in &s.queues {
            let _ = write!(
                h,
                "<tr class=\"queue\" data-queue=\"{}\" data-name=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                q.queue,
                escape(&q.name),
                q.queue,
                escape(&q.name),
                q.pending,
                q.in_flight,
                q.dead,
                q.oldest_age_seconds
                    .map_or_else(|| "–".to_owned(), |a| format!("{a:.0} s"))
            );
        }
        h.push_str("</table>");
        for e in &s.queue_errors {
            let _ = write!(h, "<p class=\"failed\">{}</p>", escape(e));
        }
    }
    h.push_str("</section><section id=\"credentials\"><h2>Credentials</h2>");
    if s.credentials.is_empty() {
        h.push_str("<p class=\"muted\">No credentials shown.</p>");
    } else {
        h.push_str("<table><tr><th>integration</th><th>subject</th><th>state</th><th>access token expires</th></tr>");
        for c in &s.credentials {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td><span class=\"state {}\">{}</span></td><td>{}</td></tr>",
                escape(&c.integration),
                escape(c.subject.as_deref().unwrap_or("–")),
                c.state,
                c.state.replace('_', " "),
                c.expires_at_ms.map_or_else(|| "–".to_owned(), time_text)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section></body></html>\n");
    h
}

fn integration_section(h: &mut String, i: &IntegrationStatus) {
    let name = escape(&i.name);
    let total: u64 = i.calls.values().sum();
    let _ = write!(
        h,
        "<section class=\"integration\" id=\"integration-{name}\"><h2>{name} \
         <span class=\"state breaker {b}\" data-breaker=\"{b}\">breaker {bt}</span></h2>\
         <table><tr><th>latency</th><td>p50 {} · p95 {} · p99 {}</td></tr>\
         <tr><th>error rate (breaker window)</th><td>{:.1}%</td></tr>\
         <tr><th>retry budget</th><td>{:.1} tokens</td></tr>\
         <tr><th>in flight</th><td>{}</td></tr>\
         <tr><th>rate-limit waits</th><td>{}</td></tr></table>",
        latency_text(i.p50_ms),
        latency_text(i.p95_ms),
        latency_text(i.p99_ms),
        i.error_rate * 100.0,
        i.retry_budget,
        i.in_flight,
        i.rate_limit_waits,
        b = i.breaker,
        bt = i.breaker.replace('_', "-"),
    );
    h.push_str("<h3>Calls by outcome</h3><table><tr>");
    for outcome in i.calls.keys() {
        let _ = write!(h, "<th>{}</th>", outcome.replace('_', " "));
    }
    h.push_str("</tr><tr>");
    for count in i.calls.values() {
        let share = if total == 0 {
            0.0
        } else {
            *count as f64 * 100.0 / total as f64
        };
        let _ = write!(h, "<td>{count} ({share:.1}%)</td>");
    }
    h.push_str("</tr></table><h3>Latency, last minutes</h3>");
    chart(h, &i.history);
    h.push_str("<h3>Health check</h3>");
    match &i.health_check {
        None => h.push_str("<p class=\"muted\">No scheduled check.</p>"),
        Some(c) => {
            let state = if c.passed { "passed" } else { "failed" };
            let _ = write!(
                h,
                "<p><span class=\"state {state}\" data-check=\"{state}\">{state}</span> {} at {} in {:.0} ms{}</p>",
                escape(&c.operation),
                escape(&time_text(c.at_ms)),
                c.latency_ms,
                c.error
                    .as_deref()
                    .map_or_else(String::new, |e| format!(": {}", escape(e)))
            );
        }
    }
    h.push_str("<h3>Breaker transitions</h3>");
    if i.breaker_transitions.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>");
    } else {
        h.push_str("<ul>");
        for t in i.breaker_transitions.iter().rev() {
            let _ = write!(
                h,
                "<li>{} {} → {}</li>",
                escape(&time_text(t.at_ms)),
                t.from,
                t.to
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("<h3>Contract drift</h3>");
    if i.drift.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>");
    } else {
        h.push_str("<table><tr><th>operation</th><th>drifted fields</th></tr>");
        for (op, n) in &i.drift {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(op));
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

/// An inline SVG line chart of p50, p95 and p99.
fn chart(h: &mut String, samples: &[LatencySample]) {
    const W: f64 = 600.0;
    const H: f64 = 120.0;
    let max = samples
        .iter()
        .flat_map(|s| [s.p50_ms, s.p95_ms, s.p99_ms])
        .flatten()
        .fold(0.0_f64, f64::max);
    if samples.is_empty() || max <= 0.0 {
        h.push_str("<p class=\"muted\">No calls measured yet.</p>");
        return;
    }
    let _ = write!(
        h,
        "<svg class=\"chart\" width=\"{W}\" height=\"{}\" viewBox=\"0 0 {W} {}\" role=\"img\" aria-label=\"latency\">",
        H + 20.0,
        H + 20.0
    );
    let step = if samples.len() > 1 {
        W / (samples.len() - 1) as f64
    } else {
        0.0
    };
    for (pick, color, label) in [
        (0usize, "#1f883d", "p50"),
        (1, "#bf8700", "p95"),
        (2, "#cf222e", "p99"),
    ] {
        let points: Vec<String> = samples
            .iter()
            .enumerate()
            .filter_map(|(n, s)| {
                let v = [s.p50_ms, s.p95_ms, s.p99_ms][pick]?;
                Some(format!(
                    "{:.1},{:.1}",
                    n as f64 * step,
                    H - v / max * (H - 10.0)
                ))
            })
            .collect();
        let _ = write!(
            h,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        // Each sample as a dot too, so a single one shows.
        for point in &points {
            if let Some((x, y)) = point.split_once(',') {
                let _ = write!(
                    h,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"2.5\" fill=\"{color}\"/>"
                );
            }
        }
        let _ = write!(
            h,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{color}\">{label}</text>",
            10 + pick * 40,
            H + 15.0
        );
    }
    let _ = write!(
        h,
        "<text x=\"{}\" y=\"12\" font-size=\"11\" fill=\"#656d76\" text-anchor=\"end\">{max:.1} ms</text></svg>",
        W - 4.0
    );
}

impl<B> tower_service::Service<Request<B>> for StatusPage {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    /// The page, or its JSON for a path ending in `.json`.
    fn call(&mut self, request: Request<B>) -> Self::Future {
        let page = self.clone();
        let json = request.uri().path().ends_with(".json");
        let method = request.method().clone();
        Box::pin(async move { Ok(page.respond(&method, json).await) })
    }
}

#[cfg(feature = "axum")]
impl StatusPage {
    /// An axum router with the page at `path` and its JSON at
    /// `path.json`: `app.merge(page.router("/status"))`.
    pub fn router(self, path: &str) -> axum::Router {
        axum::Router::new()
            .route_service(path, self.clone())
            .route_service(&format!("{path}.json"), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_outside_are_escaped() {
        let snapshot = StatusSnapshot {
            generated_at_ms: 0,
            integrations: Vec::new(),
            queues: vec![QueueStatus {
                queue: "inbox",
                name: "<script>alert(1)</script>".into(),
                pending: 1,
                in_flight: 0,
                dead: 0,
                oldest_age_seconds: None,
            }],
            queue_errors: vec!["inbox: \"db\" <down>".into()],
            credentials: Vec::new(),
        };
        let page = render(&snapshot);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;db&quot; &lt;down&gt;"));
    }
}
