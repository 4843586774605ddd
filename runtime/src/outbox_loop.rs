//! What both consumers of the outbox (the webhook [`Sender`] and the
//! [`Relay`] of queued calls) do around their own attempts: claim a pass
//! of their kind, record its outcomes in one transaction, tally them, and
//! loop until idle or until shut down.
//!
//! [`Sender`]: crate::webhooks::Sender
//! [`Relay`]: crate::relay::Relay

use crate::store::{AttemptOutcome, Claim, Next, OutboundMessage, OutboxStore, StoreError};
use crate::time::{unix_ms, Clock};
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

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
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

/// Passes until `shutdown` completes, a wait of `poll_interval` after
/// each empty (or failed, logged as `what`) pass.
pub(crate) async fn run<F, Fut>(
    clock: &dyn Clock,
    poll_interval: Duration,
    what: &'static str,
    mut pass: F,
    shutdown: impl Future<Output = ()>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Pass, StoreError>>,
{
    tokio::pin!(shutdown);
    loop {
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
