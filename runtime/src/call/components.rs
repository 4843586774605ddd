//! [`Components`]: what every call of one integration shares (its
//! configuration, transport, clock, authenticator, classifier, and the
//! guards: breakers, rate limiters, bulkheads, retry budget), with the
//! lookups the orchestrator makes in them. The orchestrator sees an
//! integration only through this.

use super::attempt::Finished;
use super::call_metrics::{outcome_label, CallMetrics};
use super::classify::Classifier;
use super::config::IntegrationConfig;
use super::drift_sink::DriftSink;
use super::error::{Error, ErrorKind};
use super::health::Latencies;
use super::transport::Transport;
use super::Authenticator;
use crate::policy::breaker::{Breaker, BreakerState};
use crate::policy::budget::RetryBudget;
use crate::policy::bulkhead::Bulkhead;
use crate::policy::rate_limit::RateLimiter;
use crate::policy::retry::Jitter;
use crate::time::Clock;
use std::sync::Arc;

/// One integration's shared parts (see the module's docs).
#[derive(Debug)]
pub(super) struct Components {
    pub(super) name: String,
    /// The name as a metrics label (shared, so labelling does not allocate).
    pub(super) label: metrics::SharedString,
    pub(super) metrics: CallMetrics,
    pub(super) config: IntegrationConfig,
    pub(super) transport: Arc<dyn Transport>,
    pub(super) classifier: Option<Arc<dyn Classifier>>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) drift_sink: Arc<dyn DriftSink>,
    pub(super) authenticator: Option<Arc<dyn Authenticator>>,
    pub(super) signer: Option<Arc<dyn super::RequestSigner>>,
    pub(super) breaker: Option<Breaker>,
    /// One breaker per operation, when configured so (created on first use).
    pub(super) operation_breakers:
        Option<std::sync::Mutex<std::collections::HashMap<String, Breaker>>>,
    /// Guards declared by policies, created on first use: breakers by
    /// name, rate limiters and bulkheads by declaring function.
    pub(super) declared: std::sync::Mutex<DeclaredGuards>,
    pub(super) limiter: RateLimiter,
    pub(super) bulkhead: Option<Bulkhead>,
    pub(super) budget: RetryBudget,
    pub(super) jitter: Jitter,
    pub(super) latencies: Latencies,
    pub(super) stats: super::call_stats::CallStats,
    /// The scheduled health check's latest result.
    pub(super) last_check: std::sync::Mutex<Option<super::health::CheckResult>>,
}

#[derive(Debug, Default)]
pub(super) struct DeclaredGuards {
    pub(super) breakers: std::collections::HashMap<&'static str, Breaker>,
    pub(super) limiters: std::collections::HashMap<&'static str, Arc<RateLimiter>>,
    pub(super) bulkheads: std::collections::HashMap<&'static str, Arc<Bulkhead>>,
}

impl Components {
    /// Once a call is over: its span fields, and (unless it was a health
    /// check's probe) its latency, metrics and the transitions of the
    /// breaker that guarded it.
    pub(super) fn settle(
        &self,
        result: &Finished,
        span: &tracing::Span,
        started: tokio::time::Instant,
        breaker: Option<&Breaker>,
        probe: bool,
        operation: &str,
    ) {
        let i = self;
        let elapsed = i.clock.now().saturating_duration_since(started);
        let (class, attempts) = match result {
            Ok((_, attempts)) => (None, *attempts),
            Err(e) => (Some(e.class()), e.attempts),
        };
        span.record("attempts", attempts);
        span.record("outcome", outcome_label(class));
        if probe {
            // A health check reports its probes itself.
            return;
        }
        i.latencies.record(elapsed);
        i.stats.call(class);
        i.metrics
            .call(&i.label, operation, elapsed.as_secs_f64(), class);
        if let Some(b) = breaker {
            self.publish_breaker_transitions(b);
        }
    }

    pub(super) fn declared_guards(&self) -> std::sync::MutexGuard<'_, DeclaredGuards> {
        match self.declared.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The rate limiter declared by policy `id`.
    pub(super) fn declared_limiter(
        &self,
        id: &'static str,
        rate: crate::policy::rate_limit::RateLimit,
    ) -> Arc<RateLimiter> {
        let now = self.clock.now();
        self.declared_guards()
            .limiters
            .entry(id)
            .or_insert_with(|| Arc::new(RateLimiter::new(Some(rate), now)))
            .clone()
    }

