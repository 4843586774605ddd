//! What both consumers of the outbox (the webhook [`Sender`] and the
//! [`Relay`] of queued calls) do around their own attempts: claim a pass
//! of their kind, record its outcomes in one transaction, tally them, and
//! loop until idle or until shut down.
//!
//! [`Sender`]: crate::webhooks::Sender
//! [`Relay`]: crate::relay::Relay

use crate::store::{AttemptOutcome, Claim, Next, OutboundMessage, OutboxStore, StoreError};
use crate::time::ms;
use crate::time::{unix_ms, Clock};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

/// What one pass over the due messages did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
    /// Not sent (breaker open, rate limit): due again later, attempt not
    /// counted.
    pub delayed: usize,
}

/// Leases up to `batch` due messages of `kind` for `lease`.
pub(crate) async fn claim<S: OutboxStore>(
    store: &S,
    clock: &dyn Clock,
    kind: &'static str,
    lease: Duration,
    batch: usize,
) -> Result<Vec<OutboundMessage>, StoreError> {
    let claim = Claim {
        now: unix_ms(clock),
        lease_ms: ms(lease),
        limit: batch.max(1),
    };
    store.claim_messages(claim, kind).await
}

/// Records a pass's outcomes in one transaction (one commit, one fsync on
/// SQLite, for all its attempts) and tallies those still under their
/// lease; `on_dead` reports each message given up on.
pub(crate) async fn record<S: OutboxStore>(
    store: &S,
    clock: &dyn Clock,
    claimed: usize,
    outcomes: &[AttemptOutcome],
    on_dead: impl Fn(&AttemptOutcome),
) -> Result<Pass, StoreError> {
    let recorded = store.record_attempts(outcomes, unix_ms(clock)).await?;
    let mut pass = Pass {
        claimed,
        ..Pass::default()
    };
    // A `false`: the lease ran out meanwhile and another consumer has it.
    for (outcome, _) in outcomes.iter().zip(recorded).filter(|(_, r)| *r) {
        match outcome.next {
            Next::Done => pass.delivered += 1,
            Next::RetryAt(_) => pass.retried += 1,
            Next::Release(_) => pass.delayed += 1,
            Next::Dead => {
                pass.dead += 1;
                on_dead(outcome);
            }
        }
    }
    Ok(pass)
}

/// Passes until nothing of `kind` is pending or in flight (a killed
/// consumer's messages are taken up once their lease runs out), sleeping
/// `poll_interval` between empty passes.
pub(crate) async fn run_until_idle<S, F, Fut>(
    store: &S,
    clock: &dyn Clock,
    kind: &'static str,
    poll_interval: Duration,
    mut pass: F,
) -> Result<(), StoreError>
where
    S: OutboxStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Pass, StoreError>>,
{
    loop {
        if pass().await?.claimed > 0 {
            continue;
        }
        let waiting: u64 = store
            .outbox_status()
            .await?
            .iter()
            .filter(|q| q.kind == kind)
            .map(|q| q.pending + q.in_flight)
            .sum();
        if waiting == 0 {
            return Ok(());
        }
        clock.sleep(poll_interval).await;
    }
}

/// How often a running consumer publishes its kind's queue gauges.
const GAUGES_EVERY: Duration = Duration::from_secs(10);

/// The label outbound webhooks' queue gauges carry instead of an endpoint:
/// endpoints are the app's customers, too many for a label.
pub const OUTBOUND_WEBHOOKS: &str = "outbound_webhooks";

/// `wharf_outbox_queue_depth{integration, state="pending"|"in_flight"|"dead"}`
/// and `wharf_outbox_oldest_pending_seconds{integration}` for `kind`'s
/// queues: one per integration for queued calls, all outbound webhooks
/// summed under [`OUTBOUND_WEBHOOKS`].
/// `published` holds the queues published before: one that has drained
/// (the store no longer lists it) is set to zero, not left at its last
/// depth.
pub(crate) async fn publish_gauges<S: OutboxStore>(
    store: &S,
    clock: &dyn Clock,
    kind: &'static str,
    published: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let now = unix_ms(clock);
    let mut queues: BTreeMap<String, (u64, u64, u64, Option<i64>)> = published
        .iter()
        .map(|name| (name.clone(), Default::default()))
        .collect();
    for q in store
        .outbox_status()
        .await?
        .iter()
        .filter(|q| q.kind == kind)
    {
        let name = if kind == crate::store::KIND_CALL {
            q.endpoint.clone()
        } else {
            OUTBOUND_WEBHOOKS.to_owned()
        };
        let e = queues.entry(name).or_default();
        e.0 += q.pending;
        e.1 += q.in_flight;
        e.2 += q.dead;
        e.3 = match (e.3, q.oldest_pending) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    if kind == crate::store::KIND_CALL {
        for name in queues.keys().filter(|n| !published.contains(*n)) {
            // Registered at zero before the first dead letter can arrive,
            // so Prometheus's `increase` sees that one too.
            metrics::counter!("wharf_outbox_dead_letters_total", "integration" => name.clone())
                .increment(0);
        }
    }
    published.extend(queues.keys().cloned());
    for (name, (pending, in_flight, dead, oldest)) in queues {
        for (state, n) in [
            ("pending", pending),
            ("in_flight", in_flight),
            ("dead", dead),
        ] {
            metrics::gauge!("wharf_outbox_queue_depth", "integration" => name.clone(), "state" => state)
                .set(n as f64);
        }
        let age = oldest.map_or(0.0, |at| now.saturating_sub(at).max(0) as f64 / 1000.0);
        metrics::gauge!("wharf_outbox_oldest_pending_seconds", "integration" => name).set(age);
    }
    Ok(())
}

/// Passes until `shutdown` completes, a wait of `poll_interval` after
/// each empty (or failed, logged as `what`) pass; every [`GAUGES_EVERY`],
/// `kind`'s queue gauges.
pub(crate) async fn run<S, F, Fut>(
    store: &S,
    clock: &dyn Clock,
    kind: &'static str,
    poll_interval: Duration,
    what: &'static str,
    mut pass: F,
    shutdown: impl Future<Output = ()>,
) where
    S: OutboxStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Pass, StoreError>>,
{
    tokio::pin!(shutdown);
    let mut gauges_due = clock.now();
    let mut published = BTreeSet::new();
    loop {
        if clock.now() >= gauges_due {
            gauges_due = clock.now() + GAUGES_EVERY;
            if let Err(e) = publish_gauges(store, clock, kind, &mut published).await {
                tracing::warn!(error = %e, "{what} could not read the queue's depth");
            }
        }
        let result = tokio::select! {
            () = &mut shutdown => return,
            result = pass() => result,
        };
        match result {
            Ok(pass) if pass.claimed > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "{what} could not claim messages"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = clock.sleep(poll_interval) => {}
        }
    }
}
