//! The request path: one orchestrator for every call, one attempt function.
//!
//! ```text
//! call → settle (options, ids, idempotency key, span)
//!      → [operation deadline:
//!           declared bulkheads ▸ bulkhead
//!           → loop { admission (breaker ▸ rate limits)
//!                    → [attempt timeout: credentials ▸ signature ▸ send]
//!                    → classify → 401 replay? → retry strategy → backoff } ]
//!      → settle the outcome (latency, metrics, breaker transitions)
//! ```
//!
//! Every wait is inside the operation deadline, each bounded by the time
//! left when it starts: the bulkhead queue and a 401's refresh by a timer
//! at the deadline, the rate limiter's wait and the backoff by the strategy
//! (never longer than the time left less the least an attempt needs),
//! credential resolution and the exchange by the attempt's timer (never
//! past the deadline). No wait here is unbounded, so the call needs no
//! timer of its own around the whole (a second timer on every call cost
//! 1-2 points of throughput in the `stack` bench).

use super::attempt::{Exchange, Finished, Sending};
use super::auth_hook::{AuthFailure, Authorization, Placement};
use super::call_metrics::outcome_label;
use super::classify::{default_class, Outcome};
use super::components::Components;
use super::config::CallOptions;
use super::error::{Error, ErrorClass, ErrorKind, TransportError, TransportErrorKind};
use super::idempotency::IdempotencyKey;
use super::request_signer::SigningInput;
use super::retry_after::{requested_delay, reset_when_exhausted};
use super::retry_strategy::{Decision, Failed, RetryStrategy};
use crate::operation::{HttpRequest, OperationMeta, Request, Response};
use crate::policy::breaker::{Breaker, Permit};
use crate::policy::bulkhead::Full;
use crate::policy::deadline::Deadline;
use crate::policy::declared::{Idempotency, OperationPolicies, Policy};
use crate::policy::rate_limit::RateLimiter;
use crate::policy::retry::RetryPolicy;
use crate::policy::scope::{self, ActiveScope};
use crate::time::{timeout, Instant};
use http::{HeaderName, HeaderValue};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{field, Instrument};

/// Longest the integration pauses after a rate-limited answer that did not
/// say for how long.
const MAX_UNSAID_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(1);

/// Largest error body read from a streaming call.
const MAX_STREAMED_ERROR_BODY: usize = 1024 * 1024;

/// What `Integration::call` returns: the boxed run of the call (one
/// pointer in the caller's future), turned into the caller's type.
pub(super) struct CallFuture<'a, T> {
    run: Pin<Box<dyn Future<Output = Finished> + Send + 'a>>,
    output: fn(Exchange, u32) -> T,
}

impl<T> Future for CallFuture<'_, T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let output = self.output;
        let finished = ready!(self.run.as_mut().poll(cx));
        Poll::Ready(finished.map(|(exchange, attempts)| output(exchange, attempts)))
    }
}

/// A call the enclosing policy function did not list in its
/// `calls = [...]` bypasses the checks made on that list (timeouts,
/// idempotency plans): refused in debug builds, a warning in release ones.
#[allow(clippy::result_large_err)]
fn check_declared(
    i: &Components,
    operation: &OperationMeta,
    scope: Option<&ActiveScope>,
) -> Result<(), Error> {
    let Some(calls) = scope.and_then(|s| s.calls) else {
        return Ok(());
    };
    if calls.includes(&operation.name) {
        return Ok(());
    }
    let reason = format!(
        "`{}` is not in `calls = [...]` of #[wharf::policy] fn {}: list it there, so the policy's checks cover it",
        operation.name, calls.id
    );
    if cfg!(debug_assertions) {
        return Err(i.error(operation, ErrorKind::InvalidRequest { reason }, 0, false));
    }
    tracing::warn!(integration = %i.name, operation = %operation.name, "{reason}");
    Ok(())
}

