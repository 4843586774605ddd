//! The outbox's promise as a property, over seeded random trials: a
//! message is delivered if and only if the app's transaction that enqueued
//! it committed. Each trial enqueues a random number of messages in a
//! transaction that then commits, rolls back, or dies with its connection
//! at a random point (dropped before COMMIT, as a crash would); a sender,
//! itself stopped at a random moment and replaced by a fresh one, then
//! delivers. The endpoint (the fault server over loopback HTTP) sees every
//! committed message at least once (by its `webhook-id`-carrying request
//! count) and nothing else.

mod common;

use common::ManualWall;
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use wharf_runtime::call::AddressGuard;
use wharf_runtime::store::{enqueue_in_sqlite, NewMessage, OutboxStore, SqliteStore};
use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, Seen};
use wharf_runtime::webhooks::{RetrySchedule, Sender, SenderConfig};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// splitmix64: seeded, the same trials on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_if_and_only_if_committed() {
    let dir = std::env::temp_dir().join(format!("wharf-crash-points-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("outbox.db")).await.unwrap());
    // The endpoint records which message each request carried (its body).
    let server = FaultServer::new(|_: &Seen| Fault::ok());
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let wall = ManualWall::new();
    let sender = |lease: Duration| {
        Sender::new(
            Arc::clone(&store),
            SenderConfig {
                schedule: RetrySchedule::delays(vec![Duration::ZERO; 8]),
                lease,
                guard: AddressGuard::public_and_loopback(),
                allow_plain_http_loopback: true,
                batch: 4,
                concurrency: 2,
                poll_interval: Duration::from_millis(5),
                ..SenderConfig::default()
            },
        )
        .clock(wall.clone())
    };
    let secrets = [SecretString::from(SECRET.to_owned())];

    let mut rng = Rng(20261204);
    let mut committed: BTreeSet<String> = BTreeSet::new();
    let mut abandoned: BTreeSet<String> = BTreeSet::new();
    for trial in 0..60 {
        let mut conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        let count = 1 + rng.below(5);
        let ending = rng.below(3);
        let crash_after = rng.below(count + 1);
        let tx = conn.transaction().unwrap();
        let mut ids = Vec::new();
        for n in 0..count {
            if ending == 2 && n == crash_after {
                break;
            }
            let message = NewMessage::new(
                "acme",
                "t",
                format!("{{\"trial\":{trial},\"n\":{n}}}"),
                wall.ms(),
            )
            .unwrap();
            enqueue_in_sqlite(&tx, &message).unwrap();
            ids.push(message.message_id);
        }
        match ending {
            0 => {
                tx.commit().unwrap();
                committed.extend(ids);
            }
            1 => {
                tx.rollback().unwrap();
                abandoned.extend(ids);
            }
            _ => {
                // The app dies mid-transaction: its connection goes away
                // without a COMMIT.
                drop(tx);
                drop(conn);
                abandoned.extend(ids);
                continue;
            }
        }
        drop(conn);

        // A sender stopped at a random moment, then a fresh one after its
        // lease has run out.
        if rng.below(2) == 0 {
            let doomed = sender(Duration::from_secs(30));
            doomed
                .register("acme", &http.url("/hook"), &secrets)
                .await
                .unwrap();
            let stop_after = Duration::from_millis(rng.below(20));
            let _ = tokio::time::timeout(stop_after, doomed.run_until_idle()).await;
            wall.advance(Duration::from_secs(31));
        }
        let fresh = sender(Duration::from_secs(30));
        fresh
            .register("acme", &http.url("/hook"), &secrets)
            .await
            .unwrap();
        fresh.run_until_idle().await.unwrap();
    }
    assert!(
        !committed.is_empty() && !abandoned.is_empty(),
        "the trials cover both endings"
    );

    // Each committed message reached the endpoint (with retries and
    // takeovers, possibly more than once: receivers dedupe by webhook-id),
    // and nothing else did.
    let mut delivered = BTreeSet::new();
    for id in &committed {
        let log = store.delivery_log(id).await.unwrap();
        assert!(
            log.iter().any(|a| a.status == Some(200)),
            "{id} was committed and not delivered"
        );
        delivered.insert(id.clone());
    }
    for id in &abandoned {
        assert!(
            store.delivery_log(id).await.unwrap().is_empty(),
            "{id} was never committed"
        );
    }
    let requests = server.log().requests.len();
    assert!(
        requests >= committed.len(),
        "{requests} requests for {} messages",
        committed.len()
    );
    let status = store.outbox_status().await.unwrap();
    assert!(status.is_empty(), "{status:?}");
    assert_eq!(delivered, committed);
    let _ = std::fs::remove_dir_all(&dir);
}
