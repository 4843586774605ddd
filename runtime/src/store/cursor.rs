//! Durable cursors for pollers: where each sync stopped, committed after
//! the records before it were handled, so a crash resumes from there.

use super::error::StoreError;
use std::future::Future;

/// Where a sync's cursors live.
pub trait CursorStore: Send + Sync + 'static {
    /// The last committed cursor of `sync` (`None` before its first).
    fn load_cursor(
        &self,
        sync: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Commits `cursor` for `sync` at `now` (Unix milliseconds).
    fn save_cursor(
        &self,
        sync: &str,
        cursor: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
