//! The failure taxonomy retries are decided by, and what a transport
//! reports when an exchange fails below HTTP.

use std::fmt;

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

/// A failure below HTTP, as the transport reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    /// The request may have reached the server.
    pub sent: bool,
    /// What happened (never request or response content).
    pub message: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for TransportError {}