/// Starts a call: everything settled without waiting, then the future that
/// runs it inside its span.
pub(super) fn invoke<T>(
    integration: &Components,
    request: Request,
    options: CallOptions,
    streaming: bool,
    output: fn(Exchange, u32) -> T,
) -> CallFuture<'_, T> {
    let i = integration;
    let started = i.clock.now();
    let scope = scope::current();
    let generated = Some(request.operation.policies).filter(|p| !p.is_none());
    let options = resolve_options(i, &request.operation, options, scope.as_deref(), generated);
    let declared = resolve_declared(generated, scope.as_deref());
    let (operation, http) = request.into_parts();
    let correlation = match check_declared(integration, &operation, scope.as_deref()) {
        Err(refused) => Err(refused),
        Ok(()) => {
            correlation_id(&options).map_err(|kind| integration.error(&operation, kind, 0, false))
        }
    };
    let span = tracing::info_span!(
        "wharf.call",
        integration = %i.name,
        operation = %operation.name,
        correlation_id = field::Empty,
        attempts = field::Empty,
        outcome = field::Empty,
    );
    if let Ok(id) = &correlation {
        span.record(
            "correlation_id",
            field::display(id.to_str().unwrap_or_default()),
        );
    }
    let operation_name = operation.name.clone();
    // The breaker guarding this call, looked up once for all attempts; a
    // health check's probe is outside it.
    let probe = options.probe;
    let breaker = match declared.breaker {
        _ if probe => None,
        Some(name) => Some(integration.named_breaker(name)),
        None => integration.breaker_for(&operation.name),
    };
    let prepared = match correlation {
        Err(refused) => Err(refused),
        Ok(correlation) => prepare(
            integration,
            Parts {
                operation,
                http,
                options,
                correlation,
            },
            &declared,
            scope.as_deref(),
            started,
            breaker.clone(),
            streaming,
        ),
    };
    let run = async move {
        let finished = match prepared {
            Ok(mut call) => call.run().await,
            Err(refused) => Err(refused),
        };
        integration.settle(
            &finished,
            &tracing::Span::current(),
            started,
            breaker.as_ref(),
            probe,
            &operation_name,
        );
        finished
    };
    CallFuture {
        run: Box::pin(run.instrument(span)),
        output,
    }
}

/// The caller's correlation id (refused if it cannot be sent), or a new one.
#[allow(clippy::result_large_err)]
fn correlation_id(options: &CallOptions) -> Result<HeaderValue, ErrorKind> {
    match &options.correlation_id {
        Some(id) => HeaderValue::from_str(id)
            .ok()
            .filter(|_| id.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or(ErrorKind::InvalidRequest {
                reason: "the correlation id cannot be sent in a header (visible ASCII only)".into(),
            }),
        None => crate::ids::correlation_id()
            .map(|id| id.header_value())
            .map_err(|e| ErrorKind::Internal(e.to_string())),
    }
}

/// The call's options, layer by layer (see [`crate::policy::declared`]):
/// per call (its options, then the enclosing policy functions), per
/// operation, per tag, then the generated client policy. What is still
/// unset comes from the integration's configuration when it is read.
fn resolve_options(
    i: &Components,
    op: &OperationMeta,
    mut resolved: CallOptions,
    scope: Option<&ActiveScope>,
    generated: Option<&OperationPolicies>,
) -> CallOptions {
    let config = &i.config;
    if let Some(scope) = scope {
        // A function's timeout is its ambient deadline (set by the scope),
        // not a per-call timeout that would shadow the operation's own.
        let per_call = Policy {
            timeout: None,
            ..scope.policy
        };
        resolved = resolved.or(&CallOptions::from_policy(&per_call));
    }
    if let Some(o) = config.operations.get(op.name.as_ref()) {
        resolved = resolved.or(o);
    }
    // A layer that sets nothing is skipped: merging copies the options.
    let generated_layer = |resolved: CallOptions, level: &Policy| {
        if level.is_none() {
            resolved
        } else {
            resolved.or(&CallOptions::from_policy(level))
        }
    };
    if let Some(generated) = generated {
        resolved = generated_layer(resolved, &generated.operation);
    }
    if let Some(o) = op.tags.iter().find_map(|t| config.tags.get(*t)) {
        resolved = resolved.or(o);
    }
    if let Some(generated) = generated {
        resolved = generated_layer(resolved, &generated.tag);
        resolved = generated_layer(resolved, &generated.client);
    }
    resolved
}

/// The declared policy fields that are not call options (breaker name,
/// idempotency plan), per call > operation > tag > client.
fn resolve_declared(generated: Option<&OperationPolicies>, scope: Option<&ActiveScope>) -> Policy {
    let declared = scope.map_or(Policy::NONE, |s| s.policy);
    match generated {
        None => declared,
        Some(g) => declared.or(g.operation).or(g.tag).or(g.client),
    }
}

/// A call as made: the operation, its request, its resolved options and
/// its correlation header.
struct Parts {
    operation: OperationMeta,
    http: HttpRequest,
    options: CallOptions,
    correlation: HeaderValue,
}

/// A call under way: what every attempt sends and the state of the loop.
struct Call<'a> {
    integration: &'a Components,
    operation: OperationMeta,
    /// What every attempt sends, the call's correlation id and idempotency
    /// key among its headers (an attempt adds only its credential).
    http: HttpRequest,
    deadline: Deadline,
    strategy: RetryStrategy<'a>,
    attempt_timeout: Duration,
    replayable: bool,
    streaming: bool,
    breaker: Option<Breaker>,
    declared_limiters: Vec<Arc<RateLimiter>>,
    /// Held until the call ends.
    _declared_slots: Vec<OwnedSemaphorePermit>,
    /// Attempts sent so far (the count errors report).
    attempts: u32,
    /// The fastest this call's attempts were answered in: a retry given
    /// less time than that cannot finish, so it is not started.
    fastest_answer: Option<Duration>,
    /// A health check's probe: not in the metrics or the retry budget.
    probe: bool,
}

