//! [`PostgresStore`]: events in PostgreSQL, for apps running as several
//! instances. Workers on any instance claim with `FOR UPDATE SKIP LOCKED`,
//! so each event is leased to one of them at a time; the unique constraint
//! on (source, event id) deduplicates across instances.

use super::error::{with_causes, StoreError};
use super::event::{
    bounded, headers_from_json, headers_to_json, Claim, DeadLetter, Depth, Direction, Failure,
    Inserted, NewEvent, ReplayFilter, StoredEvent,
};
use super::status::{DEAD, DONE, PENDING, PROCESSING};
use super::Store;
use std::fmt;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, NoTls, Row};

/// Connections one store opens at most.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

fn db(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| with_causes(&format!("PostgreSQL {what}"), &e)
}

struct Pool {
    config: String,
    idle: Mutex<Vec<Client>>,
    permits: Arc<Semaphore>,
}

/// A pooled connection: back to the pool when dropped, unless it broke.
pub(super) struct Pooled {
    client: Option<Client>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Pooled {
    pub(super) fn client(&self) -> Result<&Client, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Backend("PostgreSQL connection already returned".into()))
    }

    pub(super) fn client_mut(&mut self) -> Result<&mut Client, StoreError> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Backend("PostgreSQL connection already returned".into()))
    }

    /// Not back to the pool (a transaction may be open on it): closing the
    /// connection rolls it back.
    fn discard(&mut self) {
        self.client = None;
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if client.is_closed() {
                return;
            }
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push(client);
            }
        }
    }
}

async fn connect(config: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(config, NoTls)
        .await
        .map_err(db("connect"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "webhook store connection ended");
        }
    });
    Ok(client)
}

impl Pool {
    async fn get(self: &Arc<Self>) -> Result<Pooled, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("PostgreSQL pool closed".into()))?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let client = match idle {
            Some(client) if !client.is_closed() => client,
            _ => connect(&self.config).await?,
        };
        Ok(Pooled {
            client: Some(client),
            pool: Arc::clone(self),
            _permit: permit,
        })
    }
}

/// Events in PostgreSQL (tables created when missing).
#[derive(Clone)]
pub struct PostgresStore {
    pool: Arc<Pool>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configuration may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A pooled connection (waits for one when all are in use).
    pub(super) async fn connection(&self) -> Result<Pooled, StoreError> {
        self.pool.get().await
    }

    /// Connects with `config` (`postgres://…` or `host=… user=…`), at most
    /// [`DEFAULT_MAX_CONNECTIONS`] at once, and creates the tables.
    pub async fn connect(config: &str) -> Result<Self, StoreError> {
        Self::connect_with(config, DEFAULT_MAX_CONNECTIONS).await
    }

    /// As [`connect`](Self::connect), with at most `max_connections`.
    pub async fn connect_with(config: &str, max_connections: usize) -> Result<Self, StoreError> {
        let pool = Arc::new(Pool {
            config: config.to_owned(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
        });
        let conn = pool.get().await?;
        // Instances starting together race to create the table; an
        // advisory lock for the transaction makes them take turns.
        conn.client()?
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock(7451230981); {} {} {} COMMIT;",
                super::postgres_schema::INBOX,
                super::postgres_schema::OUTBOX,
                super::postgres_schema::CURSORS
            ))
            .await
            .map_err(db("schema"))?;
        drop(conn);
        Ok(PostgresStore { pool })
    }
}

/// A transaction for one event's handler, on a connection of its own,
/// begun when the handler first asks for it.
pub struct PostgresTx {
    conn: Pooled,
    begun: bool,
}

impl fmt::Debug for PostgresTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTx")
            .field("begun", &self.begun)
            .finish_non_exhaustive()
    }
}

impl PostgresTx {
    /// The connection, inside the transaction: what the handler writes
    /// here commits with the event's completion, or not at all.
    pub async fn client(&mut self) -> Result<&Client, StoreError> {
        if !self.begun {
            self.conn
                .client()?
                .batch_execute("BEGIN")
                .await
                .map_err(db("begin"))?;
            self.begun = true;
        }
        self.conn.client()
    }
}

impl Drop for PostgresTx {
    fn drop(&mut self) {
        if self.begun {
            self.conn.discard();
        }
    }
}

