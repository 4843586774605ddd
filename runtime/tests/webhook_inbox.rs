//! The webhook inbox on both backends, for real: a SQLite file and a
//! throwaway PostgreSQL server. Each scenario runs on each backend: what is
//! acknowledged is stored first, forgeries never are, redeliveries are
//! stored once, handlers' effects commit exactly once (also when a lease
//! runs out), failures retry and then wait in the dead-letter queue until
//! replayed. The worker's wall clock is a manual one, so due times and
//! leases move only when a test moves them.

mod common;
mod peers;

use bytes::Bytes;
use common::ManualWall;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use peers::postgres::Postgres;
use secrecy::SecretString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wharf_runtime::store::{
    Claim, PostgresStore, PostgresTx, ReplayFilter, SqliteStore, SqliteTx, Store, StoredEvent,
};
use wharf_runtime::webhooks::{
    Handler, HandlerError, Receipt, Receiver, RetrySchedule, Scheme, Verifier, Worker, WorkerConfig,
};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_dGhpcyBpcyBub3QgdGhlIHJpZ2h0IGtleSE=";

fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this test binary");
        snapshotter
    })
}

/// Counter totals so far: a snapshot drains the recorder, so what each
/// one held is added up here.
fn totals() -> &'static Mutex<Vec<(metrics::Key, u64)>> {
    static TOTALS: OnceLock<Mutex<Vec<(metrics::Key, u64)>>> = OnceLock::new();
    TOTALS.get_or_init(|| Mutex::new(Vec::new()))
}

/// A counter's value for `source` (each test uses sources of its own).
fn counter(name: &str, source: &str, outcome: Option<&str>) -> u64 {
    let mut totals = totals().lock().unwrap();
    for (key, _, _, value) in snapshotter().snapshot().into_vec() {
        if let DebugValue::Counter(n) = value {
            let key = key.key().clone();
            match totals.iter_mut().find(|(k, _)| *k == key) {
                Some((_, total)) => *total += n,
                None => totals.push((key, n)),
            }
        }
    }
    totals
        .iter()
        .filter(|(key, _)| {
            let labels: Vec<_> = key.labels().collect();
            key.name() == name
                && labels
                    .iter()
                    .any(|l| l.key() == "source" && l.value() == source)
                && outcome.is_none_or(|o| {
                    labels
                        .iter()
                        .any(|l| l.key() == "outcome" && l.value() == o)
                })
        })
        .map(|(_, n)| *n)
        .sum()
}

/// What a test payload asks of the handler.
#[derive(serde::Deserialize, Default)]
struct Ask {
    #[serde(default)]
    fail: u32,
    #[serde(default)]
    permanent: bool,
    #[serde(default)]
    always: bool,
    #[serde(default)]
    sleep_ms: u64,
}

/// Writes `effects(event_id, attempts)` in the event's transaction, after
/// failing as the payload asks. `heal` stops the `always` failures.
#[derive(Clone, Default)]
struct Effects {
    heal: Arc<AtomicBool>,
}

impl Effects {
    async fn check(&self, event: &StoredEvent) -> Result<(), HandlerError> {
        let ask: Ask = serde_json::from_slice(&event.body).unwrap_or_default();
        if ask.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(ask.sleep_ms)).await;
        }
        if ask.permanent {
            return Err(HandlerError::permanent(
                "cannot use this payload (token=sk_live_abcdefghijklmnopqrstuvwxyz)",
            ));
        }
        if ask.always && !self.heal.load(Ordering::SeqCst) {
            return Err(HandlerError::retry("downstream unavailable"));
        }
        if event.attempts <= ask.fail {
            return Err(HandlerError::retry(format!(
                "failing attempt {}",
                event.attempts
            )));
        }
        Ok(())
    }
}

impl Handler<SqliteStore> for Effects {
    async fn handle(&self, event: &StoredEvent, tx: &mut SqliteTx) -> Result<(), HandlerError> {
        self.check(event).await?;
        tx.connection()
            .await?
            .execute(
                "INSERT INTO effects (event_id, attempts) VALUES (?1, ?2)",
                (&event.event_id, event.attempts),
            )
            .map_err(HandlerError::retry)?;
        Ok(())
    }
}