/// An attempt whose outcome is in and recorded.
struct Attempted {
    outcome: Result<Exchange, TransportError>,
    class: Option<ErrorClass>,
    /// When its outcome came in.
    after: Instant,
    /// The generation of the credential it was sent with.
    generation: Option<u64>,
}

/// Everything about a call that is settled before its first attempt,
/// without waiting: deadline, retry policy, the declared bulkheads'
/// slots, the idempotency key and the request every attempt sends.
#[allow(clippy::result_large_err, clippy::too_many_arguments)]
fn prepare<'a>(
    integration: &'a Components,
    parts: Parts,
    declared: &Policy,
    scope: Option<&ActiveScope>,
    start: Instant,
    breaker: Option<Breaker>,
    streaming: bool,
) -> Result<Call<'a>, Error> {
    let i = integration;
    let Parts {
        operation,
        mut http,
        options,
        correlation,
    } = parts;
    let refuse = |kind| Err(integration.error(&operation, kind, 0, false));
    let deadline = options
        .deadline
        .unwrap_or_else(|| {
            Deadline::after(start, options.timeout.unwrap_or(i.config.total_timeout))
        })
        .min(Deadline::ambient());
    // The integration's own policy was validated when it was built.
    let retry: RetryPolicy = match options.retry {
        _ if options.probe => RetryPolicy {
            max_attempts: 1,
            ..i.config.retry
        },
        None => i.config.retry,
        Some(retry) => match retry.validate() {
            Ok(()) => retry,
            Err(refused) => {
                return refuse(ErrorKind::InvalidRequest {
                    reason: refused.to_string(),
                })
            }
        },
    };

    // Bulkheads declared by the policy functions the call runs in: a slot
    // in each, or an immediate, typed rejection. First, so a call never
    // queues for the integration's slot only to be refused here.
    let mut declared_slots = Vec::new();
    for (id, policy) in scope.map_or(&[][..], |s| &s.chain[..]) {
        if let Some(max) = policy.bulkhead {
            match integration.declared_bulkhead(id, max).try_enter() {
                Some(slot) => declared_slots.push(slot),
                None => return refuse(ErrorKind::BulkheadFull),
            }
        }
    }

    let key = match idempotency_key(i, &operation, &http, &options, declared, scope) {
        Ok(key) => key,
        Err(invalid) => {
            return refuse(ErrorKind::InvalidRequest {
                reason: invalid.to_string(),
            })
        }
    };
    // A key the caller put in the headers (e.g. a generated
    // `Idempotency-Key` parameter) is the key: it is never replaced.
    let caller_key =
        !operation.is_idempotent() && http.headers.contains_key(&i.config.idempotency_header);
    // `unsafe_allow` is a plan too: the caller accepted duplicates.
    let has_idempotency_plan = operation.is_idempotent()
        || key.is_some()
        || caller_key
        || matches!(declared.idempotency, Some(Idempotency::UnsafeAllow { .. }));
    // The same on every attempt: set once, in the request they all send.
    http.headers
        .insert(i.config.correlation_header.clone(), correlation);
    if let Some(key) = key {
        http.headers.insert(
            i.config.idempotency_header.clone(),
            key.header_value().clone(),
        );
    }
    let declared_limiters = match scope {
        None => Vec::new(),
        Some(s) => s
            .chain
            .iter()
            .filter_map(|(id, p)| p.rate.map(|rate| integration.declared_limiter(id, rate)))
            .collect(),
    };
    Ok(Call {
        // A one-shot body stream is gone after the first attempt: no
        // retry, no replay.
        replayable: http.body.is_replayable(),
        strategy: RetryStrategy::new(integration, retry, has_idempotency_plan),
        attempt_timeout: options.attempt_timeout.unwrap_or(i.config.attempt_timeout),
        integration,
        operation,
        http,
        deadline,
        streaming,
        breaker,
        declared_limiters,
        _declared_slots: declared_slots,
        attempts: 0,
        fastest_answer: None,
        probe: options.probe,
    })
}

