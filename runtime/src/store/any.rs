//! [`AnyStore`]: a store chosen by URL at run time, for the operations an
//! operator runs (listing and replaying dead letters, queue depth).

use super::error::StoreError;
use super::event::{DeadLetter, Depth, ReplayFilter};
use super::outbound::OutboxStatus;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::OutboxStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::Store;

/// A store opened from `sqlite:PATH` or a `postgres://` URL.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyStore {
    #[cfg(feature = "sqlite")]
    Sqlite(super::SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(super::PostgresStore),
}

/// What a store URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl<'a> {
    Sqlite(&'a str),
    Postgres(&'a str),
}

impl<'a> StoreUrl<'a> {
    /// `sqlite:PATH` (also `sqlite://PATH`) or `postgres://…`/`postgresql://…`.
    pub fn parse(url: &'a str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::Url(
                    "sqlite: needs a file path (sqlite:PATH)".into(),
                ));
            }
            return Ok(StoreUrl::Sqlite(path));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url));
        }
        Err(StoreError::Url(
            "expected sqlite:PATH or a postgres:// URL".into(),
        ))
    }
}

impl AnyStore {
    /// Opens the store `url` names.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        match StoreUrl::parse(url)? {
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => Ok(AnyStore::Sqlite(super::SqliteStore::open(path).await?)),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(url) => Ok(AnyStore::Postgres(
                super::PostgresStore::connect(url).await?,
            )),
            #[allow(unreachable_patterns)]
            _ => Err(StoreError::Url(
                "this build has no backend for that store (features `sqlite`, `postgres`)".into(),
            )),
        }
    }

    /// Dead letters of both directions (inbound events, outbound
    /// messages), oldest first, at most `limit`.
    pub async fn dead_letters(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite(store) => {
                let mut dead = store.dead_letters(filter, limit).await?;
                dead.extend(store.dead_messages(filter, limit).await?);
                dead.sort_by_key(|d| (d.dead_at, d.seq));
                dead.truncate(limit);
                Ok(dead)
            }
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(store) => {
                let mut dead = store.dead_letters(filter, limit).await?;
                dead.extend(store.dead_messages(filter, limit).await?);
                dead.sort_by_key(|d| (d.dead_at, d.seq));
                dead.truncate(limit);
                Ok(dead)
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (filter, limit);
                Ok(Vec::new())
            }
        }
    }

    /// Replays the dead letters of both directions matching `filter`.
    pub async fn replay(&self, filter: &ReplayFilter, now: i64) -> Result<u64, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite(store) => {
                Ok(store.replay(filter, now).await? + store.replay_messages(filter, now).await?)
            }
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(store) => {
                Ok(store.replay(filter, now).await? + store.replay_messages(filter, now).await?)
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (filter, now);
                Ok(0)
            }
        }
    }

    pub async fn depth(&self) -> Result<Vec<Depth>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite(store) => store.depth().await,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(store) => store.depth().await,
            #[allow(unreachable_patterns)]
            _ => Ok(Vec::new()),
        }
    }

    /// The outbox's queues, per endpoint.
    pub async fn outbox_status(&self) -> Result<Vec<OutboxStatus>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite(store) => store.outbox_status().await,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(store) => store.outbox_status().await,
            #[allow(unreachable_patterns)]
            _ => Ok(Vec::new()),
        }
    }
}
