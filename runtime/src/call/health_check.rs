//! A scheduled end-to-end health check per integration: a representative
//! read-only operation the app names (GitHub's `users/get-authenticated`),
//! called on an interval with its own small budget (one attempt, a short
//! timeout), outside the breaker's statistics, the retry budget and the
//! call metrics. Each result goes to [`Integration::health`], to metrics
//! (`wharf_health_check_up{integration}`, `wharf_health_checks_total
//! {integration,outcome}`, `wharf_health_check_duration_seconds
//! {integration}`) and, when it changes from passing to failing or back,
//! to an event.

use super::config::CallOptions;
use super::error::Error;
use super::health::CheckResult;
use super::integration::Integration;
use crate::time::{unix_ms, Clock, TokioClock};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

type Probe =
    dyn Fn(CallOptions) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send>> + Send + Sync;

/// A scheduled health check (see the module's docs).
#[derive(Clone)]
pub struct HealthCheck {
    integration: Integration,
    operation: String,
    probe: Arc<Probe>,
    interval: Duration,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("integration", &self.integration.name())
            .field("operation", &self.operation)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HealthCheck {
    /// A check of `integration` calling `operation` through `probe`, which
    /// makes the call with the options it is given (they mark it as a
    /// probe and carry its budget):
    ///
    /// ```ignore
    /// HealthCheck::new(&integration, "users/get-authenticated", move |options| {
    ///     let github = github.clone();
    ///     async move {
    ///         let call = CallSettings { options, ..Default::default() };
    ///         github.users_get_authenticated(Options { call }).await.map(drop)
    ///     }
    /// })
    /// ```
    ///
    /// Every minute by default, with 5 seconds for the call.
    pub fn new<F, Fut>(integration: &Integration, operation: impl Into<String>, probe: F) -> Self
    where
        F: Fn(CallOptions) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        HealthCheck {
            integration: integration.clone(),
            operation: operation.into(),
            probe: Arc::new(move |options| Box::pin(probe(options))),
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
            clock: Arc::new(TokioClock),
        }
    }

    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(100));
        self
    }

    /// The probe's whole budget (one attempt).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs the check once and records its result.
    pub async fn check_once(&self) -> CheckResult {
        let started = self.clock.now();
        let options = CallOptions {
            timeout: Some(self.timeout),
            probe: true,
            ..CallOptions::default()
        };
        // The call's own deadline bounds it; this bounds a probe that
        // ignores the options it was given.
        let outcome = crate::time::timeout(&*self.clock, self.timeout, (self.probe)(options)).await;
        let latency = self.clock.now().saturating_duration_since(started);
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {} ms", self.timeout.as_millis())),
        };
        let result = CheckResult {
            operation: self.operation.clone(),
            at_ms: unix_ms(&*self.clock),
            latency,
            error,
        };
        self.publish(&result);
        result
    }

    fn publish(&self, result: &CheckResult) {
        let name = self.integration.name().to_owned();
        let passed = result.passed();
        metrics::gauge!("wharf_health_check_up", "integration" => name.clone()).set(if passed {
            1.0
        } else {
            0.0
        });
        metrics::counter!(
            "wharf_health_checks_total",
            "integration" => name.clone(),
            "outcome" => if passed { "passed" } else { "failed" }
        )
        .increment(1);
        metrics::histogram!("wharf_health_check_duration_seconds", "integration" => name.clone())
            .record(result.latency.as_secs_f64());
        let before = self.integration.record_check(result.clone());
        let was_passing = before.as_ref().is_none_or(CheckResult::passed);
        match (&result.error, was_passing) {
            (Some(error), true) => tracing::warn!(
                integration = %name,
                operation = %self.operation,
                error = %error,
                "health check failing"
            ),
            (None, false) => tracing::info!(
                integration = %name,
                operation = %self.operation,
                "health check passing again"
            ),
            _ => {}
        }
    }

    /// Checks every interval until `shutdown` completes (the first check
    /// at once).
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = self.check_once() => {}
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.clock.sleep(self.interval) => {}
            }
        }
    }
}
