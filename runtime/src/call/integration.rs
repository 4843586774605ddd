//! [`Integration`]: one provider's connection pool, policies and health, and
//! the request path that composes them.

use super::attempt::{Attempt, Exchange, Sending};
use super::auth_hook::Authenticator;
use super::body::ByteStream;
use super::call_future::{CallFuture, Finished, Stage};
use super::call_metrics::{outcome_label, CallMetrics};
use super::classify::{default_class, Classifier, Outcome};
use super::config::{CallOptions, IntegrationConfig};
use super::drift_sink::{DriftSink, LogDrift};
use super::error::{Error, ErrorClass, ErrorKind, TransportError};
use super::health::{Health, Latencies};
use super::request::{HttpRequest, Request, Response, StreamingResponse};
use super::retry_after::{requested_delay, reset_when_exhausted};
use super::transport::Transport;
use crate::decode::{decode, Decode, DecodeError};
use crate::policy::breaker::{Breaker, BreakerState};
use crate::policy::budget::RetryBudget;
use crate::policy::bulkhead::{Bulkhead, Full};
use crate::policy::deadline::Deadline;
use crate::policy::declared::{Idempotency, OperationPolicies, Policy};
use crate::policy::rate_limit::RateLimiter;
use crate::policy::retry::{is_retryable, Jitter, RetryPolicy};
use crate::policy::scope::{self, ActiveScope};
use crate::time::{Clock, TokioClock};
use http::{HeaderName, HeaderValue};
pub(super) use plain::{Plain, PlainCall};
use std::sync::Arc;
use std::time::Duration;
use tracing::field;

mod plain;

/// Calls to one provider. Cheap to clone; clones share pool and policies.
#[derive(Debug, Clone)]
pub struct Integration {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    /// The name as a metrics label (shared, so labelling does not allocate).
    label: metrics::SharedString,
    metrics: CallMetrics,
    config: IntegrationConfig,
    transport: Arc<dyn Transport>,
    classifier: Option<Arc<dyn Classifier>>,
    clock: Arc<dyn Clock>,
    drift_sink: Arc<dyn DriftSink>,
    authenticator: Option<Arc<dyn Authenticator>>,
    breaker: Option<Breaker>,
    /// One breaker per operation, when configured so (created on first use).
    operation_breakers: Option<std::sync::Mutex<std::collections::HashMap<String, Breaker>>>,
    /// Guards declared by policies, created on first use: breakers by
    /// name, rate limiters and bulkheads by declaring function.
    declared: std::sync::Mutex<DeclaredGuards>,
    limiter: RateLimiter,
    bulkhead: Option<Bulkhead>,
    budget: RetryBudget,
    jitter: Jitter,
    latencies: Latencies,
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
}

impl IntegrationBuilder {
    /// Authenticates every attempt (e.g. an OAuth credential).
    pub fn authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
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
    pub fn build(self) -> Result<Integration, String> {
        self.config.validate()?;
        let transport: Arc<dyn Transport> = match self.transport {
            Some(transport) => transport,
            // Its own, so its own connection pool.
            None => Arc::new(super::ReqwestTransport::builder().build()?),
        };
        let now = self.clock.now();
        let config = self.config;
        Ok(Integration {
            inner: Arc::new(Inner {
                breaker: config
                    .breaker
                    .filter(|_| !config.breaker_per_operation)
                    .map(Breaker::new),
                operation_breakers: (config.breaker.is_some() && config.breaker_per_operation)
                    .then(|| std::sync::Mutex::new(std::collections::HashMap::new())),
                declared: std::sync::Mutex::new(DeclaredGuards::default()),
                limiter: RateLimiter::new(config.rate_limit, now),
                bulkhead: config.bulkhead.map(Bulkhead::new),
                budget: RetryBudget::new(config.budget),
                jitter: config
                    .jitter_seed
                    .map_or_else(Jitter::from_entropy, Jitter::seeded),
                latencies: Latencies::default(),
                metrics: CallMetrics::default(),
                label: metrics::SharedString::from(std::sync::Arc::<str>::from(self.name.as_str())),
                name: self.name,
                config,
                transport,
                classifier: self.classifier,
                clock: self.clock,
                drift_sink: self.drift_sink,
                authenticator: self.authenticator,
            }),
        })
    }
}

#[derive(Debug, Default)]
struct DeclaredGuards {
    breakers: std::collections::HashMap<&'static str, Breaker>,
    limiters: std::collections::HashMap<&'static str, Arc<RateLimiter>>,
    bulkheads: std::collections::HashMap<&'static str, Arc<Bulkhead>>,
}

