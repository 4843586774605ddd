//! Time for every policy: an injectable [`Clock`], so tests run on tokio's
//! paused clock or a clock of their own, and never sleep for real.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
pub use tokio::time::Instant;

/// A boxed sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where policies read the time and how they wait.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> Sleep;
    /// Wall-clock time, for HTTP dates and epoch-based rate-limit resets.
    fn wall(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
    /// True when [`Clock::sleep`] is `tokio::time::sleep`: the request path
    /// then arms its attempt timer inline, without a boxed future per
    /// attempt. Leave it false for a clock of your own.
    fn sleeps_on_tokio(&self) -> bool {
        false
    }
}

/// The tokio clock: real time, or paused time under `tokio::time::pause`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    fn sleeps_on_tokio(&self) -> bool {
        true
    }
}

/// The tokio clock with a wall clock that follows it: under
/// `tokio::time::pause`, wall time advances exactly as far as the paused
/// clock does (for token lifetimes and HTTP dates in tests).
#[derive(Debug, Clone, Copy)]
pub struct FollowingWallClock {
    start: Instant,
    start_wall: std::time::SystemTime,
}

impl FollowingWallClock {
    /// A clock whose wall time is `wall` now.
    pub fn starting_at(wall: std::time::SystemTime) -> Self {
        FollowingWallClock {
            start: Instant::now(),
            start_wall: wall,
        }
    }
}

impl Clock for FollowingWallClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    fn wall(&self) -> std::time::SystemTime {
        self.start_wall + Instant::now().saturating_duration_since(self.start)
    }

    fn sleeps_on_tokio(&self) -> bool {
        true
    }
}
