//! The failure taxonomy retries are decided by, and what a transport
//! reports when an exchange fails below HTTP.

use std::fmt;
use std::sync::Arc;

/// What kind of failure an attempt had; decides whether it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Did not happen, or is safe to repeat: retry.
    Transient,
    /// The provider asked us to slow down: retry after its delay.
    RateLimited,
    /// Retrying cannot help (4xx, decode errors).
    Permanent,
    /// May or may not have taken effect (timeout or 500 after sending):
    /// retried only with an idempotency key or an idempotent method.
    Ambiguous,
}

impl ErrorClass {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Permanent => "permanent",
            ErrorClass::Ambiguous => "ambiguous",
        }
    }
}

/// How an attempt failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// No connection: the request was not sent.
    Connect,
    /// The attempt's time ran out.
    Timeout,
    /// The connection was reset or closed early.
    Reset,
    /// The body stopped arriving (stall protection) or was cut short.
    Body,
    Tls,
    /// Refused before sending: not HTTPS (or loopback HTTP when allowed).
    Insecure,
    Other,
}

/// A failure below HTTP, as the transport reports it: its kind, whether
/// the request may have been sent, what happened, and the error that
/// caused it (the HTTP client's, with its own chain) as `source()`.
#[derive(Clone)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    /// The request may have reached the server.
    pub sent: bool,
    /// What happened (never request or response content).
    pub message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    pub fn new(kind: TransportErrorKind, sent: bool, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            sent,
            message: message.into(),
            source: None,
        }
    }

    /// The error that caused this one (kept whole, chain included).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("sent", &self.sent)
            .field("message", &self.message)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

/// Two transport errors are alike when kind, `sent` and message are.
impl PartialEq for TransportError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.sent == other.sent && self.message == other.message
    }
}

impl Eq for TransportError {}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
