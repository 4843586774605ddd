//! The plain path: most calls have nothing to settle beyond the
//! integration's own guards (no policy functions around them, no generated
//! policies, no credential, no idempotency key to make). Such a call makes
//! its first attempt here, a hand-written future with the least work in
//! between, and hands anything but a clean success to the retry loop, which
//! takes it up as its own first attempt. Whatever would make the first
//! attempt wait or be refused (a full bulkhead, an open breaker, a rate
//! limit, a deadline too near) goes to the retry loop before anything is
//! sent.

use super::{attempt_span, Attempted, CallParts, FirstAttempt, Integration};
use crate::call::attempt::Attempt;
use crate::call::call_future::{Finished, RetryLoop};
use crate::call::config::CallOptions;
use crate::call::error::Error;
use crate::call::OperationMeta;
use crate::policy::breaker::{Breaker, Permit};
use crate::policy::declared::Policy;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

/// The first attempt's guards and span, while it is under way.
struct InFlight {
    slot: Option<OwnedSemaphorePermit>,
    permit: Option<Permit>,
    sent_at: Instant,
    span: tracing::Span,
}

pin_project_lite::pin_project! {
    /// A plain call's first attempt (see the module's docs).
    pub(in crate::call) struct PlainCall<'a> {
        // Taken by the hand-over to the retry loop.
        parts: Option<CallParts>,
        in_flight: Option<InFlight>,
        #[pin]
        attempt: Option<Attempt<'a>>,
    }
}

/// How a plain call's poll ended.
pub(in crate::call) enum Plain {
    Done(Finished),
    /// The retry loop takes over, after the first attempt (which failed)
    /// or before it.
    HandOver(Option<Box<FirstAttempt>>),
}

impl<'a> PlainCall<'a> {
    pub(in crate::call) fn new(parts: CallParts) -> Self {
        PlainCall {
            parts: Some(parts),
            in_flight: None,
            attempt: None,
        }
    }

    /// The call's parts, for the retry loop.
    pub(in crate::call) fn take_parts(self: Pin<&mut Self>) -> Option<CallParts> {
        let mut this = self.project();
        this.attempt.set(None);
        this.parts.take()
    }

    pub(in crate::call) fn poll_call(
        self: Pin<&mut Self>,
        integration: &'a Integration,
        breaker: Option<&Breaker>,
        started: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<Plain> {
        let mut this = self.project();
        let Some(parts) = this.parts.as_ref() else {
            return Poll::Pending;
        };
        let i = &integration.inner;
        if this.in_flight.is_none() {
            // The first poll. The time is read now, as the retry loop does.
            let now = i.clock.now();
            let remaining = integration.deadline(&parts.options, started).remaining(now);
            let guards = if remaining >= i.config.min_attempt_budget && i.limiter.is_idle() {
                integration.plain_guards(breaker, now)
            } else {
                None
            };
            let Some((slot, permit)) = guards else {
                return Poll::Ready(Plain::HandOver(None));
            };
            let span = attempt_span(1);
            let timeout = integration.attempt_timeout(&parts.options).min(remaining);
            let correlation = parts
                .correlation_header
                .as_ref()
                .map(|v| (&i.config.correlation_header, v));
            this.attempt.set(Some(integration.attempt(
                &parts.http,
                correlation.as_slice(),
                timeout,
                false,
                None,
            )));
            *this.in_flight = Some(InFlight {
                slot,
                permit,
                sent_at: now,
                span,
            });
        }
        let (Some(in_flight), Some(attempt)) =
            (this.in_flight.as_ref(), this.attempt.as_mut().as_pin_mut())
        else {
            return Poll::Pending;
        };
        let outcome = {
            let _entered = in_flight.span.enter();
            ready!(attempt.poll(cx))
        };
        this.attempt.set(None);
        let Some(InFlight {
            slot,
            permit,
            sent_at,
            span,
        }) = this.in_flight.take()
        else {
            return Poll::Pending;
        };
        let mut fastest_answer = None;
        let (class, after) = integration.record_attempt(
            &parts.operation,
            &outcome,
            permit,
            &span,
            sent_at,
            &mut fastest_answer,
        );
        Poll::Ready(match (outcome, class) {
            (Ok(exchange), None) => {
                integration.succeeded(&exchange, after);
                drop(slot);
                *this.parts = None;
                Plain::Done(Ok((exchange, 1)))
            }
            (outcome, class) => Plain::HandOver(Some(Box::new(FirstAttempt {
                slot,
                attempted: Attempted {
                    outcome,
                    class,
                    after,
                    generation: None,
                },
                fastest_answer,
            }))),
        })
    }
}

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

    /// The retry loop for a plain call, from the start (`first`: none) or
    /// after the plain path's failed first attempt.
    // The error is the call's own `Error`, returned as is to the caller.
    #[allow(clippy::result_large_err)]
    pub(in crate::call) fn resume(
        &self,
        parts: CallParts,
        breaker: Option<Breaker>,
        started: Instant,
        first: Option<Box<FirstAttempt>>,
    ) -> Result<RetryLoop<'_>, Error> {
        let prepared = self.prepare(parts, &Policy::NONE, None, started)?;
        Ok(Box::pin(self.run(prepared, breaker, false, first)))
    }
}
