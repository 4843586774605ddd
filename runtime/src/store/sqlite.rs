//! [`SqliteStore`]: the embedded default, one SQLite file in WAL mode.
//!
//! SQLite has one writer at a time, so inserts go to a thread of their own
//! that commits every insert waiting at that moment in one transaction
//! (group commit): each commit is an `fsync` (`synchronous=FULL`, durable
//! across a power cut, not only a crash), shared by all the deliveries it
//! acknowledges. Everything else runs on pooled connections on tokio's
//! blocking threads; a writer that finds the database busy retries every
//! millisecond for up to [`BUSY_LIMIT`].

use super::error::{with_causes, StoreError};
use super::event::{
    bounded, headers_from_json, headers_to_json, Claim, DeadLetter, Depth, Direction, Failure,
    Inserted, NewEvent, ReplayFilter, StoredEvent,
};
use super::status::{DEAD, DONE, PENDING, PROCESSING};
use super::Store;
use rusqlite::{params, Connection, OptionalExtension};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a statement waits for another connection's write to finish.
pub const BUSY_LIMIT: Duration = Duration::from_secs(10);

/// Most inserts committed together.
const MAX_BATCH: usize = 512;

/// Connections kept for reuse.
const MAX_IDLE: usize = 16;

fn db(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| with_causes(&format!("SQLite {what}"), &e)
}

struct Insert {
    event: NewEvent,
    done: oneshot::Sender<Result<Inserted, StoreError>>,
}

struct Shared {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Shared {
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => connect(&self.path),
        }
    }

    fn put(&self, conn: Connection) {
        // A connection left inside a transaction (an error between BEGIN
        // and COMMIT) is not reused.
        if !conn.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
    }

    /// Runs `f` on a pooled connection on a blocking thread.
    async fn blocking<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = shared.take()?;
            let result = f(&mut conn);
            shared.put(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("SQLite worker thread: {e}")))?
    }
}

/// Events in one SQLite file (tables created when missing).
#[derive(Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
    inserts: mpsc::SyncSender<Insert>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(db("open"))?;
    conn.busy_handler(Some(busy)).map_err(db("busy handler"))?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .map_err(db("pragmas"))?;
    Ok(conn)
}

/// SQLite's busy handler: wait a millisecond and retry, up to [`BUSY_LIMIT`].
fn busy(tries: i32) -> bool {
    if u128::try_from(tries).unwrap_or(u128::MAX) >= BUSY_LIMIT.as_millis() {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
}

impl SqliteStore {
    /// Runs `f` on a pooled connection on a blocking thread.
    pub(super) async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.shared.blocking(f).await
    }

    /// Opens (or creates) the database at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let opened = path.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let conn = connect(&opened)?;
            conn.execute_batch(super::sqlite_schema::INBOX)
                .map_err(db("schema"))?;
            conn.execute_batch(super::sqlite_schema::OUTBOX)
                .map_err(db("schema"))?;
            conn.execute_batch(super::sqlite_schema::CURSORS)
                .map_err(db("schema"))?;
            Ok::<_, StoreError>(conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("SQLite open: {e}")))??;
        let (inserts, queue) = mpsc::sync_channel(4 * MAX_BATCH);
        std::thread::Builder::new()
            .name("wharf-sqlite-writer".into())
            .spawn(move || write_inserts(writer, queue))
            .map_err(|e| StoreError::Backend(format!("SQLite writer thread: {e}")))?;
        Ok(SqliteStore {
            shared: Arc::new(Shared {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            inserts,
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }
}

/// The insert thread: until every sender is gone, takes what is waiting
/// and commits it at once.
fn write_inserts(mut conn: Connection, queue: mpsc::Receiver<Insert>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match insert_batch(&mut conn, &batch) {
            Ok(results) => {
                for (insert, result) in batch.into_iter().zip(results) {
                    let _ = insert.done.send(Ok(result));
                }
            }
            Err(e) => {
                for insert in batch {
                    let _ = insert.done.send(Err(e.clone()));
                }
            }
        }
    }
}

fn insert_batch(conn: &mut Connection, batch: &[Insert]) -> Result<Vec<Inserted>, StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db("begin"))?;
    let mut results = Vec::with_capacity(batch.len());
    {
        let mut statement = tx
            .prepare_cached(
                "INSERT INTO wharf_inbox
                     (source, event_id, received_at, headers, body, order_key, status, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?3)
                 ON CONFLICT (source, event_id) DO NOTHING
                 RETURNING seq",
            )
            .map_err(db("insert"))?;
        for insert in batch {
            let e = &insert.event;
            let seq: Option<i64> = statement
                .query_row(
                    params![
                        e.source,
                        e.event_id,
                        e.received_at,
                        headers_to_json(&e.headers),
                        &e.body[..],
                        e.order_key,
                        PENDING
                    ],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db("insert"))?;
            results.push(seq.map_or(Inserted::Duplicate, Inserted::Stored));
        }
    }
    tx.commit().map_err(db("commit"))?;
    Ok(results)
}