/// A call as made: the operation, the request every attempt sends, the
/// resolved options and the correlation header.
pub(super) struct CallParts {
    pub(super) operation: super::OperationMeta,
    pub(super) http: HttpRequest,
    pub(super) options: CallOptions,
    pub(super) correlation_header: Option<HeaderValue>,
}

/// A call ready for its first attempt (see [`Integration::prepare`]).
struct Prepared {
    operation: super::OperationMeta,
    /// What every attempt sends, the call's correlation id and idempotency
    /// key among its headers (an attempt adds only its credential).
    http: HttpRequest,
    start: tokio::time::Instant,
    deadline: Deadline,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    has_idempotency_plan: bool,
    replayable: bool,
    /// Held until the call ends.
    _declared_slots: Vec<tokio::sync::OwnedSemaphorePermit>,
    declared_limiters: Vec<Arc<RateLimiter>>,
}

/// An attempt whose outcome is in and recorded.
pub(super) struct Attempted {
    outcome: Result<Exchange, TransportError>,
    class: Option<ErrorClass>,
    /// When its outcome came in.
    after: tokio::time::Instant,
    /// The generation of the credential it was sent with.
    generation: Option<u64>,
}

/// The first attempt of a call the plain path made and that failed: the
/// retry loop takes it up (see [`Integration::run`]).
pub(super) struct FirstAttempt {
    /// The call's bulkhead slot, held until the call ends.
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
    attempted: Attempted,
    fastest_answer: Option<Duration>,
}

/// Longest the integration pauses after a rate-limited answer that did not
/// say for how long.
const MAX_UNSAID_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(1);

/// Largest error body read from a streaming call.
const MAX_STREAMED_ERROR_BODY: usize = 1024 * 1024;