/// The key a mutating call sends, if it gets one: the caller's (refused
/// when it cannot be sent as given), a natural key bound by a policy
/// function (hashed when it cannot be sent as it is), or a new one.
fn idempotency_key(
    i: &Components,
    operation: &OperationMeta,
    http: &HttpRequest,
    options: &CallOptions,
    declared: &Policy,
    scope: Option<&ActiveScope>,
) -> Result<Option<IdempotencyKey>, super::idempotency::InvalidKey> {
    if operation.is_idempotent() || http.headers.contains_key(&i.config.idempotency_header) {
        return Ok(None);
    }
    if let Some(given) = &options.idempotency_key {
        return IdempotencyKey::new(given).map(Some);
    }
    // A natural key bound by a policy function: one per operation, the
    // same on every retry (and on every run of the same logical call).
    if let (Some(Idempotency::NaturalKey), Some(natural)) = (
        declared.idempotency,
        scope.and_then(|s| s.natural_key.as_deref()),
    ) {
        return Ok(Some(IdempotencyKey::natural(natural, &operation.name)));
    }
    let wanted = operation.accepts_idempotency_key
        || i.config.idempotency_on_all_mutations
        || declared.idempotency == Some(Idempotency::Key);
    if wanted {
        IdempotencyKey::generate().map(Some)
    } else {
        Ok(None)
    }
}

