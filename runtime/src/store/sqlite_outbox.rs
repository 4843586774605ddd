//! The outbox in the SQLite file: [`OutboxStore`] for [`SqliteStore`], and
//! [`enqueue_in`] for an app's own transaction on the same file.

use super::error::{with_causes, StoreError};
use super::event::{bounded, Claim, DeadLetter, Direction, Inserted, ReplayFilter};
use super::outbound::{
    AttemptOutcome, AttemptRecord, EndpointState, NewMessage, Next, OutboundMessage, OutboxStatus,
    OutboxStore,
};
use super::sqlite::{query_dead, SqliteStore, DEAD_FILTER};
use rusqlite::{params, Connection, OptionalExtension};

fn db(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| with_causes(&format!("SQLite {what}"), &e)
}

/// The row an enqueued message is (see the PostgreSQL one).
pub(crate) const ENQUEUE: &str = "INSERT INTO wharf_outbox
     (message_id, endpoint, event_type, body, created_at, status, next_attempt_at, kind)
 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)
 ON CONFLICT (message_id) DO NOTHING
 RETURNING seq";

/// Enqueues `message` on `conn`, inside whatever transaction the app has
/// open there (a `rusqlite::Transaction` derefs to the connection): it is
/// sent if and only if that transaction commits. The connection must be on
/// the store's file (the tables exist once [`SqliteStore::open`] ran).
pub fn enqueue_in(conn: &Connection, message: &NewMessage) -> Result<Inserted, StoreError> {
    let seq: Option<i64> = conn
        .prepare_cached(ENQUEUE)
        .map_err(db("enqueue"))?
        .query_row(
            params![
                message.message_id,
                message.endpoint,
                message.event_type,
                &message.body[..],
                message.created_at,
                message.due_at,
                message.kind
            ],
            |row| row.get(0),
        )
        .optional()
        .map_err(db("enqueue"))?;
    Ok(seq.map_or(Inserted::Duplicate, Inserted::Stored))
}

/// The outbox with its columns named as the inbox's, for the shared
/// dead-letter filter.
const OUTBOX_AS_EVENTS: &str =
    "(SELECT *, endpoint AS source, message_id AS event_id FROM wharf_outbox)";

/// One outcome inside the pass's transaction: the state change under the
/// lease, then its log row; `false` when the lease is gone.
fn record_one(tx: &Connection, outcome: &AttemptOutcome, now: i64) -> Result<bool, StoreError> {
    let (seq, token) = (outcome.message.seq, &outcome.message.lease_token);
    let error = outcome.error.as_deref().map(bounded);
    let changed = match outcome.next {
        Next::Done => tx.execute(
            "UPDATE wharf_outbox SET status = 'done', done_at = ?1, last_error = NULL,
                 lease_token = NULL, lease_until = NULL
             WHERE seq = ?2 AND lease_token = ?3 AND status = 'processing'",
            params![now, seq, token],
        ),
        Next::RetryAt(at) => tx.execute(
            "UPDATE wharf_outbox SET status = 'pending', next_attempt_at = ?1, last_error = ?2,
                 lease_token = NULL, lease_until = NULL
             WHERE seq = ?3 AND lease_token = ?4 AND status = 'processing'",
            params![at, error, seq, token],
        ),
        Next::Release(at) => tx.execute(
            "UPDATE wharf_outbox SET status = 'pending', next_attempt_at = ?1,
                 attempts = MAX(attempts - 1, 0), last_error = COALESCE(?2, last_error),
                 lease_token = NULL, lease_until = NULL
             WHERE seq = ?3 AND lease_token = ?4 AND status = 'processing'",
            params![at, error, seq, token],
        ),
        Next::Dead => tx.execute(
            "UPDATE wharf_outbox SET status = 'dead', dead_at = ?1, last_error = ?2,
                 lease_token = NULL, lease_until = NULL
             WHERE seq = ?3 AND lease_token = ?4 AND status = 'processing'",
            params![now, error, seq, token],
        ),
    }
    .map_err(db("record attempt"))?;
    if changed != 1 {
        return Ok(false);
    }
    if let Some(a) = &outcome.log {
        tx.prepare_cached(
            "INSERT INTO wharf_outbox_attempts (message_id, attempt, at, status, latency_ms, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                a.message_id,
                a.attempt,
                a.at,
                a.status,
                a.latency_ms,
                a.error.as_deref().map(bounded)
            ])
        })
        .map_err(db("delivery log"))?;
    }
    Ok(true)
}

impl OutboxStore for SqliteStore {
    async fn enqueue(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        self.blocking(move |conn| enqueue_in(conn, &message)).await
    }

