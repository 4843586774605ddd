//! What generated code (or a hand-written call) hands the runtime, and what
//! comes back.

use crate::redact;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use std::borrow::Cow;
use std::fmt;

/// Facts about an operation the runtime needs: generated once per
/// operation from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationMeta {
    /// The operation's name (its `operationId`).
    pub name: Cow<'static, str>,
    pub method: Method,
    /// The path template, e.g. `/repos/{owner}/{repo}`.
    pub path: Cow<'static, str>,
    /// The operation takes an idempotency key (e.g. an `Idempotency-Key`
    /// header parameter), so a retry cannot repeat its side effect.
    pub accepts_idempotency_key: bool,
}

impl OperationMeta {
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        method: Method,
        path: impl Into<Cow<'static, str>>,
    ) -> Self {
        OperationMeta {
            name: name.into(),
            method,
            path: path.into(),
            accepts_idempotency_key: false,
        }
    }

    pub fn with_idempotency_key(mut self) -> Self {
        self.accepts_idempotency_key = true;
        self
    }

    /// Safe by method (RFC 9110): no side effects.
    pub fn is_safe(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        )
    }

    /// Idempotent by method (RFC 9110): repeating it has the effect of once.
    pub fn is_idempotent(&self) -> bool {
        self.is_safe() || matches!(self.method, Method::PUT | Method::DELETE)
    }
}

/// A request for one logical call (retries resend it).
#[derive(Clone)]
pub struct Request {
    pub operation: OperationMeta,
    /// Absolute URL, query included.
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn new(operation: OperationMeta, url: impl Into<String>) -> Self {
        Request {
            operation,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation.name)
            .field("method", &self.operation.method)
            .field("url", &redact::url(&self.url))
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &redact::Body(&self.body))
            .finish()
    }
}

/// One HTTP exchange's request, as the transport sends it.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact::url(&self.url))
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &redact::Body(&self.body))
            .finish()
    }
}

/// A response: status, headers and the whole body.
#[derive(Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &redact::Body(&self.body))
            .finish()
    }
}
