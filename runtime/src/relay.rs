//! [`Relay`]: sends the calls an app queued in its outbox (see
//! [`crate::client::capture`]) through the request path of the integration
//! they were captured from: deadline, breaker, rate limit, bulkhead and
//! auth apply as to any call, with the outbox row's id as the idempotency
//! key, so a crash after the provider committed and before the relay
//! recorded it causes no duplicate at a provider that honours keys.
//! Several relays on one PostgreSQL share the work (`SKIP LOCKED`), each
//! row in flight at most once, with a lease for crashed relays; failures
//! follow a [`RetrySchedule`] and end in the dead-letter queue.

use crate::call::{CallOptions, Integration, OperationMeta, Verdict};
use crate::client::QueuedCall;
use crate::outbox_loop;
use crate::store::{
    AttemptOutcome, AttemptRecord, Next, OutboundMessage, OutboxStore, StoreError, KIND_CALL,
};
use crate::time::ms;
use crate::time::{unix_ms, Clock, TokioClock};
use crate::webhooks::RetrySchedule;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, UNIX_EPOCH};

/// How a relay sends.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// When attempts happen (default: exponential, 8 attempts, 1 s to 1 h).
    pub schedule: RetrySchedule,
    /// How long a claimed call is the relay's: longer than a pass takes
    /// (`batch / concurrency` calls in a row, each up to its deadline), or
    /// another relay takes the call over (safe: the same idempotency key,
    /// but an attempt used).
    pub lease: Duration,
    pub batch: usize,
    pub concurrency: usize,
    pub poll_interval: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            schedule: RetrySchedule::default(),
            lease: Duration::from_secs(120),
            batch: 32,
            concurrency: 8,
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// What one pass did.
pub type RelayPass = crate::outbox_loop::Pass;

struct Target {
    integration: Integration,
    operations: &'static [&'static OperationMeta],
}

/// Sends queued calls.
pub struct Relay<S: OutboxStore> {
    store: Arc<S>,
    targets: RwLock<HashMap<String, Arc<Target>>>,
    config: RelayConfig,
    clock: Arc<dyn Clock>,
}

impl<S: OutboxStore> fmt::Debug for Relay<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: OutboxStore> Relay<S> {
    pub fn new(store: Arc<S>, config: RelayConfig) -> Self {
        Relay {
            store,
            targets: RwLock::new(HashMap::new()),
            config,
            clock: Arc::new(TokioClock),
        }
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends the calls queued from clients of `integration` (by its name),
    /// looking their operations up in `operations` (a generated client's
    /// `operations::ALL`), so each keeps its security requirements.
    pub fn register(
        &self,
        integration: Integration,
        operations: &'static [&'static OperationMeta],
    ) {
        let name = integration.name().to_owned();
        // At zero before the first dead letter, so `increase` sees it.
        metrics::counter!("wharf_outbox_dead_letters_total", "integration" => name.clone())
            .increment(0);
        if let Ok(mut targets) = self.targets.write() {
            targets.insert(
                name,
                Arc::new(Target {
                    integration,
                    operations,
                }),
            );
        }
    }

    fn target(&self, name: &str) -> Option<Arc<Target>> {
        self.targets.read().ok()?.get(name).cloned()
    }

    /// Claims the due calls once and sends them; the pass's outcomes are
    /// recorded in one transaction.
    pub async fn send_once(&self) -> Result<RelayPass, StoreError> {
        let clock = &*self.clock;
        let (lease, batch) = (self.config.lease, self.config.batch);
        let messages = outbox_loop::claim(&*self.store, clock, KIND_CALL, lease, batch).await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(self.config.concurrency.max(1)) {
            let sends = chunk.iter().map(|m| self.send(m));
            outcomes.extend(futures_util::future::join_all(sends).await);
        }
        outbox_loop::record(&*self.store, clock, messages.len(), &outcomes, |dead| {
            let m = &dead.message;
            tracing::warn!(
                integration = %m.endpoint,
                operation = %m.event_type,
                id = %m.message_id,
                attempts = m.attempts,
                error = dead.error.as_deref().unwrap_or_default(),
                "queued call moved to the dead-letter queue"
            );
            metrics::counter!("wharf_outbox_dead_letters_total", "integration" => m.endpoint.clone())
                .increment(1);
        })
        .await
    }

