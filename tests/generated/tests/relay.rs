//! Queued calls of a generated operation: captured instead of sent,
//! enqueued in the app's own transaction, and sent later by relays
//! through the request path with the outbox row's id as the idempotency
//! key. The provider is the fault server, which honours keys and here
//! also commits some calls and then drops the connection; three relay
//! processes on one PostgreSQL share 10,000 calls while one of them is
//! SIGKILLed in the middle: every call takes effect once.

#[path = "../../../runtime/tests/peers/postgres.rs"]
#[allow(dead_code)] // shared with the runtime's tests, which use all of it
mod postgres;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wharf::call::Integration;
use wharf::client::{capture, CallSettings, CaptureError};
use wharf::relay::Relay;
use wharf::store::{
    enqueue_in_postgres, enqueue_in_sqlite, NewMessage, OutboxStore, PostgresStore, SqliteStore,
};
use wharf::testing::{Fault, FaultHttpServer, FaultServer, FaultTransport, Seen};
use wharf::time::TokioClock;
use wharf_generated_tests::{bodies, relay_settings};

const BASE: &str = "https://api.example.test";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn integration(server: &Arc<FaultServer>) -> Integration {
    Integration::builder("widgets")
        .config(relay_settings::integration_config())
        .transport(Arc::new(FaultTransport::new(
            server.clone(),
            Arc::new(TokioClock),
        )))
        .build()
        .unwrap()
}

fn widget(n: i64) -> bodies::Widget {
    bodies::Widget {
        name: format!("w{n}"),
        size: Some(n),
        tags: None,
        attributes: None,
    }
}

async fn queued(client: &bodies::Client, n: i64) -> wharf::client::QueuedCall {
    let w = widget(n);
    capture(client, |c| async move {
        c.create_widget(&w, Default::default()).await
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_call_is_sent_once_with_its_row_id_as_the_key() {
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index == 0 {
            // Committed, then the connection drops: the relay must retry
            // with the same key.
            Fault::Reset { processed: true }
        } else {
            Fault::status(201)
        }
    });
    let client = bodies::Client::new(integration(&server), BASE);
    let call = queued(&client, 7).await;
    assert_eq!(
        (call.integration.as_str(), call.operation.as_str()),
        ("widgets", "createWidget")
    );
    assert_eq!(call.url, format!("{BASE}/widgets"));
    assert!(call
        .headers
        .iter()
        .any(|(n, v)| n == "content-type" && v == "application/json"));
    assert!(server.log().requests.is_empty(), "capturing sends nothing");

    // A credential in the call's headers would be stored: refused.
    let w = widget(1);
    let mut settings = CallSettings::default();
    settings
        .headers
        .insert("authorization", "Bearer sk_live_abc".parse().unwrap());
    let options = bodies::CreateWidgetOptions { call: settings };
    let refused = capture(
        &client,
        |c| async move { c.create_widget(&w, options).await },
    )
    .await;
    assert_eq!(
        refused,
        Err(CaptureError::SecretHeader("authorization".into()))
    );

    let dir = std::env::temp_dir().join(format!("wharf-relay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("outbox.db")).await.unwrap());
    let mut conn = rusqlite::Connection::open(store.path()).unwrap();
    // Rolled back: nothing queued.
    let tx = conn.transaction().unwrap();
    enqueue_in_sqlite(&tx, &NewMessage::call(&call, now_ms()).unwrap()).unwrap();
    tx.rollback().unwrap();
    // Committed with the app's own row.
    let tx = conn.transaction().unwrap();
    tx.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1)")
        .unwrap();
    let message = NewMessage::call(&call, now_ms()).unwrap();
    enqueue_in_sqlite(&tx, &message).unwrap();
    tx.commit().unwrap();

    let relay = Relay::new(Arc::clone(&store), relay_settings::relay_config());
    relay.register(integration(&server), bodies::operations::ALL);
    relay.run_until_idle().await.unwrap();
    let log = server.log();
    let keys: Vec<_> = log
        .requests
        .iter()
        .map(|r| r.idempotency_key.clone())
        .collect();
    assert_eq!(
        keys,
        [
            Some(message.message_id.clone()),
            Some(message.message_id.clone())
        ]
    );
    assert_eq!(log.effects(), 1, "one effect: the retry reused the key");
    let attempts = store.delivery_log(&message.message_id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].status, Some(201));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits for `child` to exit, at most `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Kills the relay processes still running when the test ends (also when
/// it fails).
struct Relays(Vec<Child>);

impl Drop for Relays {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_relay_processes_on_one_postgres_apply_each_call_once() {
    const CALLS: i64 = 10_000;
    let pg = tokio::task::spawn_blocking(postgres::Postgres::start)
        .await
        .unwrap();
    // Every seventh request commits and then drops the connection.
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index % 7 == 3 {
            Fault::Reset { processed: true }
        } else {
            Fault::status(201)
        }
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    // The calls are captured against the server's loopback address; the
    // relays send them there.
    let client = bodies::Client::new(integration(&server), http.url(""));
    let (mut db, connection) = tokio_postgres::connect(&pg.config(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let store = PostgresStore::connect(&pg.config()).await.unwrap();
    let mut ids = std::collections::BTreeSet::new();
    let tx = db.transaction().await.unwrap();
    for n in 0..CALLS {
        let message = NewMessage::call(&queued(&client, n).await, now_ms()).unwrap();
        ids.insert(message.message_id.clone());
        enqueue_in_postgres(&tx, &message).await.unwrap();
    }
    tx.commit().await.unwrap();

    let binary = env!("CARGO_BIN_EXE_wharf-test-relay");
    let mut relays = Relays(
        (0..3)
            .map(|_| {
                Command::new(binary)
                    .arg(pg.config())
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    // The first relay is SIGKILLed a little way in: what it had claimed
    // waits for its lease, then another relay takes it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.log().requests.len() < 1_500 {
        assert!(Instant::now() < deadline, "the relays sent nothing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    relays.0[0].kill().unwrap();
    relays.0[0].wait().unwrap();
    let sent_before = server.log().requests.len();
    let status = store.outbox_status().await.unwrap();
    let left: u64 = status.iter().map(|q| q.pending + q.in_flight).sum();
    eprintln!("killed one relay after {sent_before} requests, {left} calls left");
    assert!(left > 0, "killed mid-stream, not after the work was done");
    for survivor in &mut relays.0[1..] {
        let exit = tokio::task::block_in_place(|| wait_at_most(survivor, Duration::from_secs(300)));
        assert_eq!(exit.map(|e| e.success()), Some(true), "a relay failed");
    }

    let log = server.log();
    assert!(log.unkeyed_effects == 0, "every call carried its key");
    assert_eq!(log.effects(), CALLS as usize, "each call took effect once");
    let keys: std::collections::BTreeSet<String> = log.effects_by_key.keys().cloned().collect();
    assert_eq!(keys, ids, "no call lost, none invented");
    let status = store.outbox_status().await.unwrap();
    assert!(status.is_empty(), "{status:?}");
    let dead = store
        .dead_messages(&wharf::store::ReplayFilter::default(), 10)
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
}
