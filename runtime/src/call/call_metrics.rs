//! The metrics every call records, as handles registered once per
//! integration (on its first call) instead of a key built, hashed and
//! looked up on every call. The recorder must therefore be installed
//! before an integration's first call, as for any metrics handle.

use super::error::ErrorClass;
use metrics::{Counter, Histogram, SharedString};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    match l.read() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    match l.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Outcomes in handle order: success (`None`), then each error class.
const OUTCOMES: [Option<ErrorClass>; 5] = [
    None,
    Some(ErrorClass::Transient),
    Some(ErrorClass::RateLimited),
    Some(ErrorClass::Permanent),
    Some(ErrorClass::Ambiguous),
];

/// An outcome's label: the class's name, or `success`.
pub(super) fn outcome_label(class: Option<ErrorClass>) -> &'static str {
    class.map_or("success", |c| c.as_str())
}

/// `class`'s place in [`OUTCOMES`].
fn index(class: Option<ErrorClass>) -> usize {
    match class {
        None => 0,
        Some(ErrorClass::Transient) => 1,
        Some(ErrorClass::RateLimited) => 2,
        Some(ErrorClass::Permanent) => 3,
        Some(ErrorClass::Ambiguous) => 4,
    }
}

struct Handles {
    duration: Histogram,
    calls: [Counter; 5],
    attempts: [Counter; 5],
}

/// One integration's per-call metrics. Per-operation and per-status
/// handles are registered on first use and looked up under a read lock
/// after that (operations and statuses are few: bounded labels).
#[derive(Default)]
pub(super) struct CallMetrics {
    handles: OnceLock<Handles>,
    operations: RwLock<HashMap<String, [Counter; 5]>>,
    statuses: RwLock<HashMap<u16, Counter>>,
}

impl std::fmt::Debug for CallMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallMetrics")
    }
}

impl CallMetrics {
    fn handles(&self, integration: &SharedString) -> &Handles {
        self.handles.get_or_init(|| {
            register_at_zero(integration);
            Handles {
                duration: metrics::histogram!(
                    "wharf_call_duration_seconds",
                    "integration" => integration.clone()
                ),
                calls: OUTCOMES.map(|outcome| {
                    metrics::counter!(
                        "wharf_calls_total",
                        "integration" => integration.clone(),
                        "outcome" => outcome_label(outcome)
                    )
                }),
                attempts: OUTCOMES.map(|outcome| {
                    metrics::counter!(
                        "wharf_attempts_total",
                        "integration" => integration.clone(),
                        "outcome" => outcome_label(outcome)
                    )
                }),
            }
        })
    }

    /// A finished call of `operation`: its duration and outcome (`None`:
    /// success).
    pub(super) fn call(
        &self,
        integration: &SharedString,
        operation: &str,
        seconds: f64,
        class: Option<ErrorClass>,
    ) {
        let h = self.handles(integration);
        h.duration.record(seconds);
        h.calls[index(class)].increment(1);
        let counted = read(&self.operations)
            .get(operation)
            .map(|c| c[index(class)].increment(1));
        if counted.is_none() {
            let counters = OUTCOMES.map(|outcome| {
                metrics::counter!(
                    "wharf_operation_calls_total",
                    "integration" => integration.clone(),
                    "operation" => operation.to_owned(),
                    "outcome" => outcome_label(outcome)
                )
            });
            counters[index(class)].increment(1);
            write(&self.operations).insert(operation.to_owned(), counters);
        }
    }

    /// A response arrived with `status`.
    pub(super) fn response(&self, integration: &SharedString, status: u16) {
        if let Some(c) = read(&self.statuses).get(&status) {
            c.increment(1);
            return;
        }
        let counter = metrics::counter!(
            "wharf_responses_total",
            "integration" => integration.clone(),
            "status" => status.to_string()
        );
        counter.increment(1);
        write(&self.statuses).insert(status, counter);
    }

    /// A finished attempt and its outcome (`None`: success).
    pub(super) fn attempt(&self, integration: &SharedString, class: Option<ErrorClass>) {
        self.handles(integration).attempts[index(class)].increment(1);
    }
}

/// The counters that count rare events, registered at zero with the
/// integration's first call: Prometheus's `increase` sees an event only
/// when the series existed before it, so a breaker's first opening or the
/// first exhausted retry budget would otherwise go unseen by the alerts.
fn register_at_zero(integration: &SharedString) {
    for to in ["open", "half_open", "closed"] {
        metrics::counter!(
            "wharf_breaker_transitions_total",
            "integration" => integration.clone(),
            "to" => to
        )
        .increment(0);
    }
    metrics::counter!("wharf_retry_budget_exhausted_total", "integration" => integration.clone())
        .increment(0);
    metrics::counter!("wharf_rate_limit_waits_total", "integration" => integration.clone())
        .increment(0);
    metrics::gauge!("wharf_breaker_state", "integration" => integration.clone()).set(0.0);
}