fn u32_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<u32> {
    let value: i64 = row.get(index)?;
    Ok(u32::try_from(value).unwrap_or(u32::MAX))
}

fn stored_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let headers: String = row.get(4)?;
    let body: Vec<u8> = row.get(5)?;
    Ok(StoredEvent {
        seq: row.get(0)?,
        source: row.get(1)?,
        event_id: row.get(2)?,
        received_at: row.get(3)?,
        headers: headers_from_json(&headers),
        body: body.into(),
        order_key: row.get(6)?,
        attempts: u32_column(row, 7)?,
        lease_token: row.get(8)?,
    })
}

/// The dead-letter filter as SQL over `?1`…`?4` (`source` is the
/// endpoint and `event_id` the message id in the outbox, whose columns
/// are aliased to these names).
pub(super) const DEAD_FILTER: &str = "status = 'dead'
    AND (?1 IS NULL OR event_id = ?1)
    AND (?2 IS NULL OR source = ?2)
    AND (?3 IS NULL OR dead_at >= ?3)
    AND (?4 IS NULL OR dead_at < ?4)";

/// Dead letters from `sql`: a SELECT of (seq, source, id, arrival,
/// dead_at, attempts, last_error, body) over the filter's `?1`…`?4` and a
/// limit `?5`; the inbox's and the outbox's read the same way.
pub(super) fn query_dead(
    conn: &Connection,
    sql: &str,
    filter: &ReplayFilter,
    limit: usize,
    direction: Direction,
) -> Result<Vec<DeadLetter>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(db("dead letters"))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let params = params![
        filter.event_id,
        filter.source,
        filter.since,
        filter.until,
        limit
    ];
    let rows = statement
        .query_map(params, |row| {
            let body: Vec<u8> = row.get(7)?;
            Ok(DeadLetter {
                seq: row.get(0)?,
                source: row.get(1)?,
                event_id: row.get(2)?,
                received_at: row.get(3)?,
                dead_at: row.get::<_, Option<i64>>(4)?.unwrap_or_default(),
                attempts: u32_column(row, 5)?,
                last_error: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
                body: body.into(),
                direction,
            })
        })
        .map_err(db("dead letters"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db("dead letters"))
}

/// A transaction for one event's handler, on a connection of its own. The
/// transaction (`BEGIN IMMEDIATE`: SQLite's write lock) starts when the
/// handler first asks for the connection, so a handler that awaits other
/// work first does not hold up the inserts meanwhile.
pub struct SqliteTx {
    conn: Option<Connection>,
    begun: bool,
    shared: Arc<Shared>,
}

impl fmt::Debug for SqliteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteTx")
            .field("begun", &self.begun)
            .finish_non_exhaustive()
    }
}

