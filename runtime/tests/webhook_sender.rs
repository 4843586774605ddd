//! Outbound webhooks against a real HTTP server on loopback (the scripted
//! fault server) and a real SQLite outbox. The sender's wall clock is a
//! manual one, so the schedule's due times move only when a test moves
//! them; what the server answers is scripted per request.

mod common;
mod peers;

use common::ManualWall;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_runtime::call::AddressGuard;
use wharf_runtime::policy::breaker::BreakerConfig;
use wharf_runtime::store::{
    enqueue_in_postgres, enqueue_in_sqlite, NewMessage, OutboxStore, PostgresStore, ReplayFilter,
    SqliteStore,
};
use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, Seen};
use wharf_runtime::webhooks::{RegisterError, RetrySchedule, Sender, SenderConfig};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Fixture {
    store: Arc<SqliteStore>,
    sender: Sender<SqliteStore>,
    wall: Arc<ManualWall>,
    _http: FaultHttpServer,
    server: Arc<FaultServer>,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn seconds(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|s| Duration::from_secs(*s)).collect()
}

async fn fixture(
    script: impl Fn(&Seen) -> Fault + Send + Sync + 'static,
    config: SenderConfig,
) -> Fixture {
    let dir = std::env::temp_dir().join(format!(
        "wharf-sender-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("outbox.db")).await.unwrap());
    let server = FaultServer::new(script);
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let wall = ManualWall::new();
    let sender = Sender::new(
        Arc::clone(&store),
        SenderConfig {
            guard: AddressGuard::public_and_loopback(),
            allow_plain_http_loopback: true,
            attempt_timeout: Duration::from_secs(5),
            ..config
        },
    )
    .clock(wall.clone());
    sender
        .register(
            "acme",
            &http.url("/hook"),
            &[SecretString::from(SECRET.to_owned())],
        )
        .await
        .unwrap();
    Fixture {
        store,
        sender,
        wall,
        _http: http,
        server,
        dir,
    }
}

fn schedule(list: &[u64]) -> SenderConfig {
    SenderConfig {
        schedule: RetrySchedule::delays(seconds(list)),
        ..SenderConfig::default()
    }
}

#[tokio::test]
async fn retries_follow_the_schedule_with_one_id_and_every_attempt_is_logged() {
    let f = fixture(
        |seen: &Seen| {
            if seen.index < 2 {
                Fault::status(503)
            } else {
                Fault::ok()
            }
        },
        schedule(&[0, 1, 1, 1]),
    )
    .await;
    let id = f
        .sender
        .enqueue("acme", "invoice.paid", r#"{"n":1}"#)
        .await
        .unwrap();
    let pass = f.sender.send_once().await.unwrap();
    assert_eq!((pass.claimed, pass.retried), (1, 1));
    // Not due before the schedule says.
    assert_eq!(f.sender.send_once().await.unwrap().claimed, 0);
    f.wall.advance(Duration::from_secs(1));
    assert_eq!(f.sender.send_once().await.unwrap().retried, 1);
    f.wall.advance(Duration::from_secs(1));
    assert_eq!(f.sender.send_once().await.unwrap().delivered, 1);
    let log = f.sender.delivery_log(&id).await.unwrap();
    let statuses: Vec<_> = log.iter().map(|a| (a.attempt, a.status)).collect();
    assert_eq!(statuses, [(1, Some(503)), (2, Some(503)), (3, Some(200))]);
    assert!(log[0].error.as_deref().is_some_and(|e| e.contains("503")));
    assert_eq!(f.server.log().requests.len(), 3);
    let status = f.store.outbox_status().await.unwrap();
    assert!(
        status.iter().all(|q| q.pending + q.in_flight + q.dead == 0),
        "{status:?}"
    );
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_its_later_messages_are_not_sent() {
    let f = fixture(|_: &Seen| Fault::status(410), schedule(&[0, 1, 1])).await;
    f.sender.enqueue("acme", "a", "{}").await.unwrap();
    assert_eq!(f.sender.send_once().await.unwrap().dead, 1);
    let state = f.store.endpoint_state("acme").await.unwrap();
    assert!(state.disabled_at.is_some());
    assert_eq!(
        state.disabled_reason.as_deref(),
        Some("the endpoint answered 410 Gone")
    );
    f.sender.enqueue("acme", "b", "{}").await.unwrap();
    assert_eq!(f.sender.send_once().await.unwrap().dead, 1);
    assert_eq!(
        f.server.log().requests.len(),
        1,
        "a disabled endpoint is not called"
    );
    let dead = f
        .store
        .dead_messages(&ReplayFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 2);
    assert!(
        dead[1].last_error.contains("endpoint disabled"),
        "{}",
        dead[1].last_error
    );
    // Re-enabled and replayed: delivered... to an endpoint that still says 410.
    f.sender.enable("acme").await.unwrap();
    assert!(f
        .store
        .endpoint_state("acme")
        .await
        .unwrap()
        .disabled_at
        .is_none());
}

#[tokio::test]
async fn permanent_refusals_die_at_once_and_retry_after_is_honoured() {
    let f = fixture(
        |seen: &Seen| match seen.index {
            0 => Fault::status(400).with_header("content-type", "text/plain"),
            _ => Fault::status(429).with_header("retry-after", "120"),
        },
        schedule(&[0, 1, 1]),
    )
    .await;
    f.sender.enqueue("acme", "bad", "{}").await.unwrap();
    assert_eq!(f.sender.send_once().await.unwrap().dead, 1);
    let dead = f
        .store
        .dead_messages(&ReplayFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(dead[0].attempts, 1);
    assert!(
        dead[0].last_error.starts_with("HTTP 400"),
        "{}",
        dead[0].last_error
    );

    f.sender.enqueue("acme", "busy", "{}").await.unwrap();
    assert_eq!(f.sender.send_once().await.unwrap().retried, 1);
    // The schedule says 1 s; the endpoint said 120 s.
    f.wall.advance(Duration::from_secs(60));
    assert_eq!(f.sender.send_once().await.unwrap().claimed, 0);
    f.wall.advance(Duration::from_secs(61));
    assert_eq!(f.sender.send_once().await.unwrap().claimed, 1);
}

#[tokio::test]
async fn an_open_breaker_delays_the_queue_without_using_attempts() {
    let config = SenderConfig {
        breaker: Some(BreakerConfig {
            consecutive_failures: 1,
            open_for: Duration::from_secs(60),
            ..BreakerConfig::default()
        }),
        // One at a time, so the second is sent after the first opened it.
        concurrency: 1,
        ..schedule(&[0, 0, 0, 0])
    };
    let f = fixture(|_: &Seen| Fault::status(503), config).await;
    let first = f.sender.enqueue("acme", "a", "{}").await.unwrap();
    f.sender.enqueue("acme", "b", "{}").await.unwrap();
    let pass = f.sender.send_once().await.unwrap();
    // One went out and failed (the breaker opened); the other was held back.
    assert_eq!((pass.claimed, pass.retried + pass.delayed), (2, 2));
    assert_eq!(pass.delayed, 1);
    assert_eq!(f.server.log().requests.len(), 1);
    // Still open: nothing is sent, and no attempt is used up.
    for _ in 0..5 {
        f.wall.advance(Duration::from_secs(61));
        let pass = f.sender.send_once().await.unwrap();
        assert_eq!(pass.delayed, pass.claimed);
    }
    assert_eq!(f.server.log().requests.len(), 1);
    assert_eq!(f.sender.delivery_log(&first).await.unwrap().len(), 1);
    let dead = f
        .store
        .dead_messages(&ReplayFilter::default(), 10)
        .await
        .unwrap();
    assert!(dead.is_empty(), "delays are not attempts: {dead:?}");
}

#[tokio::test]
async fn an_endpoint_failing_for_too_long_is_disabled() {
    let config = SenderConfig {
        disable_after: Duration::from_secs(10),
        breaker: None,
        ..schedule(&[0, 5, 5, 5, 5])
    };
    let f = fixture(|_: &Seen| Fault::status(500), config).await;
    f.sender.enqueue("acme", "a", "{}").await.unwrap();
    assert_eq!(f.sender.send_once().await.unwrap().retried, 1);
    assert!(f
        .store
        .endpoint_state("acme")
        .await
        .unwrap()
        .failing_since
        .is_some());
    f.wall.advance(Duration::from_secs(6));
    assert_eq!(f.sender.send_once().await.unwrap().retried, 1);
    f.wall.advance(Duration::from_secs(6));
    assert_eq!(f.sender.send_once().await.unwrap().dead, 1);
    let state = f.store.endpoint_state("acme").await.unwrap();
    assert!(state
        .disabled_reason
        .is_some_and(|r| r.starts_with("failing for 12 s")));
}

#[tokio::test]
async fn internal_and_insecure_endpoints_are_refused_at_registration() {
    let dir = std::env::temp_dir().join(format!("wharf-sender-reg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("o.db")).await.unwrap());
    let secrets = [SecretString::from(SECRET.to_owned())];
    let strict = Sender::new(Arc::clone(&store), SenderConfig::default());
    for (url, want) in [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.0.0.8/hook", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[fd00:ec2::254]/", "unique-local"),
        ("https://localhost:8443/", "loopback"),
    ] {
        match strict.register("x", url, &secrets).await {
            Err(RegisterError::Address(why)) => assert!(why.contains(want), "{url}: {why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    for url in ["http://example.com/hook", "ftp://example.com/", "not a url"] {
        assert!(
            matches!(
                strict.register("x", url, &secrets).await,
                Err(RegisterError::Url(_))
            ),
            "{url}"
        );
    }
    let loose = Sender::new(
        Arc::clone(&store),
        SenderConfig {
            guard: AddressGuard::public_and_loopback(),
            allow_plain_http_loopback: true,
            ..SenderConfig::default()
        },
    );
    // Loopback is allowed there, private addresses still are not.
    assert!(loose
        .register("x", "http://127.0.0.1:9/hook", &secrets)
        .await
        .is_ok());
    assert!(matches!(
        loose.register("x", "http://10.0.0.8/hook", &secrets).await,
        Err(RegisterError::Address(_))
    ));
    let bad_secret = [SecretString::from("not-a-whsec".to_owned())];
    assert!(matches!(
        loose
            .register("x", "http://127.0.0.1:9/hook", &bad_secret)
            .await,
        Err(RegisterError::Secret(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_rolled_back_transaction_enqueues_nothing_and_a_committed_one_delivers() {
    let f = fixture(|_: &Seen| Fault::ok(), schedule(&[0])).await;
    let now = f.wall.ms();
    let mut conn = rusqlite::Connection::open(f.store.path()).unwrap();
    {
        let tx = conn.transaction().unwrap();
        tx.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
            .unwrap();
        let message = NewMessage::new("acme", "order.created", "{}", now).unwrap();
        enqueue_in_sqlite(&tx, &message).unwrap();
        tx.rollback().unwrap();
    }
    assert_eq!(f.sender.send_once().await.unwrap().claimed, 0);
    let tx = conn.transaction().unwrap();
    tx.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1)")
        .unwrap();
    let message = NewMessage::new("acme", "order.created", r#"{"order":1}"#, now).unwrap();
    enqueue_in_sqlite(&tx, &message).unwrap();
    // The same id again is one message.
    enqueue_in_sqlite(&tx, &message).unwrap();
    tx.commit().unwrap();
    let pass = f.sender.send_once().await.unwrap();
    assert_eq!((pass.claimed, pass.delivered), (1, 1));
    assert_eq!(f.server.log().requests.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_senders_on_one_postgres_deliver_each_message_once() {
    const MESSAGES: usize = 200;
    let pg = tokio::task::spawn_blocking(peers::postgres::Postgres::start)
        .await
        .unwrap();
    let server = FaultServer::new(|_: &Seen| Fault::ok());
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let secrets = [SecretString::from(SECRET.to_owned())];
    let mut senders = Vec::new();
    for _ in 0..2 {
        // Each its own store (its own connections), as two instances would.
        let store = Arc::new(PostgresStore::connect(&pg.config()).await.unwrap());
        let sender = Sender::new(
            store,
            SenderConfig {
                guard: AddressGuard::public_and_loopback(),
                allow_plain_http_loopback: true,
                batch: 8,
                poll_interval: Duration::from_millis(20),
                ..schedule(&[0, 1])
            },
        );
        sender
            .register("acme", &http.url("/hook"), &secrets)
            .await
            .unwrap();
        senders.push(Arc::new(sender));
    }
    // Enqueued in the app's own transaction: one rolled back, the rest committed.
    let (mut client, connection) = tokio_postgres::connect(&pg.config(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let tx = client.transaction().await.unwrap();
    let ghost = NewMessage::new("acme", "never", "{}", now).unwrap();
    enqueue_in_postgres(&tx, &ghost).await.unwrap();
    tx.rollback().await.unwrap();
    let tx = client.transaction().await.unwrap();
    for n in 0..MESSAGES {
        let message =
            NewMessage::new("acme", "order.created", format!("{{\"n\":{n}}}"), now).unwrap();
        enqueue_in_postgres(&tx, &message).await.unwrap();
    }
    tx.commit().await.unwrap();

    let runs: Vec<_> = senders
        .iter()
        .map(|s| {
            let s = Arc::clone(s);
            tokio::spawn(async move { s.run_until_idle().await })
        })
        .collect();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    assert_eq!(
        server.log().requests.len(),
        MESSAGES,
        "each message sent once"
    );
    let store = PostgresStore::connect(&pg.config()).await.unwrap();
    let status = store.outbox_status().await.unwrap();
    assert!(status.is_empty(), "{status:?}");
    let log = senders[0].delivery_log(&ghost.message_id).await.unwrap();
    assert!(log.is_empty(), "the rolled-back message was never sent");

    // A message for an endpoint nobody registered: dead, listed, replayed.
    let orphan = NewMessage::new("nobody", "x", "{}", now).unwrap();
    store.enqueue(orphan.clone()).await.unwrap();
    senders[1].run_until_idle().await.unwrap();
    let dead = store
        .dead_messages(&ReplayFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].event_id.as_str(), dead[0].source.as_str()),
        (orphan.message_id.as_str(), "nobody")
    );
    assert!(
        dead[0].last_error.contains("not registered"),
        "{}",
        dead[0].last_error
    );
    let by_endpoint = ReplayFilter {
        source: Some("nobody".into()),
        ..ReplayFilter::default()
    };
    assert_eq!(store.replay_messages(&by_endpoint, now).await.unwrap(), 1);
    assert_eq!(store.outbox_status().await.unwrap()[0].pending, 1);
}

#[tokio::test]
async fn a_sender_neither_waits_for_nor_touches_queued_calls() {
    let f = fixture(|_: &Seen| Fault::ok(), schedule(&[0])).await;
    let call = wharf_runtime::client::QueuedCall {
        integration: "billing".into(),
        operation: "createInvoice".into(),
        url: "https://billing.example/invoices".into(),
        headers: vec![],
        body: String::new(),
        timeout_ms: None,
    };
    f.store
        .enqueue(NewMessage::call(&call, f.wall.ms()).unwrap())
        .await
        .unwrap();
    f.sender.enqueue("acme", "a", "{}").await.unwrap();
    // Returns once its own kind is done, though a call is still pending.
    tokio::time::timeout(Duration::from_secs(10), f.sender.run_until_idle())
        .await
        .expect("the sender does not wait for the relay's work")
        .unwrap();
    let status = f.store.outbox_status().await.unwrap();
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!((status[0].kind.as_str(), status[0].pending), ("call", 1));
    assert_eq!(f.server.log().requests.len(), 1);
}
