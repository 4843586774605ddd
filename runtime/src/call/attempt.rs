//! [`Exchange`]: what one attempt brings back, and [`Sending`], the
//! exchange under way (a buffered send, or a streaming one that reads
//! error bodies whole before it is done).

use super::body::ByteStream;
use super::error::TransportError;
use super::request::Response;
use super::transport::SendFuture;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An attempt's response; for a streaming call's success, the body is in
/// `stream` (and `response.body` is empty).
pub(super) struct Exchange {
    pub(super) response: Response,
    pub(super) stream: Option<ByteStream>,
}

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
