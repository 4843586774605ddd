//! What an integration keeps in process for its [`Health`] snapshot (and
//! the status page built on it): calls by outcome, rate-limit waits, drift
//! by operation and the latest breaker transitions. The same events go to
//! the `metrics` facade; these are the values a page can read back.
//!
//! [`Health`]: super::Health

use super::error::ErrorClass;
use crate::policy::breaker::BreakerState;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Breaker transitions remembered.
const TRANSITIONS_KEPT: usize = 20;
/// Operations whose drift is counted (the rest are counted as `other`).
const DRIFT_OPERATIONS_KEPT: usize = 200;

/// Finished calls by outcome, since the integration was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub success: u64,
    pub transient: u64,
    pub rate_limited: u64,
    pub permanent: u64,
    pub ambiguous: u64,
}

impl CallCounts {
    pub fn total(&self) -> u64 {
        self.success + self.failed()
    }

    pub fn failed(&self) -> u64 {
        self.transient + self.rate_limited + self.permanent + self.ambiguous
    }
}

/// A breaker's change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerTransition {
    /// Unix milliseconds.
    pub at_ms: i64,
    pub from: BreakerState,
    pub to: BreakerState,
}

#[derive(Debug, Default)]
pub(super) struct CallStats {
    outcomes: [AtomicU64; 5],
    rate_limit_waits: AtomicU64,
    drift: Mutex<BTreeMap<String, u64>>,
    transitions: Mutex<VecDeque<BreakerTransition>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl CallStats {
    pub(super) fn call(&self, class: Option<ErrorClass>) {
        let slot = match class {
            None => 0,
            Some(ErrorClass::Transient) => 1,
            Some(ErrorClass::RateLimited) => 2,
            Some(ErrorClass::Permanent) => 3,
            Some(ErrorClass::Ambiguous) => 4,
        };
        self.outcomes[slot].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn rate_limit_wait(&self) {
        self.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drift(&self, operation: &str, count: usize) {
        let mut drift = lock(&self.drift);
        let key = if drift.contains_key(operation) || drift.len() < DRIFT_OPERATIONS_KEPT {
            operation
        } else {
            "other"
        };
        *drift.entry(key.to_owned()).or_insert(0) += count as u64;
    }

    pub(super) fn transition(&self, transition: BreakerTransition) {
        let mut kept = lock(&self.transitions);
        if kept.len() == TRANSITIONS_KEPT {
            kept.pop_front();
        }
        kept.push_back(transition);
    }

    pub(super) fn calls(&self) -> CallCounts {
        let n = |i: usize| self.outcomes[i].load(Ordering::Relaxed);
        CallCounts {
            success: n(0),
            transient: n(1),
            rate_limited: n(2),
            permanent: n(3),
            ambiguous: n(4),
        }
    }

    pub(super) fn rate_limit_waits(&self) -> u64 {
        self.rate_limit_waits.load(Ordering::Relaxed)
    }

    pub(super) fn drift_by_operation(&self) -> BTreeMap<String, u64> {
        lock(&self.drift).clone()
    }

    pub(super) fn transitions(&self) -> Vec<BreakerTransition> {
        lock(&self.transitions).iter().copied().collect()
    }
}
