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
}
