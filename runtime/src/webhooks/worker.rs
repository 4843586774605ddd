//! [`Worker`]: runs the app's [`Handler`] on stored events, at least once
//! per event and with exactly-once effects for what the handler writes in
//! the transaction it is given. Failures retry with exponential backoff
//! and full jitter up to a limit, then go to the dead-letter queue.

use super::retry_schedule::RetrySchedule;
use crate::store::{Claim, Failure, Store, StoreError, StoredEvent};
use crate::time::ms;
use crate::time::{unix_ms, Clock, TokioClock};
use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// What the app does with an event. `tx` is the store's transaction that
/// marks the event done: rows written in it commit exactly once.
pub trait Handler<S: Store>: Send + Sync + 'static {
    fn handle(
        &self,
        event: &StoredEvent,
        tx: &mut S::Tx,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// A handler's failure: retried on the schedule, or, when permanent,
/// dead-lettered at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    message: String,
    permanent: bool,
}

impl HandlerError {
    /// A failure worth retrying (a peer down, a lock timeout).
    pub fn retry(message: impl fmt::Display) -> Self {
        HandlerError {
            message: message.to_string(),
            permanent: false,
        }
    }

    /// A failure no retry will fix (a payload the app cannot use).
    pub fn permanent(message: impl fmt::Display) -> Self {
        HandlerError {
            message: message.to_string(),
            permanent: true,
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HandlerError {}

impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        HandlerError::retry(e)
    }
}

/// How a worker claims and processes.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub schedule: RetrySchedule,
    /// How long a claimed event is the worker's; a crashed worker's events
    /// are taken up again once it runs out. Longer than `handler_timeout`.
    pub lease: Duration,
    /// The most a handler may take for one event; then the attempt fails.
    pub handler_timeout: Duration,
    /// Events claimed at once.
    pub batch: usize,
    /// Handlers running at once.
    pub concurrency: usize,
    /// How long an idle worker waits before looking again (a receiver in
    /// the same process wakes it at once).
    pub poll_interval: Duration,
    /// How long finished events keep deduplicating redeliveries.
    pub retention: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            schedule: RetrySchedule::default(),
            lease: Duration::from_secs(60),
            handler_timeout: Duration::from_secs(30),
            batch: 32,
            concurrency: 8,
            poll_interval: Duration::from_millis(500),
            retention: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

/// What one pass over the due events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub dead: usize,
    /// Finished elsewhere meanwhile (the lease had run out).
    pub lost: usize,
}

/// Processes a store's events with one handler.
pub struct Worker<S: Store, H: Handler<S>> {
    store: Arc<S>,
    handler: Arc<H>,
    config: WorkerConfig,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// Sources whose queue gauges were published (drained ones go to 0).
    published: Arc<std::sync::Mutex<BTreeSet<String>>>,
}

impl<S: Store, H: Handler<S>> fmt::Debug for Worker<S, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: Store, H: Handler<S>> Clone for Worker<S, H> {
    fn clone(&self) -> Self {
        Worker {
            store: Arc::clone(&self.store),
            handler: Arc::clone(&self.handler),
            config: self.config.clone(),
            clock: Arc::clone(&self.clock),
            wake: Arc::clone(&self.wake),
            published: Arc::clone(&self.published),
        }
    }
}

impl<S: Store, H: Handler<S>> Worker<S, H> {
    pub fn new(store: Arc<S>, handler: H) -> Self {
        Worker {
            store,
            handler: Arc::new(handler),
            config: WorkerConfig::default(),
            clock: Arc::new(TokioClock),
            wake: Arc::new(Notify::new()),
            published: Arc::default(),
        }
    }

    pub fn config(mut self, config: WorkerConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock for due times and backoff (tests pass a paused one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// What a receiver notifies when it stores an event, so the worker
    /// starts at once instead of at its next poll.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Claims the due events once and processes them all.
    pub async fn run_once(&self) -> Result<Pass, StoreError> {
        let now = unix_ms(&*self.clock);
        let events = self
            .store
            .claim(Claim {
                now,
                lease_ms: ms(self.config.lease),
                limit: self.config.batch.max(1),
            })
            .await?;
        let mut pass = Pass {
            claimed: events.len(),
            ..Pass::default()
        };
        let permits = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut running = tokio::task::JoinSet::new();
        for event in events {
            let permit = Arc::clone(&permits).acquire_owned().await;
            let worker = self.clone();
            running.spawn(async move {
                let outcome = worker.process(event).await;
                drop(permit);
                outcome
            });
        }
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok(Ok(Outcome::Done)) => pass.done += 1,
                Ok(Ok(Outcome::Retried)) => pass.retried += 1,
                Ok(Ok(Outcome::Dead)) => pass.dead += 1,
                Ok(Ok(Outcome::Lost)) => pass.lost += 1,
                // The event stays leased and is taken up again when the
                // lease runs out.
                Ok(Err(e)) => tracing::warn!(error = %e, "webhook store failed while processing"),
                Err(e) => tracing::error!(error = %e, "webhook handler task failed"),
            }
        }
        Ok(pass)
    }

