//! [`Integration`]: one provider's connection pool, policies and health, and
//! the request path that composes them.

use super::attempt::Exchange;
use super::auth_hook::Authenticator;
use super::call_metrics::CallMetrics;
use super::classify::Classifier;
use super::components::Components;
use super::config::{CallOptions, IntegrationConfig};
use super::drift_sink::{DriftSink, LogDrift};
use super::error::Error;
use super::health::{CheckResult, Health, Latencies};
use super::orchestrator;
use super::transport::Transport;
use crate::decode::{decode, Decode, DecodeError};
use crate::operation::ByteStream;
use crate::operation::{Request, Response, StreamingResponse};
use crate::policy::breaker::Breaker;
use crate::policy::budget::RetryBudget;
use crate::policy::bulkhead::Bulkhead;
use crate::policy::rate_limit::RateLimiter;
use crate::policy::retry::Jitter;
use crate::time::{Clock, TokioClock};
use std::sync::Arc;

/// Calls to one provider. Cheap to clone; clones share pool and policies.
#[derive(Debug, Clone)]
pub struct Integration {
    pub(super) inner: Arc<Components>,
}

/// Builds an [`Integration`].
#[derive(Debug)]
pub struct IntegrationBuilder {
    name: String,
    config: IntegrationConfig,
    transport: Option<Arc<dyn Transport>>,
    classifier: Option<Arc<dyn Classifier>>,
    clock: Arc<dyn Clock>,
    drift_sink: Arc<dyn DriftSink>,
    authenticator: Option<Arc<dyn Authenticator>>,
    signer: Option<Arc<dyn super::RequestSigner>>,
}