    /// Sends until nothing is pending or in flight.
    pub async fn run_until_idle(&self) -> Result<(), StoreError> {
        let poll = self.config.poll_interval;
        outbox_loop::run_until_idle(&*self.store, &*self.clock, KIND_CALL, poll, || {
            self.send_once()
        })
        .await
    }

    /// Sends until `shutdown` completes.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        let poll = self.config.poll_interval;
        outbox_loop::run(
            &*self.store,
            &*self.clock,
            KIND_CALL,
            poll,
            "relay",
            || self.send_once(),
            shutdown,
        )
        .await
    }

    async fn send(&self, message: &OutboundMessage) -> AttemptOutcome {
        let now = unix_ms(&*self.clock);
        let outcome =
            |log: Option<AttemptRecord>, next: Next, error: Option<String>| AttemptOutcome {
                message: message.clone(),
                log,
                next,
                error,
            };
        let max = self.config.schedule.max_attempts();
        if message.attempts > max {
            // Claimed more often than allowed without an outcome: whatever
            // sends it keeps crashing or outliving its lease.
            let error = format!("no outcome after {max} attempts (leases ran out)");
            return outcome(None, Next::Dead, Some(error));
        }
        let call = match QueuedCall::from_bytes(&message.body) {
            Ok(call) => call,
            Err(e) => return outcome(None, Next::Dead, Some(e.to_string())),
        };
        let Some(target) = self.target(&call.integration) else {
            let error = format!(
                "integration {:?} is not registered with the relay",
                call.integration
            );
            return outcome(None, Next::Dead, Some(error));
        };
        let Some(operation) = target.operations.iter().find(|o| o.name == call.operation) else {
            let error = format!(
                "operation {:?} is not among the integration's",
                call.operation
            );
            return outcome(None, Next::Dead, Some(error));
        };
        let request = match call.to_request(operation) {
            Ok(request) => request,
            Err(e) => return outcome(None, Next::Dead, Some(e.to_string())),
        };
        let mut options = CallOptions::default().idempotency_key(message.message_id.clone());
        if let Some(ms) = call.timeout_ms {
            options = options.timeout(Duration::from_millis(ms));
        }
        let started = self.clock.now();
        let result = target.integration.call(request, options).await;
        let latency_ms = ms(self.clock.now().saturating_duration_since(started));
        let attempt = |status: Option<u16>, error: Option<String>| AttemptRecord {
            message_id: message.message_id.clone(),
            attempt: message.attempts,
            at: now,
            status,
            latency_ms,
            error,
        };
        let wall = UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0));
        match Verdict::of(&result, wall) {
            Verdict::Delivered { status } => {
                outcome(Some(attempt(Some(status), None)), Next::Done, None)
            }
            Verdict::NotSent { after, why } => outcome(
                None,
                Next::Release(now.saturating_add(ms(after))),
                Some(why),
            ),
            Verdict::Gone { error } => outcome(
                Some(attempt(Some(410), Some(error.clone()))),
                Next::Dead,
                Some(error),
            ),
            Verdict::Permanent { status, error } => outcome(
                Some(attempt(status, Some(error.clone()))),
                Next::Dead,
                Some(error),
            ),
            Verdict::Retry {
                status,
                error,
                after,
            } => {
                let next = self
                    .config
                    .schedule
                    .next_attempt_after(message.attempts, now, after)
                    .map_or(Next::Dead, Next::RetryAt);
                outcome(
                    Some(attempt(status, Some(error.clone()))),
                    next,
                    Some(error),
                )
            }
        }
    }
}
