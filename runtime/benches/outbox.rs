//! Outbound webhooks and queued calls under load:
//! `cargo bench -p wharf-runtime --bench outbox`.
//!
//! Messages enqueued in one transaction, then delivered by one sender to a
//! local HTTP endpoint (axum on loopback, answering 200 at once): each
//! delivery signed, sent through the request path (breaker, deadline),
//! logged and recorded in the store. Prints delivered messages per second
//! on SQLite and PostgreSQL (a throwaway server, `fsync` off as in the
//! tests), three rounds each, and the ratio of each to a baseline: the same
//! signed POSTs sent by a bare reqwest client with the same concurrency,
//! no store. Then the relay: 3,000 queued calls (a POST with a JSON body,
//! each with its row id as the idempotency key) sent through an
//! integration's request path to the same endpoint: calls per second on
//! each store.

#[path = "../tests/peers/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use bytes::Bytes;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wharf_runtime::call::{
    AddressGuard, Integration, IntegrationConfig, OperationMeta, ReqwestTransport,
};
use wharf_runtime::client::QueuedCall;
use wharf_runtime::relay::{Relay, RelayConfig};
use wharf_runtime::store::{NewMessage, OutboxStore, PostgresStore, SqliteStore};
use wharf_runtime::webhooks::{RetrySchedule, Scheme, Sender, SenderConfig, Verifier};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MESSAGES: usize = 3000;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn body(n: usize) -> String {
    format!(r#"{{"type":"invoice.paid","data":{{"n":{n},"amount":4200,"currency":"eur"}}}}"#)
}

async fn endpoint() -> String {
    let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/hook")
}

/// Signed POSTs from a bare client, `CONCURRENCY` at a time: the floor.
async fn baseline(url: &str) -> f64 {
    let client = reqwest::Client::new();
    let verifier =
        Verifier::new(Scheme::Standard, &[SecretString::from(SECRET.to_owned())]).expect("secret");
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, next, url) = (client.clone(), Arc::clone(&next), url.to_owned());
        let verifier = Verifier::new(Scheme::Standard, &[SecretString::from(SECRET.to_owned())])
            .expect("secret");
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= MESSAGES {
                    return;
                }
                let body = Bytes::from(body(n));
                let signed = verifier
                    .sign(&body, &format!("msg_{n}"), now_ms() / 1000, None)
                    .expect("sign");
                let mut request = client.post(&url).body(body);
                for (name, value) in signed.headers {
                    request = request.header(name, value);
                }
                let response = request.send().await.expect("send");
                assert!(response.status().is_success());
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    drop(verifier);
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

async fn deliver<S: OutboxStore>(store: Arc<S>, url: &str) -> f64 {
    let sender = Sender::new(
        Arc::clone(&store),
        SenderConfig {
            schedule: RetrySchedule::delays(vec![std::time::Duration::ZERO]),
            guard: AddressGuard::public_and_loopback(),
            allow_plain_http_loopback: true,
            batch: 64,
            concurrency: CONCURRENCY,
            ..SenderConfig::default()
        },
    );
    sender
        .register("bench", url, &[SecretString::from(SECRET.to_owned())])
        .await
        .expect("register");
    let now = now_ms();
    for n in 0..MESSAGES {
        let message = NewMessage::new("bench", "invoice.paid", body(n), now).expect("id");
        store.enqueue(message).await.expect("enqueue");
    }
    let started = Instant::now();
    sender.run_until_idle().await.expect("deliver");
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

/// Queued calls relayed through an integration: calls per second.
async fn relay<S: OutboxStore>(store: Arc<S>, url: &str) -> f64 {
    static OPERATIONS: std::sync::OnceLock<&'static [&'static OperationMeta]> =
        std::sync::OnceLock::new();
    let operations = *OPERATIONS.get_or_init(|| {
        let op: &'static OperationMeta = Box::leak(Box::new(OperationMeta::new(
            "createInvoice",
            http::Method::POST,
            "/hook",
        )));
        Box::leak(vec![op].into_boxed_slice())
    });
    let transport = ReqwestTransport::builder()
        .allow_plain_http_loopback(true)
        .build()
        .expect("transport");
    let integration = Integration::builder("billing")
        .config(IntegrationConfig::default())
        .transport(Arc::new(transport))
        .build()
        .expect("integration");
    let relay = Relay::new(
        Arc::clone(&store),
        RelayConfig {
            batch: 64,
            concurrency: CONCURRENCY,
            ..RelayConfig::default()
        },
    );
    relay.register(integration, operations);
    let now = now_ms();
    for n in 0..MESSAGES {
        use base64::Engine as _;
        let call = QueuedCall {
            integration: "billing".into(),
            operation: "createInvoice".into(),
            url: url.to_owned(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: base64::engine::general_purpose::STANDARD.encode(body(n)),
            timeout_ms: None,
        };
        let message = NewMessage::call(&call, now).expect("id");
        store.enqueue(message).await.expect("enqueue");
    }
    let started = Instant::now();
    relay.run_until_idle().await.expect("relay");
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pg = postgres::Postgres::start();
    runtime.block_on(async {
        let url = endpoint().await;
        let dir = std::env::temp_dir().join(format!("wharf-outbox-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        println!(
            "{MESSAGES} messages per round, {CONCURRENCY} in flight, {ROUNDS} interleaved rounds"
        );
        let (mut base, mut sqlite, mut postgres) = (Vec::new(), Vec::new(), Vec::new());
        let (mut relay_sqlite, mut relay_postgres) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            base.push(baseline(&url).await);
            let store = Arc::new(
                SqliteStore::open(dir.join(format!("outbox-{round}.db")))
                    .await
                    .expect("sqlite"),
            );
            sqlite.push(deliver(store, &url).await);
            let store = Arc::new(
                PostgresStore::connect(&pg.config())
                    .await
                    .expect("postgres"),
            );
            postgres.push(deliver(store, &url).await);
            let store = Arc::new(
                SqliteStore::open(dir.join(format!("calls-{round}.db")))
                    .await
                    .expect("sqlite"),
            );
            relay_sqlite.push(relay(store, &url).await);
            let store = Arc::new(
                PostgresStore::connect(&pg.config())
                    .await
                    .expect("postgres"),
            );
            relay_postgres.push(relay(store, &url).await);
        }
        let mut sorted = base.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        for (name, rates) in [
            ("baseline", &base),
            ("sqlite", &sqlite),
            ("postgres", &postgres),
        ] {
            for rate in rates {
                println!(
                    "{name:<10} {rate:>8.0} messages/s  {:.2}x of baseline",
                    rate / median
                );
            }
        }
        for (name, rates) in [
            ("relay sqlite", &relay_sqlite),
            ("relay postgres", &relay_postgres),
        ] {
            for rate in rates {
                println!(
                    "{name:<15} {rate:>8.0} calls/s  {:.2}x of baseline",
                    rate / median
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}
