//! A per-integration health snapshot an app can expose.

use crate::policy::breaker::BreakerState;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Latencies remembered for percentiles.
const LATENCY_WINDOW: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub integration: String,
    pub breaker: BreakerState,
    /// Failure rate over the breaker's window of recent attempts.
    pub error_rate: f64,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    /// Retry budget tokens left.
    pub budget: f64,
    pub in_flight: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Latencies {
    recent: Mutex<VecDeque<Duration>>,
}

impl Latencies {
    pub(crate) fn record(&self, d: Duration) {
        if let Ok(mut r) = self.recent.lock() {
            if r.len() == LATENCY_WINDOW {
                r.pop_front();
            }
            r.push_back(d);
        }
    }

    pub(crate) fn percentile(&self, p: f64) -> Option<Duration> {
        let r = self.recent.lock().ok()?;
        if r.is_empty() {
            return None;
        }
        let mut sorted: Vec<Duration> = r.iter().copied().collect();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted.get(rank - 1).copied()
    }
}