impl Handler<PostgresStore> for Effects {
    async fn handle(&self, event: &StoredEvent, tx: &mut PostgresTx) -> Result<(), HandlerError> {
        self.check(event).await?;
        tx.client()
            .await?
            .execute(
                "INSERT INTO effects (event_id, attempts) VALUES ($1, $2)",
                &[&event.event_id, &i64::from(event.attempts)],
            )
            .await
            .map_err(HandlerError::retry)?;
        Ok(())
    }
}

/// A backend under test: its store, and the handler's table read back.
trait Backend: Store + Sized
where
    Effects: Handler<Self>,
{
    async fn effects(&self) -> Vec<(String, i64)>;
    /// Writes an effect in `tx` as a handler would.
    async fn write_effect(tx: &mut Self::Tx, event_id: &str);
}

struct SqliteBackend {
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    let mut bytes = [0u8; 8];
    getrandom(&mut bytes);
    let dir = std::env::temp_dir().join(format!(
        "wharf-inbox-{}-{}",
        std::process::id(),
        u64::from_le_bytes(bytes)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn getrandom(bytes: &mut [u8]) {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(bytes)
        .unwrap();
}

impl Backend for SqliteStore {
    async fn effects(&self) -> Vec<(String, i64)> {
        let conn = rusqlite::Connection::open(self.path()).unwrap();
        let mut statement = conn
            .prepare("SELECT event_id, attempts FROM effects ORDER BY id")
            .unwrap();
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    async fn write_effect(tx: &mut SqliteTx, event_id: &str) {
        tx.connection()
            .await
            .unwrap()
            .execute(
                "INSERT INTO effects (event_id, attempts) VALUES (?1, 0)",
                [event_id],
            )
            .unwrap();
    }
}

impl Backend for PostgresStore {
    async fn effects(&self) -> Vec<(String, i64)> {
        let mut tx = self.begin().await.unwrap();
        let rows = tx
            .client()
            .await
            .unwrap()
            .query("SELECT event_id, attempts FROM effects ORDER BY id", &[])
            .await
            .unwrap();
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    async fn write_effect(tx: &mut PostgresTx, event_id: &str) {
        tx.client()
            .await
            .unwrap()
            .execute(
                "INSERT INTO effects (event_id, attempts) VALUES ($1, 0)",
                &[&event_id],
            )
            .await
            .unwrap();
    }
}

async fn sqlite() -> (SqliteStore, SqliteBackend) {
    let dir = temp_dir();
    let path = dir.0.join("inbox.db");
    let store = SqliteStore::open(&path).await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE effects (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, attempts INTEGER NOT NULL)")
        .unwrap();
    (store, SqliteBackend { _dir: dir })
}

async fn postgres() -> (PostgresStore, Postgres) {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let store = PostgresStore::connect(&pg.config()).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.client()
        .await
        .unwrap()
        .batch_execute("CREATE TABLE effects (id bigserial PRIMARY KEY, event_id text NOT NULL, attempts bigint NOT NULL)")
        .await
        .unwrap();
    tx.client()
        .await
        .unwrap()
        .batch_execute("COMMIT")
        .await
        .unwrap();
    drop(tx);
    (store, pg)
}

fn verifier(secret: &str) -> Verifier {
    Verifier::new(Scheme::Standard, &[SecretString::from(secret.to_owned())]).unwrap()
}

/// A signed Standard Webhooks delivery of `body` as `id`, at `unix_s`.
fn delivery(secret: &str, id: &str, unix_s: i64, body: &str) -> Request<Full<Bytes>> {
    let signed = verifier(secret)
        .sign(body.as_bytes(), id, unix_s, None)
        .unwrap();
    let mut request = Request::post("/webhooks/test")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    for (name, value) in signed.headers {
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    request
}

/// A source name no other test uses (both backends run the same scenarios
/// at once, and the metrics are shared).
fn unique(name: &str) -> String {
    let mut bytes = [0u8; 4];
    getrandom(&mut bytes);
    format!("{name}-{:08x}", u32::from_le_bytes(bytes))
}

fn receiver<S: Store>(source: &str, store: &Arc<S>, wall: &Arc<ManualWall>) -> Receiver<S> {
    snapshotter();
    Receiver::builder(source, verifier(SECRET), Arc::clone(store))
        .clock(wall.clone())
        .max_body_bytes(4096)
        .read_timeout(Duration::from_millis(300))
        .build()
}

fn worker<S: Backend>(
    store: &Arc<S>,
    effects: Effects,
    wall: &Arc<ManualWall>,
) -> Worker<S, Effects>
where
    Effects: Handler<S>,
{
    Worker::new(Arc::clone(store), effects)
        .clock(wall.clone())
        .config(WorkerConfig {
            schedule: RetrySchedule::exponential(
                3,
                Duration::from_secs(10),
                Duration::from_secs(60),
            ),
            lease: Duration::from_secs(30),
            handler_timeout: Duration::from_secs(5),
            ..WorkerConfig::default()
        })
}

async fn pending<S: Store>(store: &S, source: &str) -> (u64, u64) {
    store
        .depth()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.source == source)
        .map_or((0, 0), |d| (d.pending, d.dead))
}

// ---------------------------------------------------------------------------

async fn acknowledges_only_what_it_stored<S: Backend>(store: S)
where
    Effects: Handler<S>,
{
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let now = wall.ms() / 1000;
    let src = unique("ack");
    let rx = receiver(&src, &store, &wall);

    let ok = rx
        .handle(delivery(SECRET, "msg_1", now, r#"{"n":1}"#))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(pending(&*store, &src).await, (1, 0));
    // A redelivery is acknowledged and not stored again.
    let again = rx
        .handle(delivery(SECRET, "msg_1", now, r#"{"n":1}"#))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(pending(&*store, &src).await, (1, 0));

    // Forged (another secret), stale and future deliveries: 401, never stored,
    // and the answer says nothing about why.
    for request in [
        delivery(OTHER_SECRET, "msg_2", now, r#"{"n":2}"#),
        delivery(SECRET, "msg_3", now - 301, r#"{"n":3}"#),
        delivery(SECRET, "msg_4", now + 301, r#"{"n":4}"#),
    ] {
        let response = rx.handle(request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"unauthorized");
    }
    // A tampered body under a valid signature.
    let mut tampered = delivery(SECRET, "msg_5", now, r#"{"n":5}"#);
    *tampered.body_mut() = Full::new(Bytes::from_static(br#"{"n":6}"#));
    assert_eq!(rx.handle(tampered).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(pending(&*store, &src).await, (1, 0));

    // Too large: declared, and streamed without a length.
    let big = "x".repeat(5000);
    let declared = delivery(SECRET, "msg_6", now, &big);
    let mut declared = declared;
    declared
        .headers_mut()
        .insert(http::header::CONTENT_LENGTH, "5000".parse().unwrap());
    assert_eq!(
        rx.handle(declared).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (parts, _) = delivery(SECRET, "msg_7", now, &big).into_parts();
    let chunks: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = (0..10)
        .map(|_| Ok(http_body::Frame::data(Bytes::from(vec![b'x'; 500]))))
        .collect();
    let streamed = Request::from_parts(parts, StreamBody::new(futures_util::stream::iter(chunks)));
    assert_eq!(
        rx.handle(streamed).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // A body that never finishes: 408 within the read timeout.
    let (parts, _) = delivery(SECRET, "msg_8", now, "{}").into_parts();
    let stalled =
        futures_util::stream::pending::<Result<http_body::Frame<Bytes>, std::io::Error>>();
    let started = std::time::Instant::now();
    let response = rx
        .handle(Request::from_parts(parts, StreamBody::new(stalled)))
        .await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(5));

    let get = Request::get("/webhooks/test")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(
        rx.handle(get).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(pending(&*store, &src).await, (1, 0));
    assert_eq!(
        counter("wharf_webhook_received_total", &src, Some("stored")),
        1
    );
    assert_eq!(
        counter("wharf_webhook_received_total", &src, Some("duplicate")),
        1
    );
    assert_eq!(
        counter("wharf_webhook_received_total", &src, Some("refused")),
        4
    );
    assert_eq!(
        counter("wharf_webhook_received_total", &src, Some("too_large")),
        2
    );
}

async fn racing_redeliveries_store_one_event<S: Backend>(store: S)
where
    Effects: Handler<S>,
{
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let now = wall.ms() / 1000;
    let src = unique("race");
    let rx = receiver(&src, &store, &wall);
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let rx = rx.clone();
        racing.spawn(async move {
            let request = delivery(SECRET, "msg_race", now, r#"{"n":1}"#);
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            rx.receive(&parts.headers, body, None).await
        });
    }
    let mut stored = 0;
    let mut duplicates = 0;
    while let Some(receipt) = racing.join_next().await {
        match receipt.unwrap() {
            Receipt::Stored { event_id } => {
                assert_eq!(event_id, "msg_race");
                stored += 1
            }
            Receipt::Duplicate { .. } => duplicates += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((stored, duplicates), (1, 39));
    assert_eq!(pending(&*store, &src).await, (1, 0));
}

async fn retries_then_dead_letters_then_replays<S: Backend>(store: S)
where
    Effects: Handler<S>,
{
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let now = wall.ms() / 1000;
    let src = unique("dlq");
    let rx = receiver(&src, &store, &wall);
    for (id, body) in [
        ("ok", r#"{}"#),
        ("flaky", r#"{"fail":2}"#),
        ("bad", r#"{"permanent":true}"#),
        ("down", r#"{"always":true}"#),
    ] {
        assert_eq!(
            rx.handle(delivery(SECRET, id, now, body)).await.status(),
            StatusCode::OK
        );
    }
    let effects = Effects::default();
    let w = worker(&store, effects.clone(), &wall);
    let first = w.run_once().await.unwrap();
    assert_eq!(
        (first.claimed, first.done, first.retried, first.dead),
        (4, 1, 2, 1)
    );
    // Not due yet: backoff puts the retries up to 10 s away.
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    wall.advance(Duration::from_secs(11));
    let second = w.run_once().await.unwrap();
    assert_eq!((second.claimed, second.retried), (2, 2));
    wall.advance(Duration::from_secs(21));
    let third = w.run_once().await.unwrap();
    // flaky's third attempt succeeds; down has used its 3 attempts.
    assert_eq!((third.claimed, third.done, third.dead), (2, 1, 1));
    wall.advance(Duration::from_secs(3600));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);

    let mut effects_seen = store.effects().await;
    effects_seen.sort();
    assert_eq!(
        effects_seen,
        vec![("flaky".to_owned(), 3), ("ok".to_owned(), 1)]
    );

    let dead = store
        .dead_letters(&ReplayFilter::default(), 10)
        .await
        .unwrap();
    let summary: Vec<_> = dead
        .iter()
        .map(|d| (d.event_id.as_str(), d.attempts))
        .collect();
    assert_eq!(summary, vec![("bad", 1), ("down", 3)]);
    assert_eq!(dead[1].last_error, "downstream unavailable");
    // The error is kept redacted: the token-like text the handler put in it is not.
    assert!(
        dead[0].last_error.starts_with("cannot use this payload"),
        "{}",
        dead[0].last_error
    );
    assert!(
        !dead[0].last_error.contains("sk_live"),
        "{}",
        dead[0].last_error
    );
    assert_eq!(&dead[1].body[..], br#"{"always":true}"#);
    assert_eq!(counter("wharf_webhook_dead_letters_total", &src, None), 2);
    assert_eq!(pending(&*store, &src).await, (0, 2));

    // Replay by time: nothing died after now, both died before.
    let later = ReplayFilter {
        since: Some(wall.ms() + 1),
        ..ReplayFilter::default()
    };
    assert_eq!(store.replay(&later, wall.ms()).await.unwrap(), 0);
    let by_source = ReplayFilter {
        source: Some("elsewhere".into()),
        ..ReplayFilter::default()
    };
    assert_eq!(store.replay(&by_source, wall.ms()).await.unwrap(), 0);
    // Replay one by id once the downstream is back: processed, exactly once.
    effects.heal.store(true, Ordering::SeqCst);
    let down = ReplayFilter {
        event_id: Some("down".into()),
        ..ReplayFilter::default()
    };
    assert_eq!(store.replay(&down, wall.ms()).await.unwrap(), 1);
    assert_eq!(pending(&*store, &src).await, (1, 1));
    let pass = w.run_once().await.unwrap();
    assert_eq!((pass.claimed, pass.done), (1, 1));
    let mut effects_seen = store.effects().await;
    effects_seen.sort();
    assert_eq!(
        effects_seen,
        vec![
            ("down".to_owned(), 1),
            ("flaky".to_owned(), 3),
            ("ok".to_owned(), 1)
        ]
    );
    // The permanent failure is still there until someone replays it.
    let dead = store
        .dead_letters(&ReplayFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_id, "bad");
    // A redelivery of a processed event does nothing more.
    let resent = delivery(SECRET, "ok", wall.ms() / 1000, "{}");
    assert_eq!(rx.handle(resent).await.status(), StatusCode::OK);
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert_eq!(store.effects().await.len(), 3);
}

async fn leases_hand_over_and_late_writes_roll_back<S: Backend>(store: S)
where
    Effects: Handler<S>,
{
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let now = wall.ms() / 1000;
    let src = unique("lease");
    let rx = receiver(&src, &store, &wall);
    assert_eq!(
        rx.handle(delivery(SECRET, "held", now, "{}"))
            .await
            .status(),
        StatusCode::OK
    );

    // A worker claims the event and then stops answering (a crash, a pause).
    let stuck = store
        .claim(Claim {
            now: wall.ms(),
            lease_ms: 30_000,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(stuck.len(), 1);
    let w = worker(&store, Effects::default(), &wall);
    // Still leased: nobody else takes it.
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    wall.advance(Duration::from_secs(31));
    let pass = w.run_once().await.unwrap();
    assert_eq!((pass.claimed, pass.done), (1, 1));
    assert_eq!(store.effects().await.len(), 1);

    // The stuck worker comes back and finishes: its lease is gone, so its
    // handler's writes are rolled back and the effect stays single.
    let mut tx = store.begin().await.unwrap();
    S::write_effect(&mut tx, "held").await;
    assert!(!store.complete(tx, &stuck[0], wall.ms()).await.unwrap());
    assert_eq!(store.effects().await, vec![("held".to_owned(), 2)]);
    assert_eq!(pending(&*store, &src).await, (0, 0));
}

async fn an_order_key_serializes_events<S: Backend>(store: S)
where
    Effects: Handler<S>,
{
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let now = wall.ms() / 1000;
    let rx = Receiver::builder("order", verifier(SECRET), Arc::clone(&store))
        .clock(wall.clone())
        .order_key(|_, body| {
            let value: serde_json::Value = serde_json::from_slice(body).ok()?;
            Some(value.get("customer")?.as_str()?.to_owned())
        })
        .build();
    for (id, body) in [
        ("a1", r#"{"customer":"a","fail":1}"#),
        ("a2", r#"{"customer":"a"}"#),
        ("b1", r#"{"customer":"b"}"#),
        ("a3", r#"{"customer":"a"}"#),
    ] {
        assert_eq!(
            rx.handle(delivery(SECRET, id, now, body)).await.status(),
            StatusCode::OK
        );
    }
    let w = worker(&store, Effects::default(), &wall);
    // Only the first of customer a's and b's: a1 fails, so a2 and a3 wait.
    let pass = w.run_once().await.unwrap();
    assert_eq!((pass.claimed, pass.done, pass.retried), (2, 1, 1));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    wall.advance(Duration::from_secs(11));
    assert_eq!(w.run_once().await.unwrap().done, 1);
    assert_eq!(w.run_once().await.unwrap().done, 1);
    assert_eq!(w.run_once().await.unwrap().done, 1);
    let order: Vec<String> = store
        .effects()
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, ["b1", "a1", "a2", "a3"]);
}

async fn a_slow_handler_times_out_as_a_failed_attempt<S: Backend>(store: S)
where
    Effects: Handler<S>,
{
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let now = wall.ms() / 1000;
    let src = unique("slow");
    let rx = receiver(&src, &store, &wall);
    assert_eq!(
        rx.handle(delivery(SECRET, "slow", now, r#"{"sleep_ms":60000}"#))
            .await
            .status(),
        StatusCode::OK
    );
    let w = Worker::new(Arc::clone(&store), Effects::default())
        .clock(wall.clone())
        .config(WorkerConfig {
            handler_timeout: Duration::from_millis(200),
            ..WorkerConfig::default()
        });
    let started = std::time::Instant::now();
    let pass = w.run_once().await.unwrap();
    assert_eq!((pass.claimed, pass.retried), (1, 1));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(store.effects().await.is_empty());
}

// ---------------------------------------------------------------------------

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod on_sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let (store, _guard) = sqlite().await;
                    super::$scenario(store).await;
                }
            )*
        }
        mod on_postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let (store, _guard) = postgres().await;
                    super::$scenario(store).await;
                }
            )*
        }
    };
}

on_both_backends!(
    acknowledges_only_what_it_stored,
    racing_redeliveries_store_one_event,
    retries_then_dead_letters_then_replays,
    leases_hand_over_and_late_writes_roll_back,
    an_order_key_serializes_events,
    a_slow_handler_times_out_as_a_failed_attempt,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_fails_gets_503_so_the_provider_redelivers() {
    let (store, pg) = postgres().await;
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let rx = receiver("down", &store, &wall);
    drop(pg);
    let response = rx
        .handle(delivery(SECRET, "lost?", wall.ms() / 1000, "{}"))
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[http::header::RETRY_AFTER], "1");
    assert_eq!(
        counter("wharf_webhook_received_total", "down", Some("store_failed")),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_unverified_requests_get_503() {
    let (store, _guard) = sqlite().await;
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let rx = Receiver::builder("busy", verifier(SECRET), Arc::clone(&store))
        .clock(wall.clone())
        .max_unverified(1)
        .read_timeout(Duration::from_secs(2))
        .build();
    let (parts, _) = delivery(SECRET, "slowloris", wall.ms() / 1000, "{}").into_parts();
    let stalled =
        futures_util::stream::pending::<Result<http_body::Frame<Bytes>, std::io::Error>>();
    let holder = {
        let rx = rx.clone();
        tokio::spawn(async move {
            rx.handle(Request::from_parts(parts, StreamBody::new(stalled)))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = rx
        .handle(delivery(SECRET, "next", wall.ms() / 1000, "{}"))
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(holder.await.unwrap().status(), StatusCode::REQUEST_TIMEOUT);
    // The slot is free again.
    let response = rx
        .handle(delivery(SECRET, "next", wall.ms() / 1000, "{}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_router_mounts_the_receiver_in_one_line() {
    use tower::ServiceExt;
    let (store, _guard) = sqlite().await;
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let app = axum::Router::new().merge(receiver("axum", &store, &wall).router("/webhooks/test"));
    let (parts, body) = delivery(SECRET, "via-axum", wall.ms() / 1000, "{}").into_parts();
    let request = Request::from_parts(parts, axum::body::Body::new(body));
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(pending(&*store, "axum").await, (1, 0));
    let get = Request::get("/webhooks/test")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(
        app.oneshot(get).await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hyper_server_serves_the_receiver_as_a_tower_service() {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (store, _guard) = sqlite().await;
    let store = Arc::new(store);
    let wall = ManualWall::new();
    let service = TowerToHyperService::new(receiver("hyper", &store, &wall));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    });
    let body = r#"{"n":1}"#;
    let signed = verifier(SECRET)
        .sign(body.as_bytes(), "via-hyper", wall.ms() / 1000, None)
        .unwrap();
    let mut request = format!(
        "POST /webhooks/test HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in signed.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(pending(&*store, "hyper").await, (1, 0));
}

#[test]
fn headers_that_sign_are_not_stored() {
    // Checked through the stored event a worker sees.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (store, _guard) = sqlite().await;
        let store = Arc::new(store);
        let wall = ManualWall::new();
        let rx = receiver("headers", &store, &wall);
        let mut request = delivery(SECRET, "h1", wall.ms() / 1000, "{}");
        request
            .headers_mut()
            .insert("x-github-event", "issues".parse().unwrap());
        request
            .headers_mut()
            .insert("authorization", "Bearer sekrit".parse().unwrap());
        assert_eq!(rx.handle(request).await.status(), StatusCode::OK);
        let claimed = store
            .claim(Claim {
                now: wall.ms(),
                lease_ms: 1000,
                limit: 1,
            })
            .await
            .unwrap();
        let event = &claimed[0];
        assert_eq!(event.header("X-GitHub-Event"), Some("issues"));
        assert_eq!(event.header("webhook-id"), Some("h1"));
        assert_eq!(event.header("webhook-signature"), None);
        assert_eq!(event.header("authorization"), None);
    });
}
