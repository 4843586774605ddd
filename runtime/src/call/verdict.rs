//! [`Verdict`]: what a durable queue (the outbound webhook sender, the
//! relay of queued calls) does with one call's result. The request path
//! made one attempt; the queue's schedule decides about the next.

use super::error::{Error, ErrorKind, TransportErrorKind};
use crate::operation::Response;
use http::StatusCode;
use std::time::{Duration, SystemTime};

/// A call's result, for a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered (2xx).
    Delivered { status: u16 },
    /// Not sent (an open breaker, a local rate limit, a full bulkhead):
    /// due again after `after`, the attempt not counted.
    NotSent { after: Duration, why: String },
    /// `410 Gone`: the receiver is gone for good.
    Gone { error: String },
    /// Refused for good: 4xx other than 408, 409, 425 and 429, a refused
    /// address, an invalid request.
    Permanent { status: Option<u16>, error: String },
    /// Worth another attempt, not before `after` when the provider said.
    Retry {
        status: Option<u16>,
        error: String,
        after: Option<Duration>,
    },
}

/// A permanent refusal: 4xx other than 408, 409, 425 and 429.
fn permanent(status: StatusCode) -> bool {
    status.is_client_error() && ![408, 409, 425, 429].contains(&status.as_u16())
}

impl Verdict {
    /// The verdict on `result` at wall time `now` (for `Retry-After` dates).
    pub fn of(result: &Result<Response, Error>, now: SystemTime) -> Verdict {
        let e = match result {
            Ok(response) if response.status.is_success() => {
                return Verdict::Delivered {
                    status: response.status.as_u16(),
                }
            }
            // A redirect (never followed) or another non-2xx answer the
            // request path let through.
            Ok(response) => {
                return Verdict::Retry {
                    status: Some(response.status.as_u16()),
                    error: format!("HTTP {}", response.status),
                    after: None,
                }
            }
            Err(e) => e,
        };
        match &e.kind {
            ErrorKind::BreakerOpen { retry_in } => Verdict::NotSent {
                after: (*retry_in).max(Duration::from_millis(1)),
                why: "not sent: the breaker is open".into(),
            },
            ErrorKind::RateLimitedLocally { wait } => Verdict::NotSent {
                after: (*wait).max(Duration::from_millis(1)),
                why: "not sent: the client-side rate limit".into(),
            },
            ErrorKind::BulkheadFull => Verdict::NotSent {
                after: Duration::from_secs(1),
                why: "not sent: the bulkhead is full".into(),
            },
            ErrorKind::Status {
                status,
                headers,
                body,
                ..
            } => {
                let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
                let error = format!(
                    "HTTP {status}: {}",
                    crate::redact::provider_text(&text, &[])
                );
                if *status == StatusCode::GONE {
                    Verdict::Gone { error }
                } else if permanent(*status) {
                    Verdict::Permanent {
                        status: Some(status.as_u16()),
                        error,
                    }
                } else {
                    Verdict::Retry {
                        status: Some(status.as_u16()),
                        error,
                        after: super::requested_delay(headers, now),
                    }
                }
            }
            ErrorKind::Transport { error, .. } if error.kind == TransportErrorKind::Insecure => {
                Verdict::Permanent {
                    status: None,
                    error: format!("refused: {error}"),
                }
            }
            ErrorKind::InvalidRequest { reason } => Verdict::Permanent {
                status: None,
                error: format!("invalid request: {reason}"),
            },
            _ => Verdict::Retry {
                status: e.status().map(|s| s.as_u16()),
                error: e.to_string(),
                after: None,
            },
        }
    }
}
