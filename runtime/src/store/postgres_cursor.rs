//! Pollers' cursors in PostgreSQL.

use super::cursor::CursorStore;
use super::error::{with_causes, StoreError};
use super::postgres::PostgresStore;

fn db(e: tokio_postgres::Error) -> StoreError {
    with_causes("PostgreSQL cursor", &e)
}

impl CursorStore for PostgresStore {
    async fn load_cursor(&self, sync: &str) -> Result<Option<String>, StoreError> {
        let conn = self.connection().await?;
        let row = conn
            .client()?
            .query_opt("SELECT cursor FROM wharf_cursors WHERE sync = $1", &[&sync])
            .await
            .map_err(db)?;
        row.map(|r| r.try_get(0).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    async fn save_cursor(&self, sync: &str, cursor: &str, now: i64) -> Result<(), StoreError> {
        let conn = self.connection().await?;
        conn.client()?
            .execute(
                "INSERT INTO wharf_cursors (sync, cursor, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (sync) DO UPDATE SET cursor = $2, updated_at = $3",
                &[&sync, &cursor, &now],
            )
            .await
            .map(|_| ())
            .map_err(db)
    }
}