impl SqliteTx {
    /// The connection, inside the transaction: what the handler writes
    /// here commits with the event's completion, or not at all.
    pub async fn connection(&mut self) -> Result<&Connection, StoreError> {
        if !self.begun {
            let conn = self
                .conn
                .take()
                .ok_or_else(|| StoreError::Backend("SQLite transaction already ended".into()))?;
            let (conn, result) = tokio::task::spawn_blocking(move || {
                let result = conn.execute_batch("BEGIN IMMEDIATE").map_err(db("begin"));
                (conn, result)
            })
            .await
            .map_err(|e| StoreError::Backend(format!("SQLite worker thread: {e}")))?;
            self.conn = Some(conn);
            result?;
            self.begun = true;
        }
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::Backend("SQLite transaction already ended".into()))
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.begun {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.shared.put(conn);
        }
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn insert(&self, event: NewEvent) -> Result<Inserted, StoreError> {
        let (done, result) = oneshot::channel();
        let stopped = || StoreError::Backend("SQLite writer thread has stopped".into());
        match self.inserts.try_send(Insert { event, done }) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(insert)) => {
                // The queue is bounded: waiting for room blocks, so it is
                // done on a blocking thread rather than the caller's.
                let inserts = self.inserts.clone();
                tokio::task::spawn_blocking(move || inserts.send(insert).is_ok())
                    .await
                    .map_err(|e| StoreError::Backend(format!("SQLite writer queue: {e}")))?
                    .then_some(())
                    .ok_or_else(stopped)?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        result.await.map_err(|_| stopped())?
    }