    /// The bulkhead declared by policy `id` (no queue: full means rejected).
    pub(super) fn declared_bulkhead(&self, id: &'static str, max: usize) -> Arc<Bulkhead> {
        self.declared_guards()
            .bulkheads
            .entry(id)
            .or_insert_with(|| {
                Arc::new(Bulkhead::new(crate::policy::bulkhead::BulkheadConfig {
                    max_concurrent: max,
                    max_queued: 0,
                }))
            })
            .clone()
    }

    /// The named breaker `name` (with the integration's breaker settings).
    pub(super) fn named_breaker(&self, name: &'static str) -> Breaker {
        let config = self.config.breaker.unwrap_or_default();
        self.declared_guards()
            .breakers
            .entry(name)
            .or_insert_with(|| Breaker::new(config))
            .clone()
    }

    /// The breaker guarding `operation`: the integration's, or its own.
    pub(super) fn breaker_for(&self, operation: &str) -> Option<Breaker> {
        let i = self;
        if let Some(b) = &i.breaker {
            return Some(b.clone());
        }
        let config = i.config.breaker?;
        let mut map = match i.operation_breakers.as_ref()?.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        Some(
            map.entry(operation.to_owned())
                .or_insert_with(|| Breaker::new(config))
                .clone(),
        )
    }

    /// Every breaker of the integration: its own, or one per operation,
    /// and those named by policies.
    pub(super) fn breakers(&self) -> Vec<Breaker> {
        let mut breakers: Vec<Breaker> = match (&self.breaker, &self.operation_breakers) {
            (Some(b), _) => vec![b.clone()],
            (None, Some(map)) => match map.lock() {
                Ok(m) => m.values().cloned().collect(),
                Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
            },
            (None, None) => Vec::new(),
        };
        breakers.extend(self.declared_guards().breakers.values().cloned());
        breakers
    }

    /// The worst state among `breakers` now (closed when there are none).
    pub(super) fn worst_breaker_state(&self, breakers: &[Breaker]) -> BreakerState {
        let now = self.clock.now();
        breakers
            .iter()
            .map(|b| b.state(now))
            .max_by_key(|s| breaker_state_level(*s))
            .unwrap_or(BreakerState::Closed)
    }

    /// Logs and counts `breaker`'s transitions, and sets the integration's
    /// `wharf_breaker_state` gauge to its worst breaker's state.
    pub(super) fn publish_breaker_transitions(&self, breaker: &Breaker) {
        let transitions = breaker.take_transitions();
        if transitions.is_empty() {
            return;
        }
        let at_ms = crate::time::unix_ms(&*self.clock);
        for (from, to) in transitions {
            self.stats
                .transition(super::call_stats::BreakerTransition { at_ms, from, to });
            tracing::warn!(integration = %self.name, from = from.as_str(), to = to.as_str(), "circuit breaker state change");
            metrics::counter!(
                "wharf_breaker_transitions_total",
                "integration" => self.label.clone(),
                "to" => to.as_str()
            )
            .increment(1);
        }
        let worst = self.worst_breaker_state(&self.breakers());
        metrics::gauge!("wharf_breaker_state", "integration" => self.label.clone())
            .set(f64::from(breaker_state_level(worst)));
    }

    pub(super) fn error(
        &self,
        operation: &super::OperationMeta,
        kind: ErrorKind,
        attempts: u32,
        budget_exhausted: bool,
    ) -> Error {
        Error {
            kind,
            integration: self.name.clone(),
            operation: operation.name.to_string(),
            attempts,
            budget_exhausted,
        }
    }
}

/// A breaker state as a number, worst highest: closed 0, half-open 1,
/// open 2 (the `wharf_breaker_state` gauge's values).
pub(super) fn breaker_state_level(state: BreakerState) -> u8 {
    match state {
        BreakerState::Closed => 0,
        BreakerState::HalfOpen => 1,
        BreakerState::Open => 2,
    }
}
