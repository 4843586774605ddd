//! The outbox in PostgreSQL: [`OutboxStore`] for [`PostgresStore`], and
//! [`enqueue_in`] for an app's own transaction. Several senders share the
//! work: claims skip rows another has locked (`FOR UPDATE SKIP LOCKED`).

use super::error::{with_causes, StoreError};
use super::event::{bounded, Claim, DeadLetter, Direction, Inserted, ReplayFilter};
use super::outbound::{
    AttemptOutcome, AttemptRecord, EndpointState, NewMessage, Next, OutboundMessage, OutboxStatus,
    OutboxStore,
};
use super::postgres::{query_dead, PostgresStore, DEAD_FILTER};
use tokio_postgres::{GenericClient, Row};

fn db(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| with_causes(&format!("PostgreSQL {what}"), &e)
}

fn corrupt(e: tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The row an enqueued message is: its parameters are the message's
/// fields in [`NewMessage`]'s order; returns the new row's `seq`, or no row
/// when the id is already queued.
pub(crate) const ENQUEUE: &str = "INSERT INTO wharf_outbox
     (message_id, endpoint, event_type, body, created_at, status, next_attempt_at, kind)
 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
 ON CONFLICT (message_id) DO NOTHING
 RETURNING seq";

/// Enqueues `message` with `client`, inside whatever transaction the app
/// has open on it (a `tokio_postgres::Transaction` is a `GenericClient`):
/// it is sent if and only if that transaction commits.
pub async fn enqueue_in(
    client: &impl GenericClient,
    message: &NewMessage,
) -> Result<Inserted, StoreError> {
    let row = client
        .query_opt(
            ENQUEUE,
            &[
                &message.message_id,
                &message.endpoint,
                &message.event_type,
                &&message.body[..],
                &message.created_at,
                &message.due_at,
                &message.kind,
            ],
        )
        .await
        .map_err(db("enqueue"))?;
    match row {
        Some(row) => Ok(Inserted::Stored(row.try_get(0).map_err(corrupt)?)),
        None => Ok(Inserted::Duplicate),
    }
}

fn message(row: &Row) -> Result<OutboundMessage, StoreError> {
    let body: Vec<u8> = row.try_get(4).map_err(corrupt)?;
    let attempts: i32 = row.try_get(6).map_err(corrupt)?;
    Ok(OutboundMessage {
        seq: row.try_get(0).map_err(corrupt)?,
        message_id: row.try_get(1).map_err(corrupt)?,
        endpoint: row.try_get(2).map_err(corrupt)?,
        event_type: row.try_get(3).map_err(corrupt)?,
        body: body.into(),
        created_at: row.try_get(5).map_err(corrupt)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        lease_token: row.try_get(7).map_err(corrupt)?,
    })
}

/// The outbox with its columns named as the inbox's, for the shared
/// dead-letter filter.
const OUTBOX_AS_EVENTS: &str =
    "(SELECT *, endpoint AS source, message_id AS event_id FROM wharf_outbox)";

/// The statements recording a pass, prepared once per pass (not once per
/// message: each preparation is a round trip).
struct Recording {
    done: tokio_postgres::Statement,
    retry: tokio_postgres::Statement,
    release: tokio_postgres::Statement,
    dead: tokio_postgres::Statement,
    log: tokio_postgres::Statement,
}

impl Recording {
    async fn prepare(tx: &tokio_postgres::Transaction<'_>) -> Result<Self, StoreError> {
        let prepare =
            |sql: &'static str| async move { tx.prepare(sql).await.map_err(db("prepare")) };
        Ok(Recording {
            done: prepare(
                "UPDATE wharf_outbox SET status = 'done', done_at = $1, last_error = NULL,
                     lease_token = NULL, lease_until = NULL
                 WHERE seq = $2 AND lease_token = $3 AND status = 'processing'",
            )
            .await?,
            retry: prepare(
                "UPDATE wharf_outbox SET status = 'pending', next_attempt_at = $1, last_error = $2,
                     lease_token = NULL, lease_until = NULL
                 WHERE seq = $3 AND lease_token = $4 AND status = 'processing'",
            )
            .await?,
            release: prepare(
                "UPDATE wharf_outbox SET status = 'pending', next_attempt_at = $1,
                     attempts = GREATEST(attempts - 1, 0), last_error = COALESCE($2, last_error),
                     lease_token = NULL, lease_until = NULL
                 WHERE seq = $3 AND lease_token = $4 AND status = 'processing'",
            )
            .await?,
            dead: prepare(
                "UPDATE wharf_outbox SET status = 'dead', dead_at = $1, last_error = $2,
                     lease_token = NULL, lease_until = NULL
                 WHERE seq = $3 AND lease_token = $4 AND status = 'processing'",
            )
            .await?,
            log: prepare(
                "INSERT INTO wharf_outbox_attempts (message_id, attempt, at, status, latency_ms, error)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?,
        })
    }

    /// One outcome: the state change under the lease, then its log row;
    /// `false` when the lease is gone.
    async fn record(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        outcome: &AttemptOutcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        let error = outcome.error.as_deref().map(bounded);
        let (seq, token) = (&outcome.message.seq, &outcome.message.lease_token);
        let changed = match outcome.next {
            Next::Done => tx.execute(&self.done, &[&now, seq, token]).await,
            Next::RetryAt(at) => tx.execute(&self.retry, &[&at, &error, seq, token]).await,
            Next::Release(at) => tx.execute(&self.release, &[&at, &error, seq, token]).await,
            Next::Dead => tx.execute(&self.dead, &[&now, &error, seq, token]).await,
        }
        .map_err(db("record attempt"))?;
        if changed != 1 {
            return Ok(false);
        }
        if let Some(a) = &outcome.log {
            let attempt_no = i32::try_from(a.attempt).unwrap_or(i32::MAX);
            let status = a.status.map(i32::from);
            let log_error = a.error.as_deref().map(bounded);
            tx.execute(
                &self.log,
                &[
                    &a.message_id,
                    &attempt_no,
                    &a.at,
                    &status,
                    &a.latency_ms,
                    &log_error,
                ],
            )
            .await
            .map_err(db("delivery log"))?;
        }
        Ok(true)
    }
}

impl OutboxStore for PostgresStore {
    async fn enqueue(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        let conn = self.connection().await?;
        enqueue_in(conn.client()?, &message).await
    }

    async fn claim_messages(
        &self,
        claim: Claim,
        kind: &'static str,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let token = crate::ids::correlation_id()
            .map_err(|e| StoreError::Backend(format!("lease token: {e}")))?
            .to_string();
        let conn = self.connection().await?;
        let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
        let rows = conn
            .client()?
            .query(
                "UPDATE wharf_outbox
                 SET status = 'processing', attempts = attempts + 1,
                     lease_token = $1, lease_until = $2 + $3
                 WHERE seq IN (
                     SELECT seq FROM wharf_outbox
                     WHERE kind = $5
                       AND ((status = 'pending' AND next_attempt_at <= $2)
                        OR (status = 'processing' AND lease_until < $2))
                     ORDER BY next_attempt_at, seq
                     LIMIT $4
                     FOR UPDATE SKIP LOCKED)
                 RETURNING seq, message_id, endpoint, event_type, body, created_at,
                           attempts, lease_token",
                &[&token, &claim.now, &claim.lease_ms, &limit, &kind],
            )
            .await
            .map_err(db("claim"))?;
        let mut messages = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.seq);
        Ok(messages)
    }

    async fn record_attempts(
        &self,
        outcomes: &[AttemptOutcome],
        now: i64,
    ) -> Result<Vec<bool>, StoreError> {
        let mut conn = self.connection().await?;
        let client = conn.client_mut()?;
        let tx = client.transaction().await.map_err(db("begin"))?;
        let recording = Recording::prepare(&tx).await?;
        let mut recorded = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            recorded.push(recording.record(&tx, outcome, now).await?);
        }
        tx.commit().await.map_err(db("commit"))?;
        Ok(recorded)
    }

    async fn endpoint_state(&self, endpoint: &str) -> Result<EndpointState, StoreError> {
        let conn = self.connection().await?;
        let row = conn
            .client()?
            .query_opt(
                "SELECT disabled_at, disabled_reason, failing_since FROM wharf_endpoints WHERE endpoint = $1",
                &[&endpoint],
            )
            .await
            .map_err(db("endpoint state"))?;
        match row {
            None => Ok(EndpointState::default()),
            Some(row) => Ok(EndpointState {
                disabled_at: row.try_get(0).map_err(corrupt)?,
                disabled_reason: row.try_get(1).map_err(corrupt)?,
                failing_since: row.try_get(2).map_err(corrupt)?,
            }),
        }
    }

    async fn set_endpoint_state(
        &self,
        endpoint: &str,
        state: &EndpointState,
    ) -> Result<(), StoreError> {
        let conn = self.connection().await?;
        conn.client()?
            .execute(
                "INSERT INTO wharf_endpoints (endpoint, disabled_at, disabled_reason, failing_since)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (endpoint) DO UPDATE SET disabled_at = $2, disabled_reason = $3,
                     failing_since = $4",
                &[&endpoint, &state.disabled_at, &state.disabled_reason, &state.failing_since],
            )
            .await
            .map(|_| ())
            .map_err(db("endpoint state"))
    }

    async fn delivery_log(&self, message_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        let conn = self.connection().await?;
        let rows = conn
            .client()?
            .query(
                "SELECT message_id, attempt, at, status, latency_ms, error
                 FROM wharf_outbox_attempts WHERE message_id = $1 ORDER BY id",
                &[&message_id],
            )
            .await
            .map_err(db("delivery log"))?;
        rows.iter()
            .map(|row| {
                let attempt: i32 = row.try_get(1).map_err(corrupt)?;
                let status: Option<i32> = row.try_get(3).map_err(corrupt)?;
                Ok(AttemptRecord {
                    message_id: row.try_get(0).map_err(corrupt)?,
                    attempt: u32::try_from(attempt).unwrap_or(0),
                    at: row.try_get(2).map_err(corrupt)?,
                    status: status.and_then(|s| u16::try_from(s).ok()),
                    latency_ms: row.try_get(4).map_err(corrupt)?,
                    error: row.try_get(5).map_err(corrupt)?,
                })
            })
            .collect()
    }

    async fn outbox_status(&self) -> Result<Vec<OutboxStatus>, StoreError> {
        let conn = self.connection().await?;
        let rows = conn
            .client()?
            .query(
                "SELECT endpoint,
                        COUNT(*) FILTER (WHERE status = 'pending'),
                        COUNT(*) FILTER (WHERE status = 'processing'),
                        COUNT(*) FILTER (WHERE status = 'dead'),
                        MIN(created_at) FILTER (WHERE status IN ('pending', 'processing')),
                        kind
                 FROM wharf_outbox WHERE status <> 'done'
                 GROUP BY kind, endpoint ORDER BY kind, endpoint",
                &[],
            )
            .await
            .map_err(db("outbox status"))?;
        rows.iter()
            .map(|row| {
                Ok(OutboxStatus {
                    kind: row.try_get(5).map_err(corrupt)?,
                    endpoint: row.try_get(0).map_err(corrupt)?,
                    pending: row.try_get::<_, i64>(1).map_err(corrupt)?.max(0) as u64,
                    in_flight: row.try_get::<_, i64>(2).map_err(corrupt)?.max(0) as u64,
                    dead: row.try_get::<_, i64>(3).map_err(corrupt)?.max(0) as u64,
                    oldest_pending: row.try_get(4).map_err(corrupt)?,
                })
            })
            .collect()
    }

    async fn dead_messages(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let conn = self.connection().await?;
        let sql = format!(
            "SELECT seq, source, event_id, created_at, dead_at, attempts, last_error, body
             FROM {OUTBOX_AS_EVENTS} AS o WHERE {DEAD_FILTER} ORDER BY dead_at, seq LIMIT $5"
        );
        query_dead(conn.client()?, &sql, filter, limit, Direction::Outbound).await
    }

    async fn replay_messages(&self, filter: &ReplayFilter, now: i64) -> Result<u64, StoreError> {
        let conn = self.connection().await?;
        let sql = format!(
            "UPDATE wharf_outbox SET status = 'pending', attempts = 0, next_attempt_at = $5,
                 dead_at = NULL
             WHERE seq IN (SELECT seq FROM {OUTBOX_AS_EVENTS} AS o WHERE {DEAD_FILTER})"
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
}
