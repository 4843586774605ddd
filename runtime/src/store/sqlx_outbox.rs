//! Queueing outbound work in an app's `sqlx` transaction (feature `sqlx`):
//! the same row as [`enqueue_in_postgres`](super::enqueue_in_postgres) and
//! [`enqueue_in_sqlite`](super::enqueue_in_sqlite) write, through the
//! connection the app already holds, so it is sent if and only if that
//! transaction commits. The tables exist once the store was opened on the
//! same database.

use super::error::{with_causes, StoreError};
use super::event::Inserted;
use super::outbound::NewMessage;

fn db(e: sqlx::Error) -> StoreError {
    with_causes("sqlx enqueue", &e)
}

/// Binds `message`'s fields in the order both backends' `ENQUEUE` takes
/// them.
macro_rules! bind_message {
    ($query:expr, $message:expr) => {
        $query
            .bind(&$message.message_id)
            .bind(&$message.endpoint)
            .bind(&$message.event_type)
            .bind(&$message.body[..])
            .bind($message.created_at)
            .bind($message.due_at)
            .bind($message.kind)
    };
}

/// Enqueues `message` with `executor`: an open `sqlx::Transaction<'_,
/// Postgres>` (pass `&mut *tx`) or any PostgreSQL connection.
#[cfg(feature = "postgres")]
pub async fn enqueue_in_sqlx_postgres<'c, E>(
    executor: E,
    message: &NewMessage,
) -> Result<Inserted, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    let query = sqlx::query_scalar::<_, i64>(super::postgres_outbox::ENQUEUE);
    let seq = bind_message!(query, message)
        .fetch_optional(executor)
        .await
        .map_err(db)?;
    Ok(seq.map_or(Inserted::Duplicate, Inserted::Stored))
}

/// Enqueues `message` with `executor`: an open `sqlx::Transaction<'_,
/// Sqlite>` (pass `&mut *tx`) on the store's file.
#[cfg(feature = "sqlite")]
pub async fn enqueue_in_sqlx_sqlite<'c, E>(
    executor: E,
    message: &NewMessage,
) -> Result<Inserted, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let query = sqlx::query_scalar::<_, i64>(super::sqlite_outbox::ENQUEUE);
    let seq = bind_message!(query, message)
        .fetch_optional(executor)
        .await
        .map_err(db)?;
    Ok(seq.map_or(Inserted::Duplicate, Inserted::Stored))
}
