//! Configuration as plain data with safe defaults, per integration and
//! overridable per tag, per operation and per call (per call > per
//! operation > per tag > per integration; see [`crate::policy::declared`]
//! for where declared policies fit in).

use crate::policy::breaker::BreakerConfig;
use crate::policy::budget::BudgetConfig;
use crate::policy::bulkhead::BulkheadConfig;
use crate::policy::deadline::Deadline;
use crate::policy::rate_limit::RateLimit;
use crate::policy::retry::RetryPolicy;
use crate::policy::ConfigError;
use http::HeaderName;
use std::collections::HashMap;
use std::time::Duration;

/// Everything about how calls to one provider are made.
#[derive(Debug, Clone)]
pub struct IntegrationConfig {
    /// End-to-end budget of a call whose caller set no deadline.
    pub total_timeout: Duration,
    /// Longest single attempt (always inside the remaining budget).
    pub attempt_timeout: Duration,
    /// An attempt is not started with less budget than this left (nor a
    /// retry with less than the call's fastest answer so far).
    pub min_attempt_budget: Duration,
    pub retry: RetryPolicy,
    pub budget: BudgetConfig,
    /// `None` disables the breaker (not recommended).
    pub breaker: Option<BreakerConfig>,
    /// One breaker per operation instead of one for the integration (when
    /// one endpoint failing must not cut off the others).
    pub breaker_per_operation: bool,
    pub rate_limit: Option<RateLimit>,
    pub bulkhead: Option<BulkheadConfig>,
    /// Header carrying the idempotency key of mutating calls.
    pub idempotency_header: HeaderName,
    /// Send an idempotency key on every non-idempotent call, not only on
    /// operations that declare one.
    pub idempotency_on_all_mutations: bool,
    /// Header carrying the call's correlation id.
    pub correlation_header: HeaderName,
    /// Seed for retry jitter (set in tests for exact figures).
    pub jitter_seed: Option<u64>,
    /// Per-operation overrides, by operation name.
    pub operations: HashMap<String, CallOptions>,
    /// Per-tag overrides, by the spec's tag (an operation's first tag with
    /// an entry applies).
    pub tags: HashMap<String, CallOptions>,
}

impl Default for IntegrationConfig {
    fn default() -> Self {
        IntegrationConfig {
            total_timeout: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(10),
            min_attempt_budget: Duration::from_millis(20),
            retry: RetryPolicy::default(),
            budget: BudgetConfig::default(),
            breaker: Some(BreakerConfig::default()),
            breaker_per_operation: false,
            rate_limit: None,
            bulkhead: None,
            idempotency_header: HeaderName::from_static("idempotency-key"),
            idempotency_on_all_mutations: false,
            correlation_header: HeaderName::from_static("x-correlation-id"),
            jitter_seed: None,
            operations: HashMap::new(),
            tags: HashMap::new(),
        }
    }
}

impl IntegrationConfig {
    /// Checks the rules the runtime enforces (every call has a timeout,
    /// every retry policy a limit) and refuses settings that could not
    /// work (a breaker that never closes, a bulkhead with no room, a
    /// budget below zero).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.total_timeout.is_zero() {
            return Err(ConfigError::new(
                "total_timeout",
                "must be greater than zero",
            ));
        }
        if self.attempt_timeout.is_zero() {
            return Err(ConfigError::new(
                "attempt_timeout",
                "must be greater than zero",
            ));
        }
        if self.min_attempt_budget >= self.total_timeout {
            return Err(ConfigError::new(
                "min_attempt_budget",
                format!(
                    "{:?} must be below total_timeout ({:?}), or no attempt would ever start",
                    self.min_attempt_budget, self.total_timeout
                ),
            ));
        }
        self.retry.validate()?;
        self.budget.validate()?;
        if let Some(b) = &self.breaker {
            b.validate()?;
        }
        if let Some(r) = &self.rate_limit {
            r.validate()?;
        }
        if let Some(b) = &self.bulkhead {
            b.validate()?;
        }
        for (name, o) in &self.operations {
            if let Some(r) = &o.retry {
                r.validate()
                    .map_err(|e| e.within(&format!("operations.{name}")))?;
            }
        }
        for (tag, o) in &self.tags {
            if let Some(r) = &o.retry {
                r.validate().map_err(|e| e.within(&format!("tags.{tag}")))?;
            }
        }
        Ok(())
    }
}

