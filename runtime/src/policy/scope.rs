//! The policy of the function a call runs in. `#[wharf::policy]` wraps a
//! function's body in a [`Scope`]; every wharf call made inside (in the same
//! task, however deep) sees it through a task-local and applies it at the
//! "per call" level. Scopes nest: an inner function's settings win, and the
//! guards (rate limit, bulkhead) of every enclosing function apply too.

use super::deadline::Deadline;
use super::declared::Policy;
use crate::time::Instant;
use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static ACTIVE: Arc<ActiveScope>;
}

/// A function's policy, about to be entered.
#[derive(Debug)]
pub struct Scope {
    policy: &'static Policy,
    id: &'static str,
    natural_key: Option<String>,
    calls: Option<fn(&str) -> bool>,
}

/// The operations a policy function said it calls (`calls = [...]`), as a
/// test of an `operationId` the macro writes, and which function said so.
#[derive(Debug, Clone, Copy)]
pub struct DeclaredCalls {
    pub id: &'static str,
    pub listed: fn(&str) -> bool,
}

impl DeclaredCalls {
    /// Whether `operation` (an `operationId`) is among them.
    pub fn includes(&self, operation: &str) -> bool {
        (self.listed)(operation)
    }
}

/// The scopes a call runs in, innermost first.
#[derive(Debug)]
pub struct ActiveScope {
    /// The innermost policy over the enclosing ones ([`Policy::or`]).
    pub policy: Policy,
    /// Every enclosing declaration, innermost first: `(id, policy)`.
    pub chain: Vec<(&'static str, &'static Policy)>,
    /// The natural idempotency key bound by the innermost function that
    /// declared one.
    pub natural_key: Option<String>,
    /// The operations the innermost function that listed them calls: a
    /// call of another one inside is refused in debug builds and a warning
    /// in release builds.
    pub calls: Option<DeclaredCalls>,
}

impl Scope {
    /// `id` names the declaration (the function's path): per-policy guards
    /// are shared by every call of that function.
    pub fn new(policy: &'static Policy, id: &'static str) -> Scope {
        Scope {
            policy,
            id,
            natural_key: None,
            calls: None,
        }
    }

    /// The operations the function calls (`calls = [...]`): `listed`
    /// says whether an `operationId` is one of them.
    pub fn calls(mut self, listed: fn(&str) -> bool) -> Scope {
        self.calls = Some(listed);
        self
    }

    /// Binds the natural idempotency key (for `idempotency = natural_key(..)`).
    /// Each mutating call gets `"{key}:{operation}"`, the same on every retry.
    pub fn natural_key(mut self, key: impl std::fmt::Display) -> Scope {
        self.natural_key = Some(key.to_string());
        self
    }

    /// Runs `body` under this policy. A timeout becomes the deadline of
    /// everything inside (the earlier of it and any enclosing deadline).
    pub async fn run<F: Future>(self, body: F) -> F::Output {
        let outer = current();
        let mut chain = vec![(self.id, self.policy)];
        let mut policy = *self.policy;
        let mut natural_key = self.natural_key;
        let mut calls = self.calls.map(|listed| DeclaredCalls {
            id: self.id,
            listed,
        });
        if let Some(outer) = &outer {
            chain.extend(outer.chain.iter().copied());
            policy = policy.or(outer.policy);
            if natural_key.is_none() {
                natural_key = outer.natural_key.clone();
            }
            if calls.is_none() {
                calls = outer.calls;
            }
        }
        let active = Arc::new(ActiveScope {
            policy,
            chain,
            natural_key,
            calls,
        });
        match self.policy.timeout {
            Some(budget) => {
                Deadline::after(Instant::now(), budget)
                    .scope(ACTIVE.scope(active, body))
                    .await
            }
            None => ACTIVE.scope(active, body).await,
        }
    }
}

/// The scope the current task runs in, if any.
pub fn current() -> Option<Arc<ActiveScope>> {
    ACTIVE.try_with(Arc::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    static OUTER: Policy = Policy {
        timeout: Some(Duration::from_secs(5)),
        bulkhead: Some(2),
        breaker: Some("payments"),
        ..Policy::NONE
    };
    static INNER: Policy = Policy {
        timeout: Some(Duration::from_secs(60)),
        bulkhead: Some(8),
        ..Policy::NONE
    };

    #[tokio::test(start_paused = true)]
    async fn scopes_nest_and_the_earlier_deadline_wins() {
        assert!(current().is_none());
        let start = Instant::now();
        let seen = Scope::new(&OUTER, "outer")
            .natural_key("order-7")
            .run(async {
                Scope::new(&INNER, "inner")
                    .run(async { (current(), Deadline::ambient()) })
                    .await
            })
            .await;
        let (Some(active), Some(deadline)) = seen else {
            panic!("no scope inside the function");
        };
        assert_eq!(active.policy.bulkhead, Some(8));
        assert_eq!(active.policy.breaker, Some("payments"));
        let ids: Vec<&str> = active.chain.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["inner", "outer"]);
        assert_eq!(active.natural_key.as_deref(), Some("order-7"));
        // The inner 60 s cannot extend the outer 5 s budget.
        assert_eq!(deadline.instant(), start + Duration::from_secs(5));
        assert!(current().is_none());
    }
}
