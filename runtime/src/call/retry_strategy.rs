//! The retry strategy: after a failed attempt, whether and when to try
//! again. The orchestrator owns the loop, the sleep and the attempt count;
//! the strategy only decides, from the failure's class, the call's
//! idempotency plan, its attempts left, the time left and the
//! integration's shared retry budget (the quota that keeps an outage from
//! multiplying load).

use super::components::Components;
use super::error::{ErrorClass, ErrorKind};
use crate::policy::retry::RetryPolicy;
use std::time::Duration;

/// A failed attempt, as the strategy weighs it.
pub(super) struct Failed {
    pub(super) kind: ErrorKind,
    pub(super) class: ErrorClass,
    /// The delay the provider asked for (`Retry-After`, a reset header).
    pub(super) provider_delay: Option<Duration>,
    /// Attempts made so far.
    pub(super) attempts: u32,
    /// Time left before the call's deadline.
    pub(super) remaining: Duration,
    /// The least time the next attempt needs to be worth starting.
    pub(super) needed: Duration,
}

/// What the strategy decided.
pub(super) enum Decision {
    RetryAfter(Duration),
    /// Give up with `kind`; `budget_exhausted` when only the empty retry
    /// budget stopped a retry.
    Stop {
        kind: ErrorKind,
        budget_exhausted: bool,
    },
}

/// One call's retry strategy: its policy and plan, the integration's
/// jitter and budget.
pub(super) struct RetryStrategy<'a> {
    integration: &'a Components,
    policy: RetryPolicy,
    has_idempotency_plan: bool,
}

impl<'a> RetryStrategy<'a> {
    pub(super) fn new(
        integration: &'a Components,
        policy: RetryPolicy,
        has_idempotency_plan: bool,
    ) -> Self {
        RetryStrategy {
            integration,
            policy,
            has_idempotency_plan,
        }
    }

    /// Retryable class, attempts left, a delay that fits the time left,
    /// then a token from the budget: in that order, so a retry that would
    /// not be made never spends one.
    pub(super) fn after_attempt(&self, failed: Failed) -> Decision {
        let i = self.integration;
        let stop = |kind| Decision::Stop {
            kind,
            budget_exhausted: false,
        };
        if !is_retryable(failed.class, self.has_idempotency_plan)
            || failed.attempts >= self.policy.max_attempts
        {
            return stop(failed.kind);
        }
        let backoff = i.jitter.full(self.policy.ceiling(failed.attempts));
        let delay = failed.provider_delay.map_or(backoff, |d| d.max(backoff));
        if delay + failed.needed > failed.remaining {
            return stop(match (failed.provider_delay, failed.kind) {
                (Some(retry_after), ErrorKind::Status { status, .. })
                    if retry_after + failed.needed > failed.remaining =>
                {
                    ErrorKind::RetryAfterBeyondDeadline {
                        retry_after,
                        status,
                    }
                }
                (_, kind) => kind,
            });
        }
        if !i.budget.try_spend() {
            metrics::counter!("wharf_retry_budget_exhausted_total", "integration" => i.label.clone()).increment(1);
            tracing::warn!(integration = %i.name, "retry budget exhausted; not retrying");
            return Decision::Stop {
                kind: failed.kind,
                budget_exhausted: true,
            };
        }
        Decision::RetryAfter(delay)
    }
}

/// Whether a failure of this class may be retried.
pub fn is_retryable(class: ErrorClass, has_idempotency_plan: bool) -> bool {
    match class {
        ErrorClass::Transient | ErrorClass::RateLimited => true,
        ErrorClass::Ambiguous => has_idempotency_plan,
        ErrorClass::Permanent => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_classes_are_retried() {
        assert!(is_retryable(ErrorClass::Transient, false));
        assert!(is_retryable(ErrorClass::RateLimited, false));
        assert!(!is_retryable(ErrorClass::Permanent, true));
        assert!(!is_retryable(ErrorClass::Ambiguous, false));
        assert!(is_retryable(ErrorClass::Ambiguous, true));
    }
}
