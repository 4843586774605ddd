//! The limits and rules of wharf's policies, in one place: the generator
//! (policies given to `build.rs`, `generate!` and the CLI), the
//! `#[wharf::policy]` macro and the runtime (configuration built in code)
//! all check a policy with these functions and these constants. Each
//! states a [`Violation`] in its own words (a macro names the attribute's
//! syntax, the runtime the configuration field).
//!
//! The policy *values* stay with their users: generated code needs
//! `'static` data it can write as constants, the generator owned strings.
//! What must never differ between them, the limits and the rules, is here.

#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

/// The most attempts a retry policy may allow, the first included: beyond
/// this, retries only add load to a provider that is already failing.
pub const MAX_ATTEMPTS: u32 = 10;

/// Attempts in all when nothing says otherwise (two retries).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The backoff before the first retry is drawn from `[0, base]`.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_millis(100);

/// No backoff is longer than this.
pub const DEFAULT_RETRY_CAP: Duration = Duration::from_secs(20);

/// A rule a policy breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Violation {
    /// A retry policy allowing no attempt at all.
    NoAttempts,
    /// More attempts than [`MAX_ATTEMPTS`].
    TooManyAttempts { max_attempts: u32 },
    /// A zero backoff base: retries would come back to back.
    ZeroBackoff,
    /// A backoff cap shorter than its base.
    CapBelowBase { base: Duration, cap: Duration },
    /// An attempt timeout longer than the whole call's.
    AttemptLongerThanCall { attempt: Duration, call: Duration },
    /// A bulkhead that admits nobody.
    EmptyBulkhead,
    /// A rate that admits nothing (zero, negative, not a number, or no
    /// burst).
    NoRate { per_second: f64, burst: u32 },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::NoAttempts => f.write_str("must allow at least 1 attempt"),
            Violation::TooManyAttempts { max_attempts } => write!(
                f,
                "{max_attempts} attempts exceed the limit of {MAX_ATTEMPTS}"
            ),
            Violation::ZeroBackoff => f.write_str("the backoff base must be above zero"),
            Violation::CapBelowBase { base, cap } => {
                write!(
                    f,
                    "the backoff cap {cap:?} is shorter than its base {base:?}"
                )
            }
            Violation::AttemptLongerThanCall { attempt, call } => write!(
                f,
                "the attempt timeout {attempt:?} is longer than the call's {call:?}"
            ),
            Violation::EmptyBulkhead => f.write_str("a bulkhead must admit at least 1 call"),
            Violation::NoRate { per_second, burst } => write!(
                f,
                "a rate needs per_second > 0 and burst >= 1 (got {per_second}/s, burst {burst})"
            ),
        }
    }
}

impl std::error::Error for Violation {}

/// Attempts in `1..=MAX_ATTEMPTS`; where both are given, `0 < base <= cap`.
pub fn check_retry(
    max_attempts: u32,
    base: Option<Duration>,
    cap: Option<Duration>,
) -> Result<(), Violation> {
    if max_attempts == 0 {
        return Err(Violation::NoAttempts);
    }
    if max_attempts > MAX_ATTEMPTS {
        return Err(Violation::TooManyAttempts { max_attempts });
    }
    if base.is_some_and(|b| b.is_zero()) {
        return Err(Violation::ZeroBackoff);
    }
    if let (Some(base), Some(cap)) = (base, cap) {
        if cap < base {
            return Err(Violation::CapBelowBase { base, cap });
        }
    }
    Ok(())
}

/// An attempt timeout no longer than the call's own.
pub fn check_timeouts(attempt: Duration, call: Duration) -> Result<(), Violation> {
    if attempt > call {
        return Err(Violation::AttemptLongerThanCall { attempt, call });
    }
    Ok(())
}

/// At least one call in flight.
pub fn check_bulkhead(max_concurrent: usize) -> Result<(), Violation> {
    if max_concurrent == 0 {
        return Err(Violation::EmptyBulkhead);
    }
    Ok(())
}

/// A positive, finite rate and a burst of at least one.
pub fn check_rate(per_second: f64, burst: u32) -> Result<(), Violation> {
    if !(per_second.is_finite() && per_second > 0.0) || burst == 0 {
        return Err(Violation::NoRate { per_second, burst });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules() {
        assert_eq!(check_retry(0, None, None), Err(Violation::NoAttempts));
        assert_eq!(
            check_retry(MAX_ATTEMPTS + 1, None, None),
            Err(Violation::TooManyAttempts { max_attempts: 11 })
        );
        assert!(check_retry(MAX_ATTEMPTS, None, None).is_ok());
        assert!(check_retry(
            DEFAULT_MAX_ATTEMPTS,
            Some(DEFAULT_RETRY_BASE),
            Some(DEFAULT_RETRY_CAP)
        )
        .is_ok());
        let (base, cap) = (Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(
            check_retry(3, Some(base), Some(cap)),
            Err(Violation::CapBelowBase { base, cap })
        );
        assert_eq!(
            check_retry(3, Some(Duration::ZERO), None),
            Err(Violation::ZeroBackoff)
        );
        assert!(check_timeouts(Duration::from_secs(3), Duration::from_secs(2)).is_err());
        assert!(check_timeouts(Duration::from_secs(2), Duration::from_secs(2)).is_ok());
        assert_eq!(check_bulkhead(0), Err(Violation::EmptyBulkhead));
        assert!(check_rate(f64::NAN, 1).is_err() && check_rate(1.0, 0).is_err());
        assert!(check_rate(0.5, 1).is_ok());
        assert!(Violation::TooManyAttempts { max_attempts: 11 }
            .to_string()
            .contains("limit of 10"));
    }
}
