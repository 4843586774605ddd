//! The transport: one HTTP exchange. The request path owns timeouts and
//! retries; a transport only sends. Tests swap in an in-memory one.

use super::error::TransportError;
use super::request::{HttpRequest, Response};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub type SendFuture = Pin<Box<dyn Future<Output = Result<Response, TransportError>> + Send>>;

pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends one request and reads the whole response. Dropping the future
    /// abandons the exchange (the request path does so on timeouts).
    fn send(&self, request: HttpRequest) -> SendFuture;
}
