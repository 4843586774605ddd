//! Queueing in an app's sqlx transaction, on both stores: rolled back, the
//! message is not queued; committed with the app's own row, a sender
//! delivers it once; the same id queued twice is stored once.

#[path = "peers/postgres.rs"]
mod postgres;

use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_runtime::call::AddressGuard;
use wharf_runtime::store::sqlx::{self, Connection};
use wharf_runtime::store::{
    enqueue_in_sqlx_postgres, enqueue_in_sqlx_sqlite, Inserted, NewMessage, OutboxStore,
    PostgresStore, SqliteStore,
};
use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, Seen};
use wharf_runtime::webhooks::{RetrySchedule, Sender, SenderConfig};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn message(n: u32) -> NewMessage {
    NewMessage::new(
        "acme",
        "order.created",
        format!("{{\"order\":{n}}}"),
        now_ms(),
    )
    .unwrap()
}

/// Delivers what `store` holds to a loopback endpoint; returns the
/// requests the endpoint saw.
async fn deliver<S: OutboxStore + 'static>(store: Arc<S>) -> usize {
    let server = FaultServer::new(|_: &Seen| Fault::ok());
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let sender = Sender::new(
        store,
        SenderConfig {
            schedule: RetrySchedule::delays(vec![Duration::ZERO; 3]),
            guard: AddressGuard::public_and_loopback(),
            allow_plain_http_loopback: true,
            poll_interval: Duration::from_millis(5),
            ..SenderConfig::default()
        },
    );
    sender
        .register("acme", &http.url("/hook"), &[SecretString::from(SECRET)])
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), sender.run_until_idle())
        .await
        .expect("the sender finishes")
        .unwrap();
    server.log().requests.len()
}

/// The pending count `store` reports for the endpoint.
async fn pending<S: OutboxStore>(store: &S) -> u64 {
    let status = store.outbox_status().await.unwrap();
    status.iter().map(|q| q.pending).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_transactions_of_sqlx_queue_on_commit_only() {
    let dir = std::env::temp_dir().join(format!("wharf-sqlx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();

    let mut tx = conn.begin().await.unwrap();
    let dropped = message(1);
    assert!(matches!(
        enqueue_in_sqlx_sqlite(&mut *tx, &dropped).await.unwrap(),
        Inserted::Stored(_)
    ));
    tx.rollback().await.unwrap();
    assert_eq!(pending(&*store).await, 0, "rolled back: nothing queued");

    let mut tx = conn.begin().await.unwrap();
    sqlx::query("INSERT INTO orders (id) VALUES (2)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let kept = message(2);
    enqueue_in_sqlx_sqlite(&mut *tx, &kept).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        enqueue_in_sqlx_sqlite(&mut conn, &kept).await.unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(pending(&*store).await, 1);

    assert_eq!(deliver(Arc::clone(&store)).await, 1);
    let log = store.delivery_log(&kept.message_id).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, Some(200));
    assert!(store
        .delivery_log(&dropped.message_id)
        .await
        .unwrap()
        .is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_transactions_of_sqlx_queue_on_commit_only() {
    let pg = tokio::task::spawn_blocking(postgres::Postgres::start)
        .await
        .unwrap();
    let store = Arc::new(PostgresStore::connect(&pg.config()).await.unwrap());
    let url = format!("postgres://wharf@127.0.0.1:{}/postgres", pg.port);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE orders (id bigint PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();

    let mut tx = conn.begin().await.unwrap();
    let dropped = message(1);
    enqueue_in_sqlx_postgres(&mut *tx, &dropped).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(pending(&*store).await, 0, "rolled back: nothing queued");

    let mut tx = conn.begin().await.unwrap();
    sqlx::query("INSERT INTO orders (id) VALUES (2)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let kept = message(2);
    assert!(matches!(
        enqueue_in_sqlx_postgres(&mut *tx, &kept).await.unwrap(),
        Inserted::Stored(_)
    ));
    // Not visible to the sender before the commit.
    assert_eq!(pending(&*store).await, 0);
    tx.commit().await.unwrap();
    assert_eq!(
        enqueue_in_sqlx_postgres(&mut conn, &kept).await.unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(pending(&*store).await, 1);

    assert_eq!(deliver(Arc::clone(&store)).await, 1);
    let log = store.delivery_log(&kept.message_id).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, Some(200));
    assert!(store
        .delivery_log(&dropped.message_id)
        .await
        .unwrap()
        .is_empty());
}