fn stored_event(row: &Row) -> Result<StoredEvent, StoreError> {
    let corrupt = |e: tokio_postgres::Error| StoreError::Corrupt(e.to_string());
    let headers: String = row.try_get(4).map_err(corrupt)?;
    let body: Vec<u8> = row.try_get(5).map_err(corrupt)?;
    let attempts: i32 = row.try_get(7).map_err(corrupt)?;
    Ok(StoredEvent {
        seq: row.try_get(0).map_err(corrupt)?,
        source: row.try_get(1).map_err(corrupt)?,
        event_id: row.try_get(2).map_err(corrupt)?,
        received_at: row.try_get(3).map_err(corrupt)?,
        headers: headers_from_json(&headers),
        body: body.into(),
        order_key: row.try_get(6).map_err(corrupt)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        lease_token: row.try_get(8).map_err(corrupt)?,
    })
}

/// Dead letters from `sql`: a SELECT of (seq, source, id, arrival,
/// dead_at, attempts, last_error, body) over the filter's `$1`…`$4` and a
/// limit `$5`; the inbox's and the outbox's read the same way.
pub(super) async fn query_dead(
    client: &Client,
    sql: &str,
    filter: &ReplayFilter,
    limit: usize,
    direction: Direction,
) -> Result<Vec<DeadLetter>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
        &filter.event_id,
        &filter.source,
        &filter.since,
        &filter.until,
        &limit,
    ];
    let rows = client
        .query(sql, &params)
        .await
        .map_err(db("dead letters"))?;
    let corrupt = |e: tokio_postgres::Error| StoreError::Corrupt(e.to_string());
    rows.iter()
        .map(|row| {
            let attempts: i32 = row.try_get(5).map_err(corrupt)?;
            let body: Vec<u8> = row.try_get(7).map_err(corrupt)?;
            Ok(DeadLetter {
                seq: row.try_get(0).map_err(corrupt)?,
                source: row.try_get(1).map_err(corrupt)?,
                event_id: row.try_get(2).map_err(corrupt)?,
                received_at: row.try_get(3).map_err(corrupt)?,
                dead_at: row
                    .try_get::<_, Option<i64>>(4)
                    .map_err(corrupt)?
                    .unwrap_or_default(),
                attempts: u32::try_from(attempts).unwrap_or(0),
                last_error: row
                    .try_get::<_, Option<String>>(6)
                    .map_err(corrupt)?
                    .unwrap_or_default(),
                body: body.into(),
                direction,
            })
        })
        .collect()
}

/// The dead-letter filter as SQL over `$1`…`$4` (the outbox's columns are
/// aliased to these names).
pub(super) const DEAD_FILTER: &str = "status = 'dead'
    AND ($1::text IS NULL OR event_id = $1)
    AND ($2::text IS NULL OR source = $2)
    AND ($3::bigint IS NULL OR dead_at >= $3)
    AND ($4::bigint IS NULL OR dead_at < $4)";

impl Store for PostgresStore {
    type Tx = PostgresTx;

    async fn insert(&self, event: NewEvent) -> Result<Inserted, StoreError> {
        let conn = self.pool.get().await?;
        let row = conn
            .client()?
            .query_opt(
                "INSERT INTO wharf_inbox
                     (source, event_id, received_at, headers, body, order_key, status, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $3)
                 ON CONFLICT (source, event_id) DO NOTHING
                 RETURNING seq",
                &[
                    &event.source,
                    &event.event_id,
                    &event.received_at,
                    &headers_to_json(&event.headers),
                    &&event.body[..],
                    &event.order_key,
                    &PENDING,
                ],
            )
            .await
            .map_err(db("insert"))?;
        match row {
            Some(row) => Ok(Inserted::Stored(
                row.try_get(0)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )),
            None => Ok(Inserted::Duplicate),
        }
    }