/// What the retry loop decided after a failed attempt.
enum Next {
    Retry(Duration),
    /// Give up; the flag says whether only the empty retry budget stopped
    /// a retry.
    Fail(ErrorKind, bool),
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
        }
        Ok(decoded.value)
    }

    /// Health of the integration; with per-operation or policy-named
    /// breakers, the worst breaker state and the highest error rate among
    /// them.
    pub fn health(&self) -> Health {
        let i = &self.inner;
        let now = i.clock.now();
        let mut breakers: Vec<Breaker> = match (&i.breaker, &i.operation_breakers) {
            (Some(b), _) => vec![b.clone()],
            (None, Some(map)) => match map.lock() {
                Ok(m) => m.values().cloned().collect(),
                Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
            },
            (None, None) => Vec::new(),
        };
        // Breakers named by policies count too.
        breakers.extend(self.declared_guards().breakers.values().cloned());
        Health {
            integration: i.name.clone(),
            breaker: breakers
                .iter()
                .map(|b| b.state(now))
                .max_by_key(|s| match s {
                    BreakerState::Closed => 0,
                    BreakerState::HalfOpen => 1,
                    BreakerState::Open => 2,
                })
                .unwrap_or(BreakerState::Closed),
            error_rate: breakers
                .iter()
                .map(Breaker::failure_rate)
                .fold(0.0, f64::max),
            p95: i.latencies.percentile(0.95),
            p99: i.latencies.percentile(0.99),
            budget: i.budget.level(),
            in_flight: i.bulkhead.as_ref().map_or(0, Bulkhead::in_flight),
        }
    }

    /// Makes one logical call: the whole request path.
    // Not an `async fn`: its arguments would take room in every caller's
    // future; they are settled at once and only the running call is kept.
    // The error is the public `Error`, as the `async fn` returned it.
    #[allow(clippy::result_large_err)]
    pub fn call(
        &self,
        request: Request,
        options: CallOptions,
    ) -> impl std::future::Future<Output = Result<Response, Error>> + Send + '_ {
        self.call_with(request, options, false, |exchange, _| exchange.response)
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
        self.call_with(request, options, true, |exchange, attempts| {
            let Exchange { response, stream } = exchange;
            StreamingResponse {
                status: response.status,
                headers: response.headers,
                body: stream.unwrap_or_else(|| ByteStream::from_bytes(response.body)),
                attempts,
            }
        })
    }

    /// Settles the call without waiting (options, correlation id, span,
    /// breaker, the prepared request), then returns the future that runs
    /// it: a small future holding the boxed retry loop, so callers' futures
    /// stay small and cheap to move. `output` makes the caller's type.
    fn call_with<T>(
        &self,
        request: Request,
        options: CallOptions,
        streaming: bool,
        output: fn(Exchange, u32) -> T,
    ) -> CallFuture<'_, T> {
        let i = &self.inner;
        let scope = scope::current();
        // Most operations have no generated policies: checked once here.
        let policies = Some(request.operation.policies).filter(|p| !p.is_none());
        let mut options = options;
        self.resolve_options(&request.operation, &mut options, scope.as_deref(), policies);
        let given = options.correlation_id.take();
        let generated;
        // Formatted only if the span is recorded.
        let (correlation_id, correlation_header): (&dyn std::fmt::Display, _) = match &given {
            Some(id) => (id, HeaderValue::from_str(id).ok()),
            None => {
                generated = crate::ids::correlation_id_bytes();
                (&generated, Some(generated.header_value()))
            }
        };
        let span = tracing::info_span!(
            "wharf.call",
            integration = %i.name,
            operation = %request.operation.name,
            correlation_id = %correlation_id,
            attempts = field::Empty,
            outcome = field::Empty,
        );
        let declared = Self::resolve_declared(policies, scope.as_deref());
        // The breaker guarding this call, looked up once for all attempts.
        let breaker = match declared.breaker {
            Some(name) => Some(self.named_breaker(name)),
            None => self.breaker_for(&request.operation.name),
        };
        let started = i.clock.now();
        let plain = !streaming
            && scope.is_none()
            && policies.is_none()
            && self.is_plain(&request.operation, &options);
        let (operation, http) = request.into_parts();
        let parts = CallParts {
            operation,
            http,
            options,
            correlation_header,
        };
        let stage = if plain {
            Stage::Plain {
                call: PlainCall::new(parts),
            }
        } else {
            match self.prepare(parts, &declared, scope.as_deref(), started) {
                Ok(prepared) => Stage::Running {
                    run: Box::pin(self.run(prepared, breaker.clone(), streaming, None)),
                },
                Err(refused) => Stage::Refused {
                    error: Box::new(refused),
                },
            }
        };
        CallFuture {
            integration: self,
            stage,
            span,
            started,
            breaker,
            output,
        }
    }

    /// Once a call is over: its latency, metrics and span fields, and the
    /// transitions of the breaker that guarded it.
    pub(super) fn settle(
        &self,
        result: &Finished,
        span: &tracing::Span,
        started: tokio::time::Instant,
        breaker: Option<&Breaker>,
    ) {
        let i = &self.inner;
        let elapsed = i.clock.now().saturating_duration_since(started);
        i.latencies.record(elapsed);
        let (class, attempts) = match result {
            Ok((_, attempts)) => (None, *attempts),
            Err(e) => (Some(e.class()), e.attempts),
        };
        span.record("attempts", attempts);
        span.record("outcome", outcome_label(class));
        i.metrics.call(&i.label, elapsed.as_secs_f64(), class);
        if let Some(b) = breaker {
            self.publish_breaker_transitions(b);
        }
    }

    /// The call's options, level by level (see [`crate::policy::declared`]):
    /// per call (its options, then the enclosing policy functions), per
    /// operation, per tag, then the generated client policy. Whatever is
    /// still unset comes from the integration's configuration.
    /// Resolved in place: in the common case nothing is merged, and the
    /// options are not moved at all. `generated` is `None` when the
    /// operation has no generated policies.
    fn resolve_options(
        &self,
        op: &super::OperationMeta,
        resolved: &mut CallOptions,
        scope: Option<&ActiveScope>,
        generated: Option<&OperationPolicies>,
    ) {
        let config = &self.inner.config;
        if let Some(scope) = scope {
            // A function's timeout is its ambient deadline (set by the
            // scope), not a per-call timeout that would shadow the
            // operation's own.
            let per_call = Policy {
                timeout: None,
                ..scope.policy
            };
            *resolved = resolved.or(&per_call.call_options());
        }
        if !config.operations.is_empty() {
            if let Some(o) = config.operations.get(op.name.as_ref()) {
                *resolved = resolved.or(o);
            }
        }
        // The generated levels are constants: skip the empty ones cheaply.
        if let Some(generated) = generated {
            if !generated.operation.is_none() {
                *resolved = resolved.or(&generated.operation.call_options());
            }
        }
        if !config.tags.is_empty() {
            if let Some(o) = op.tags.iter().find_map(|t| config.tags.get(*t)) {
                *resolved = resolved.or(o);
            }
        }
        if let Some(generated) = generated {
            for level in [&generated.tag, &generated.client] {
                if !level.is_none() {
                    *resolved = resolved.or(&level.call_options());
                }
            }
        }
    }

    /// The declared policy fields that are not call options (breaker name,
    /// idempotency plan), per call > operation > tag > client.
    fn resolve_declared(
        generated: Option<&OperationPolicies>,
        scope: Option<&ActiveScope>,
    ) -> Policy {
        let declared = scope.map_or(Policy::NONE, |s| s.policy);
        // Most operations have no generated policies: nothing to merge.
        let Some(generated) = generated else {
            return declared;
        };
        declared
            .or(generated.operation)
            .or(generated.tag)
            .or(generated.client)
    }

    fn declared_guards(&self) -> std::sync::MutexGuard<'_, DeclaredGuards> {
        match self.inner.declared.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The rate limiter declared by policy `id`.
    fn declared_limiter(
        &self,
        id: &'static str,
        rate: crate::policy::rate_limit::RateLimit,
    ) -> Arc<RateLimiter> {
        let now = self.inner.clock.now();
        self.declared_guards()
            .limiters
            .entry(id)
            .or_insert_with(|| Arc::new(RateLimiter::new(Some(rate), now)))
            .clone()
    }

    /// The bulkhead declared by policy `id` (no queue: full means rejected).
    fn declared_bulkhead(&self, id: &'static str, max: usize) -> Arc<Bulkhead> {
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
    fn named_breaker(&self, name: &'static str) -> Breaker {
        let config = self.inner.config.breaker.unwrap_or_default();
        self.declared_guards()
            .breakers
            .entry(name)
            .or_insert_with(|| Breaker::new(config))
            .clone()
    }

    /// The breaker guarding `operation`: the integration's, or its own.
    fn breaker_for(&self, operation: &str) -> Option<Breaker> {
        let i = &self.inner;
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

    fn publish_breaker_transitions(&self, breaker: &Breaker) {
        for (from, to) in breaker.take_transitions() {
            tracing::warn!(integration = %self.inner.name, from = from.as_str(), to = to.as_str(), "circuit breaker state change");
            metrics::counter!(
                "wharf_breaker_transitions_total",
                "integration" => self.inner.label.clone(),
                "to" => to.as_str()
            )
            .increment(1);
        }
    }

    /// The call's error when its authenticator failed.
    fn auth_failed(
        &self,
        operation: &super::OperationMeta,
        failure: super::AuthFailure,
        attempts: u32,
    ) -> Error {
        self.error(operation, ErrorKind::Auth(failure), attempts, false)
    }

    fn error(
        &self,
        operation: &super::OperationMeta,
        kind: ErrorKind,
        attempts: u32,
        budget_exhausted: bool,
    ) -> Error {
        Error {
            kind,
            integration: self.inner.name.clone(),
            operation: operation.name.to_string(),
            attempts,
            budget_exhausted,
        }
    }

    /// Everything about a call that is settled before its first attempt,
    /// without waiting: deadline, retry policy, the declared bulkheads'
    /// slots, the idempotency key and the request every attempt sends.
    // The error is the call's own `Error`, returned as is to the caller.
    #[allow(clippy::result_large_err)]
    fn prepare(
        &self,
        parts: CallParts,
        declared: &Policy,
        scope: Option<&ActiveScope>,
        start: tokio::time::Instant,
    ) -> Result<Box<Prepared>, Error> {
        let i = &self.inner;
        let CallParts {
            operation,
            http,
            options,
            correlation_header,
        } = parts;
        let deadline = self.deadline(&options, start);
        // The integration's own policy was validated when it was built.
        let retry = match options.retry {
            None => i.config.retry,
            Some(retry) => {
                if let Err(reason) = retry.validate() {
                    return Err(self.error(
                        &operation,
                        ErrorKind::InvalidRequest { reason },
                        0,
                        false,
                    ));
                }
                retry
            }
        };
        let attempt_timeout = self.attempt_timeout(&options);

        // Bulkheads declared by the policy functions the call runs in: a
        // slot in each, or an immediate, typed rejection. First, so a call
        // never queues for the integration's slot only to be refused here.
        let mut declared_slots = Vec::new();
        for (id, policy) in scope.map_or(&[][..], |s| &s.chain[..]) {
            if let Some(max) = policy.bulkhead {
                match self.declared_bulkhead(id, max).try_enter() {
                    Some(slot) => declared_slots.push(slot),
                    None => return Err(self.error(&operation, ErrorKind::BulkheadFull, 0, false)),
                }
            }
        }

        // A natural key bound by a policy function: one per operation, the
        // same on every retry (and on every run of the same logical call).
        let natural_key = match (declared.idempotency, scope) {
            (Some(Idempotency::NaturalKey), Some(s)) => s
                .natural_key
                .as_ref()
                .map(|k| format!("{k}:{}", operation.name)),
            _ => None,
        };
        let given_key = options.idempotency_key.or(natural_key);
        // A key the caller put in the headers (e.g. a generated
        // `Idempotency-Key` parameter) is the key: it is never replaced.
        // Only a mutating call's key matters.
        let caller_key =
            !operation.is_idempotent() && http.headers.contains_key(&i.config.idempotency_header);
        let key = (!operation.is_idempotent()
            && !caller_key
            && (operation.accepts_idempotency_key
                || i.config.idempotency_on_all_mutations
                || declared.idempotency == Some(Idempotency::Key)
                || given_key.is_some()))
        .then(|| given_key.unwrap_or_else(crate::ids::idempotency_key));
        // `unsafe_allow` is a plan too: the caller accepted duplicates.
        let has_idempotency_plan = operation.is_idempotent()
            || key.is_some()
            || caller_key
            || matches!(declared.idempotency, Some(Idempotency::UnsafeAllow { .. }));
        let idempotency_header =
            key.and_then(|key| HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(key)).ok());
        // The same on every attempt: set once, in the request they all send.
        let mut http = http;
        if let Some(v) = correlation_header {
            http.headers.insert(i.config.correlation_header.clone(), v);
        }
        if let Some(v) = idempotency_header {
            http.headers.insert(i.config.idempotency_header.clone(), v);
        }
        let declared_limiters = match scope {
            None => Vec::new(),
            Some(s) => s
                .chain
                .iter()
                .filter_map(|(id, p)| p.rate.map(|rate| self.declared_limiter(id, rate)))
                .collect(),
        };
        // Boxed: the retry loop's future then holds a pointer, not a copy
        // (async fn arguments take their room twice in its state).
        Ok(Box::new(Prepared {
            // A one-shot body stream is gone after the first attempt: no
            // retry, no replay.
            replayable: http.body.is_replayable(),
            http,
            operation,
            start,
            deadline,
            retry,
            attempt_timeout,
            has_idempotency_plan,
            _declared_slots: declared_slots,
            declared_limiters,
        }))
    }

    /// The retry loop. `p` is used in place (not taken apart): the
    /// future then holds it once.
    async fn run(
        &self,
        p: Box<Prepared>,
        breaker: Option<Breaker>,
        streaming: bool,
        first: Option<Box<FirstAttempt>>,
    ) -> Result<(Exchange, u32), Error> {
        let i = &self.inner;
        let operation = &p.operation;
        let deadline = p.deadline;
        let mut attempts: u32 = 0;
        // The fastest this call's attempts were answered in: a retry given
        // less time than that cannot finish, so it is not started.
        let mut fastest_answer: Option<Duration> = None;
        // A first attempt the plain path made: its slot, and its outcome,
        // which the loop takes up where its own attempts end.
        let (mut handed, first_slot) = match first {
            None => (None, None),
            Some(first) => {
                attempts = 1;
                fastest_answer = first.fastest_answer;
                (Some(first.attempted), Some(first.slot))
            }
        };
        // Bulkhead: one slot for the whole logical call, waited for within the deadline.
        let _slot = match (first_slot, &i.bulkhead) {
            (Some(slot), _) => slot,
            (None, None) => None,
            (None, Some(b)) => match b.try_enter() {
                // The common case: a free slot, no timer needed.
                Some(slot) => Some(slot),
                None => {
                    let wait = deadline.remaining(p.start);
                    tokio::select! {
                        entered = b.enter() => match entered {
                            Ok(slot) => Some(slot),
                            Err(Full) => return Err(self.error(operation, ErrorKind::BulkheadFull, 0, false)),
                        },
                        () = i.clock.sleep(wait) => {
                            return Err(self.error(operation, ErrorKind::DeadlineExceeded, 0, false));
                        }
                    }
                }
            },
        };

        let mut replayed = false;
        loop {
            let Attempted {
                outcome,
                class,
                after,
                generation,
            } = match handed.take() {
                Some(attempted) => attempted,
                None => {
                    self.make_attempt(
                        &p,
                        breaker.as_ref(),
                        streaming,
                        &mut attempts,
                        &mut fastest_answer,
                    )
                    .await?
                }
            };
            // A rejected token: the authenticator refreshes at most once and
            // the call is replayed at most once.
            if let (Some(auth), Some(generation), Ok(Exchange { response, .. })) =
                (&i.authenticator, generation, &outcome)
            {
                if matches!(response.status.as_u16(), 401 | 403) && !replayed && p.replayable {
                    match auth
                        .rejected(generation, response.status, &response.headers)
                        .await
                    {
                        Ok(true) => {
                            replayed = true;
                            continue;
                        }
                        Ok(_) => {}
                        Err(failure) => return Err(self.auth_failed(operation, failure, attempts)),
                    }
                }
            }
            let (failure, provider_delay, class) = match (outcome, class) {
                (Ok(exchange), None) => {
                    self.succeeded(&exchange, after);
                    return Ok((exchange, attempts));
                }
                (Ok(Exchange { response, .. }), Some(class)) => {
                    let delay = requested_delay(&response.headers, i.clock.wall());
                    if class == ErrorClass::RateLimited {
                        // The provider said to slow down: the integration's
                        // other calls wait as long as it asked or, when it
                        // did not say, one base backoff of the integration's
                        // (at most a second; no escalation, whatever the
                        // call's own retry policy).
                        let hold = delay.unwrap_or_else(|| self.unsaid_rate_limit_pause());
                        i.limiter.pause_until(after + hold);
                    }
                    let kind = ErrorKind::Status {
                        status: response.status,
                        class,
                        headers: response.headers,
                        body: response.body,
                    };
                    (kind, delay, class)
                }
                (Err(error), class) => {
                    // A transport failure always has a class; default to transient.
                    let class = class.unwrap_or(ErrorClass::Transient);
                    (ErrorKind::Transport { error, class }, None, class)
                }
            };
            if !p.replayable {
                return Err(self.error(operation, failure, attempts, false));
            }
            match self.next(
                &p.retry,
                class,
                p.has_idempotency_plan,
                attempts,
                provider_delay,
                deadline.remaining(after),
                self.least_budget(fastest_answer),
                failure,
            ) {
                Next::Fail(kind, budget_exhausted) => {
                    return Err(self.error(operation, kind, attempts, budget_exhausted));
                }
                Next::Retry(delay) => {
                    tracing::info!(
                        attempt = attempts,
                        class = class.as_str(),
                        delay_ms = delay.as_millis() as u64,
                        "retrying"
                    );
                    metrics::counter!("wharf_retries_total", "integration" => i.label.clone(), "class" => class.as_str()).increment(1);
                    i.clock.sleep(delay).await;
                }
            }
        }
    }

    /// One attempt of the retry loop, from the deadline and guard checks to
    /// its recorded outcome; `Err` when the call ends before it is sent.
    async fn make_attempt(
        &self,
        p: &Prepared,
        breaker: Option<&Breaker>,
        streaming: bool,
        attempts: &mut u32,
        fastest_answer: &mut Option<Duration>,
    ) -> Result<Attempted, Error> {
        let i = &self.inner;
        let (operation, http, deadline) = (&p.operation, &p.http, p.deadline);
        // Read afresh even for the first attempt: a caller may make the
        // call's future well before it first polls it.
        let now = i.clock.now();
        let remaining = deadline.remaining(now);
        let needed = self.least_budget(*fastest_answer);
        if remaining < needed {
            return Err(self.error(operation, ErrorKind::DeadlineExceeded, *attempts, false));
        }
        let permit = match breaker {
            None => None,
            Some(b) => match b.admit(now) {
                Ok(p) => Some(p),
                Err(rejected) => {
                    return Err(self.error(
                        operation,
                        ErrorKind::BreakerOpen {
                            retry_in: rejected.retry_in,
                        },
                        *attempts,
                        false,
                    ));
                }
            },
        };
        // The integration's rate limit and those declared by the policy
        // functions around the call: wait for the slowest.
        let allowed = remaining.saturating_sub(needed);
        let mut wait = Duration::ZERO;
        let limiters =
            || std::iter::once(&i.limiter).chain(p.declared_limiters.iter().map(|l| &**l));
        for (n, limiter) in limiters().enumerate() {
            match limiter.reserve(now, allowed) {
                Ok(w) => wait = wait.max(w),
                Err(refused) => {
                    // The call is not made: the slots it already took
                    // in the limiters before this one go back.
                    limiters().take(n).for_each(RateLimiter::refund);
                    return Err(self.error(
                        operation,
                        ErrorKind::RateLimitedLocally { wait: refused.wait },
                        *attempts,
                        false,
                    ));
                }
            }
        }
        let waited = !wait.is_zero();
        if waited {
            if i.limiter.is_paused() {
                // Held by the provider's pause: every caller held would
                // go at the instant it ends. Spread them over one base
                // backoff (full jitter), within the deadline.
                let spread = self.unsaid_rate_limit_pause();
                wait = (wait + i.jitter.full(spread)).min(allowed).max(wait);
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "waiting for the rate limit"
            );
            i.clock.sleep(wait).await;
        }

        let authorization = match &i.authenticator {
            None => None,
            Some(auth) => match auth.authorize(operation).await {
                Ok(a) => a,
                Err(failure) => return Err(self.auth_failed(operation, failure, *attempts)),
            },
        };
        *attempts += 1;
        // Time has only passed since `now` if the call waited above.
        let now = if waited || i.authenticator.is_some() {
            i.clock.now()
        } else {
            now
        };
        let this_attempt = p.attempt_timeout.min(deadline.remaining(now));
        let attempt_span = attempt_span(*attempts);
        let generation = authorization.as_ref().map(|a| a.generation);
        let credential = authorization
            .as_ref()
            .map(|a| (&http::header::AUTHORIZATION, &a.value));
        let exchange = self.attempt(
            http,
            credential.as_slice(),
            this_attempt,
            streaming,
            Some(&attempt_span),
        );
        // Sent (or copied): not kept across the wait.
        drop(authorization);
        let outcome = exchange.await;
        let (class, after) = self.record_attempt(
            operation,
            &outcome,
            permit,
            &attempt_span,
            now,
            fastest_answer,
        );
        Ok(Attempted {
            outcome,
            class,
            after,
            generation,
        })
    }

    /// The least time left in which an attempt is started: the configured
    /// floor, or the fastest the call's attempts were answered in.
    fn least_budget(&self, fastest_answer: Option<Duration>) -> Duration {
        self.inner
            .config
            .min_attempt_budget
            .max(fastest_answer.unwrap_or_default())
    }

    /// The longest one attempt may take (before the deadline caps it).
    fn attempt_timeout(&self, options: &CallOptions) -> Duration {
        options
            .attempt_timeout
            .unwrap_or(self.inner.config.attempt_timeout)
    }

    /// The call's deadline: the caller's, or `timeout` (the integration's
    /// total timeout by default) from `start`; never past an enclosing one.
    fn deadline(&self, options: &CallOptions, start: tokio::time::Instant) -> Deadline {
        options
            .deadline
            .unwrap_or_else(|| {
                Deadline::after(
                    start,
                    options.timeout.unwrap_or(self.inner.config.total_timeout),
                )
            })
            .min(Deadline::ambient())
    }

    /// An attempt's outcome is in: its span fields, its class, the
    /// breaker's record of it, its metric, and the fastest answer so far.
    /// Returns its class and when it ended.
    fn record_attempt(
        &self,
        operation: &super::OperationMeta,
        outcome: &Result<Exchange, TransportError>,
        permit: Option<crate::policy::breaker::Permit>,
        span: &tracing::Span,
        sent_at: tokio::time::Instant,
        fastest_answer: &mut Option<Duration>,
    ) -> (Option<ErrorClass>, tokio::time::Instant) {
        let i = &self.inner;
        let after = i.clock.now();
        let took = after.saturating_duration_since(sent_at);
        // A gateway's 502 or 504 takes as long as its own wait for the
        // upstream, which says little about how fast a retry may be
        // answered (by another instance, say): not counted.
        if let Ok(exchange) = outcome {
            if !matches!(exchange.response.status.as_u16(), 502 | 504) {
                *fastest_answer = Some(fastest_answer.map_or(took, |f| f.min(took)));
            }
        }
        span.record("duration_ms", took.as_millis() as u64);
        let class = match outcome {
            Ok(exchange) => {
                span.record("status", exchange.response.status.as_u16());
                self.classify(operation, Outcome::Response(&exchange.response))
            }
            Err(e) => self.classify(operation, Outcome::Transport(e)),
        };
        span.record("class", outcome_label(class));
        if let Some(p) = permit {
            p.record(
                matches!(class, Some(ErrorClass::Transient | ErrorClass::Ambiguous)),
                after,
            );
        }
        i.metrics.attempt(&i.label, class);
        (class, after)
    }

    /// A successful attempt: the retry budget earns a token, and a spent
    /// quota the provider reports holds later calls until it resets
    /// (instead of running into 429s).
    fn succeeded(&self, exchange: &Exchange, after: tokio::time::Instant) {
        let i = &self.inner;
        i.budget.earn();
        if let Some(wait) = reset_when_exhausted(&exchange.response.headers, || i.clock.wall()) {
            i.limiter.pause_until(after + wait);
        }
    }

    /// How long a rate-limited answer that did not say for how long pauses
    /// the integration, and over how long the callers it held are spread
    /// when it ends: one base backoff of the integration's, at most 1 s.
    fn unsaid_rate_limit_pause(&self) -> Duration {
        self.inner
            .config
            .retry
            .base
            .min(MAX_UNSAID_RATE_LIMIT_PAUSE)
    }

    /// Decides whether and when to retry after a failed attempt. `needed`
    /// is the least budget the next attempt needs to be started.
    #[allow(clippy::too_many_arguments)]
    fn next(
        &self,
        retry: &RetryPolicy,
        class: ErrorClass,
        has_idempotency_plan: bool,
        attempts: u32,
        provider_delay: Option<Duration>,
        remaining: Duration,
        needed: Duration,
        failure: ErrorKind,
    ) -> Next {
        let i = &self.inner;
        if !is_retryable(class, has_idempotency_plan) || attempts >= retry.max_attempts {
            return Next::Fail(failure, false);
        }
        let backoff = i.jitter.full(retry.ceiling(attempts));
        let delay = provider_delay.map_or(backoff, |d| d.max(backoff));
        if delay + needed > remaining {
            let kind = match (provider_delay, failure) {
                (Some(retry_after), ErrorKind::Status { status, .. })
                    if retry_after + needed > remaining =>
                {
                    ErrorKind::RetryAfterBeyondDeadline {
                        retry_after,
                        status,
                    }
                }
                (_, failure) => failure,
            };
            return Next::Fail(kind, false);
        }
        if !i.budget.try_spend() {
            metrics::counter!("wharf_retry_budget_exhausted_total", "integration" => i.label.clone()).increment(1);
            tracing::warn!(integration = %i.name, "retry budget exhausted; not retrying");
            return Next::Fail(failure, true);
        }
        Next::Retry(delay)
    }

    fn classify(
        &self,
        operation: &super::OperationMeta,
        outcome: Outcome<'_>,
    ) -> Option<ErrorClass> {
        let custom = self
            .inner
            .classifier
            .as_ref()
            .and_then(|c| c.classify(operation, outcome));
        custom.or_else(|| default_class(operation, outcome))
    }

    /// A streaming exchange: a success comes back once its head is in, and
    /// an error response is read whole (it is classified, and kept in the
    /// error).
    async fn streaming_exchange(&self, request: HttpRequest) -> Result<Exchange, TransportError> {
        let r = self.inner.transport.send_streaming(request).await?;
        let (body, stream) = if r.status.as_u16() < 400 {
            (bytes::Bytes::new(), Some(r.body))
        } else {
            (r.body.collect(MAX_STREAMED_ERROR_BODY).await?, None)
        };
        Ok(Exchange {
            response: Response {
                status: r.status,
                headers: r.headers,
                body,
            },
            stream,
        })
    }

    /// One exchange, bounded by the attempt timeout, in the attempt's
    /// span. Started here, so the attempt holds the exchange's boxed
    /// future, not the request.
    fn attempt<'s>(
        &'s self,
        request: &HttpRequest,
        headers: &[(&HeaderName, &HeaderValue)],
        timeout: Duration,
        streaming: bool,
        span: Option<&'s tracing::Span>,
    ) -> Attempt<'s> {
        let sending = if streaming {
            let mut copy = request.clone();
            for (name, value) in headers {
                copy.headers.insert((*name).clone(), (*value).clone());
            }
            Sending::Streamed(Box::pin(self.streaming_exchange(copy)))
        } else {
            Sending::Buffered(self.inner.transport.send_attempt(request, headers))
        };
        Attempt::new(sending, &*self.inner.clock, timeout, span)
    }
}

/// The span of attempt number `attempt`; the fields of its outcome are
/// recorded once it is in (see [`Integration::record_attempt`]).
fn attempt_span(attempt: u32) -> tracing::Span {
    tracing::debug_span!(
        "wharf.attempt",
        attempt,
        status = field::Empty,
        class = field::Empty,
        duration_ms = field::Empty,
    )
}
