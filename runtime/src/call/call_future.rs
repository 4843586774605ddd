//! [`CallFuture`]: what [`super::Integration::call`] returns. It runs the
//! call (the plain path's first attempt, or the boxed retry loop) inside
//! the call's span, then settles the call once: latency, metrics, the
//! span's closing fields, breaker transitions.
//!
//! One hand-written layer where an `async` block, a span wrapper and a
//! `map` to the caller's type were three futures, each polled (and its
//! output moved) on every call.

use super::attempt::Exchange;
use super::error::Error;
use super::integration::{Integration, Plain, PlainCall};
use crate::policy::breaker::Breaker;
use crate::time::Instant;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The retry loop's result: the exchange and the attempts it took.
pub(super) type Finished = Result<(Exchange, u32), Error>;

/// The retry loop, boxed: it is large, and the caller's future then holds
/// (and moves) a pointer.
pub(super) type RetryLoop<'a> = Pin<Box<dyn Future<Output = Finished> + Send + 'a>>;

pin_project_lite::pin_project! {
    #[project = StageProj]
    #[project_replace = StageTaken]
    pub(super) enum Stage<'a> {
        Running { run: RetryLoop<'a> },
        // The plain path: a first attempt with no more to it than the
        // integration's guards; anything else goes to the retry loop.
        Plain { #[pin] call: PlainCall<'a> },
        // Refused before the first attempt (e.g. a full declared bulkhead).
        Refused { error: Box<Error> },
        // Finished; polled again, it stays pending (as a fused future).
        Done,
    }
}

pin_project_lite::pin_project! {
    pub(super) struct CallFuture<'a, T> {
        pub(super) integration: &'a Integration,
        #[pin]
        pub(super) stage: Stage<'a>,
        pub(super) span: tracing::Span,
        pub(super) started: Instant,
        // The breaker that guards the call, whose transitions it publishes.
        pub(super) breaker: Option<Breaker>,
        // The caller's type, made from the exchange and the attempt count.
        pub(super) output: fn(Exchange, u32) -> T,
    }
}

impl<T> Future for CallFuture<'_, T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let integration = *this.integration;
        let result = loop {
            match this.stage.as_mut().project() {
                StageProj::Running { run } => {
                    let _entered = this.span.enter();
                    break ready!(run.as_mut().poll(cx));
                }
                StageProj::Plain { mut call } => {
                    let polled = {
                        let _entered = this.span.enter();
                        ready!(call.as_mut().poll_call(
                            integration,
                            this.breaker.as_ref(),
                            *this.started,
                            cx
                        ))
                    };
                    let first = match polled {
                        Plain::Done(result) => break result,
                        Plain::HandOver(first) => first,
                    };
                    let Some(parts) = call.take_parts() else {
                        return Poll::Pending;
                    };
                    // The retry loop takes the call up (and is polled at once).
                    match integration.resume(parts, this.breaker.clone(), *this.started, first) {
                        Ok(run) => this.stage.set(Stage::Running { run }),
                        Err(refused) => break Err(refused),
                    }
                }
                StageProj::Refused { .. } => match this.stage.as_mut().project_replace(Stage::Done)
                {
                    StageTaken::Refused { error } => break Err(*error),
                    _ => return Poll::Pending,
                },
                StageProj::Done => return Poll::Pending,
            }
        };
        // Finished: what the call held goes now, and polled again the
        // call stays pending.
        this.stage.set(Stage::Done);
        integration.settle(&result, this.span, *this.started, this.breaker.as_ref());
        let output = *this.output;
        Poll::Ready(result.map(|(exchange, attempts)| output(exchange, attempts)))
    }
}