impl IntegrationBuilder {
    /// Authenticates every attempt (e.g. an OAuth credential).
    pub fn authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// Signs every attempt from the request itself (after the credential).
    pub fn signer(mut self, signer: Arc<dyn super::RequestSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    pub fn config(mut self, config: IntegrationConfig) -> Self {
        self.config = config;
        self
    }

    /// How requests are sent. Default: a [`super::ReqwestTransport`] of the
    /// integration's own (its own connection pool, HTTPS only). Passing one
    /// transport to several integrations makes them share its pool.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    pub fn classifier(mut self, classifier: Arc<dyn Classifier>) -> Self {
        self.classifier = Some(classifier);
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where drift found in responses goes (default: [`LogDrift`]).
    pub fn drift_sink(mut self, sink: Arc<dyn DriftSink>) -> Self {
        self.drift_sink = sink;
        self
    }

    /// The integration, or why its configuration is refused.
    pub fn build(self) -> Result<Integration, crate::policy::ConfigError> {
        self.config.validate()?;
        let transport: Arc<dyn Transport> = match self.transport {
            Some(transport) => transport,
            // Its own, so its own connection pool.
            None => Arc::new(super::ReqwestTransport::builder().build()?),
        };
        let now = self.clock.now();
        let config = self.config;
        Ok(Integration {
            inner: Arc::new(Components {
                breaker: config
                    .breaker
                    .filter(|_| !config.breaker_per_operation)
                    .map(Breaker::new),
                operation_breakers: (config.breaker.is_some() && config.breaker_per_operation)
                    .then(|| std::sync::Mutex::new(std::collections::HashMap::new())),
                declared: std::sync::Mutex::new(super::components::DeclaredGuards::default()),
                limiter: RateLimiter::new(config.rate_limit, now),
                bulkhead: config.bulkhead.map(Bulkhead::new),
                budget: RetryBudget::new(config.budget),
                jitter: config
                    .jitter_seed
                    .map_or_else(Jitter::from_entropy, Jitter::seeded),
                latencies: Latencies::default(),
                last_check: std::sync::Mutex::new(None),
                stats: Default::default(),
                metrics: CallMetrics::default(),
                label: metrics::SharedString::from(std::sync::Arc::<str>::from(self.name.as_str())),
                name: self.name,
                config,
                transport,
                classifier: self.classifier,
                clock: self.clock,
                drift_sink: self.drift_sink,
                authenticator: self.authenticator,
                signer: self.signer,
            }),
        })
    }
}

impl Integration {
    pub fn builder(name: impl Into<String>) -> IntegrationBuilder {
        IntegrationBuilder {
            name: name.into(),
            config: IntegrationConfig::default(),
            transport: None,
            classifier: None,
            clock: Arc::new(TokioClock),
            drift_sink: Arc::new(LogDrift),
            authenticator: None,
            signer: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Decodes a response body tolerantly, reporting its drift to the
    /// integration's drift sink (generated methods decode through this).
    pub fn decode<T: Decode>(&self, operation: &str, body: &[u8]) -> Result<T, DecodeError> {
        let decoded = decode::<T>(body)?;
        if !decoded.drift.is_empty() {
            self.inner
                .drift_sink
                .report(&self.inner.name, operation, &decoded.drift);
            self.inner.stats.drift(operation, decoded.drift.len());
        }
        Ok(decoded.value)
    }

    /// Health of the integration; with per-operation or policy-named
    /// breakers, the worst breaker state and the highest error rate among
    /// them.
    pub fn health(&self) -> Health {
        let i = &self.inner;
        let breakers = i.breakers();
        Health {
            integration: i.name.clone(),
            breaker: i.worst_breaker_state(&breakers),
            error_rate: breakers
                .iter()
                .map(Breaker::failure_rate)
                .fold(0.0, f64::max),
            p50: i.latencies.percentile(0.5),
            p95: i.latencies.percentile(0.95),
            p99: i.latencies.percentile(0.99),
            budget: i.budget.level(),
            in_flight: i.bulkhead.as_ref().map_or(0, Bulkhead::in_flight),
            calls: i.stats.calls(),
            rate_limit_waits: i.stats.rate_limit_waits(),
            drift: i.stats.drift_by_operation(),
            breaker_transitions: i.stats.transitions(),
            check: match i.last_check.lock() {
                Ok(c) => c.clone(),
                Err(poisoned) => poisoned.into_inner().clone(),
            },
        }
    }

    /// Keeps a health check's result for [`health`](Self::health); the
    /// previous one is returned.
    pub(crate) fn record_check(&self, result: CheckResult) -> Option<CheckResult> {
        let mut last = match self.inner.last_check.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        last.replace(result)
    }

    /// Makes one logical call: the whole request path (see
    /// [`super::orchestrator`]).
    // Not an `async fn`: its arguments would take room in every caller's
    // future; they are settled at once and only the running call is kept.
    #[allow(clippy::result_large_err)]
    pub fn call(
        &self,
        request: Request,
        options: CallOptions,
    ) -> impl std::future::Future<Output = Result<Response, Error>> + Send + '_ {
        orchestrator::invoke(&self.inner, request, options, false, |exchange, _| {
            exchange.response
        })
    }

    /// [`Integration::call`], with the number of attempts it took.
    #[allow(clippy::result_large_err)]
    pub(crate) fn call_counted(
        &self,
        request: Request,
        options: CallOptions,
    ) -> impl std::future::Future<Output = Result<(Response, u32), Error>> + Send + '_ {
        orchestrator::invoke(
            &self.inner,
            request,
            options,
            false,
            |exchange, attempts| (exchange.response, attempts),
        )
    }

    /// Makes one logical call whose response body is handed over as a
    /// stream once a successful head arrives (downloads). The deadline and
    /// retries cover the exchange up to the head; the body then arrives
    /// under the transport's stall timeout. Error responses are read whole
    /// (up to 1 MiB), classified and retried as in [`Integration::call`].
    #[allow(clippy::result_large_err)]
    pub fn call_streaming(
        &self,
        request: Request,
        options: CallOptions,
    ) -> impl std::future::Future<Output = Result<StreamingResponse, Error>> + Send + '_ {
        orchestrator::invoke(&self.inner, request, options, true, |exchange, attempts| {
            let Exchange { response, stream } = exchange;
            StreamingResponse {
                status: response.status,
                headers: response.headers,
                body: stream.unwrap_or_else(|| ByteStream::from_bytes(response.body)),
                attempts,
            }
        })
    }
}
