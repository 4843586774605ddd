//! Circuit breaker: trips on a failure rate over a sliding window of recent
//! attempts (once the window holds enough of them) or on a run of consecutive
//! failures; while open, calls fail fast; after `open_for`, a bounded number
//! of probes are let through (one by default) and a successful probe closes
//! it again.

use crate::time::Instant;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Attempts remembered for the failure rate (0: no failure-rate trip,
    /// only consecutive failures).
    pub window: usize,
    /// The rate is only judged once the window holds this many attempts.
    pub min_calls: usize,
    /// Trip when this fraction of the window failed (0.5 = half).
    pub failure_rate: f64,
    /// Trip after this many failures in a row, whatever the rate.
    pub consecutive_failures: u32,
    /// How long the breaker stays open before probing.
    pub open_for: Duration,
    /// Probes allowed at once while half-open.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: 50,
            min_calls: 10,
            failure_rate: 0.5,
            consecutive_failures: 5,
            open_for: Duration::from_secs(30),
            half_open_probes: 1,
        }
    }
}

impl BreakerConfig {
    /// Refuses settings that would make the breaker trip on every call or
    /// never close again.
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        use super::ConfigError;
        if !(self.failure_rate > 0.0 && self.failure_rate <= 1.0) {
            return Err(ConfigError::new(
                "breaker.failure_rate",
                format!("must be above 0 and at most 1, not {}", self.failure_rate),
            ));
        }
        if self.window > 0 && self.min_calls > self.window {
            return Err(ConfigError::new(
                "breaker.min_calls",
                format!(
                    "{} is more than the window holds ({}), so the failure rate would never be judged",
                    self.min_calls, self.window
                ),
            ));
        }
        if self.consecutive_failures == 0 {
            return Err(ConfigError::new(
                "breaker.consecutive_failures",
                "must be at least 1",
            ));
        }
        if self.half_open_probes == 0 {
            return Err(ConfigError::new(
                "breaker.half_open_probes",
                "must be at least 1 (with none, an open breaker never closes)",
            ));
        }
        Ok(())
    }
}

/// The breaker's state, as health reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(&self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { probes_out: u32 },
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Recent outcomes, `true` = failure.
    window: VecDeque<bool>,
    failures_in_window: usize,
    consecutive: u32,
    /// Transitions seen, for metrics and events.
    transitions: Vec<(BreakerState, BreakerState)>,
}

/// A circuit breaker, shared by the calls of an integration (or operation).
#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    /// Set with each transition, so the check after every call needs no
    /// lock when nothing changed (nearly always).
    changed: AtomicBool,
    /// The state is closed: an attempt is admitted without the lock.
    closed: AtomicBool,
    /// Closed, with a full window of successes: another success changes
    /// nothing, so it is recorded without the lock. A healthy provider's
    /// calls then never take it.
    clean: AtomicBool,
}

/// The breaker refused the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// When probing may start again (zero while a probe is out).
    pub retry_in: Duration,
}

