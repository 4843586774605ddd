//! [`CallFuture`]: what [`super::Integration::call`] returns. It runs the
//! boxed retry loop inside the call's span, then settles the call once:
//! latency, metrics, the span's closing fields, breaker transitions.
//!
//! One hand-written layer where an `async` block, a span wrapper and a
//! `map` to the caller's type were three futures, each polled (and its
//! output moved) on every call.

use super::attempt::Exchange;
use super::error::Error;
use super::integration::Integration;
use crate::policy::breaker::Breaker;
use crate::time::Instant;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The retry loop's result: the exchange and the attempts it took.
pub(super) type Finished = Result<(Exchange, u32), Error>;

pub(super) enum Stage<F> {
    /// The retry loop, boxed: it is large, and the caller's future then
    /// holds (and moves) a pointer.
    Running(Pin<Box<F>>),
    /// Refused before the first attempt (e.g. a full declared bulkhead).
    Refused(Box<Error>),
    /// Finished; polled again, it stays pending (as a fused future).
    Done,
}

pub(super) struct CallFuture<'a, F, T> {
    pub(super) integration: &'a Integration,
    pub(super) stage: Stage<F>,
    pub(super) span: tracing::Span,
    pub(super) started: Instant,
    /// The breaker that guarded the call, whose transitions it publishes.
    pub(super) breaker: Option<Breaker>,
    /// The caller's type, made from the exchange and the attempt count.
    pub(super) output: fn(Exchange, u32) -> T,
}

impl<F, T> Future for CallFuture<'_, F, T>
where
    F: Future<Output = Finished>,
{
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let result = match std::mem::replace(&mut this.stage, Stage::Done) {
            Stage::Running(mut run) => {
                let entered = this.span.enter();
                let polled = run.as_mut().poll(cx);
                drop(entered);
                match polled {
                    Poll::Ready(result) => result,
                    Poll::Pending => {
                        this.stage = Stage::Running(run);
                        return Poll::Pending;
                    }
                }
            }
            Stage::Refused(error) => Err(*error),
            Stage::Done => return Poll::Pending,
        };
        this.integration
            .settle(&result, &this.span, this.started, this.breaker.as_ref());
        let output = this.output;
        Poll::Ready(result.map(|(exchange, attempts)| output(exchange, attempts)))
    }
}
