//! Policies declared in source: by `#[wharf::policy(...)]` on a function,
//! or by the generator for an operation, a tag or a whole client. They are
//! plain constants, so the policy macros can check them at compile time.
//!
//! Resolution order (first set value wins):
//! 1. per call: the call's own `CallOptions`, then the innermost
//!    `#[wharf::policy]` function the call runs in, then enclosing ones;
//! 2. per operation: `IntegrationConfig::operations`, then the generated
//!    operation policy;
//! 3. per tag: `IntegrationConfig::tags`, then the generated tag policy;
//! 4. per integration: the generated client policy, then the
//!    `IntegrationConfig` values;
//! 5. defaults: `IntegrationConfig::default()`.

use super::rate_limit::RateLimit;
use super::retry::RetryPolicy;
use std::time::Duration;

/// One declared policy. `None` (or empty) fields inherit the next level's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// End-to-end budget: for a function, everything it calls shares it.
    pub timeout: Option<Duration>,
    pub attempt_timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    pub idempotency: Option<Idempotency>,
    /// A named circuit breaker (per integration) used instead of the
    /// integration's own.
    pub breaker: Option<&'static str>,
    /// A client-side rate limit for the calls under this policy, on top of
    /// the integration's.
    pub rate: Option<RateLimit>,
    /// At most this many calls under this policy in flight at once.
    pub bulkhead: Option<usize>,
    /// The scopes this code path needs (checked against the spec at compile
    /// time; `wharf::scopes_for` gives the least-privilege set to request).
    pub scopes: &'static [&'static str],
}

/// How a retried mutating call avoids repeating its side effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// A generated key, sent with every mutating call and identical across
    /// its retries.
    Key,
    /// A key derived from the caller's data (an order id): the same logical
    /// request gets the same key even across process restarts. The value is
    /// bound when the policy's function is entered.
    NaturalKey,
    /// Retry without a key, accepting duplicates, for the stated reason.
    UnsafeAllow { reason: &'static str },
}

impl Policy {
    /// Sets nothing (as [`Policy::NONE`]); cheaper than comparing with it,
    /// which compares every value. Destructured whole, so a new field
    /// cannot be forgotten here.
    pub const fn is_none(&self) -> bool {
        let Policy {
            timeout,
            attempt_timeout,
            retry,
            idempotency,
            breaker,
            rate,
            bulkhead,
            scopes,
        } = self;
        timeout.is_none()
            && attempt_timeout.is_none()
            && retry.is_none()
            && idempotency.is_none()
            && breaker.is_none()
            && rate.is_none()
            && bulkhead.is_none()
            && scopes.is_empty()
    }

    /// Inherits everything.
    pub const NONE: Policy = Policy {
        timeout: None,
        attempt_timeout: None,
        retry: None,
        idempotency: None,
        breaker: None,
        rate: None,
        bulkhead: None,
        scopes: &[],
    };

    /// `self` where set, else `fallback`.
    pub const fn or(self, fallback: Policy) -> Policy {
        Policy {
            timeout: match self.timeout {
                Some(t) => Some(t),
                None => fallback.timeout,
            },
            attempt_timeout: match self.attempt_timeout {
                Some(t) => Some(t),
                None => fallback.attempt_timeout,
            },
            retry: match self.retry {
                Some(r) => Some(r),
                None => fallback.retry,
            },
            idempotency: match self.idempotency {
                Some(i) => Some(i),
                None => fallback.idempotency,
            },
            breaker: match self.breaker {
                Some(b) => Some(b),
                None => fallback.breaker,
            },
            rate: match self.rate {
                Some(r) => Some(r),
                None => fallback.rate,
            },
            bulkhead: match self.bulkhead {
                Some(b) => Some(b),
                None => fallback.bulkhead,
            },
            scopes: if self.scopes.is_empty() {
                fallback.scopes
            } else {
                self.scopes
            },
        }
    }
}

/// The policies the generator attached to an operation, by level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperationPolicies {
    pub operation: Policy,
    pub tag: Policy,
    pub client: Policy,
}

impl OperationPolicies {
    /// No level sets anything.
    pub const fn is_none(&self) -> bool {
        self.operation.is_none() && self.tag.is_none() && self.client.is_none()
    }

    pub const NONE: OperationPolicies = OperationPolicies {
        operation: Policy::NONE,
        tag: Policy::NONE,
        client: Policy::NONE,
    };

    /// Whether any generated level sets a timeout.
    pub const fn has_timeout(&self) -> bool {
        self.operation.timeout.is_some()
            || self.tag.timeout.is_some()
            || self.client.timeout.is_some()
    }

    /// Whether any generated level declares an idempotency plan.
    pub const fn has_idempotency_plan(&self) -> bool {
        self.operation.idempotency.is_some()
            || self.tag.idempotency.is_some()
            || self.client.idempotency.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_takes_set_fields_and_inherits_the_rest() {
        let own = Policy {
            timeout: Some(Duration::from_secs(2)),
            scopes: &["repo"],
            ..Policy::NONE
        };
        let fallback = Policy {
            timeout: Some(Duration::from_secs(9)),
            bulkhead: Some(4),
            breaker: Some("payments"),
            ..Policy::NONE
        };
        let merged = own.or(fallback);
        assert_eq!(merged.timeout, Some(Duration::from_secs(2)));
        assert_eq!(merged.bulkhead, Some(4));
        assert_eq!(merged.breaker, Some("payments"));
        assert_eq!(merged.scopes, &["repo"]);
        assert_eq!(Policy::NONE.or(fallback), fallback);
    }
}