    async fn claim(&self, claim: Claim) -> Result<Vec<StoredEvent>, StoreError> {
        let token = crate::ids::correlation_id()
            .map_err(|e| StoreError::Backend(format!("lease token: {e}")))?
            .to_string();
        let conn = self.pool.get().await?;
        let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
        let rows = conn
            .client()?
            .query(
                "UPDATE wharf_inbox
                 SET status = 'processing', attempts = attempts + 1,
                     lease_token = $1, lease_until = $2 + $3
                 WHERE seq IN (
                     SELECT seq FROM wharf_inbox e
                     WHERE ((e.status = 'pending' AND e.next_attempt_at <= $2)
                         OR (e.status = 'processing' AND e.lease_until < $2))
                       AND (e.order_key IS NULL OR NOT EXISTS (
                           SELECT 1 FROM wharf_inbox p
                           WHERE p.source = e.source AND p.order_key = e.order_key
                             AND p.seq < e.seq
                             AND p.status IN ('pending', 'processing')))
                     ORDER BY e.seq
                     LIMIT $4
                     FOR UPDATE SKIP LOCKED)
                 RETURNING seq, source, event_id, received_at, headers, body,
                           order_key, attempts, lease_token",
                &[&token, &claim.now, &claim.lease_ms, &limit],
            )
            .await
            .map_err(db("claim"))?;
        let mut events = rows
            .iter()
            .map(stored_event)
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|e| e.seq);
        Ok(events)
    }

    async fn begin(&self) -> Result<PostgresTx, StoreError> {
        Ok(PostgresTx {
            conn: self.pool.get().await?,
            begun: false,
        })
    }

    async fn complete(
        &self,
        mut tx: PostgresTx,
        event: &StoredEvent,
        now: i64,
    ) -> Result<bool, StoreError> {
        let client = tx.client().await?;
        let changed = client
            .execute(
                "UPDATE wharf_inbox
                 SET status = $1, done_at = $2, lease_token = NULL, lease_until = NULL
                 WHERE seq = $3 AND lease_token = $4 AND status = $5",
                &[&DONE, &now, &event.seq, &event.lease_token, &PROCESSING],
            )
            .await
            .map_err(db("complete"))?;
        let end = if changed == 1 { "COMMIT" } else { "ROLLBACK" };
        client.batch_execute(end).await.map_err(db("commit"))?;
        tx.begun = false;
        Ok(changed == 1)
    }

    async fn fail(&self, event: &StoredEvent, failure: Failure) -> Result<bool, StoreError> {
        let conn = self.pool.get().await?;
        let status = if failure.retry_at.is_some() {
            PENDING
        } else {
            DEAD
        };
        let dead_at = failure.retry_at.is_none().then_some(failure.now);
        let changed = conn
            .client()?
            .execute(
                "UPDATE wharf_inbox
                 SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at),
                     dead_at = $3, last_error = $4, lease_token = NULL, lease_until = NULL
                 WHERE seq = $5 AND lease_token = $6 AND status = $7",
                &[
                    &status,
                    &failure.retry_at,
                    &dead_at,
                    &bounded(&failure.error),
                    &event.seq,
                    &event.lease_token,
                    &PROCESSING,
                ],
            )
            .await
            .map_err(db("fail"))?;
        Ok(changed == 1)
    }

    async fn dead_letters(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!(
            "SELECT seq, source, event_id, received_at, dead_at, attempts, last_error, body
             FROM wharf_inbox WHERE {DEAD_FILTER} ORDER BY dead_at, seq LIMIT $5"
        );
        query_dead(conn.client()?, &sql, filter, limit, Direction::Inbound).await
    }

    async fn replay(&self, filter: &ReplayFilter, now: i64) -> Result<u64, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!(
            "UPDATE wharf_inbox
             SET status = 'pending', attempts = 0, next_attempt_at = $5, dead_at = NULL
             WHERE {DEAD_FILTER}"
        );
        conn.client()?
            .execute(
                &sql,
                &[
                    &filter.event_id,
                    &filter.source,
                    &filter.since,
                    &filter.until,
                    &now,
                ],
            )
            .await
            .map_err(db("replay"))
    }

    async fn depth(&self) -> Result<Vec<Depth>, StoreError> {
        let conn = self.pool.get().await?;
        let rows = conn
            .client()?
            .query(
                "SELECT source,
                        COUNT(*) FILTER (WHERE status IN ('pending', 'processing')),
                        COUNT(*) FILTER (WHERE status = 'dead'),
                        MIN(received_at) FILTER (WHERE status IN ('pending', 'processing'))
                 FROM wharf_inbox WHERE status <> 'done' GROUP BY source ORDER BY source",
                &[],
            )
            .await
            .map_err(db("depth"))?;
        rows.iter()
            .map(|row| {
                let corrupt = |e: tokio_postgres::Error| StoreError::Corrupt(e.to_string());
                Ok(Depth {
                    source: row.try_get(0).map_err(corrupt)?,
                    pending: row.try_get::<_, i64>(1).map_err(corrupt)?.max(0) as u64,
                    dead: row.try_get::<_, i64>(2).map_err(corrupt)?.max(0) as u64,
                    oldest_pending: row.try_get(3).map_err(corrupt)?,
                })
            })
            .collect()
    }

    async fn purge_done(&self, before: i64) -> Result<u64, StoreError> {
        let conn = self.pool.get().await?;
        conn.client()?
            .execute(
                "DELETE FROM wharf_inbox WHERE status = $1 AND received_at < $2",
                &[&DONE, &before],
            )
            .await
            .map_err(db("purge"))
    }
}