/// Overrides for one operation or one call. `None` keeps the next level's.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// An explicit deadline (otherwise now + `timeout`).
    pub deadline: Option<Deadline>,
    pub timeout: Option<Duration>,
    pub attempt_timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    /// The idempotency key to use (e.g. a natural key); generated if absent.
    pub idempotency_key: Option<String>,
    /// The correlation id to propagate (generated if absent).
    pub correlation_id: Option<String>,
    /// A health check's probe: sent once (no retries), outside the
    /// breaker (neither refused by it nor counted in it), the retry budget
    /// and the call metrics and latencies; a health check reports it.
    pub probe: bool,
}

impl CallOptions {
    /// Nothing set: every setting comes from the layers below (policy
    /// functions, operation, tag, client, integration).
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// An absolute deadline (an enclosing one still wins if earlier).
    pub fn deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The call's whole budget, from its start.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest one attempt may take (always within the budget left).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The call's idempotency key, sent as given on every attempt; one that
    /// cannot be sent in a header is refused when the call is made.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The correlation id the call's requests carry (visible ASCII).
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// The call options a declared policy sets (timeouts and retry).
    pub fn from_policy(policy: &crate::policy::declared::Policy) -> CallOptions {
        CallOptions {
            timeout: policy.timeout,
            attempt_timeout: policy.attempt_timeout,
            retry: policy.retry,
            ..CallOptions::default()
        }
    }

    /// `self` where set, else `fallback`.
    pub fn or(&self, fallback: &CallOptions) -> CallOptions {
        CallOptions {
            deadline: self.deadline.or(fallback.deadline),
            timeout: self.timeout.or(fallback.timeout),
            attempt_timeout: self.attempt_timeout.or(fallback.attempt_timeout),
            retry: self.retry.or(fallback.retry),
            idempotency_key: self
                .idempotency_key
                .clone()
                .or_else(|| fallback.idempotency_key.clone()),
            correlation_id: self
                .correlation_id
                .clone()
                .or_else(|| fallback.correlation_id.clone()),
            probe: self.probe || fallback.probe,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::breaker::BreakerConfig;

    #[test]
    fn configurations_that_could_not_work_are_refused_with_the_reason() {
        assert!(IntegrationConfig::default().validate().is_ok());
        let refused = |config: IntegrationConfig, reason: &str| {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(reason), "{err:?} should mention {reason:?}");
        };
        refused(
            IntegrationConfig {
                total_timeout: Duration::ZERO,
                ..Default::default()
            },
            "greater than zero",
        );
        refused(
            IntegrationConfig {
                total_timeout: Duration::from_millis(10),
                ..Default::default()
            },
            "min_attempt_budget",
        );
        refused(
            IntegrationConfig {
                breaker: Some(BreakerConfig {
                    half_open_probes: 0,
                    ..Default::default()
                }),
                ..Default::default()
            },
            "never closes",
        );
        refused(
            IntegrationConfig {
                budget: BudgetConfig {
                    per_success: -1.0,
                    ..Default::default()
                },
                ..Default::default()
            },
            "per_success",
        );
        refused(
            IntegrationConfig {
                bulkhead: Some(BulkheadConfig {
                    max_concurrent: 0,
                    max_queued: 4,
                }),
                ..Default::default()
            },
            "max_concurrent",
        );
        refused(
            IntegrationConfig {
                rate_limit: Some(RateLimit {
                    per_second: 0.0,
                    burst: 1,
                }),
                ..Default::default()
            },
            "per_second > 0",
        );
        let mut bad_operation = IntegrationConfig::default();
        bad_operation.operations.insert(
            "createThing".into(),
            CallOptions {
                retry: Some(RetryPolicy {
                    max_attempts: 0,
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        refused(bad_operation, "operations.createThing.retry.max_attempts");
    }
}
