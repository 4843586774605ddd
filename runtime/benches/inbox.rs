//! The webhook inbox under load: `cargo bench -p wharf-runtime --bench inbox`.
//!
//! Signed Standard Webhooks deliveries over real HTTP (axum on loopback, a
//! keep-alive client with 32 in flight), while a worker processes what is
//! stored. Prints acknowledged events per second and the p50/p99 time from
//! sending a delivery to its 2xx, for three servers in the same run: a
//! baseline that reads and verifies but stores nothing, the SQLite store
//! (WAL, `synchronous=FULL`, group commit) and PostgreSQL (a throwaway
//! server, as the tests start one), and each store's ratio to the baseline.
//! Goals on a 2-core machine: >= 1,000 events/s and p99 < 50 ms per store.

#[path = "../tests/peers/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use bytes::Bytes;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wharf_runtime::store::{PostgresStore, SqliteStore, Store, StoredEvent};
use wharf_runtime::webhooks::{
    Delivery, Handler, HandlerError, Receiver, Scheme, Verifier, Worker,
};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const EVENTS: usize = 6000;
const IN_FLIGHT: usize = 32;
const ROUNDS: usize = 3;

fn verifier() -> Verifier {
    Verifier::new(Scheme::Standard, &[SecretString::from(SECRET.to_owned())]).expect("secret")
}

/// Marks events done and writes nothing else.
struct Done;

impl<S: Store> Handler<S> for Done {
    async fn handle(&self, _: &StoredEvent, _: &mut S::Tx) -> Result<(), HandlerError> {
        Ok(())
    }
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Deliveries signed ahead, so the client spends its time sending.
fn deliveries(round: usize) -> Vec<(Vec<(&'static str, String)>, Bytes)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let verifier = verifier();
    (0..EVENTS)
        .map(|i| {
            let body = Bytes::from(format!(
                r#"{{"type":"invoice.paid","data":{{"n":{i},"amount":4200,"currency":"eur"}}}}"#
            ));
            let id = format!("msg_{round}_{i}");
            let signed = verifier.sign(&body, &id, now, None).expect("sign");
            (signed.headers, body)
        })
        .collect()
}

async fn load(url: &str, round: usize) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .expect("client");
    let work = Arc::new(std::sync::Mutex::new(deliveries(round)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (client, work, url) = (client.clone(), Arc::clone(&work), url.to_owned());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some((headers, body)) = work.lock().ok().and_then(|mut w| w.pop()) else {
                    return latencies;
                };
                let mut request = client.post(&url).body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let sent = Instant::now();
                let response = request.send().await.expect("send");
                assert_eq!(response.status(), 200, "delivery refused");
                latencies.push(sent.elapsed());
            }
        });
    }
    let mut latencies = Vec::with_capacity(EVENTS);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.expect("sender"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        per_second: EVENTS as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/hooks")
}

/// Reads and verifies, stores nothing: what the inbox adds is the rest.
fn baseline() -> axum::Router {
    let verifier = Arc::new(verifier());
    axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: http::HeaderMap, body: Bytes| {
            let verifier = Arc::clone(&verifier);
            async move {
                let delivery = Delivery {
                    headers: &headers,
                    body: &body,
                    url: None,
                };
                match verifier.verify(&delivery, SystemTime::now()) {
                    Ok(_) => http::StatusCode::OK,
                    Err(_) => http::StatusCode::UNAUTHORIZED,
                }
            }
        }),
    )
}

async fn inbox<S: Store>(store: S) -> String {
    let store = Arc::new(store);
    let worker = Worker::new(Arc::clone(&store), Done);
    let receiver = Receiver::builder("bench", verifier(), store)
        .wake(worker.waker())
        .build();
    tokio::spawn(async move { worker.run(std::future::pending()).await });
    serve(receiver.router("/hooks")).await
}

fn print(name: &str, figures: &[Figures], baseline: Option<f64>) {
    for f in figures {
        let ratio = baseline.map_or(String::new(), |b| {
            format!("  {:.2}x of baseline", f.per_second / b)
        });
        println!(
            "{name:<10} {:>8.0} events/s  p50 {:>6.2} ms  p99 {:>6.2} ms{ratio}",
            f.per_second,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3
        );
    }
}

fn median(figures: &[Figures]) -> f64 {
    let mut rates: Vec<f64> = figures.iter().map(|f| f.per_second).collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    // reqwest is built without a default crypto provider (plain HTTP here,
    // but the client wants one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pg = postgres::Postgres::start();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("wharf-inbox-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let baseline_url = serve(baseline()).await;
        let sqlite_url = inbox(SqliteStore::open(dir.join("inbox.db")).await.expect("sqlite")).await;
        let pg_url = inbox(PostgresStore::connect(&pg.config()).await.expect("postgres")).await;
        println!("{EVENTS} signed deliveries per round, {IN_FLIGHT} in flight, {ROUNDS} interleaved rounds");
        let (mut base, mut sqlite, mut pg) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            base.push(load(&baseline_url, round).await);
            sqlite.push(load(&sqlite_url, round).await);
            pg.push(load(&pg_url, round).await);
        }
        let b = median(&base);
        print("baseline", &base, None);
        print("sqlite", &sqlite, Some(b));
        print("postgres", &pg, Some(b));
        let _ = std::fs::remove_dir_all(&dir);
    });
}