    /// Processes until `shutdown` completes: a pass whenever events are
    /// due, a wait of at most `poll_interval` between idle passes, the
    /// queue gauges and the purge of old finished events along the way.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last_housekeeping: Option<crate::time::Instant> = None;
        loop {
            let now = self.clock.now();
            if last_housekeeping.is_none_or(|at| now.saturating_duration_since(at) >= HOUSEKEEPING)
            {
                last_housekeeping = Some(now);
                self.housekeeping().await;
            }
            let pass = tokio::select! {
                () = &mut shutdown => return,
                pass = self.run_once() => pass,
            };
            let busy = match pass {
                Ok(pass) => pass.claimed > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker could not claim events");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = self.clock.sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Publishes the queue gauges and purges finished events past their
    /// retention.
    pub async fn housekeeping(&self) {
        match self.store.depth().await {
            Ok(depths) => {
                let mut published = match self.published.lock() {
                    Ok(p) => p,
                    Err(poisoned) => poisoned.into_inner(),
                };
                super::metrics::queue_depth(&depths, unix_ms(&*self.clock), &mut published)
            }
            Err(e) => tracing::warn!(error = %e, "webhook queue depth unavailable"),
        }
        let before = unix_ms(&*self.clock).saturating_sub(ms(self.config.retention));
        if let Err(e) = self.store.purge_done(before).await {
            tracing::warn!(error = %e, "purging finished webhook events failed");
        }
    }

    async fn process(&self, event: StoredEvent) -> Result<Outcome, StoreError> {
        let max = self.config.schedule.max_attempts();
        if event.attempts > max {
            // Claimed more often than allowed without an outcome: its
            // handler keeps outliving the lease or crashing the worker.
            let error = format!("no outcome after {max} attempts (leases ran out)");
            return self.dead(&event, error).await;
        }
        let mut tx = self.store.begin().await?;
        let limit = self.config.handler_timeout;
        let result =
            crate::time::timeout(&*self.clock, limit, self.handler.handle(&event, &mut tx)).await;
        let error = match result {
            Ok(Ok(())) => {
                let now = unix_ms(&*self.clock);
                return Ok(if self.store.complete(tx, &event, now).await? {
                    Outcome::Done
                } else {
                    tracing::warn!(
                        source = %event.source,
                        event_id = %event.event_id,
                        "webhook event's lease ran out before its handler finished; its writes were rolled back"
                    );
                    Outcome::Lost
                });
            }
            Ok(Err(e)) => e,
            Err(_) => HandlerError::retry(format!("handler took longer than {limit:?}")),
        };
        drop(tx);
        let text = crate::redact::provider_text(error.message(), &[]);
        let now = unix_ms(&*self.clock);
        let retry_at = if error.is_permanent() {
            None
        } else {
            self.config.schedule.next_attempt(event.attempts, now)
        };
        match retry_at {
            None => self.dead(&event, text).await,
            Some(at) => {
                tracing::info!(
                    source = %event.source,
                    event_id = %event.event_id,
                    attempt = event.attempts,
                    error = %text,
                    "webhook handler failed; retrying"
                );
                let failure = Failure {
                    now,
                    error: text,
                    retry_at: Some(at),
                };
                Ok(if self.store.fail(&event, failure).await? {
                    Outcome::Retried
                } else {
                    Outcome::Lost
                })
            }
        }
    }

    async fn dead(&self, event: &StoredEvent, error: String) -> Result<Outcome, StoreError> {
        let now = unix_ms(&*self.clock);
        let failure = Failure {
            now,
            error: error.clone(),
            retry_at: None,
        };
        if !self.store.fail(event, failure).await? {
            return Ok(Outcome::Lost);
        }
        super::metrics::dead_letter(event, &error);
        Ok(Outcome::Dead)
    }
}

/// How often [`Worker::run`] publishes gauges and purges.
const HOUSEKEEPING: Duration = Duration::from_secs(10);

enum Outcome {
    Done,
    Retried,
    Dead,
    Lost,
}
