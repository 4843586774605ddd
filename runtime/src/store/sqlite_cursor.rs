//! Pollers' cursors in the SQLite file.

use super::cursor::CursorStore;
use super::error::{with_causes, StoreError};
use super::sqlite::SqliteStore;
use rusqlite::{params, OptionalExtension};

fn db(e: rusqlite::Error) -> StoreError {
    with_causes("SQLite cursor", &e)
}

impl CursorStore for SqliteStore {
    async fn load_cursor(&self, sync: &str) -> Result<Option<String>, StoreError> {
        let sync = sync.to_owned();
        self.blocking(move |conn| {
            conn.query_row(
                "SELECT cursor FROM wharf_cursors WHERE sync = ?1",
                [&sync],
                |row| row.get(0),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn save_cursor(&self, sync: &str, cursor: &str, now: i64) -> Result<(), StoreError> {
        let (sync, cursor) = (sync.to_owned(), cursor.to_owned());
        self.blocking(move |conn| {
            conn.execute(
                "INSERT INTO wharf_cursors (sync, cursor, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sync) DO UPDATE SET cursor = ?2, updated_at = ?3",
                params![sync, cursor, now],
            )
            .map(|_| ())
            .map_err(db)
        })
        .await
    }
}
