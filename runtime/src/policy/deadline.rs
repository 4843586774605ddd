//! End-to-end deadlines. The outermost caller sets one; nested calls made
//! inside it (in the same task) inherit it through a task-local, and take
//! the earlier of their own and the inherited one.

use crate::time::Instant;
use std::future::Future;
use std::time::Duration;

tokio::task_local! {
    static AMBIENT: Deadline;
}

/// A point in time by which a call must have returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    pub fn at(at: Instant) -> Self {
        Deadline { at }
    }

    pub fn after(now: Instant, budget: Duration) -> Self {
        Deadline { at: now + budget }
    }

    pub fn instant(&self) -> Instant {
        self.at
    }

    /// Time left at `now` (zero once passed).
    pub fn remaining(&self, now: Instant) -> Duration {
        self.at.saturating_duration_since(now)
    }

    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.at
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Option<Deadline>) -> Deadline {
        match other {
            Some(o) if o.at < self.at => o,
            _ => self,
        }
    }

    /// The deadline set by an enclosing [`Deadline::scope`], if any.
    pub fn ambient() -> Option<Deadline> {
        AMBIENT.try_with(|d| *d).ok()
    }

    /// Runs `fut` with this deadline as the ambient one (the earlier of this
    /// and any enclosing deadline): every wharf call inside inherits it.
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        let effective = self.min(Deadline::ambient());
        AMBIENT.scope(effective, fut).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn nested_scopes_take_the_earlier_deadline() {
        let now = Instant::now();
        let outer = Deadline::after(now, Duration::from_secs(2));
        let inner = Deadline::after(now, Duration::from_secs(5));
        let seen = outer
            .scope(async { inner.scope(async { Deadline::ambient() }).await })
            .await;
        assert_eq!(seen, Some(outer));
        assert_eq!(Deadline::ambient(), None);
        assert_eq!(
            outer.remaining(now + Duration::from_secs(3)),
            Duration::ZERO
        );
    }
}
