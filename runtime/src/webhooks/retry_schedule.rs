//! [`RetrySchedule`]: when a failed event is tried again, and when it is
//! given up on.

use std::time::Duration;

/// Exponential backoff with full jitter: after attempt `n`, the next is a
/// uniformly random delay in `[0, min(max_delay, base_delay × 2^(n-1))]`
/// away, until `max_attempts` have failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetrySchedule {
    /// 8 attempts, from 1 s doubling to at most 1 hour.
    fn default() -> Self {
        RetrySchedule {
            max_attempts: 8,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(3600),
        }
    }
}

impl RetrySchedule {
    /// The upper bound of the delay after `attempts` failed attempts.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }

    /// When to try again (Unix milliseconds) after `attempts` failed
    /// attempts at `now`, or `None` once they are used up.
    pub fn next_attempt(&self, attempts: u32, now: i64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let ceiling = u64::try_from(self.ceiling(attempts).as_millis()).unwrap_or(u64::MAX);
        let delay = jitter(ceiling);
        Some(now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)))
    }
}

/// Uniform in `[0, ceiling]` from the OS's random source; the ceiling
/// itself if that source fails (a later retry rather than none).
fn jitter(ceiling: u64) -> u64 {
    match crate::ids::random_bytes() {
        Ok(bytes) => {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[..8]);
            let r = u64::from_le_bytes(word);
            // Multiply-shift: unbiased enough at these ranges, no division.
            ((u128::from(r) * (u128::from(ceiling) + 1)) >> 64) as u64
        }
        Err(_) => ceiling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stop_at_the_limit() {
        let schedule = RetrySchedule {
            max_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
        };
        assert_eq!(schedule.ceiling(1), Duration::from_secs(2));
        assert_eq!(schedule.ceiling(2), Duration::from_secs(4));
        assert_eq!(schedule.ceiling(3), Duration::from_secs(8));
        assert_eq!(schedule.ceiling(4), Duration::from_secs(10));
        assert_eq!(schedule.ceiling(u32::MAX), Duration::from_secs(10));
        for attempts in 1..5 {
            for _ in 0..200 {
                let at = schedule
                    .next_attempt(attempts, 1_000)
                    .expect("within the limit");
                let ceiling = schedule.ceiling(attempts).as_millis() as i64;
                assert!((1_000..=1_000 + ceiling).contains(&at), "{at}");
            }
        }
        assert_eq!(schedule.next_attempt(5, 1_000), None);
        assert_eq!(schedule.next_attempt(6, 1_000), None);
    }

    #[test]
    fn jitter_spreads_over_the_whole_range() {
        let draws: Vec<u64> = (0..2000).map(|_| jitter(1000)).collect();
        assert!(draws.iter().all(|d| *d <= 1000));
        // Full jitter: both ends of the range are reached, not only the top.
        assert!(draws.iter().any(|d| *d < 100));
        assert!(draws.iter().any(|d| *d > 900));
    }
}
