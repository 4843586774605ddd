//! [`RetrySchedule`]: when a failed delivery or event is tried again, and
//! when it is given up on.

use std::time::Duration;

/// When to try again: exponential backoff with full jitter, or an explicit
/// list of delays (Svix's, by default, for outbound webhooks).
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// After attempt `n`, a uniformly random delay in
    /// `[0, min(max_delay, base_delay × 2^(n-1))]`.
    Exponential {
        max_attempts: u32,
        base_delay: Duration,
        max_delay: Duration,
    },
    /// `delays[0]` before the first attempt, `delays[n]` after attempt `n`,
    /// each spread by up to `jitter` of itself either way.
    Delays { delays: Vec<Duration>, jitter: f64 },
}

impl Default for RetrySchedule {
    /// 8 attempts, from 1 s doubling to at most 1 hour, full jitter.
    fn default() -> Self {
        RetrySchedule::exponential(8, Duration::from_secs(1), Duration::from_secs(3600))
    }
}

impl RetrySchedule {
    /// Exponential backoff with full jitter, `max_attempts` in all.
    pub fn exponential(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        RetrySchedule {
            kind: Kind::Exponential {
                max_attempts: max_attempts.max(1),
                base_delay,
                max_delay,
            },
        }
    }

    /// Exactly these delays: the first before the initial attempt, then one
    /// before each retry; `delays.len()` attempts in all (at least one).
    pub fn delays(delays: Vec<Duration>) -> Self {
        let delays = if delays.is_empty() {
            vec![Duration::ZERO]
        } else {
            delays
        };
        RetrySchedule {
            kind: Kind::Delays {
                delays,
                jitter: 0.0,
            },
        }
    }

    /// Svix's schedule for outbound webhooks: at once, then 5 s, 5 min,
    /// 30 min, 2 h, 5 h, 10 h and 10 h, each spread by up to 10%.
    pub fn svix() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        RetrySchedule::delays(vec![
            Duration::ZERO,
            Duration::from_secs(5),
            minutes(5),
            minutes(30),
            minutes(120),
            minutes(300),
            minutes(600),
            minutes(600),
        ])
        .jitter(0.1)
    }

    /// Spreads each listed delay by up to `fraction` of itself (0 to 0.5);
    /// no effect on exponential schedules, whose jitter is full.
    pub fn jitter(mut self, fraction: f64) -> Self {
        if let Kind::Delays { jitter, .. } = &mut self.kind {
            *jitter = fraction.clamp(0.0, 0.5);
        }
        self
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        match &self.kind {
            Kind::Exponential { max_attempts, .. } => *max_attempts,
            Kind::Delays { delays, .. } => u32::try_from(delays.len()).unwrap_or(u32::MAX),
        }
    }

    /// The delay before the first attempt.
    pub fn initial_delay(&self) -> Duration {
        match &self.kind {
            Kind::Exponential { .. } => Duration::ZERO,
            Kind::Delays { delays, .. } => delays.first().copied().unwrap_or_default(),
        }
    }

    /// The longest delay after `attempts` failed attempts.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        match &self.kind {
            Kind::Exponential {
                base_delay,
                max_delay,
                ..
            } => {
                let doublings = attempts.saturating_sub(1).min(30);
                base_delay.saturating_mul(1u32 << doublings).min(*max_delay)
            }
            Kind::Delays { delays, jitter } => {
                let index = usize::try_from(attempts).unwrap_or(usize::MAX);
                delays
                    .get(index)
                    .map_or(Duration::ZERO, |d| d.mul_f64(1.0 + jitter))
            }
        }
    }

    /// When to try again (Unix milliseconds) after `attempts` failed
    /// attempts at `now`, or `None` once they are used up.
    pub fn next_attempt(&self, attempts: u32, now: i64) -> Option<i64> {
        if attempts >= self.max_attempts() {
            return None;
        }
        let delay = match &self.kind {
            Kind::Exponential { .. } => jitter_below(millis(self.ceiling(attempts))),
            Kind::Delays { delays, jitter } => {
                let base = delays.get(usize::try_from(attempts).ok()?)?;
                let spread = millis(base.mul_f64(*jitter));
                // In [base - spread, base + spread].
                (millis(*base) + jitter_below(2 * spread)).saturating_sub(spread)
            }
        };
        Some(now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)))
    }
}

impl RetrySchedule {
    /// [`RetrySchedule::next_attempt`], but not sooner than `at_least`
    /// after `now` (a provider's `Retry-After`).
    pub fn next_attempt_after(
        &self,
        attempts: u32,
        now: i64,
        at_least: Option<Duration>,
    ) -> Option<i64> {
        let at = self.next_attempt(attempts, now)?;
        Some(match at_least {
            Some(after) => {
                at.max(now.saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX)))
            }
            None => at,
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Uniform in `[0, ceiling]` from the OS's random source; the ceiling
/// itself if that source fails (a later retry rather than none).
fn jitter_below(ceiling: u64) -> u64 {
    if ceiling == 0 {
        return 0;
    }
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
    fn exponential_delays_double_up_to_the_cap_and_stop_at_the_limit() {
        let schedule =
            RetrySchedule::exponential(5, Duration::from_secs(2), Duration::from_secs(10));
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
    fn listed_delays_are_followed_exactly_then_stop() {
        let s = |secs: &[u64]| secs.iter().map(|s| Duration::from_secs(*s)).collect();
        let schedule = RetrySchedule::delays(s(&[0, 1, 2, 3]));
        assert_eq!(schedule.max_attempts(), 4);
        assert_eq!(schedule.initial_delay(), Duration::ZERO);
        assert_eq!(schedule.next_attempt(1, 10_000), Some(11_000));
        assert_eq!(schedule.next_attempt(2, 10_000), Some(12_000));
        assert_eq!(schedule.next_attempt(3, 10_000), Some(13_000));
        assert_eq!(schedule.next_attempt(4, 10_000), None);
        assert_eq!(RetrySchedule::delays(vec![]).max_attempts(), 1);
    }

    #[test]
    fn svix_schedule_spreads_by_ten_percent() {
        let svix = RetrySchedule::svix();
        assert_eq!(svix.max_attempts(), 8);
        for _ in 0..200 {
            let at = svix.next_attempt(2, 0).expect("a third attempt");
            assert!((270_000..=330_000).contains(&at), "{at}");
        }
        assert_eq!(svix.next_attempt(8, 0), None);
    }

    #[test]
    fn jitter_spreads_over_the_whole_range() {
        let draws: Vec<u64> = (0..2000).map(|_| jitter_below(1000)).collect();
        assert!(draws.iter().all(|d| *d <= 1000));
        // Full jitter: both ends of the range are reached, not only the top.
        assert!(draws.iter().any(|d| *d < 100));
        assert!(draws.iter().any(|d| *d > 900));
    }
}
