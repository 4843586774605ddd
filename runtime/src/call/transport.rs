//! The transport: one HTTP exchange. The request path owns timeouts and
//! retries; a transport only sends. Tests swap in an in-memory one.

use super::error::TransportError;
use crate::operation::ByteStream;
use crate::operation::{HttpRequest, Response, StreamingResponse};
use http::{HeaderName, HeaderValue};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub type SendFuture = Pin<Box<dyn Future<Output = Result<Response, TransportError>> + Send>>;

pub type StreamingSendFuture =
    Pin<Box<dyn Future<Output = Result<StreamingResponse, TransportError>> + Send>>;

pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends one request and reads the whole response. Dropping the future
    /// abandons the exchange (the request path does so on timeouts).
    fn send(&self, request: HttpRequest) -> SendFuture;

    /// Sends one attempt of a call: `request`, which the request path keeps
    /// for its retries, with `headers` added (each replacing any of its
    /// name: the call's correlation id, idempotency key, credential). The
    /// default sends a copy; a transport that builds a request of its own
    /// from it anyway overrides this to skip that copy.
    fn send_attempt(
        &self,
        request: &HttpRequest,
        headers: &[(&HeaderName, &HeaderValue)],
    ) -> SendFuture {
        let mut copy = request.clone();
        for (name, value) in headers {
            copy.headers.insert((*name).clone(), (*value).clone());
        }
        self.send(copy)
    }

    /// Sends one request and returns once the response head is in; the
    /// body follows as a stream. The default reads the whole response with
    /// [`Transport::send`] and hands it over as one chunk, so transports
    /// that cannot stream still work.
    fn send_streaming(&self, request: HttpRequest) -> StreamingSendFuture {
        let sent = self.send(request);
        Box::pin(async move {
            let r = sent.await?;
            Ok(StreamingResponse {
                status: r.status,
                headers: r.headers,
                body: ByteStream::from_bytes(r.body),
                attempts: 1,
            })
        })
    }
}
