//! [`Poller`]: for providers without webhooks. A sync reads what changed
//! since its durable cursor (through a generated `_stream` method, or any
//! stream of records in ascending cursor order), hands only records past
//! the cursor to the app in batches, and commits the cursor after each
//! batch is handled, so a crash resumes from the last committed cursor.
//! The interval backs off while nothing is new and returns to normal when
//! something is.

use crate::store::{CursorStore, StoreError};
use crate::time::{unix_ms, Clock, TokioClock};
use crate::webhooks::HandlerError;
use futures_util::{Stream, StreamExt};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How a sync polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollConfig {
    /// The interval while records keep coming.
    pub interval: Duration,
    /// The longest interval: quiet polls double it up to this.
    pub max_interval: Duration,
    /// Records handed to the app at once (and the cursor committed after).
    pub batch: usize,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval: Duration::from_secs(30),
            max_interval: Duration::from_secs(15 * 60),
            batch: 100,
        }
    }
}

/// Why a poll stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum PollError {
    /// Reading the provider failed (the error's text, redacted by its own
    /// `Display`); the cursor is where the last handled batch left it.
    Fetch(String),
    /// A record's cursor is below the one before it: the stream is not in
    /// ascending order, and going on could skip records.
    OutOfOrder {
        previous: String,
        next: String,
    },
    /// The app's handler failed; the batch is handed again next time.
    Handler(HandlerError),
    Store(StoreError),
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollError::Fetch(why) => write!(f, "fetching changes: {why}"),
            PollError::OutOfOrder { previous, next } => write!(
                f,
                "records out of cursor order ({next:?} after {previous:?}); the sync stops rather than skip any"
            ),
            PollError::Handler(e) => write!(f, "handler: {e}"),
            PollError::Store(e) => write!(f, "cursor store: {e}"),
        }
    }
}

impl std::error::Error for PollError {}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollPass {
    /// Records past the cursor, handed to the app.
    pub handed: usize,
    /// Records at or before the cursor (already handled), skipped.
    pub skipped: usize,
    /// The cursor committed at the end.
    pub cursor: Option<String>,
}

/// One sync's poller.
pub struct Poller<S: CursorStore> {
    store: Arc<S>,
    sync: String,
    config: PollConfig,
    clock: Arc<dyn Clock>,
}

impl<S: CursorStore> fmt::Debug for Poller<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("sync", &self.sync)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: CursorStore> Poller<S> {
    /// A poller for the sync named `sync` (its cursor's key in the store).
    pub fn new(store: Arc<S>, sync: impl Into<String>, config: PollConfig) -> Self {
        Poller {
            store,
            sync: sync.into(),
            config,
            clock: Arc::new(TokioClock),
        }
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Polls once: `fetch` gets the committed cursor (`None` the first
    /// time) and returns the records changed since, in ascending cursor
    /// order (`cursor_of` gives a record's: e.g. its `updated_at` and id,
    /// in a form that sorts as text); those past the cursor go to
    /// `handle` in batches, and the cursor is committed after each.
    pub async fn poll_once<R, E, St, Fut>(
        &self,
        fetch: impl FnOnce(Option<String>) -> St,
        cursor_of: impl Fn(&R) -> String,
        mut handle: impl FnMut(Vec<R>) -> Fut,
    ) -> Result<PollPass, PollError>
    where
        St: Stream<Item = Result<R, E>>,
        E: fmt::Display,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let committed = self
            .store
            .load_cursor(&self.sync)
            .await
            .map_err(PollError::Store)?;
        let mut pass = PollPass {
            cursor: committed.clone(),
            ..PollPass::default()
        };
        let stream = fetch(committed.clone());
        futures_util::pin_mut!(stream);
        let mut batch: Vec<R> = Vec::with_capacity(self.config.batch.max(1));
        let mut last: Option<String> = None;
        while let Some(item) = stream.next().await {
            let record = item.map_err(|e| PollError::Fetch(e.to_string()))?;
            let key = cursor_of(&record);
            if let Some(previous) = &last {
                if key < *previous {
                    return Err(PollError::OutOfOrder {
                        previous: previous.clone(),
                        next: key,
                    });
                }
            }
            last = Some(key.clone());
            if committed.as_ref().is_some_and(|c| key <= *c) {
                pass.skipped += 1;
                continue;
            }
            batch.push(record);
            if batch.len() >= self.config.batch.max(1) {
                self.commit(&mut batch, &key, &mut handle, &mut pass)
                    .await?;
            }
        }
        if let Some(key) = last.filter(|_| !batch.is_empty()) {
            self.commit(&mut batch, &key, &mut handle, &mut pass)
                .await?;
        }
        Ok(pass)
    }

    async fn commit<R, Fut>(
        &self,
        batch: &mut Vec<R>,
        key: &str,
        handle: &mut impl FnMut(Vec<R>) -> Fut,
        pass: &mut PollPass,
    ) -> Result<(), PollError>
    where
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let records = std::mem::take(batch);
        let count = records.len();
        handle(records).await.map_err(PollError::Handler)?;
        self.store
            .save_cursor(&self.sync, key, unix_ms(&*self.clock))
            .await
            .map_err(PollError::Store)?;
        pass.handed += count;
        pass.cursor = Some(key.to_owned());
        Ok(())
    }

    /// The next interval after a pass that handed `handed` records: the
    /// base interval when something was new, double the last (up to the
    /// maximum) when nothing was.
    pub fn next_interval(&self, last: Duration, handed: usize) -> Duration {
        if handed > 0 {
            self.config.interval
        } else {
            last.saturating_mul(2)
                .max(self.config.interval)
                .min(self.config.max_interval)
        }
    }

    /// Polls until `shutdown`, waiting [`Poller::next_interval`] between
    /// polls; a failed poll is logged and retried after the interval.
    pub async fn run<R, E, St, Fut>(
        &self,
        mut fetch: impl FnMut(Option<String>) -> St,
        cursor_of: impl Fn(&R) -> String,
        mut handle: impl FnMut(Vec<R>) -> Fut,
        shutdown: impl Future<Output = ()>,
    ) where
        St: Stream<Item = Result<R, E>>,
        E: fmt::Display,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        tokio::pin!(shutdown);
        let mut interval = self.config.interval;
        loop {
            let handed = tokio::select! {
                () = &mut shutdown => return,
                pass = self.poll_once(&mut fetch, &cursor_of, &mut handle) => match pass {
                    Ok(pass) => pass.handed,
                    Err(e) => {
                        tracing::warn!(sync = %self.sync, error = %e, "poll failed");
                        0
                    }
                },
            };
            interval = self.next_interval(interval, handed);
            tokio::select! {
                () = &mut shutdown => return,
                () = self.clock.sleep(interval) => {}
            }
        }
    }
}
