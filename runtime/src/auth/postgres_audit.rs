//! Audit records in PostgreSQL (`wharf_audit_log`), for apps running as
//! several instances. Writes are handed to a writer task through a bounded
//! queue (a credential event never waits for the database); [`flush`]
//! waits until everything handed over is written.
//!
//! [`flush`]: PostgresAudit::flush

use super::audit::{AuditAction, AuditError, AuditOutcome, AuditRecord, AuditSink};
use std::fmt;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, NoTls};

/// Records waiting for the writer; a full queue fails the write (logged
/// and counted by the audit log).
const QUEUE: usize = 4096;

enum Message {
    Record(AuditRecord),
    Flush(oneshot::Sender<()>),
}

pub struct PostgresAudit {
    queue: mpsc::Sender<Message>,
    client: Arc<Client>,
}

impl fmt::Debug for PostgresAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresAudit").finish_non_exhaustive()
    }
}

fn db(e: tokio_postgres::Error) -> AuditError {
    AuditError(format!("PostgreSQL: {e}"))
}

impl PostgresAudit {
    /// Connects (`host=… port=… user=… dbname=…`), creates the table and
    /// starts the writer (on the current tokio runtime).
    pub async fn connect(config: &str) -> Result<Self, AuditError> {
        let (client, connection) = tokio_postgres::connect(config, NoTls).await.map_err(db)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "audit log connection ended");
            }
        });
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS wharf_audit_log (
                     id bigserial PRIMARY KEY,
                     at_ms bigint NOT NULL,
                     integration text NOT NULL,
                     subject text,
                     action text NOT NULL,
                     outcome text NOT NULL,
                     detail text
                 );
                 CREATE INDEX IF NOT EXISTS wharf_audit_log_at ON wharf_audit_log (integration, at_ms);",
            )
            .await
            .map_err(db)?;
        let client = Arc::new(client);
        let (queue, mut receiver) = mpsc::channel(QUEUE);
        let writer = Arc::clone(&client);
        tokio::spawn(async move {
            while let Some(message) = receiver.recv().await {
                match message {
                    Message::Record(r) => {
                        if let Err(e) = insert(&writer, &r).await {
                            tracing::error!(error = %e, action = r.action.as_str(), integration = %r.integration, "audit record not written");
                            metrics::counter!("wharf_audit_write_failures_total").increment(1);
                        }
                    }
                    Message::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Ok(PostgresAudit { queue, client })
    }

    /// Waits until every record handed over before this call is written.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send(Message::Flush(done))
            .await
            .map_err(|_| AuditError("the writer has stopped".into()))?;
        wait.await
            .map_err(|_| AuditError("the writer has stopped".into()))
    }

    /// The latest `limit` records of `integration`, oldest first.
    pub async fn records(
        &self,
        integration: &str,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, AuditError> {
        let rows = self
            .client
            .query(
                "SELECT at_ms, integration, subject, action, outcome, detail FROM (
                     SELECT * FROM wharf_audit_log WHERE integration = $1
                     ORDER BY id DESC LIMIT $2
                 ) latest ORDER BY id",
                &[&integration, &limit],
            )
            .await
            .map_err(db)?;
        rows.iter()
            .map(|row| {
                let text = |i: usize| -> Result<String, AuditError> { row.try_get(i).map_err(db) };
                let action = text(3)?;
                let outcome = text(4)?;
                Ok(AuditRecord {
                    at_ms: row.try_get(0).map_err(db)?,
                    integration: text(1)?,
                    subject: row.try_get(2).map_err(db)?,
                    action: AuditAction::parse(&action)
                        .ok_or_else(|| AuditError(format!("unknown action {action:?}")))?,
                    outcome: match outcome.as_str() {
                        "success" => AuditOutcome::Success,
                        "failure" => AuditOutcome::Failure,
                        other => return Err(AuditError(format!("unknown outcome {other:?}"))),
                    },
                    detail: row.try_get(5).map_err(db)?,
                })
            })
            .collect()
    }
}

async fn insert(client: &Client, r: &AuditRecord) -> Result<(), AuditError> {
    client
        .execute(
            "INSERT INTO wharf_audit_log (at_ms, integration, subject, action, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &r.at_ms,
                &r.integration,
                &r.subject,
                &r.action.as_str(),
                &r.outcome.as_str(),
                &r.detail,
            ],
        )
        .await
        .map_err(db)?;
    Ok(())
}

impl AuditSink for PostgresAudit {
    fn write(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.queue
            .try_send(Message::Record(record.clone()))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => AuditError("the write queue is full".into()),
                mpsc::error::TrySendError::Closed(_) => AuditError("the writer has stopped".into()),
            })
    }
}
