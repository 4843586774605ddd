//! Client-side rate limiting: a token bucket (rate, burst) per integration.
//! A caller reserves its slot and waits for it, within its deadline, or is
//! refused at once when the wait would not fit. The provider can slow it
//! down: a 429 with `Retry-After` pauses the whole integration.

use crate::time::Instant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests that may go at once after a quiet period.
    pub burst: u32,
}

impl RateLimit {
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        wharf_policy_rules::check_rate(self.per_second, self.burst)
            .map_err(|violation| super::ConfigError::new("rate_limit", violation.to_string()))
    }
}

#[derive(Debug)]
struct Bucket {
    /// Tokens at `updated` (negative: reserved by waiting callers).
    tokens: f64,
    updated: Instant,
    /// No request before this (set by the provider's Retry-After).
    paused_until: Option<Instant>,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    bucket: Mutex<Bucket>,
    /// Whether a provider pause may be in force: without a limit of its
    /// own and without a pause, a reservation needs no lock.
    paused: AtomicBool,
}

/// Waiting for a slot would pass the caller's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WouldExceedDeadline {
    pub wait: Duration,
}

impl RateLimiter {
    /// A limiter; `None` only honours provider pauses.
    pub fn new(limit: Option<RateLimit>, now: Instant) -> Self {
        RateLimiter {
            limit,
            bucket: Mutex::new(Bucket {
                tokens: limit.map_or(0.0, |l| f64::from(l.burst)),
                updated: now,
                paused_until: None,
            }),
            paused: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        match self.bucket.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Gives back a slot taken by [`RateLimiter::reserve`] for a call that
    /// was not made after all.
    pub fn refund(&self) {
        if let Some(limit) = self.limit {
            let mut b = self.lock();
            b.tokens = (b.tokens + 1.0).min(f64::from(limit.burst));
        }
    }

    /// Reserves a slot: how long to wait before sending. Nothing is reserved
    /// when the wait exceeds `max_wait`.
    pub fn reserve(
        &self,
        now: Instant,
        max_wait: Duration,
    ) -> Result<Duration, WouldExceedDeadline> {
        if self.is_idle() {
            return Ok(Duration::ZERO);
        }
        let mut b = self.lock();
        if b.paused_until.is_some_and(|p| p <= now) {
            // Over: later reservations may take the lock-free path again.
            b.paused_until = None;
            self.paused.store(false, Ordering::Release);
        }
        let pause = b
            .paused_until
            .map_or(Duration::ZERO, |p| p.saturating_duration_since(now));
        let Some(limit) = self.limit else {
            return if pause > max_wait {
                Err(WouldExceedDeadline { wait: pause })
            } else {
                Ok(pause)
            };
        };
        let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
        let tokens = (b.tokens + elapsed * limit.per_second).min(f64::from(limit.burst));
        let token_wait = if tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - tokens) / limit.per_second)
        };
        let wait = token_wait.max(pause);
        if wait > max_wait {
            return Err(WouldExceedDeadline { wait });
        }
        b.tokens = tokens - 1.0;
        b.updated = now;
        Ok(wait)
    }

    /// Whether a reservation would be free and immediate: no limit of its
    /// own and no provider pause in force.
    pub fn is_idle(&self) -> bool {
        self.limit.is_none() && !self.paused.load(Ordering::Acquire)
    }

    /// Whether a provider's pause may be in force (cleared by the first
    /// reservation after it ends).
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// The provider asked for no requests until `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut b = self.lock();
        if b.paused_until.is_none_or(|p| p < until) {
            b.paused_until = Some(until);
        }
        self.paused.store(true, Ordering::Release);
    }

    /// The provider reports no quota left until `until` (rate-limit headers).
    pub fn exhausted_until(&self, until: Instant) {
        self.pause_until(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate_with_reservations() {
        let t0 = Instant::now();
        let l = RateLimiter::new(
            Some(RateLimit {
                per_second: 10.0,
                burst: 2,
            }),
            t0,
        );
        let big = Duration::from_secs(60);
        assert_eq!(l.reserve(t0, big), Ok(Duration::ZERO));
        assert_eq!(l.reserve(t0, big), Ok(Duration::ZERO));
        // The next ones queue behind each other, 100 ms apart.
        let w3 = l.reserve(t0, big).unwrap();
        let w4 = l.reserve(t0, big).unwrap();
        assert!((w3.as_secs_f64() - 0.1).abs() < 1e-9 && (w4.as_secs_f64() - 0.2).abs() < 1e-9);
        // A caller who cannot wait that long is refused and reserves nothing.
        assert!(l.reserve(t0, Duration::from_millis(250)).is_err());
        assert!((l.reserve(t0, big).unwrap().as_secs_f64() - 0.3).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn provider_pause_holds_every_caller() {
        let t0 = Instant::now();
        let l = RateLimiter::new(None, t0);
        l.pause_until(t0 + Duration::from_secs(3));
        assert_eq!(
            l.reserve(t0, Duration::from_secs(5)),
            Ok(Duration::from_secs(3))
        );
        assert!(l.reserve(t0, Duration::from_secs(2)).is_err());
        assert_eq!(
            l.reserve(t0 + Duration::from_secs(3), Duration::ZERO),
            Ok(Duration::ZERO)
        );
        // The pause is over (and cleared); a later one holds callers again.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(l.reserve(t1, Duration::ZERO), Ok(Duration::ZERO));
        l.pause_until(t1 + Duration::from_secs(2));
        assert_eq!(
            l.reserve(t1, Duration::from_secs(5)),
            Ok(Duration::from_secs(2))
        );
        // An earlier pause does not shorten a later one.
        l.pause_until(t1 + Duration::from_secs(1));
        assert_eq!(
            l.reserve(t1, Duration::from_secs(5)),
            Ok(Duration::from_secs(2))
        );
    }
}