/// Leave to make one attempt; report its outcome with [`Permit::record`].
/// A probe permit dropped without an outcome (a cancelled call) frees its
/// probe slot.
#[derive(Debug)]
pub struct Permit {
    breaker: Breaker,
    probe: bool,
    recorded: bool,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    state: State::Closed,
                    window: VecDeque::with_capacity(config.window),
                    failures_in_window: 0,
                    consecutive: 0,
                    transitions: Vec::new(),
                }),
                changed: AtomicBool::new(false),
                closed: AtomicBool::new(true),
                clean: AtomicBool::new(config.window == 0),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.shared.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn state(&self, now: Instant) -> BreakerState {
        match self.lock().state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if now >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Failure rate over the current window.
    pub fn failure_rate(&self) -> f64 {
        let inner = self.lock();
        if inner.window.is_empty() {
            0.0
        } else {
            inner.failures_in_window as f64 / inner.window.len() as f64
        }
    }

    /// Transitions since the last call (oldest first).
    pub fn take_transitions(&self) -> Vec<(BreakerState, BreakerState)> {
        if !self.shared.changed.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut self.lock().transitions)
    }

    /// Notes a transition; called with the lock held.
    fn transition(&self, inner: &mut Inner, from: BreakerState, to: BreakerState) {
        inner.transitions.push((from, to));
        self.shared.changed.store(true, Ordering::Release);
    }

    /// Mirrors the state into the lock-free flags; called with the lock
    /// held, after every change.
    fn publish(&self, inner: &Inner) {
        let closed = matches!(inner.state, State::Closed);
        let clean = closed
            && inner.window.len() == self.config.window
            && inner.failures_in_window == 0
            && inner.consecutive == 0;
        self.shared.closed.store(closed, Ordering::Release);
        self.shared.clean.store(clean, Ordering::Release);
    }

    /// Asks to make an attempt at `now`.
    pub fn admit(&self, now: Instant) -> Result<Permit, Rejected> {
        // Closed, nearly always: no lock. An attempt admitted just as
        // another call trips the breaker counts as admitted before it (its
        // outcome is then ignored, as any late outcome is).
        if self.shared.closed.load(Ordering::Acquire) {
            return Ok(self.permit(false));
        }
        let mut inner = self.lock();
        let admitted = match inner.state {
            State::Closed => Ok(self.permit(false)),
            State::Open { until } if now < until => Err(Rejected {
                retry_in: until - now,
            }),
            State::Open { .. } => {
                inner.state = State::HalfOpen { probes_out: 1 };
                self.transition(&mut inner, BreakerState::Open, BreakerState::HalfOpen);
                Ok(self.permit(true))
            }
            State::HalfOpen { probes_out } if probes_out < self.config.half_open_probes => {
                inner.state = State::HalfOpen {
                    probes_out: probes_out + 1,
                };
                Ok(self.permit(true))
            }
            State::HalfOpen { .. } => Err(Rejected {
                retry_in: Duration::ZERO,
            }),
        };
        self.publish(&inner);
        admitted
    }

    fn permit(&self, probe: bool) -> Permit {
        Permit {
            breaker: self.clone(),
            probe,
            recorded: false,
        }
    }

    fn record(&self, failure: bool, probe: bool, now: Instant) {
        if !failure && !probe && self.shared.clean.load(Ordering::Acquire) {
            // One more success in a window of successes: nothing changes.
            return;
        }
        let mut inner = self.lock();
        self.record_locked(&mut inner, failure, probe, now);
        self.publish(&inner);
    }

    fn record_locked(&self, inner: &mut Inner, failure: bool, probe: bool, now: Instant) {
        let config = self.config;
        if probe {
            if let State::HalfOpen { .. } = inner.state {
                if failure {
                    inner.state = State::Open {
                        until: now + config.open_for,
                    };
                    self.transition(inner, BreakerState::HalfOpen, BreakerState::Open);
                } else {
                    inner.state = State::Closed;
                    inner.window.clear();
                    inner.failures_in_window = 0;
                    inner.consecutive = 0;
                    self.transition(inner, BreakerState::HalfOpen, BreakerState::Closed);
                }
            }
            return;
        }
        if !matches!(inner.state, State::Closed) {
            // A late outcome of an attempt admitted before the breaker opened.
            return;
        }
        inner.window.push_back(failure);
        if failure {
            inner.failures_in_window += 1;
            inner.consecutive = inner.consecutive.saturating_add(1);
        } else {
            inner.consecutive = 0;
        }
        if inner.window.len() > config.window && inner.window.pop_front() == Some(true) {
            inner.failures_in_window -= 1;
        }
        let rate_trips = config.window > 0
            && inner.window.len() >= config.min_calls
            && inner.failures_in_window as f64 >= config.failure_rate * inner.window.len() as f64;
        if rate_trips || inner.consecutive >= config.consecutive_failures {
            inner.state = State::Open {
                until: now + config.open_for,
            };
            self.transition(inner, BreakerState::Closed, BreakerState::Open);
        }
    }

    fn release_probe(&self) {
        let mut inner = self.lock();
        if let State::HalfOpen { probes_out } = inner.state {
            inner.state = State::HalfOpen {
                probes_out: probes_out.saturating_sub(1),
            };
        }
        self.publish(&inner);
    }
}

