//! [`Attempt`]: one exchange with the transport, bounded by the attempt
//! timeout, inside the attempt's span.
//!
//! Written out by hand rather than as an `async` block around `select!`:
//! every call runs it, and one small `poll` is less code per call than the
//! block, the `select!` and a span wrapper, each a future of its own.

use super::body::ByteStream;
use super::error::{TransportError, TransportErrorKind};
use super::request::Response;
use super::transport::SendFuture;
use crate::time::{Clock, Sleep};
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// An attempt's response; for a streaming call's success, the body is in
/// `stream` (and `response.body` is empty).
pub(super) struct Exchange {
    pub(super) response: Response,
    pub(super) stream: Option<ByteStream>,
}

/// The exchange under way: a buffered send, or a streaming one (which
/// reads error bodies whole before it is done).
pub(super) enum Sending<'a> {
    Buffered(SendFuture),
    Streamed(Pin<Box<dyn Future<Output = Result<Exchange, TransportError>> + Send + 'a>>),
}

pin_project_lite::pin_project! {
    /// The exchange, polled first; the timer is armed only once the
    /// exchange has had to wait, so an exchange that is ready at once never
    /// registers one.
    pub(super) struct Attempt<'a> {
        sending: Sending<'a>,
        #[pin]
        timer: Option<Sleep>,
        clock: &'a dyn Clock,
        timeout: Duration,
        // Entered while it is polled (the plain path enters its own).
        span: Option<&'a tracing::Span>,
    }
}

impl<'a> Attempt<'a> {
    pub(super) fn new(
        sending: Sending<'a>,
        clock: &'a dyn Clock,
        timeout: Duration,
        span: Option<&'a tracing::Span>,
    ) -> Self {
        Attempt {
            sending,
            timer: None,
            clock,
            timeout,
            span,
        }
    }
}

impl Future for Attempt<'_> {
    type Output = Result<Exchange, TransportError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.map(tracing::Span::enter);
        let done = match this.sending {
            Sending::Buffered(send) => send.as_mut().poll(cx).map(|result| {
                result.map(|response| Exchange {
                    response,
                    stream: None,
                })
            }),
            Sending::Streamed(exchange) => exchange.as_mut().poll(cx),
        };
        if done.is_ready() {
            return done;
        }
        if this.timer.is_none() {
            this.timer.set(Some(this.clock.sleep(*this.timeout)));
        }
        if let Some(timer) = this.timer.as_pin_mut() {
            ready!(timer.poll(cx));
        }
        Poll::Ready(Err(TransportError {
            kind: TransportErrorKind::Timeout,
            sent: true,
            message: format!("no complete response within {:?}", this.timeout),
        }))
    }
}