impl Call<'_> {
    fn inner(&self) -> &Components {
        self.integration
    }

    fn error(&self, kind: ErrorKind) -> Error {
        self.integration
            .error(&self.operation, kind, self.attempts, false)
    }

    /// Takes the bulkhead slot, then loops over attempts until one succeeds
    /// or the retry strategy says stop.
    async fn run(&mut self) -> Finished {
        let _slot = self.enter_bulkhead().await?;
        let mut replayed = false;
        loop {
            let Attempted {
                outcome,
                class,
                after,
                generation,
            } = self.attempt().await?;
            // A rejected token: the authenticator refreshes at most once
            // and the call is replayed at most once.
            if let (Some(generation), Ok(Exchange { response, .. })) = (generation, &outcome) {
                if matches!(response.status.as_u16(), 401 | 403)
                    && !replayed
                    && self.replayable
                    && self.credential_rejected(generation, response).await?
                {
                    replayed = true;
                    continue;
                }
            }
            let (kind, class, provider_delay) = match (outcome, class) {
                (Ok(exchange), None) => {
                    self.succeeded(&exchange, after);
                    return Ok((exchange, self.attempts));
                }
                (Ok(Exchange { response, .. }), Some(class)) => {
                    self.failed_status(response, class, after)
                }
                (Err(error), class) => {
                    // A transport failure always has a class; default to transient.
                    let class = class.unwrap_or(ErrorClass::Transient);
                    (ErrorKind::Transport { error, class }, class, None)
                }
            };
            if !self.replayable {
                return Err(self.error(kind));
            }
            let decision = self.strategy.after_attempt(Failed {
                kind,
                class,
                provider_delay,
                attempts: self.attempts,
                remaining: self.deadline.remaining(after),
                needed: self.least_budget(),
            });
            match decision {
                Decision::Stop {
                    kind,
                    budget_exhausted,
                } => {
                    let mut error = self.error(kind);
                    error.budget_exhausted = budget_exhausted;
                    return Err(error);
                }
                Decision::RetryAfter(delay) => {
                    let i = self.inner();
                    tracing::info!(
                        attempt = self.attempts,
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

    /// One slot of the integration's bulkhead for the whole logical call,
    /// waited for within the deadline.
    async fn enter_bulkhead(&self) -> Result<Option<OwnedSemaphorePermit>, Error> {
        let i = self.inner();
        let Some(bulkhead) = &i.bulkhead else {
            return Ok(None);
        };
        // The common case: a free slot, no timer needed.
        if let Some(slot) = bulkhead.try_enter() {
            return Ok(Some(slot));
        }
        let remaining = self.deadline.remaining(i.clock.now());
        match timeout(&*i.clock, remaining, bulkhead.enter()).await {
            Ok(Ok(slot)) => Ok(Some(slot)),
            Ok(Err(Full)) => Err(self.error(ErrorKind::BulkheadFull)),
            Err(_) => Err(self.error(ErrorKind::DeadlineExceeded)),
        }
    }

    /// A failed status: its error, class and the delay the provider asked
    /// for; a rate-limited answer also pauses the integration's other calls.
    fn failed_status(
        &self,
        response: Response,
        class: ErrorClass,
        after: Instant,
    ) -> (ErrorKind, ErrorClass, Option<Duration>) {
        let i = self.inner();
        let delay = requested_delay(&response.headers, i.clock.wall());
        if class == ErrorClass::RateLimited {
            // The provider said to slow down: the integration's other
            // calls wait as long as it asked or, when it did not say, one
            // base backoff of the integration's (at most a second).
            let hold = delay.unwrap_or_else(|| unsaid_rate_limit_pause(i));
            i.limiter.pause_until(after + hold);
        }
        let kind = ErrorKind::Status {
            status: response.status,
            class,
            headers: response.headers,
            body: response.body,
        };
        (kind, class, delay)
    }

    /// The provider refused the credential of `generation`: whether the
    /// authenticator renewed it (replay the call), within the deadline.
    async fn credential_rejected(
        &self,
        generation: u64,
        response: &Response,
    ) -> Result<bool, Error> {
        let i = self.inner();
        let Some(auth) = &i.authenticator else {
            return Ok(false);
        };
        let remaining = self.deadline.remaining(i.clock.now());
        let renewed = auth.rejected(generation, response.status, &response.headers);
        match timeout(&*i.clock, remaining, renewed).await {
            Ok(Ok(renewed)) => Ok(renewed),
            Ok(Err(failure)) => Err(self.error(ErrorKind::Auth(failure))),
            Err(_) => Err(self.error(ErrorKind::DeadlineExceeded)),
        }
    }

    /// The one attempt function: admission (deadline floor, breaker, rate
    /// limits), then credentials and the exchange inside the attempt
    /// timeout, then the outcome recorded. `Err` when the call ends
    /// before anything is sent.
    async fn attempt(&mut self) -> Result<Attempted, Error> {
        let clock = self.inner().clock.clone();
        let (admitted, started) = self.admit().await?;
        // The attempt's own bound, never past the deadline.
        let budget = self.attempt_timeout.min(self.deadline.remaining(started));
        let authorization = self.credentials(budget).await?;
        let generation = authorization.as_ref().map(|a| a.generation);
        let placement = match &authorization {
            None => None,
            Some(a) => Some(
                placed(&self.http, a).map_err(|failure| self.error(ErrorKind::Auth(failure)))?,
            ),
        };
        let (rewritten, credential) = match placement {
            None => (None, None),
            Some(Placed::Header(name, value)) => (None, Some((name, value))),
            Some(Placed::Request(request)) => (Some(request), None),
        };
        // Signed (or refused) before the attempt counts: nothing is sent
        // when the signer refuses.
        let signature = self.signature(rewritten.as_ref().unwrap_or(&self.http))?;
        let mut headers: Vec<(&HeaderName, &HeaderValue)> = credential.into_iter().collect();
        headers.extend(signature.iter().map(|(n, v)| (n, v)));
        let exchange = self.exchange(rewritten, &headers);
        // Sent (or copied): not kept across the wait.
        drop(headers);
        drop(authorization);
        self.attempts += 1;
        let span = attempt_span(self.attempts);
        // Time has only passed since `started` if a credential was awaited.
        let sent_at = if generation.is_some() {
            clock.now()
        } else {
            started
        };
        let left = budget.saturating_sub(sent_at.saturating_duration_since(started));
        let outcome = match timeout(&*clock, left, exchange)
            .instrument(span.clone())
            .await
        {
            Ok(outcome) => outcome,
            Err(elapsed) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                true,
                format!("no complete response within {:?}", elapsed.0),
            )),
        };
        let (class, after) = self.record(&outcome, admitted, &span, sent_at);
        Ok(Attempted {
            outcome,
            class,
            after,
            generation,
        })
    }

    /// Admission for one attempt: enough time left, a breaker permit, a
    /// slot from every rate limiter (waiting within the deadline). Returns
    /// the permit and the time admission ended.
    async fn admit(&self) -> Result<(Option<Permit>, Instant), Error> {
        let i = self.inner();
        // Read afresh even for the first attempt: a caller may make the
        // call's future well before it first polls it.
        let now = i.clock.now();
        let remaining = self.deadline.remaining(now);
        let needed = self.least_budget();
        if remaining < needed {
            return Err(self.error(ErrorKind::DeadlineExceeded));
        }
        let permit = match &self.breaker {
            None => None,
            Some(b) => match b.admit(now) {
                Ok(p) => Some(p),
                Err(rejected) => {
                    return Err(self.error(ErrorKind::BreakerOpen {
                        retry_in: rejected.retry_in,
                    }))
                }
            },
        };
        // The integration's rate limit and those declared by the policy
        // functions around the call: wait for the slowest.
        let allowed = remaining.saturating_sub(needed);
        let limiters =
            || std::iter::once(&i.limiter).chain(self.declared_limiters.iter().map(|l| &**l));
        let mut wait = Duration::ZERO;
        for (n, limiter) in limiters().enumerate() {
            match limiter.reserve(now, allowed) {
                Ok(w) => wait = wait.max(w),
                Err(refused) => {
                    // The call is not made: the slots it already took in
                    // the limiters before this one go back.
                    limiters().take(n).for_each(RateLimiter::refund);
                    return Err(self.error(ErrorKind::RateLimitedLocally { wait: refused.wait }));
                }
            }
        }
        if !wait.is_zero() {
            if i.limiter.is_paused() {
                // Held by the provider's pause: every caller held would go
                // at the instant it ends. Spread them over one base backoff
                // (full jitter), within the deadline.
                let spread = unsaid_rate_limit_pause(i);
                wait = (wait + i.jitter.full(spread)).min(allowed).max(wait);
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "waiting for the rate limit"
            );
            i.stats.rate_limit_wait();
            metrics::counter!("wharf_rate_limit_waits_total", "integration" => i.label.clone())
                .increment(1);
            i.clock.sleep(wait).await;
            return Ok((permit, i.clock.now()));
        }
        Ok((permit, now))
    }

    /// The attempt's credential, resolved within `budget` (a refresh it
    /// waits for included): a hung token endpoint ends the call at its
    /// bound, never later.
    async fn credentials(&self, budget: Duration) -> Result<Option<Authorization>, Error> {
        let i = self.inner();
        let Some(auth) = &i.authenticator else {
            return Ok(None);
        };
        let started = i.clock.now();
        match timeout(&*i.clock, budget, auth.authorize(&self.operation)).await {
            Ok(Ok(authorization)) => Ok(authorization),
            Ok(Err(failure)) => Err(self.error(ErrorKind::Auth(failure))),
            Err(elapsed) if self.deadline.is_expired(started + elapsed.0) => {
                Err(self.error(ErrorKind::DeadlineExceeded))
            }
            Err(elapsed) => {
                Err(self.error(ErrorKind::Auth(AuthFailure::TimedOut { waited: elapsed.0 })))
            }
        }
    }

    /// The exchange of one attempt: the kept request with the attempt's
    /// headers added.
    /// The headers the integration's request signer adds to this attempt.
    // The error is the call's own `Error`, returned as is to the caller.
    #[allow(clippy::result_large_err)]
    fn signature(&self, request: &HttpRequest) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let i = self.inner();
        let Some(signer) = &i.signer else {
            return Ok(Vec::new());
        };
        let input = SigningInput {
            request,
            body: request.body.as_bytes().map(|b| b.as_ref()),
            now: i.clock.wall(),
        };
        signer
            .sign(&input)
            .map_err(|failure| self.error(ErrorKind::Auth(failure)))
    }

    /// `rewritten` is the attempt's own copy of the request when its
    /// credential changed more than a header (a query parameter, a cookie).
    fn exchange(
        &self,
        rewritten: Option<HttpRequest>,
        headers: &[(&HeaderName, &HeaderValue)],
    ) -> Sending {
        let transport = &self.inner().transport;
        if self.streaming || rewritten.is_some() {
            let mut copy = rewritten.unwrap_or_else(|| self.http.clone());
            for (name, value) in headers {
                copy.headers.insert((*name).clone(), (*value).clone());
            }
            if self.streaming {
                return Sending::Streamed(Box::pin(streaming_exchange(transport.clone(), copy)));
            }
            return Sending::Buffered(transport.send(copy));
        }
        Sending::Buffered(transport.send_attempt(&self.http, headers))
    }

    /// An attempt's outcome is in: its span fields, its class, the
    /// breaker's record of it, its metric, and the fastest answer so far.
    fn record(
        &mut self,
        outcome: &Result<Exchange, TransportError>,
        permit: Option<Permit>,
        span: &tracing::Span,
        sent_at: Instant,
    ) -> (Option<ErrorClass>, Instant) {
        let i = self.integration;
        let after = i.clock.now();
        let took = after.saturating_duration_since(sent_at);
        // A gateway's 502 or 504 takes as long as its own wait for the
        // upstream, which says little about how fast a retry may be
        // answered: not counted.
        if let Ok(exchange) = outcome {
            if !matches!(exchange.response.status.as_u16(), 502 | 504) {
                self.fastest_answer = Some(self.fastest_answer.map_or(took, |f| f.min(took)));
            }
        }
        span.record("duration_ms", took.as_millis() as u64);
        let class = match outcome {
            Ok(exchange) => {
                span.record("status", exchange.response.status.as_u16());
                classify(i, &self.operation, Outcome::Response(&exchange.response))
            }
            Err(e) => classify(i, &self.operation, Outcome::Transport(e)),
        };
        span.record("class", outcome_label(class));
        if let Some(p) = permit {
            p.record(
                matches!(class, Some(ErrorClass::Transient | ErrorClass::Ambiguous)),
                after,
            );
        }
        if !self.probe {
            i.metrics.attempt(&i.label, class);
            if let Ok(exchange) = outcome {
                i.metrics
                    .response(&i.label, exchange.response.status.as_u16());
            }
        }
        (class, after)
    }

    /// A successful attempt: the retry budget earns a token, and a spent
    /// quota the provider reports holds later calls until it resets.
    fn succeeded(&self, exchange: &Exchange, after: Instant) {
        let i = self.inner();
        if !self.probe {
            i.budget.earn();
        }
        if let Some(wait) = reset_when_exhausted(&exchange.response.headers, || i.clock.wall()) {
            i.limiter.pause_until(after + wait);
        }
    }

    /// The least time left in which an attempt is started: the configured
    /// floor, or the fastest the call's attempts were answered in.
    fn least_budget(&self) -> Duration {
        self.inner()
            .config
            .min_attempt_budget
            .max(self.fastest_answer.unwrap_or_default())
    }
}

/// An attempt's credential put where it goes.
enum Placed<'a> {
    /// One more header on the kept request.
    Header(&'a HeaderName, &'a HeaderValue),
    /// A copy of the request with the credential in its URL or cookies.
    Request(HttpRequest),
}