impl Permit {
    /// Records the attempt's outcome (`failure` for outcomes that say the
    /// provider is unhealthy; client errors are not failures).
    pub fn record(mut self, failure: bool, now: Instant) {
        self.recorded = true;
        self.breaker.record(failure, self.probe, now);
    }

    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.probe && !self.recorded {
            self.breaker.release_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            window: 10,
            min_calls: 4,
            failure_rate: 0.5,
            consecutive_failures: 3,
            open_for: Duration::from_secs(10),
            half_open_probes: 1,
        }
    }

    /// A breaker opened now by three failures in a row, and now.
    fn tripped(config: BreakerConfig) -> (Breaker, Instant) {
        let b = Breaker::new(config);
        let now = Instant::now();
        for _ in 0..3 {
            b.admit(now).unwrap().record(true, now);
        }
        (b, now)
    }

    /// Successes into a full window of successes skip the lock; the first
    /// failure ends that, and every outcome after it moves the window again.
    #[tokio::test(start_paused = true)]
    async fn a_window_of_successes_still_trips_on_the_failure_rate() {
        let b = Breaker::new(config());
        let now = Instant::now();
        for _ in 0..25 {
            b.admit(now).unwrap().record(false, now);
        }
        assert!(
            b.shared.clean.load(Ordering::Acquire),
            "a full window of successes"
        );
        // Failures between successes: never 3 in a row, so only the rate
        // can trip, once 5 of the 10 remembered outcomes are failures.
        for (n, failure) in [true, false, true, false, true, false, true, false]
            .into_iter()
            .enumerate()
        {
            b.admit(now).unwrap().record(failure, now);
            assert!(!b.shared.clean.load(Ordering::Acquire));
            assert_eq!(b.state(now), BreakerState::Closed, "after outcome {n}");
        }
        b.admit(now).unwrap().record(true, now);
        assert_eq!(b.state(now), BreakerState::Open);
        assert!(b.admit(now).is_err(), "open: no lock-free admission");
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_admits_the_configured_number_of_probes() {
        let (b, t0) = tripped(BreakerConfig {
            half_open_probes: 2,
            ..config()
        });
        let later = t0 + Duration::from_secs(10);
        let first = b.admit(later).unwrap();
        let second = b.admit(later).unwrap();
        assert!(first.is_probe() && second.is_probe());
        assert!(b.admit(later).is_err(), "two probes at a time");
        // A probe given up frees its slot for another.
        drop(second);
        let third = b.admit(later).unwrap();
        assert!(b.admit(later).is_err());
        // One failed probe reopens; the other's late success changes nothing.
        first.record(true, later);
        assert_eq!(b.state(later), BreakerState::Open);
        third.record(false, later);
        assert_eq!(b.state(later), BreakerState::Open);
        // Next time, a successful probe closes it.
        let again = later + Duration::from_secs(10);
        let probe = b.admit(again).unwrap();
        probe.record(false, again);
        assert_eq!(b.state(again), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_of_zero_trips_on_consecutive_failures_only() {
        let b = Breaker::new(BreakerConfig {
            window: 0,
            min_calls: 0,
            ..config()
        });
        let now = Instant::now();
        for failure in [true, true, false, true, true, false, true, true] {
            b.admit(now).unwrap().record(failure, now);
            assert_eq!(b.state(now), BreakerState::Closed);
        }
        b.admit(now).unwrap().record(true, now);
        assert_eq!(b.state(now), BreakerState::Open, "three in a row");
    }

    #[test]
    fn settings_that_could_not_work_are_refused() {
        assert!(config().validate().is_ok());
        assert!(BreakerConfig::default().validate().is_ok());
        let refused = [
            BreakerConfig {
                half_open_probes: 0,
                ..config()
            },
            BreakerConfig {
                consecutive_failures: 0,
                ..config()
            },
            BreakerConfig {
                failure_rate: 0.0,
                ..config()
            },
            BreakerConfig {
                failure_rate: f64::NAN,
                ..config()
            },
            BreakerConfig {
                failure_rate: 1.5,
                ..config()
            },
            BreakerConfig {
                min_calls: 11,
                ..config()
            },
        ];
        for c in refused {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn trips_on_consecutive_failures_then_probes_once_and_closes() {
        let (b, t0) = tripped(config());
        assert_eq!(b.state(t0), BreakerState::Open);
        assert_eq!(
            b.admit(t0 + Duration::from_secs(9)).unwrap_err().retry_in,
            Duration::from_secs(1)
        );
        let later = t0 + Duration::from_secs(10);
        let probe = b.admit(later).unwrap();
        assert!(probe.is_probe());
        assert!(b.admit(later).is_err(), "one probe at a time");
        probe.record(false, later);
        assert_eq!(b.state(later), BreakerState::Closed);
        assert!(b.admit(later).is_ok());
        let kinds: Vec<_> = b
            .take_transitions()
            .iter()
            .map(|(a, z)| (a.as_str(), z.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("closed", "open"),
                ("open", "half_open"),
                ("half_open", "closed")
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probe_reopens_and_dropped_probe_frees_the_slot() {
        let (b, t0) = tripped(config());
        let t1 = t0 + Duration::from_secs(10);
        drop(b.admit(t1).unwrap());
        let probe = b.admit(t1).expect("slot freed by the dropped probe");
        probe.record(true, t1);
        assert_eq!(b.state(t1), BreakerState::Open);
        assert_eq!(
            b.state(t1 + Duration::from_secs(10)),
            BreakerState::HalfOpen
        );
    }

    #[tokio::test(start_paused = true)]
    async fn trips_on_failure_rate_only_with_enough_calls() {
        let b = Breaker::new(BreakerConfig {
            consecutive_failures: 100,
            ..config()
        });
        let t = Instant::now();
        for failure in [true, true, false] {
            b.admit(t).unwrap().record(failure, t);
        }
        assert_eq!(
            b.state(t),
            BreakerState::Closed,
            "2/3 failed, but 3 < min_calls"
        );
        assert!((b.failure_rate() - 2.0 / 3.0).abs() < 1e-9);
        b.admit(t).unwrap().record(false, t);
        assert_eq!(b.state(t), BreakerState::Open, "2/4 reaches the 50% rate");
    }
}
