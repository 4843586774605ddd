//! Errors of a call, with the taxonomy retries are decided by.

pub use crate::operation::{ErrorClass, TransportError, TransportErrorKind};
use crate::redact;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::fmt;
use std::time::Duration;

/// Why a call failed.
#[derive(Clone)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider answered with an error status (after any retries).
    Status {
        status: StatusCode,
        class: ErrorClass,
        headers: HeaderMap,
        body: Bytes,
    },
    /// The last attempt failed below HTTP.
    Transport {
        error: TransportError,
        class: ErrorClass,
    },
    /// The call's deadline passed.
    DeadlineExceeded,
    /// The provider answered `status` and asked to retry later than the
    /// call's deadline allows (`Retry-After` or a rate-limit reset).
    RetryAfterBeyondDeadline {
        retry_after: Duration,
        status: StatusCode,
    },
    /// The circuit breaker is open: the call was not sent.
    BreakerOpen { retry_in: Duration },
    /// The bulkhead and its queue were full: the call was not sent.
    BulkheadFull,
    /// The client-side rate limit cannot admit the call before its deadline.
    RateLimitedLocally { wait: Duration },
    /// The request itself is not allowed (e.g. plain HTTP to a remote host).
    InvalidRequest { reason: String },
    /// The call could not be authenticated (re-authorization required,
    /// scopes missing, no token available).
    Auth(super::auth_hook::AuthFailure),
    /// A broken invariant of wharf's own (or the OS random source failed):
    /// reported, never hung on.
    Internal(String),
}

/// A failed call: what happened, to which call, after how many attempts.
#[derive(Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub integration: String,
    pub operation: String,
    /// Attempts sent upstream.
    pub attempts: u32,
    /// The retry budget was empty when a retry was wanted.
    pub budget_exhausted: bool,
}

impl Error {
    /// The class of the failure (fast-fail rejections are transient: the
    /// provider never saw them).
    pub fn class(&self) -> ErrorClass {
        match &self.kind {
            ErrorKind::Status { class, .. } | ErrorKind::Transport { class, .. } => *class,
            ErrorKind::RetryAfterBeyondDeadline { .. } | ErrorKind::RateLimitedLocally { .. } => {
                ErrorClass::RateLimited
            }
            ErrorKind::DeadlineExceeded => ErrorClass::Ambiguous,
            ErrorKind::BreakerOpen { .. } | ErrorKind::BulkheadFull => ErrorClass::Transient,
            ErrorKind::InvalidRequest { .. } | ErrorKind::Internal(_) => ErrorClass::Permanent,
            // Timed out before anything was sent: nothing happened.
            ErrorKind::Auth(super::auth_hook::AuthFailure::TimedOut { .. }) => {
                ErrorClass::Transient
            }
            ErrorKind::Auth(_) => ErrorClass::Permanent,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match &self.kind {
            ErrorKind::Status { status, .. }
            | ErrorKind::RetryAfterBeyondDeadline { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: ", self.integration, self.operation)?;
        match &self.kind {
            ErrorKind::Status { status, class, .. } => {
                write!(f, "HTTP {status} ({})", class.as_str())?
            }
            ErrorKind::Transport { error, class } => write!(f, "{error} ({})", class.as_str())?,
            ErrorKind::DeadlineExceeded => f.write_str("deadline exceeded")?,
            ErrorKind::RetryAfterBeyondDeadline {
                retry_after,
                status,
            } => write!(
                f,
                "HTTP {status}: provider asked to retry after {retry_after:?}, beyond the deadline"
            )?,
            ErrorKind::BreakerOpen { retry_in } => write!(
                f,
                "circuit breaker open (probing in {} ms)",
                retry_in.as_millis()
            )?,
            ErrorKind::BulkheadFull => f.write_str("bulkhead full")?,
            ErrorKind::RateLimitedLocally { wait } => write!(
                f,
                "client rate limit would need {wait:?}, beyond the deadline"
            )?,
            ErrorKind::InvalidRequest { reason } => write!(f, "invalid request: {reason}")?,
            ErrorKind::Auth(failure) => write!(f, "{failure}")?,
            ErrorKind::Internal(what) => write!(f, "internal error: {what}")?,
        }
        write!(f, " after {} attempt(s)", self.attempts)?;
        if self.budget_exhausted {
            f.write_str("; retry budget exhausted")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("integration", &self.integration)
            .field("operation", &self.operation)
            .field("attempts", &self.attempts)
            .field("class", &self.class());
        match &self.kind {
            ErrorKind::Status {
                status,
                headers,
                body,
                ..
            } => {
                d.field("status", status)
                    .field("headers", &redact::Headers(headers))
                    .field("body", &redact::BodySize(body));
            }
            other => {
                d.field("kind", &format_args!("{}", ErrorSummary(other)));
            }
        }
        d.finish()
    }
}

struct ErrorSummary<'a>(&'a ErrorKind);

impl fmt::Display for ErrorSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ErrorKind::Transport { error, .. } => write!(f, "Transport({error})"),
            ErrorKind::DeadlineExceeded => f.write_str("DeadlineExceeded"),
            ErrorKind::RetryAfterBeyondDeadline {
                retry_after,
                status,
            } => write!(f, "RetryAfterBeyondDeadline({status}, {retry_after:?})"),
            ErrorKind::BreakerOpen { retry_in } => write!(f, "BreakerOpen({retry_in:?})"),
            ErrorKind::BulkheadFull => f.write_str("BulkheadFull"),
            ErrorKind::RateLimitedLocally { wait } => write!(f, "RateLimitedLocally({wait:?})"),
            ErrorKind::InvalidRequest { reason } => write!(f, "InvalidRequest({reason})"),
            ErrorKind::Auth(failure) => write!(f, "Auth({failure})"),
            ErrorKind::Internal(what) => write!(f, "Internal({what})"),
            ErrorKind::Status { status, .. } => write!(f, "Status({status})"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Transport { error, .. } => Some(error),
            ErrorKind::Auth(failure) => Some(failure),
            _ => None,
        }
    }
}