    async fn claim(&self, claim: Claim) -> Result<Vec<StoredEvent>, StoreError> {
        let token = crate::ids::correlation_id()
            .map_err(|e| StoreError::Backend(format!("lease token: {e}")))?
            .to_string();
        self.shared
            .blocking(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "UPDATE wharf_inbox
                         SET status = 'processing', attempts = attempts + 1,
                             lease_token = ?1, lease_until = ?2 + ?3
                         WHERE seq IN (
                             SELECT seq FROM wharf_inbox e
                             WHERE ((e.status = 'pending' AND e.next_attempt_at <= ?2)
                                 OR (e.status = 'processing' AND e.lease_until < ?2))
                               AND (e.order_key IS NULL OR NOT EXISTS (
                                   SELECT 1 FROM wharf_inbox p
                                   WHERE p.source = e.source AND p.order_key = e.order_key
                                     AND p.seq < e.seq
                                     AND p.status IN ('pending', 'processing')))
                             ORDER BY e.seq
                             LIMIT ?4)
                         RETURNING seq, source, event_id, received_at, headers, body,
                                   order_key, attempts, lease_token",
                    )
                    .map_err(db("claim"))?;
                let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
                let rows = statement
                    .query_map(
                        params![token, claim.now, claim.lease_ms, limit],
                        stored_event,
                    )
                    .map_err(db("claim"))?;
                let mut events = rows.collect::<Result<Vec<_>, _>>().map_err(db("claim"))?;
                events.sort_by_key(|e| e.seq);
                Ok(events)
            })
            .await
    }

    async fn begin(&self) -> Result<SqliteTx, StoreError> {
        let shared = Arc::clone(&self.shared);
        let conn = tokio::task::spawn_blocking(move || shared.take())
            .await
            .map_err(|e| StoreError::Backend(format!("SQLite worker thread: {e}")))??;
        Ok(SqliteTx {
            conn: Some(conn),
            begun: false,
            shared: Arc::clone(&self.shared),
        })
    }

    async fn complete(
        &self,
        mut tx: SqliteTx,
        event: &StoredEvent,
        now: i64,
    ) -> Result<bool, StoreError> {
        let conn = tx
            .conn
            .take()
            .ok_or_else(|| StoreError::Backend("SQLite transaction already ended".into()))?;
        let begun = tx.begun;
        let (seq, token) = (event.seq, event.lease_token.clone());
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = (|| {
                if !begun {
                    conn.execute_batch("BEGIN IMMEDIATE").map_err(db("begin"))?;
                }
                let changed = conn
                    .execute(
                        "UPDATE wharf_inbox
                         SET status = ?1, done_at = ?2, lease_token = NULL, lease_until = NULL
                         WHERE seq = ?3 AND lease_token = ?4 AND status = ?5",
                        params![DONE, now, seq, token, PROCESSING],
                    )
                    .map_err(db("complete"))?;
                if changed == 1 {
                    conn.execute_batch("COMMIT").map_err(db("commit"))?;
                    Ok(true)
                } else {
                    conn.execute_batch("ROLLBACK").map_err(db("rollback"))?;
                    Ok(false)
                }
            })();
            if result.is_err() && !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            (conn, result)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("SQLite worker thread: {e}")))?;
        self.shared.put(conn);
        result
    }

    async fn fail(&self, event: &StoredEvent, failure: Failure) -> Result<bool, StoreError> {
        let (seq, token) = (event.seq, event.lease_token.clone());
        self.shared
            .blocking(move |conn| {
                let status = if failure.retry_at.is_some() {
                    PENDING
                } else {
                    DEAD
                };
                let dead_at = failure.retry_at.is_none().then_some(failure.now);
                let changed = conn
                    .execute(
                        "UPDATE wharf_inbox
                         SET status = ?1, next_attempt_at = COALESCE(?2, next_attempt_at),
                             dead_at = ?3, last_error = ?4, lease_token = NULL, lease_until = NULL
                         WHERE seq = ?5 AND lease_token = ?6 AND status = ?7",
                        params![
                            status,
                            failure.retry_at,
                            dead_at,
                            bounded(&failure.error),
                            seq,
                            token,
                            PROCESSING
                        ],
                    )
                    .map_err(db("fail"))?;
                Ok(changed == 1)
            })
            .await
    }

    async fn dead_letters(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let filter = filter.clone();
        let sql = format!(
            "SELECT seq, source, event_id, received_at, dead_at, attempts, last_error, body
             FROM wharf_inbox WHERE {DEAD_FILTER} ORDER BY dead_at, seq LIMIT ?5"
        );
        self.shared
            .blocking(move |conn| query_dead(conn, &sql, &filter, limit, Direction::Inbound))
            .await
    }

    async fn replay(&self, filter: &ReplayFilter, now: i64) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.shared
            .blocking(move |conn| {
                let sql = format!(
                    "UPDATE wharf_inbox
                     SET status = 'pending', attempts = 0, next_attempt_at = ?5, dead_at = NULL
                     WHERE {DEAD_FILTER}"
                );
                let changed = conn
                    .execute(
                        &sql,
                        params![
                            filter.event_id,
                            filter.source,
                            filter.since,
                            filter.until,
                            now
                        ],
                    )
                    .map_err(db("replay"))?;
                Ok(changed as u64)
            })
            .await
    }

    async fn depth(&self) -> Result<Vec<Depth>, StoreError> {
        self.shared
            .blocking(|conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT source,
                                SUM(status IN ('pending', 'processing')),
                                SUM(status = 'dead'),
                                MIN(CASE WHEN status IN ('pending', 'processing') THEN received_at END)
                         FROM wharf_inbox WHERE status <> 'done' GROUP BY source ORDER BY source",
                    )
                    .map_err(db("depth"))?;
                let rows = statement
                    .query_map([], |row| {
                        Ok(Depth {
                            source: row.get(0)?,
                            pending: row.get::<_, i64>(1)?.max(0) as u64,
                            dead: row.get::<_, i64>(2)?.max(0) as u64,
                            oldest_pending: row.get(3)?,
                        })
                    })
                    .map_err(db("depth"))?;
                rows.collect::<Result<Vec<_>, _>>().map_err(db("depth"))
            })
            .await
    }

    async fn purge_done(&self, before: i64) -> Result<u64, StoreError> {
        self.shared
            .blocking(move |conn| {
                let changed = conn
                    .execute(
                        "DELETE FROM wharf_inbox WHERE status = ?1 AND received_at < ?2",
                        params![DONE, before],
                    )
                    .map_err(db("purge"))?;
                Ok(changed as u64)
            })
            .await
    }
}
