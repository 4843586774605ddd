//! [`RequestSigner`]: for providers that sign each request (an HMAC of the
//! method, path, timestamp and body, as exchanges and some cloud APIs ask).
//! The request path calls it on every attempt, after the credential and
//! inside the attempt's time bound, with the request as it is sent; the
//! headers it returns are added to that attempt.

use super::auth_hook::AuthFailure;
use crate::operation::HttpRequest;
use http::{HeaderName, HeaderValue};
use std::fmt;
use std::time::SystemTime;

/// What a signer sees of an attempt.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    pub request: &'a HttpRequest,
    /// The body when it is in memory (`None` for a streamed body, which a
    /// signer that needs the body refuses).
    pub body: Option<&'a [u8]>,
    /// The wall-clock time of the attempt (from the integration's clock).
    pub now: SystemTime,
}

/// Signs attempts. Errors end the call as `ErrorKind::Auth` before sending.
pub trait RequestSigner: Send + Sync + fmt::Debug {
    fn sign(&self, input: &SigningInput<'_>)
        -> Result<Vec<(HeaderName, HeaderValue)>, AuthFailure>;
}
