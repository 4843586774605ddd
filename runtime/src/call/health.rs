//! A per-integration health snapshot an app can expose.

pub use super::call_stats::{BreakerTransition, CallCounts};
use crate::policy::breaker::BreakerState;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Latencies remembered for percentiles.
const LATENCY_WINDOW: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub integration: String,
    pub breaker: BreakerState,
    /// Failure rate over the breaker's window of recent attempts.
    pub error_rate: f64,
    /// Latency percentiles over the last calls (up to 1,024).
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    /// Retry budget tokens left.
    pub budget: f64,
    pub in_flight: usize,
    /// Finished calls by outcome, since the integration was built.
    pub calls: CallCounts,
    /// Attempts that waited for a rate limit (the integration's, a
    /// policy's, or a pause the provider asked for).
    pub rate_limit_waits: u64,
    /// Responses that drifted from the spec, by operation.
    pub drift: BTreeMap<String, u64>,
    /// The latest breaker transitions, oldest first.
    pub breaker_transitions: Vec<BreakerTransition>,
    /// The scheduled health check's latest result, if one runs.
    pub check: Option<CheckResult>,
}

/// One run of a scheduled health check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// The operation it called.
    pub operation: String,
    /// Unix milliseconds when it finished.
    pub at_ms: i64,
    pub latency: Duration,
    /// Why it failed (`None`: it passed).
    pub error: Option<String>,
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        self.error.is_none()
    }
}

/// The last [`LATENCY_WINDOW`] call latencies, in nanoseconds, in a ring
/// of atomics: recording is one increment and one store, no lock, since
/// every call records. A snapshot taken while calls record may mix a slot's
/// old and new value; for percentiles that is harmless.
#[derive(Debug)]
pub(crate) struct Latencies {
    /// Calls recorded so far; the next slot is `recorded % LATENCY_WINDOW`.
    recorded: AtomicUsize,
    slots: Box<[AtomicU64]>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            recorded: AtomicUsize::new(0),
            slots: (0..LATENCY_WINDOW).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Latencies {
    pub(crate) fn record(&self, d: Duration) {
        let n = self.recorded.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if let Some(slot) = self.slots.get(n % LATENCY_WINDOW) {
            slot.store(nanos, Ordering::Relaxed);
        }
    }

    pub(crate) fn percentile(&self, p: f64) -> Option<Duration> {
        let filled = self.recorded.load(Ordering::Relaxed).min(LATENCY_WINDOW);
        if filled == 0 {
            return None;
        }
        let mut sorted: Vec<Duration> = self.slots[..filled]
            .iter()
            .map(|s| Duration::from_nanos(s.load(Ordering::Relaxed)))
            .collect();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted.get(rank - 1).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_cover_the_last_window_of_calls() {
        let l = Latencies::default();
        assert_eq!(l.percentile(0.95), None);
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        assert_eq!(l.percentile(0.95), Some(Duration::from_millis(95)));
        assert_eq!(l.percentile(0.99), Some(Duration::from_millis(99)));
        // A full window of slow calls pushes every fast one out.
        for _ in 0..LATENCY_WINDOW {
            l.record(Duration::from_secs(2));
        }
        assert_eq!(l.percentile(0.01), Some(Duration::from_secs(2)));
    }
}
