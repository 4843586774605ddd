//! The poller over a real SQLite cursor store: only records past the
//! committed cursor are handed on, in batches, the cursor committed after
//! each; a failed handler or a crash resumes from the last commit; records
//! out of order stop the sync instead of skipping any. The interval's
//! backoff runs on tokio's paused clock with an in-memory cursor store.

mod peers;

use futures_util::stream;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wharf_runtime::poll::{PollConfig, PollError, Poller};
use wharf_runtime::store::{CursorStore, PostgresStore, SqliteStore, StoreError};
use wharf_runtime::webhooks::HandlerError;

#[derive(Debug, Clone, PartialEq)]
struct Record {
    id: u32,
    updated: String,
}

fn records(keys: &[&str]) -> Vec<Result<Record, String>> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            Ok(Record {
                id: i as u32,
                updated: (*k).to_owned(),
            })
        })
        .collect()
}

fn key(r: &Record) -> String {
    r.updated.clone()
}

fn config() -> PollConfig {
    PollConfig {
        interval: Duration::from_secs(30),
        max_interval: Duration::from_secs(240),
        batch: 2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_records_past_the_cursor_are_handed_on_and_a_crash_resumes() {
    let dir = std::env::temp_dir().join(format!("wharf-poll-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("poll.db")).await.unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let handle = |batch: Vec<Record>| {
        let seen = Arc::clone(&seen);
        async move {
            seen.lock()
                .unwrap()
                .extend(batch.into_iter().map(|r| r.updated));
            Ok::<(), HandlerError>(())
        }
    };

    let poller = Poller::new(Arc::clone(&store), "crm-contacts", config());
    let pass = poller
        .poll_once(
            |since| {
                assert_eq!(since, None, "the first poll starts from nothing");
                stream::iter(records(&["001", "002", "003", "004", "005"]))
            },
            key,
            handle,
        )
        .await
        .unwrap();
    assert_eq!(
        (pass.handed, pass.skipped, pass.cursor.as_deref()),
        (5, 0, Some("005"))
    );

    // The provider's `since` filter is coarse: it repeats what was handled.
    let pass = poller
        .poll_once(
            |since| {
                assert_eq!(since.as_deref(), Some("005"));
                stream::iter(records(&["004", "005", "006", "007"]))
            },
            key,
            handle,
        )
        .await
        .unwrap();
    assert_eq!((pass.handed, pass.skipped), (2, 2));

    // The handler fails on the second batch: the first stays committed.
    let failing = |batch: Vec<Record>| {
        let seen = Arc::clone(&seen);
        async move {
            if batch.iter().any(|r| r.updated == "010") {
                return Err(HandlerError::retry("downstream unavailable"));
            }
            seen.lock()
                .unwrap()
                .extend(batch.into_iter().map(|r| r.updated));
            Ok(())
        }
    };
    let err = poller
        .poll_once(
            |_| stream::iter(records(&["008", "009", "010", "011"])),
            key,
            failing,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PollError::Handler(_)), "{err}");

    // A new process (a new poller on the same store) resumes after "009".
    drop(poller);
    let store = Arc::new(SqliteStore::open(dir.join("poll.db")).await.unwrap());
    let poller = Poller::new(Arc::clone(&store), "crm-contacts", config());
    let pass = poller
        .poll_once(
            |since| {
                assert_eq!(since.as_deref(), Some("009"));
                stream::iter(records(&["010", "011"]))
            },
            key,
            handle,
        )
        .await
        .unwrap();
    assert_eq!(pass.handed, 2);
    let all = seen.lock().unwrap().clone();
    assert_eq!(
        all,
        ["001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011"]
    );

    // Out of order: the sync stops rather than skip.
    let err = poller
        .poll_once(
            |_| stream::iter(records(&["012", "013", "001"])),
            key,
            handle,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PollError::OutOfOrder { .. }), "{err}");
    assert_eq!(
        store.load_cursor("crm-contacts").await.unwrap().as_deref(),
        Some("013")
    );
    // A provider error: a typed error, the cursor untouched.
    let err = poller
        .poll_once(
            |_| stream::iter(vec![Err::<Record, String>("HTTP 503".into())]),
            key,
            handle,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 503"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Cursors in memory, for the paused-clock test.
#[derive(Default)]
struct Memory(Mutex<HashMap<String, String>>);

impl CursorStore for Memory {
    async fn load_cursor(&self, sync: &str) -> Result<Option<String>, StoreError> {
        Ok(self.0.lock().unwrap().get(sync).cloned())
    }

    async fn save_cursor(&self, sync: &str, cursor: &str, _now: i64) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(sync.to_owned(), cursor.to_owned());
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn the_interval_backs_off_while_quiet_and_returns_when_records_come() {
    let poller = Poller::new(Arc::new(Memory::default()), "quiet", config());
    assert_eq!(
        poller.next_interval(Duration::from_secs(30), 0),
        Duration::from_secs(60)
    );
    assert_eq!(
        poller.next_interval(Duration::from_secs(240), 0),
        Duration::from_secs(240)
    );
    assert_eq!(
        poller.next_interval(Duration::from_secs(240), 3),
        Duration::from_secs(30)
    );

    // Quiet from the start: the waits double from 60 s to the 240 s cap;
    // records arrive at the sixth poll, and the wait returns to 30 s.
    let polls: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let start = tokio::time::Instant::now();
    let fetch = {
        let polls = Arc::clone(&polls);
        move |_since: Option<String>| {
            let mut polls = polls.lock().unwrap();
            polls.push(start.elapsed());
            let keys: &[&str] = if polls.len() == 6 { &["100"] } else { &[] };
            stream::iter(records(keys))
        }
    };
    let shutdown = tokio::time::sleep(Duration::from_secs(60 + 120 + 240 + 240 + 240 + 30 + 1));
    poller.run(fetch, key, |_| async { Ok(()) }, shutdown).await;
    let at: Vec<u64> = polls.lock().unwrap().iter().map(|d| d.as_secs()).collect();
    assert_eq!(at, [0, 60, 180, 420, 660, 900, 930]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_are_kept_in_postgres_too() {
    let pg = tokio::task::spawn_blocking(peers::postgres::Postgres::start)
        .await
        .unwrap();
    let store = Arc::new(PostgresStore::connect(&pg.config()).await.unwrap());
    let poller = Poller::new(Arc::clone(&store), "billing-invoices", config());
    let pass = poller
        .poll_once(
            |_| stream::iter(records(&["a", "b", "c"])),
            key,
            |_| async { Ok(()) },
        )
        .await
        .unwrap();
    assert_eq!(pass.handed, 3);
    // Another instance sees the committed cursor.
    let other = PostgresStore::connect(&pg.config()).await.unwrap();
    assert_eq!(
        other
            .load_cursor("billing-invoices")
            .await
            .unwrap()
            .as_deref(),
        Some("c")
    );
    assert_eq!(other.load_cursor("elsewhere").await.unwrap(), None);
}
