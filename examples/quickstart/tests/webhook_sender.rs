//! The `webhook_sender` example as an outside check drives it: a customer
//! endpoint written in Python that verifies every delivery with the
//! Standard Webhooks reference library (PyPI `standardwebhooks`, installed
//! by `scripts/install-webhook-peers.sh`; missing, the test fails) and
//! fails the first delivery of every fourth message; the sender SIGKILLed
//! mid-stream and run again. Every message is delivered, every signature
//! is valid, and each message keeps one `webhook-id` across its retries.
//! The sender signs with two secrets (a rotation under way) and the
//! endpoint still knows only the old one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NEW_SECRET: &str = "whsec_dGhpcyBpcyB0aGUgbmV3IGtleSBvZiB0aGUgcm90YXRpb24=";
const OLD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MESSAGES: usize = 300;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sender(store: &str, endpoint: &str, count: usize) -> Child {
    Command::new(common::example_binary("webhook_sender"))
        .args(["--store", store, "--endpoint", endpoint])
        .args(["--count", &count.to_string()])
        .args(["--schedule", "0s,1s,1s,1s,1s,1s", "--lease-ms", "3000"])
        .env("WHARF_WEBHOOK_SECRET", format!("{NEW_SECRET} {OLD_SECRET}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start webhook_sender")
}

#[derive(serde::Deserialize)]
struct Delivery {
    id: String,
    valid: bool,
    body: String,
    signatures: usize,
}

fn deliveries(log: &Path) -> Vec<Delivery> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[test]
fn a_sender_killed_mid_stream_delivers_every_message_once_signed() {
    let python = workspace().join("build/webhook-peers/venv/bin/python");
    assert!(
        python.is_file(),
        "PyPI standardwebhooks is not installed: run scripts/install-webhook-peers.sh"
    );
    let dir = std::env::temp_dir().join(format!("wharf-sender-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (port_file, log) = (dir.join("port"), dir.join("deliveries.jsonl"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/standard_receiver.py");
    let _receiver = Running(
        Command::new(&python)
            .arg(&script)
            .arg(&port_file)
            .arg(&log)
            .args(["--fail-first-of-every", "4"])
            .env("WHARF_WEBHOOK_SECRET", OLD_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python endpoint"),
    );
    let started = Instant::now();
    let port = loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            break text.trim().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the endpoint did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let endpoint = format!("http://127.0.0.1:{port}/hook");
    let store = format!("sqlite:{}", dir.join("outbox.db").display());

    // Killed once a third of the messages have arrived.
    let mut first = Running(sender(&store, &endpoint, MESSAGES));
    let started = Instant::now();
    while deliveries(&log).len() < MESSAGES / 3 {
        if let Ok(Some(status)) = first.0.try_wait() {
            panic!("the sender ended before it was killed: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no deliveries");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = first.0.kill();
    let _ = first.0.wait();
    let at_kill = deliveries(&log).len();

    let mut second = Running(sender(&store, &endpoint, 0));
    let started = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = second.0.try_wait() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the second run did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "second run: {status}");

    let all = deliveries(&log);
    assert!(at_kill < all.len(), "the kill came after the stream ended");
    let invalid: Vec<_> = all.iter().filter(|d| !d.valid).map(|d| &d.id).collect();
    assert!(
        invalid.is_empty(),
        "signatures the reference library refused: {invalid:?}"
    );
    assert!(
        all.iter().all(|d| d.signatures == 2),
        "one signature per secret"
    );
    // One id per message, and one message per id.
    let mut ids_by_body: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in &all {
        ids_by_body
            .entry(d.body.as_str())
            .or_default()
            .insert(d.id.as_str());
    }
    assert_eq!(ids_by_body.len(), MESSAGES, "every message delivered");
    assert!(
        ids_by_body.values().all(|ids| ids.len() == 1),
        "a message changed its webhook-id"
    );
    let distinct: BTreeSet<&str> = all.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(distinct.len(), MESSAGES);
    // Every fourth message failed once and was retried.
    assert!(
        all.len() >= MESSAGES + MESSAGES / 4,
        "{} deliveries",
        all.len()
    );

    let conn = wharf::store::rusqlite::Connection::open(dir.join("outbox.db")).unwrap();
    let unfinished: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM wharf_outbox WHERE status <> 'done'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unfinished, 0);
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
