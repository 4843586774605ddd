//! How fast the provider has answered at best, lately: an attempt given
//! less time than that cannot finish, so it is not started.
//!
//! The estimate follows the low end of recent exchange times: a faster
//! answer lowers it at once, a slower one raises it by an eighth of the
//! gap. One slow answer barely moves it; a lasting slowdown is followed
//! within a few dozen answers. Biased low on purpose: it should refuse only
//! attempts that are hopeless, never one that could have finished.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct FastestResponse {
    /// Nanoseconds; 0 until the first answer.
    nanos: AtomicU64,
}

impl FastestResponse {
    /// The estimate (zero before any answer).
    pub(crate) fn get(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// An exchange that got an answer (of any status) took `took`.
    pub(crate) fn record(&self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        let old = self.nanos.load(Ordering::Relaxed);
        let new = if old == 0 || took <= old {
            took
        } else {
            old + (took - old) / 8
        };
        // Racing writers may each overwrite the other: it is an estimate.
        if new != old {
            self.nanos.store(new, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_low_end_of_answer_times() {
        let f = FastestResponse::default();
        assert_eq!(f.get(), Duration::ZERO);
        let ms = Duration::from_millis;
        f.record(ms(100));
        assert_eq!(f.get(), ms(100));
        f.record(ms(40));
        assert_eq!(f.get(), ms(40), "a faster answer lowers it at once");
        f.record(ms(840));
        assert_eq!(
            f.get(),
            ms(140),
            "a slow one raises it by an eighth of the gap"
        );
        for _ in 0..40 {
            f.record(ms(500));
        }
        let settled = f.get();
        assert!(settled > ms(490) && settled <= ms(500), "{settled:?}");
    }
}
