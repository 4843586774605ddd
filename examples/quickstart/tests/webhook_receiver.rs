//! The `webhook_receiver` example as an outside check drives it: real
//! processes, real HTTP, signed deliveries from concurrent senders that
//! redeliver as providers do.
//!
//! - Crash: the receiver is SIGKILLed twice mid-stream (SQLite store) and
//!   restarted; every acknowledged event ends in the ledger exactly once,
//!   none is lost, forged deliveries are never stored.
//! - Several instances: three receivers with workers on one PostgreSQL,
//!   20,000 events with 10% redelivered (some to another instance): the
//!   ledger holds each event once.

#[path = "../../../runtime/tests/peers/postgres.rs"]
#[allow(dead_code)] // shared with the runtime's tests, which use all of it
mod postgres;

mod common;

use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf::webhooks::{Scheme, Verifier};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FORGER: &str = "whsec_dGhpcyBpcyBub3QgdGhlIHJpZ2h0IGtleSE=";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A receiver process, killed (SIGKILL) when dropped.
struct Process {
    child: Child,
}

impl Process {
    fn start(port: u16, store: &str) -> Process {
        let child = Command::new(common::example_binary("webhook_receiver"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--store", store])
            .args([
                "--base-delay-ms",
                "20",
                "--max-attempts",
                "6",
                "--lease-ms",
                "2000",
            ])
            .env("WHARF_WEBHOOK_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start webhook_receiver");
        let mut process = Process { child };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("webhook_receiver exited at start: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "webhook_receiver did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        process
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A signed POST of `body` as `id`; the status, or `None` when the
/// receiver could not be reached or answered nothing.
async fn post(port: u16, secret: &str, id: &str, body: &str) -> Option<u16> {
    let verifier =
        Verifier::new(Scheme::Standard, &[SecretString::from(secret.to_owned())]).ok()?;
    let signed = verifier.sign(body.as_bytes(), id, unix_now(), None).ok()?;
    let mut request = format!(
        "POST /webhooks/standard HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in signed.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

/// Sends until acknowledged, as a provider redelivers: `true` once a 200
/// comes back, `false` if none did within the tries.
async fn deliver(ports: &[u16], id: &str, body: &str) -> bool {
    for attempt in 0..400 {
        let port = ports[attempt % ports.len()];
        match post(port, SECRET, id, body).await {
            Some(200) => return true,
            Some(401 | 413) => return false,
            _ => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_killed_mid_stream_loses_nothing_and_doubles_nothing() {
    let dir =
        std::env::temp_dir().join(format!("wharf-crash-{}-{}", std::process::id(), unix_now()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("webhooks.db");
    let store = format!("sqlite:{}", db.display());
    let port = free_port();
    let process = Arc::new(Mutex::new(Process::start(port, &store)));

    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut senders = tokio::task::JoinSet::new();
    for task in 0..4 {
        let acked = Arc::clone(&acked);
        senders.spawn(async move {
            for i in 0..150 {
                let id = format!("evt-{task}-{i}");
                // Every 7th fails its first attempt, so retries cross the kills.
                let body = format!(r#"{{"n":{i},"fail_times":{}}}"#, u32::from(i % 7 == 0));
                if deliver(&[port], &id, &body).await {
                    acked.lock().unwrap().insert(id.clone());
                    if i % 5 == 0 {
                        // An immediate redelivery: acknowledged again.
                        let again = post(port, SECRET, &id, &body).await;
                        assert!(matches!(again, Some(200) | None), "{again:?}");
                    }
                }
                if i % 10 == 0 {
                    let forged = post(port, FORGER, &format!("forged-{task}-{i}"), "{}").await;
                    assert!(matches!(forged, Some(401) | None), "{forged:?}");
                }
            }
        });
    }
    // Killed at a third and at two thirds of the stream, while deliveries,
    // redeliveries and retries are in flight.
    for threshold in [200, 400] {
        let started = Instant::now();
        while acked.lock().unwrap().len() < threshold {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "senders stalled"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut guard = process.lock().unwrap();
        guard.kill();
        let at = acked.lock().unwrap().len();
        assert!(
            at < 600,
            "the kill came after the stream ended ({at} acknowledged)"
        );
        std::thread::sleep(Duration::from_millis(200));
        *guard = Process::start(port, &store);
    }
    while let Some(sent) = senders.join_next().await {
        sent.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 600, "every event acknowledged in the end");

    // Redeliveries after the crashes: acknowledged, not processed again.
    for id in acked.iter().take(40) {
        assert_eq!(post(port, SECRET, id, r#"{"n":0}"#).await, Some(200));
    }

    let conn = wharf::store::rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let started = Instant::now();
    let (ledger, unfinished) = loop {
        let mut statement = conn.prepare("SELECT event_id FROM ledger").unwrap();
        let ledger: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let unfinished: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM wharf_inbox WHERE status <> 'done'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        if (ledger.len() >= acked.len() && unfinished == 0)
            || started.elapsed() > Duration::from_secs(60)
        {
            break (ledger, unfinished);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(process);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &ledger {
        *counts.entry(id).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "processed more than once: {doubled:?}");
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| !counts.contains_key(id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but never processed: {lost:?}"
    );
    assert_eq!(unfinished, 0);
    let forged: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM wharf_inbox WHERE event_id LIKE 'forged-%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(forged, 0, "a forged delivery was stored");
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_postgres_process_each_event_once() {
    const EVENTS: usize = 20_000;
    let pg = tokio::task::spawn_blocking(postgres::Postgres::start)
        .await
        .unwrap();
    let store = format!("postgres://wharf@127.0.0.1:{}/postgres", pg.port);
    let ports = [free_port(), free_port(), free_port()];
    let processes: Vec<Process> = ports
        .iter()
        .map(|port| Process::start(*port, &store))
        .collect();

    let acked = Arc::new(Mutex::new(0usize));
    let mut senders = tokio::task::JoinSet::new();
    for task in 0..8 {
        let acked = Arc::clone(&acked);
        senders.spawn(async move {
            for i in (task..EVENTS).step_by(8) {
                let id = format!("evt-{i}");
                let body = format!(r#"{{"n":{i}}}"#);
                let first = [ports[i % 3]];
                assert!(deliver(&first, &id, &body).await, "{id} never acknowledged");
                *acked.lock().unwrap() += 1;
                if i % 10 == 0 {
                    // Redelivered to another instance.
                    let other = [ports[(i + 1) % 3]];
                    assert!(deliver(&other, &id, &body).await, "{id} redelivery");
                }
            }
        });
    }
    while let Some(sent) = senders.join_next().await {
        sent.unwrap();
    }
    assert_eq!(*acked.lock().unwrap(), EVENTS);

    let (client, connection) =
        wharf::store::tokio_postgres::connect(&store, wharf::store::tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    let started = Instant::now();
    loop {
        let row = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM ledger), (SELECT COUNT(DISTINCT event_id) FROM ledger),
                        (SELECT COUNT(*) FROM wharf_inbox WHERE status <> 'done'),
                        (SELECT COUNT(*) FROM wharf_inbox)",
                &[],
            )
            .await
            .unwrap();
        let (rows, distinct, unfinished, stored): (i64, i64, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if unfinished == 0 && rows as usize >= EVENTS {
            assert_eq!(stored as usize, EVENTS, "redeliveries stored once");
            assert_eq!(distinct as usize, EVENTS, "none lost");
            assert_eq!(rows, distinct, "no event processed twice");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "after 180 s: {rows} ledger rows, {unfinished} unfinished of {stored}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(processes);
}
