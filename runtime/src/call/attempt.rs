//! [`Exchange`]: what one attempt brings back, and [`Sending`], the
//! exchange under way (a buffered send, or a streaming one that reads
//! error bodies whole before it is done).

use super::error::TransportError;
use super::transport::SendFuture;
use crate::operation::ByteStream;
use crate::operation::Response;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An attempt's response; for a streaming call's success, the body is in
/// `stream` (and `response.body` is empty).
pub(super) struct Exchange {
    pub(super) response: Response,
    pub(super) stream: Option<ByteStream>,
}

/// A finished call: the exchange and the attempts it took.
pub(super) type Finished = Result<(Exchange, u32), super::error::Error>;

/// The exchange under way.
pub(super) enum Sending {
    Buffered(SendFuture),
    Streamed(Pin<Box<dyn Future<Output = Result<Exchange, TransportError>> + Send>>),
}

impl Future for Sending {
    type Output = Result<Exchange, TransportError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Sending::Buffered(send) => send.as_mut().poll(cx).map(|result| {
                result.map(|response| Exchange {
                    response,
                    stream: None,
                })
            }),
            Sending::Streamed(exchange) => exchange.as_mut().poll(cx),
        }
    }
}
