//! The PostgreSQL token store, for apps running as several instances.
//!
//! Tokens are encrypted (the same envelopes as the file store) before they
//! reach the database. A refresh lease is a session-level advisory lock on
//! a connection of its own: other instances wait for it, then re-read, and
//! a crashed instance's lease ends with its connection.

use super::file_store::{open, seal, KeyRing};
use super::store::{Lease, StoreError, StoreFuture, TokenStore};
use super::token::TokenSet;
use std::fmt;
use tokio_postgres::{Client, NoTls};

fn db(e: tokio_postgres::Error) -> StoreError {
    // Database errors name tables and SQL states, never token material.
    // The causes go along: "error connecting to server" alone does not say
    // that the connection was refused.
    let mut text = format!("PostgreSQL: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    StoreError::Backend(text)
}

/// Tokens in a PostgreSQL table (`wharf_tokens`, created when missing).
pub struct PostgresStore {
    config: String,
    client: Client,
    keys: KeyRing,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

async fn connect(config: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(config, NoTls).await.map_err(db)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "token store connection ended");
        }
    });
    Ok(client)
}

impl PostgresStore {
    /// Connects (`host=… port=… user=… dbname=…`) and creates the table.
    pub async fn connect(config: &str, keys: KeyRing) -> Result<Self, StoreError> {
        let client = connect(config).await?;
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS wharf_tokens (
                     credential text PRIMARY KEY,
                     envelope bytea NOT NULL,
                     updated_at timestamptz NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(db)?;
        Ok(PostgresStore {
            config: config.to_owned(),
            client,
            keys,
        })
    }
}

impl TokenStore for PostgresStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<TokenSet>> {
        Box::pin(async move {
            let row = self
                .client
                .query_opt(
                    "SELECT envelope FROM wharf_tokens WHERE credential = $1",
                    &[&key],
                )
                .await
                .map_err(db)?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let bytes: Vec<u8> = row.try_get(0).map_err(db)?;
                    open(&self.keys, key, &bytes).map(Some)
                }
            }
        })
    }

    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let envelope = seal(&self.keys, key, tokens)?;
            self.client
                .execute(
                    "INSERT INTO wharf_tokens (credential, envelope) VALUES ($1, $2)
                     ON CONFLICT (credential) DO UPDATE SET envelope = EXCLUDED.envelope, updated_at = now()",
                    &[&key, &envelope],
                )
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.client
                .execute("DELETE FROM wharf_tokens WHERE credential = $1", &[&key])
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    fn lease<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Lease> {
        Box::pin(async move {
            // A connection of its own: the lock lives as long as it does.
            let holder = connect(&self.config).await?;
            holder
                .execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", &[&key])
                .await
                .map_err(db)?;
            Ok(Lease::holding(holder))
        })
    }
}
