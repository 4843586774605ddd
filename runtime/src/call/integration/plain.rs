//! The plain path: most calls have nothing to settle beyond the
//! integration's own guards (no policy functions around them, no generated
//! policies, no credential, no idempotency key to make). Such a call makes
//! its first attempt here, with the least work in between, and hands
//! anything but a clean success to the retry loop, which takes it up as
//! its own first attempt. Whatever would make the first attempt wait or be
//! refused (a full bulkhead, an open breaker, a rate limit, a deadline too
//! near) goes to the retry loop before anything is sent.

use super::{FirstAttempt, Integration};
use crate::call::call_future::Finished;
use crate::call::config::CallOptions;
use crate::call::request::HttpRequest;
use crate::call::OperationMeta;
use crate::policy::breaker::{Breaker, Permit};
use crate::policy::declared::Policy;
use http::HeaderValue;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

impl Integration {
    /// Whether a call with these (resolved) options may take the plain
    /// path, given that it runs in no policy function, its operation has no
    /// generated policies and it is not streamed.
    pub(super) fn is_plain(&self, operation: &OperationMeta, options: &CallOptions) -> bool {
        let i = &self.inner;
        // No key to make: the idempotent methods never take one; a
        // mutation only when it accepts one, when every mutation gets one,
        // or when the caller gave one.
        let makes_no_key = operation.is_idempotent()
            || !(operation.accepts_idempotency_key
                || i.config.idempotency_on_all_mutations
                || options.idempotency_key.is_some());
        i.authenticator.is_none()
            && makes_no_key
            // A retry policy the retry loop would refuse is refused before
            // anything is sent.
            && options.retry.is_none_or(|r| r.validate().is_ok())
    }

    /// The plain path (see the module's docs).
    pub(super) async fn run_plain(
        &self,
        operation: OperationMeta,
        http: HttpRequest,
        options: CallOptions,
        breaker: Option<Breaker>,
        correlation_header: Option<HeaderValue>,
        started: Instant,
    ) -> Finished {
        let i = &self.inner;
        // Read at the first poll, as the retry loop does.
        let now = i.clock.now();
        let deadline = self.deadline(&options, started);
        let remaining = deadline.remaining(now);
        let guards = if remaining >= i.config.min_attempt_budget && i.limiter.is_idle() {
            self.plain_guards(breaker.as_ref(), now)
        } else {
            None
        };
        let Some((slot, permit)) = guards else {
            return self
                .hand_over(
                    operation,
                    http,
                    options,
                    breaker,
                    correlation_header,
                    started,
                    None,
                )
                .await;
        };
        let attempt_span = tracing::debug_span!(
            "wharf.attempt",
            attempt = 1,
            status = tracing::field::Empty,
            class = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let sent = self.attempt_request(&http, correlation_header.as_ref(), None);
        let timeout = options
            .attempt_timeout
            .unwrap_or(i.config.attempt_timeout)
            .min(remaining);
        let outcome = self.attempt(sent, timeout, false, &attempt_span).await;
        let mut fastest_answer = None;
        let (class, after) = self.record_attempt(
            &operation,
            &outcome,
            permit,
            &attempt_span,
            now,
            &mut fastest_answer,
        );
        let outcome = match (outcome, class) {
            (Ok(exchange), None) => {
                self.succeeded(&exchange, after);
                drop(slot);
                return Ok((exchange, 1));
            }
            (outcome, _) => outcome,
        };
        let first = FirstAttempt {
            slot,
            outcome,
            class,
            after,
            fastest_answer,
        };
        self.hand_over(
            operation,
            http,
            options,
            breaker,
            correlation_header,
            started,
            Some(Box::new(first)),
        )
        .await
    }

    /// The integration's bulkhead slot and a breaker permit, if both are
    /// there to take at once (dropped again if only the slot is).
    fn plain_guards(
        &self,
        breaker: Option<&Breaker>,
        now: Instant,
    ) -> Option<(Option<OwnedSemaphorePermit>, Option<Permit>)> {
        let slot = match &self.inner.bulkhead {
            None => None,
            Some(b) => Some(b.try_enter()?),
        };
        let permit = match breaker {
            None => None,
            Some(b) => Some(b.admit(now).ok()?),
        };
        Some((slot, permit))
    }

    /// The retry loop, from the start (`first`: none) or after the plain
    /// path's failed first attempt.
    #[allow(clippy::too_many_arguments)]
    async fn hand_over(
        &self,
        operation: OperationMeta,
        http: HttpRequest,
        options: CallOptions,
        breaker: Option<Breaker>,
        correlation_header: Option<HeaderValue>,
        started: Instant,
        first: Option<Box<FirstAttempt>>,
    ) -> Finished {
        let prepared = self.prepare(
            operation,
            http,
            options,
            &Policy::NONE,
            None,
            correlation_header,
            started,
        )?;
        Box::pin(self.run(prepared, breaker, false, first)).await
    }
}