    async fn claim_messages(
        &self,
        claim: Claim,
        kind: &'static str,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let token = crate::ids::correlation_id()
            .map_err(|e| StoreError::Backend(format!("lease token: {e}")))?
            .to_string();
        self.blocking(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "UPDATE wharf_outbox
                     SET status = 'processing', attempts = attempts + 1,
                         lease_token = ?1, lease_until = ?2 + ?3
                     WHERE seq IN (
                         SELECT seq FROM wharf_outbox
                         WHERE kind = ?5
                           AND ((status = 'pending' AND next_attempt_at <= ?2)
                            OR (status = 'processing' AND lease_until < ?2))
                         ORDER BY next_attempt_at, seq
                         LIMIT ?4)
                     RETURNING seq, message_id, endpoint, event_type, body, created_at,
                               attempts, lease_token",
                )
                .map_err(db("claim"))?;
            let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
            let rows = statement
                .query_map(
                    params![token, claim.now, claim.lease_ms, limit, kind],
                    |row| {
                        let body: Vec<u8> = row.get(4)?;
                        let attempts: i64 = row.get(6)?;
                        Ok(OutboundMessage {
                            seq: row.get(0)?,
                            message_id: row.get(1)?,
                            endpoint: row.get(2)?,
                            event_type: row.get(3)?,
                            body: body.into(),
                            created_at: row.get(5)?,
                            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                            lease_token: row.get(7)?,
                        })
                    },
                )
                .map_err(db("claim"))?;
            let mut messages = rows.collect::<Result<Vec<_>, _>>().map_err(db("claim"))?;
            messages.sort_by_key(|m| m.seq);
            Ok(messages)
        })
        .await
    }

    async fn record_attempts(
        &self,
        outcomes: &[AttemptOutcome],
        now: i64,
    ) -> Result<Vec<bool>, StoreError> {
        let outcomes = outcomes.to_vec();
        self.blocking(move |conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db("begin"))?;
            let recorded = outcomes
                .iter()
                .map(|outcome| record_one(&tx, outcome, now))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(db("commit"))?;
            Ok(recorded)
        })
        .await
    }

    async fn endpoint_state(&self, endpoint: &str) -> Result<EndpointState, StoreError> {
        let endpoint = endpoint.to_owned();
        self.blocking(move |conn| {
            conn.query_row(
                "SELECT disabled_at, disabled_reason, failing_since FROM wharf_endpoints WHERE endpoint = ?1",
                [&endpoint],
                |row| {
                    Ok(EndpointState {
                        disabled_at: row.get(0)?,
                        disabled_reason: row.get(1)?,
                        failing_since: row.get(2)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(db("endpoint state"))
        })
        .await
    }

    async fn set_endpoint_state(
        &self,
        endpoint: &str,
        state: &EndpointState,
    ) -> Result<(), StoreError> {
        let (endpoint, state) = (endpoint.to_owned(), state.clone());
        self.blocking(move |conn| {
            conn.execute(
                "INSERT INTO wharf_endpoints (endpoint, disabled_at, disabled_reason, failing_since)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (endpoint) DO UPDATE SET disabled_at = ?2, disabled_reason = ?3,
                     failing_since = ?4",
                params![endpoint, state.disabled_at, state.disabled_reason, state.failing_since],
            )
            .map(|_| ())
            .map_err(db("endpoint state"))
        })
        .await
    }

    async fn delivery_log(&self, message_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        let message_id = message_id.to_owned();
        self.blocking(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT message_id, attempt, at, status, latency_ms, error
                     FROM wharf_outbox_attempts WHERE message_id = ?1 ORDER BY id",
                )
                .map_err(db("delivery log"))?;
            let rows = statement
                .query_map([&message_id], |row| {
                    let attempt: i64 = row.get(1)?;
                    let status: Option<i64> = row.get(3)?;
                    Ok(AttemptRecord {
                        message_id: row.get(0)?,
                        attempt: u32::try_from(attempt).unwrap_or(0),
                        at: row.get(2)?,
                        status: status.and_then(|s| u16::try_from(s).ok()),
                        latency_ms: row.get(4)?,
                        error: row.get(5)?,
                    })
                })
                .map_err(db("delivery log"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(db("delivery log"))
        })
        .await
    }

    async fn outbox_status(&self) -> Result<Vec<OutboxStatus>, StoreError> {
        self.blocking(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT endpoint,
                            SUM(status = 'pending'), SUM(status = 'processing'), SUM(status = 'dead'),
                            MIN(CASE WHEN status IN ('pending', 'processing') THEN created_at END),
                            kind
                     FROM wharf_outbox WHERE status <> 'done'
                     GROUP BY kind, endpoint ORDER BY kind, endpoint",
                )
                .map_err(db("outbox status"))?;
            let rows = statement
                .query_map([], |row| {
                    Ok(OutboxStatus {
                        kind: row.get(5)?,
                        endpoint: row.get(0)?,
                        pending: row.get::<_, i64>(1)?.max(0) as u64,
                        in_flight: row.get::<_, i64>(2)?.max(0) as u64,
                        dead: row.get::<_, i64>(3)?.max(0) as u64,
                        oldest_pending: row.get(4)?,
                    })
                })
                .map_err(db("outbox status"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db("outbox status"))
        })
        .await
    }

    async fn dead_messages(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let filter = filter.clone();
        let sql = format!(
            "SELECT seq, source, event_id, created_at, dead_at, attempts, last_error, body
             FROM {OUTBOX_AS_EVENTS} WHERE {DEAD_FILTER} ORDER BY dead_at, seq LIMIT ?5"
        );
        self.blocking(move |conn| query_dead(conn, &sql, &filter, limit, Direction::Outbound))
            .await
    }

    async fn replay_messages(&self, filter: &ReplayFilter, now: i64) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.blocking(move |conn| {
            let sql = format!(
                "UPDATE wharf_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?5,
                     dead_at = NULL
                 WHERE seq IN (SELECT seq FROM {OUTBOX_AS_EVENTS} WHERE {DEAD_FILTER})"
            );
            conn.execute(
                &sql,
                params![
                    filter.event_id,
                    filter.source,
                    filter.since,
                    filter.until,
                    now
                ],
            )
            .map(|n| n as u64)
            .map_err(db("replay"))
        })
        .await
    }
}
