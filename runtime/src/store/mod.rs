//! The durable store under the webhook inbox: every verified delivery is
//! written here before the provider gets its 2xx, workers claim events
//! with a lease, and what fails for good waits in the dead-letter queue
//! until someone replays it.
//!
//! One [`Store`] trait, two backends: [`SqliteStore`] (feature `sqlite`,
//! one file in WAL mode, the embedded default) and [`PostgresStore`]
//! (feature `postgres`, for apps running as several instances; workers
//! claim with `FOR UPDATE SKIP LOCKED`). [`AnyStore`] opens either from a
//! `sqlite:PATH` or `postgres://` URL for the administrative operations
//! (the command line's `webhook dlq`).
//!
//! Exactly-once effects: a worker's handler gets the transaction that
//! marks its event done ([`Store::Tx`]). The mark only commits while the
//! worker still holds the event's lease, so a handler whose lease ran out
//! (and whose event another worker took over) has its writes rolled back.

mod any;
mod cursor;
mod error;
mod event;
mod outbound;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_cursor;
#[cfg(feature = "postgres")]
mod postgres_outbox;
#[cfg(feature = "postgres")]
mod postgres_schema;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_cursor;
#[cfg(feature = "sqlite")]
mod sqlite_outbox;
#[cfg(feature = "sqlite")]
mod sqlite_schema;
#[cfg(all(feature = "sqlx", any(feature = "postgres", feature = "sqlite")))]
mod sqlx_outbox;

pub use any::AnyStore;
pub use cursor::CursorStore;
pub use error::StoreError;
pub use event::{
    Claim, DeadLetter, Depth, Direction, Failure, Inserted, NewEvent, ReplayFilter, StoredEvent,
};
pub use outbound::{
    AttemptOutcome, AttemptRecord, EndpointState, NewMessage, Next, OutboundMessage, OutboxStatus,
    OutboxStore, KIND_CALL, KIND_WEBHOOK,
};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresTx};
/// Enqueues an outbound message in an app's own PostgreSQL transaction.
#[cfg(feature = "postgres")]
pub use postgres_outbox::enqueue_in as enqueue_in_postgres;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteTx};
/// Enqueues an outbound message in an app's own SQLite transaction.
#[cfg(feature = "sqlite")]
pub use sqlite_outbox::enqueue_in as enqueue_in_sqlite;

/// The sqlx the queueing functions take transactions of.
#[cfg(feature = "sqlx")]
pub use sqlx;
#[cfg(all(feature = "sqlx", feature = "postgres"))]
pub use sqlx_outbox::enqueue_in_sqlx_postgres;
#[cfg(all(feature = "sqlx", feature = "sqlite"))]
pub use sqlx_outbox::enqueue_in_sqlx_sqlite;

/// The SQLite library the store is built on, for handlers that write
/// their own rows in [`SqliteTx`] (no second dependency to align).
#[cfg(feature = "sqlite")]
pub use rusqlite;
/// The PostgreSQL client the store is built on, for handlers that write
/// their own rows in [`PostgresTx`].
#[cfg(feature = "postgres")]
pub use tokio_postgres;

use std::future::Future;

/// Where inbound events live between their acknowledgement and their
/// processing, and where dead letters wait. Times are Unix milliseconds
/// from the caller's clock, so tests drive them.
pub trait Store: Send + Sync + 'static {
    /// The transaction a handler writes its own rows in; committing it
    /// marks the event done.
    type Tx: Send;

    /// Stores `event` unless one with its source and id is already there
    /// (a unique constraint decides, so racing deliveries store one).
    /// Durable when it returns.
    fn insert(&self, event: NewEvent) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    /// Leases up to `claim.limit` events that are due (pending with their
    /// next attempt at or before `claim.now`, or processing under a lease
    /// that ran out), counting an attempt on each. An event whose order
    /// key has an earlier unfinished event waits for it.
    fn claim(
        &self,
        claim: Claim,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, StoreError>> + Send;

    /// A transaction for one event's handler (begun when first used).
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;

    /// Marks `event` done in `tx` and commits, if the lease is still
    /// `event`'s; otherwise rolls `tx` back and returns `false` (another
    /// worker took the event over, and its handler's writes will count).
    fn complete(
        &self,
        tx: Self::Tx,
        event: &StoredEvent,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a failed attempt: back to pending at `failure.retry_at`, or
    /// dead when that is `None`. Ignored (returns `false`) if the lease is
    /// no longer `event`'s.
    fn fail(
        &self,
        event: &StoredEvent,
        failure: Failure,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Dead letters matching `filter`, oldest first, at most `limit`.
    fn dead_letters(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    /// Puts the dead letters matching `filter` back as pending, due at
    /// `now`, with their attempts reset; returns how many.
    fn replay(
        &self,
        filter: &ReplayFilter,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Pending and dead events per source, and the oldest pending one's
    /// arrival (for the depth and age gauges).
    fn depth(&self) -> impl Future<Output = Result<Vec<Depth>, StoreError>> + Send;

    /// Deletes finished events that arrived before `before` (their ids
    /// stop deduplicating redeliveries); returns how many.
    fn purge_done(&self, before: i64) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The statuses an event goes through.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) mod status {
    pub const PENDING: &str = "pending";
    pub const PROCESSING: &str = "processing";
    pub const DONE: &str = "done";
    pub const DEAD: &str = "dead";
}

/// The longest error text kept with an event.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) const MAX_ERROR_LEN: usize = 2000;
