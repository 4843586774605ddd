//! Classifying an attempt's outcome into the error taxonomy. The default
//! rules follow HTTP semantics; an integration can override them (e.g. a
//! provider header that says whether to retry).

use super::error::{ErrorClass, TransportError, TransportErrorKind};
use crate::operation::{OperationMeta, Response};
use std::fmt;

/// The outcome of one attempt, as classifiers see it.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    Response(&'a Response),
    Transport(&'a TransportError),
}

/// Overrides the default classification for an integration.
pub trait Classifier: Send + Sync + fmt::Debug {
    /// `Some(class)` to override, `None` to keep the default. Returning a
    /// class for a successful response makes it an error.
    fn classify(&self, operation: &OperationMeta, outcome: Outcome<'_>) -> Option<ErrorClass>;
}

/// The default: `None` for a success (status below 400). A 403 that says
/// a rate limit refused it (`Retry-After`, or no quota left) is
/// rate-limited, not permanent.
pub fn default_class(operation: &OperationMeta, outcome: Outcome<'_>) -> Option<ErrorClass> {
    match outcome {
        Outcome::Response(r) => {
            let code = r.status.as_u16();
            match code {
                0..=399 => None,
                408 | 425 => Some(ErrorClass::Transient),
                429 => Some(ErrorClass::RateLimited),
                // A provider's rate limit, refused as forbidden.
                403 if super::retry_after::says_rate_limited(&r.headers) => {
                    Some(ErrorClass::RateLimited)
                }
                500 => Some(ErrorClass::Ambiguous),
                // A gateway's 502 or 504 can come after the origin has
                // committed: for a request that is not idempotent, it may
                // or may not have taken effect.
                502 | 504 if !operation.is_idempotent() => Some(ErrorClass::Ambiguous),
                502..=504 => Some(ErrorClass::Transient),
                400..=499 => Some(ErrorClass::Permanent),
                _ => Some(ErrorClass::Ambiguous),
            }
        }
        Outcome::Transport(e) => Some(match e.kind {
            TransportErrorKind::Connect => ErrorClass::Transient,
            TransportErrorKind::Tls | TransportErrorKind::Insecure => ErrorClass::Permanent,
            _ if !e.sent || operation.is_safe() => ErrorClass::Transient,
            _ => ErrorClass::Ambiguous,
        }),
    }
}

/// A provider header that says whether to retry (`true`/`false`), as
/// Stripe's `Stripe-Should-Retry`.
#[derive(Debug, Clone)]
pub struct ShouldRetryHeader(pub http::HeaderName);

impl Classifier for ShouldRetryHeader {
    fn classify(&self, _operation: &OperationMeta, outcome: Outcome<'_>) -> Option<ErrorClass> {
        let Outcome::Response(r) = outcome else {
            return None;
        };
        if r.status.as_u16() < 400 {
            return None;
        }
        match r.headers.get(&self.0)?.to_str().ok()? {
            "true" => Some(ErrorClass::Transient),
            "false" => Some(ErrorClass::Permanent),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, Method, StatusCode};

    fn response(code: u16) -> Response {
        Response {
            status: StatusCode::from_u16(code).unwrap(),
            headers: HeaderMap::new(),
            body: Default::default(),
        }
    }

    #[test]
    fn statuses_follow_the_taxonomy() {
        let get = OperationMeta::new("get", Method::GET, "/");
        let class = |c| default_class(&get, Outcome::Response(&response(c)));
        assert_eq!(class(200), None);
        assert_eq!(class(304), None);
        assert_eq!(class(429), Some(ErrorClass::RateLimited));
        for c in [502, 503, 504, 408] {
            assert_eq!(class(c), Some(ErrorClass::Transient), "{c}");
        }
        assert_eq!(class(500), Some(ErrorClass::Ambiguous));
        for c in [400, 401, 403, 404, 422] {
            assert_eq!(class(c), Some(ErrorClass::Permanent), "{c}");
        }
    }

    #[test]
    fn a_gateway_error_after_a_mutation_is_ambiguous() {
        let post = OperationMeta::new("create", Method::POST, "/");
        let put = OperationMeta::new("replace", Method::PUT, "/");
        let class = |op: &OperationMeta, c| default_class(op, Outcome::Response(&response(c)));
        assert_eq!(class(&post, 502), Some(ErrorClass::Ambiguous));
        assert_eq!(class(&post, 504), Some(ErrorClass::Ambiguous));
        // The gateway says the origin is unavailable: nothing happened.
        assert_eq!(class(&post, 503), Some(ErrorClass::Transient));
        for c in [502, 503, 504] {
            assert_eq!(class(&put, c), Some(ErrorClass::Transient), "{c}");
        }
    }

    #[test]
    fn a_403_that_says_a_rate_limit_refused_it_is_rate_limited() {
        let get = OperationMeta::new("get", Method::GET, "/");
        let class = |code, headers: &[(&'static str, &str)]| {
            let mut r = response(code);
            for (k, v) in headers {
                r.headers.insert(*k, v.parse().unwrap());
            }
            default_class(&get, Outcome::Response(&r))
        };
        let limited = Some(ErrorClass::RateLimited);
        // GitHub's primary limit (quota spent) and secondary limit.
        let spent = [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")];
        assert_eq!(class(403, &spent), limited);
        assert_eq!(class(403, &[("retry-after", "60")]), limited);
        assert_eq!(class(403, &[("ratelimit-remaining", "0")]), limited);
        // Quota left, or no rate-limit headers: a real refusal.
        let permanent = Some(ErrorClass::Permanent);
        assert_eq!(class(403, &[("x-ratelimit-remaining", "4999")]), permanent);
        assert_eq!(class(403, &[("x-ratelimit-remaining", "soon")]), permanent);
        assert_eq!(class(403, &[("content-type", "text/plain")]), permanent);
        // Other refusals keep their class whatever the headers say.
        assert_eq!(class(404, &spent), permanent);
        assert_eq!(class(401, &[("retry-after", "60")]), permanent);
    }

    #[test]
    fn timeouts_are_transient_for_safe_requests_only() {
        let timeout = TransportError::new(TransportErrorKind::Timeout, true, String::new());
        let get = OperationMeta::new("get", Method::GET, "/");
        let post = OperationMeta::new("post", Method::POST, "/");
        assert_eq!(
            default_class(&get, Outcome::Transport(&timeout)),
            Some(ErrorClass::Transient)
        );
        assert_eq!(
            default_class(&post, Outcome::Transport(&timeout)),
            Some(ErrorClass::Ambiguous)
        );
        let refused = TransportError::new(TransportErrorKind::Connect, false, String::new());
        assert_eq!(
            default_class(&post, Outcome::Transport(&refused)),
            Some(ErrorClass::Transient)
        );
    }

    #[test]
    fn provider_header_overrides() {
        let c = ShouldRetryHeader(http::HeaderName::from_static("stripe-should-retry"));
        let post = OperationMeta::new("post", Method::POST, "/");
        let mut r = response(500);
        r.headers
            .insert("stripe-should-retry", "true".parse().unwrap());
        assert_eq!(
            c.classify(&post, Outcome::Response(&r)),
            Some(ErrorClass::Transient)
        );
        r.headers
            .insert("stripe-should-retry", "false".parse().unwrap());
        assert_eq!(
            c.classify(&post, Outcome::Response(&r)),
            Some(ErrorClass::Permanent)
        );
    }
}
