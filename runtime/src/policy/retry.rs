//! Retry: bounded attempts, exponential backoff with full jitter and a cap.
//!
//! Rules wharf enforces rather than documents: a retry policy always has a
//! limit and jitter (there is no way to turn jitter off), and only transient,
//! rate-limited, or (with an idempotency plan) ambiguous failures are retried
//! (see the request path's retry strategy).

use std::sync::Mutex;
use std::time::Duration;

/// How a failed attempt is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry). At most 10.
    pub max_attempts: u32,
    /// The backoff before the first retry is drawn from `[0, base]`.
    pub base: Duration,
    /// No backoff is longer than this.
    pub cap: Duration,
}

use wharf_policy_rules::Violation;
/// The most attempts a policy may allow: beyond this, retries only add load.
pub use wharf_policy_rules::MAX_ATTEMPTS as MAX_ATTEMPTS_LIMIT;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: wharf_policy_rules::DEFAULT_MAX_ATTEMPTS,
            base: wharf_policy_rules::DEFAULT_RETRY_BASE,
            cap: wharf_policy_rules::DEFAULT_RETRY_CAP,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Checks the limits; the runtime refuses invalid policies.
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        wharf_policy_rules::check_retry(self.max_attempts, Some(self.base), Some(self.cap)).map_err(
            |violation| {
                let setting = match violation {
                    Violation::NoAttempts | Violation::TooManyAttempts { .. } => {
                        "retry.max_attempts"
                    }
                    _ => "retry.base",
                };
                super::ConfigError::new(setting, violation.to_string())
            },
        )
    }

    /// The backoff ceiling before retry number `retry` (1-based):
    /// `min(cap, base * 2^(retry-1))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// Full jitter: a uniformly random duration in `[0, ceiling]`, from a seeded
/// generator (seed it in tests for exact figures).
#[derive(Debug)]
pub struct Jitter {
    state: Mutex<u64>,
}

impl Jitter {
    pub fn seeded(seed: u64) -> Self {
        Jitter {
            state: Mutex::new(seed),
        }
    }

    /// Seeded from the process's hash randomness (no extra dependency).
    pub fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        Jitter::seeded(h.finish())
    }

    /// The next value in `[0, 1)`.
    pub fn unit(&self) -> f64 {
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn full(&self, ceiling: Duration) -> Duration {
        ceiling.mul_f64(self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_ceiling_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
        };
        let ceilings: Vec<_> = (1..=5).map(|r| p.ceiling(r).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 500, 500]);
        assert_eq!(p.ceiling(200), Duration::from_millis(500), "no overflow");
    }

    #[test]
    fn limits_are_enforced() {
        assert!(RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        }
        .validate()
        .is_err());
        assert!(RetryPolicy {
            max_attempts: 11,
            ..RetryPolicy::default()
        }
        .validate()
        .is_err());
        assert!(RetryPolicy {
            base: Duration::ZERO,
            ..RetryPolicy::default()
        }
        .validate()
        .is_err());
        assert!(RetryPolicy::default().validate().is_ok());
    }

    #[test]
    fn jitter_is_seeded_and_spread_over_the_range() {
        let a = Jitter::seeded(42);
        let b = Jitter::seeded(42);
        let xs: Vec<f64> = (0..1000).map(|_| a.unit()).collect();
        assert!(xs
            .iter()
            .zip((0..1000).map(|_| b.unit()))
            .all(|(x, y)| *x == y));
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
    }
}
