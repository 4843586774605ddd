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

pub(super) enum Stage<F, G> {
    /// The retry loop, boxed: it is large, and the caller's future then
    /// holds (and moves) a pointer.
    Running(Pin<Box<F>>),
    /// The plain path: a first attempt with no more to it than the
    /// integration's guards, which hands a failure to the retry loop.
    Plain(Pin<Box<G>>),
    /// Refused before the first attempt (e.g. a full declared bulkhead).
    Refused(Box<Error>),
    /// Finished; polled again, it stays pending (as a fused future).
    Done,
}

pub(super) struct CallFuture<'a, F, G, T> {
    pub(super) integration: &'a Integration,
    pub(super) stage: Stage<F, G>,
    pub(super) span: tracing::Span,
    pub(super) started: Instant,
    /// The breaker that guarded the call, whose transitions it publishes.
    pub(super) breaker: Option<Breaker>,
    /// The caller's type, made from the exchange and the attempt count.
    pub(super) output: fn(Exchange, u32) -> T,
}

impl<F, G, T> Future for CallFuture<'_, F, G, T>
where
    F: Future<Output = Finished>,
    G: Future<Output = Finished>,
{
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = match &mut this.stage {
            Stage::Running(run) => {
                let _entered = this.span.enter();
                run.as_mut().poll(cx)
            }
            Stage::Plain(run) => {
                let _entered = this.span.enter();
                run.as_mut().poll(cx)
            }
            Stage::Refused(_) => match std::mem::replace(&mut this.stage, Stage::Done) {
                Stage::Refused(error) => Poll::Ready(Err(*error)),
                _ => Poll::Pending,
            },
            Stage::Done => return Poll::Pending,
        };
        let Poll::Ready(result) = polled else {
            return Poll::Pending;
        };
        // Finished: the boxed future goes now, and polled again the call
        // stays pending.
        this.stage = Stage::Done;
        this.integration
            .settle(&result, &this.span, this.started, this.breaker.as_ref());
        let output = this.output;
        Poll::Ready(result.map(|(exchange, attempts)| output(exchange, attempts)))
    }
}