/// A credential that cannot be put where it goes (a cookie name that is
/// not a token) fails the call: it is never sent without it.
fn placed<'a>(
    http: &HttpRequest,
    authorization: &'a Authorization,
) -> Result<Placed<'a>, AuthFailure> {
    Ok(match &authorization.placement {
        Placement::Header(name) => Placed::Header(name, &authorization.value),
        Placement::Query(name) => {
            let mut copy = http.clone();
            let value = authorization.value.as_bytes();
            let encoded: String = url::form_urlencoded::byte_serialize(value).collect();
            let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
            let separator = if copy.url.contains('?') { '&' } else { '?' };
            copy.url = format!("{}{separator}{name}={encoded}", copy.url);
            Placed::Request(copy)
        }
        Placement::Cookie(name) => {
            let mut copy = http.clone();
            let mut cookie = copy
                .headers
                .get(http::header::COOKIE)
                .map(|c| c.as_bytes().to_vec())
                .unwrap_or_default();
            if !cookie.is_empty() {
                cookie.extend_from_slice(b"; ");
            }
            let is_token = |b: &u8| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(b);
            if name.is_empty() || !name.as_bytes().iter().all(is_token) {
                return Err(AuthFailure::Unavailable(format!(
                    "the cookie name {name:?} cannot be sent"
                )));
            }
            cookie.extend_from_slice(name.as_bytes());
            cookie.push(b'=');
            cookie.extend_from_slice(authorization.value.as_bytes());
            let mut value = HeaderValue::from_bytes(&cookie).map_err(|_| {
                AuthFailure::Unavailable("the cookie cannot be sent in a header".into())
            })?;
            value.set_sensitive(true);
            copy.headers.insert(http::header::COOKIE, value);
            Placed::Request(copy)
        }
    })
}

fn classify(i: &Components, operation: &OperationMeta, outcome: Outcome<'_>) -> Option<ErrorClass> {
    let custom = i
        .classifier
        .as_ref()
        .and_then(|c| c.classify(operation, outcome));
    custom.or_else(|| default_class(operation, outcome))
}

/// How long a rate-limited answer that did not say for how long pauses the
/// integration: one base backoff of the integration's, at most 1 s.
fn unsaid_rate_limit_pause(i: &Components) -> Duration {
    i.config.retry.base.min(MAX_UNSAID_RATE_LIMIT_PAUSE)
}

/// A streaming exchange: a success comes back once its head is in, and an
/// error response is read whole (it is classified, and kept in the error).
async fn streaming_exchange(
    transport: Arc<dyn super::Transport>,
    request: HttpRequest,
) -> Result<Exchange, TransportError> {
    let r = transport.send_streaming(request).await?;
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

/// The span of attempt number `attempt`; the fields of its outcome are
/// recorded once it is in.
fn attempt_span(attempt: u32) -> tracing::Span {
    tracing::debug_span!(
        "wharf.attempt",
        attempt,
        status = field::Empty,
        class = field::Empty,
        duration_ms = field::Empty,
    )
}
