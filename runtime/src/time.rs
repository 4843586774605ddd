//! Time for every policy: an injectable [`Clock`], so tests run on tokio's
//! paused clock or a clock of their own, and never sleep for real.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
pub use tokio::time::Instant;

pin_project_lite::pin_project! {
    /// A clock's sleep: tokio's timer held inline (the tokio clocks, so the
    /// request path arms its timers without a boxed future each time), or
    /// the boxed future of a clock of one's own ([`Sleep::boxed`]).
    #[project = SleepProj]
    pub enum Sleep {
        Tokio { #[pin] sleep: tokio::time::Sleep },
        Boxed { sleep: Pin<Box<dyn Future<Output = ()> + Send>> },
    }
}

impl Sleep {
    /// tokio's sleep for `duration` (paused time under `tokio::time::pause`).
    pub fn tokio(duration: Duration) -> Self {
        Sleep::Tokio {
            sleep: tokio::time::sleep(duration),
        }
    }

    /// Any future, boxed: for a [`Clock`] of one's own.
    pub fn boxed(sleep: impl Future<Output = ()> + Send + 'static) -> Self {
        Sleep::Boxed {
            sleep: Box::pin(sleep),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        match self.project() {
            SleepProj::Tokio { sleep } => sleep.poll(cx),
            SleepProj::Boxed { sleep } => sleep.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sleep::Tokio { .. } => "Sleep::Tokio",
            Sleep::Boxed { .. } => "Sleep::Boxed",
        })
    }
}

pin_project_lite::pin_project! {
    /// A future bounded in time: its output, or [`Elapsed`] once `limit`
    /// has passed. The future is polled first and the timer armed only
    /// once it has had to wait, so a future that is ready at once never
    /// registers one.
    pub struct Timeout<'c, F> {
        #[pin]
        future: F,
        #[pin]
        timer: Option<Sleep>,
        clock: &'c dyn Clock,
        limit: Duration,
    }
}

/// A [`Timeout`] ran out: the limit it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no result within {:?}", self.0)
    }
}

impl std::error::Error for Elapsed {}

/// `future`, bounded by `limit` on `clock`.
pub fn timeout<F: Future>(clock: &dyn Clock, limit: Duration, future: F) -> Timeout<'_, F> {
    Timeout {
        future,
        timer: None,
        clock,
        limit,
    }
}

impl<F: Future> Future for Timeout<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let mut this = self.project();
        if let std::task::Poll::Ready(output) = this.future.poll(cx) {
            return std::task::Poll::Ready(Ok(output));
        }
        if this.timer.is_none() {
            this.timer.set(Some(this.clock.sleep(*this.limit)));
        }
        match this.timer.as_pin_mut() {
            Some(timer) => timer.poll(cx).map(|()| Err(Elapsed(*this.limit))),
            None => std::task::Poll::Ready(Err(Elapsed(*this.limit))),
        }
    }
}

/// Where policies read the time and how they wait.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> Sleep;
    /// Wall-clock time, for HTTP dates and epoch-based rate-limit resets.
    fn wall(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}

/// `duration` in whole milliseconds, as stored (saturating).
pub(crate) fn ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A clock's wall time in Unix milliseconds (0 before the epoch).
pub fn unix_ms(clock: &dyn Clock) -> i64 {
    system_ms(clock.wall())
}

/// `at` in Unix milliseconds (0 before the epoch).
pub(crate) fn system_ms(at: std::time::SystemTime) -> i64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The tokio clock: real time, or paused time under `tokio::time::pause`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::tokio(duration)
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
        Sleep::tokio(duration)
    }

    fn wall(&self) -> std::time::SystemTime {
        self.start_wall + Instant::now().saturating_duration_since(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn both_kinds_of_sleep_wait_their_time() {
        let start = Instant::now();
        TokioClock.sleep(Duration::from_secs(3)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        // A clock of one's own: its future, boxed, decides.
        Sleep::boxed(tokio::time::sleep(Duration::from_secs(2))).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert_eq!(
            format!("{:?}", Sleep::tokio(Duration::ZERO)),
            "Sleep::Tokio"
        );
    }
}
