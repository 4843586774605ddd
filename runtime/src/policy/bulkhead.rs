//! Bulkhead: at most N calls of an integration in flight, with an optional
//! bounded queue. A caller that finds the queue full is rejected at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadConfig {
    pub max_concurrent: usize,
    /// Callers that may wait for a slot; more are rejected.
    pub max_queued: usize,
}

impl BulkheadConfig {
    /// Refuses a bulkhead with no room: it would refuse every call.
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        wharf_policy_rules::check_bulkhead(self.max_concurrent).map_err(|violation| {
            super::ConfigError::new("bulkhead.max_concurrent", violation.to_string())
        })
    }
}

#[derive(Debug)]
pub struct Bulkhead {
    config: BulkheadConfig,
    slots: Arc<Semaphore>,
    queued: AtomicUsize,
}

/// The bulkhead was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl Bulkhead {
    pub fn new(config: BulkheadConfig) -> Self {
        Bulkhead {
            config,
            slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            queued: AtomicUsize::new(0),
        }
    }

    /// Takes a free slot at once, if there is one.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Takes a slot, waiting in the queue if there is room in it. The
    /// caller bounds the wait (by its deadline) by dropping the future.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, Full> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.queued.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.queued);
        if queued >= self.config.max_queued {
            return Err(Full);
        }
        self.slots.clone().acquire_owned().await.map_err(|_| Full)
    }

    /// Calls in flight now.
    pub fn in_flight(&self) -> usize {
        self.config.max_concurrent.max(1) - self.slots.available_permits()
    }
}

struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rejects_beyond_the_queue_immediately() {
        let b = Bulkhead::new(BulkheadConfig {
            max_concurrent: 1,
            max_queued: 0,
        });
        let held = b.enter().await.unwrap();
        assert_eq!(b.in_flight(), 1);
        assert_eq!(b.enter().await.unwrap_err(), Full);
        drop(held);
        assert!(b.enter().await.is_ok());
    }
}
