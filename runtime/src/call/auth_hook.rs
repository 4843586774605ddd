//! The hook that authenticates every attempt: the request path asks an
//! [`Authenticator`] for the `Authorization` value before sending, and tells
//! it about a 401/403 so it can refresh once and have the call replayed.

use crate::operation::OperationMeta;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Credentials for one attempt.
pub struct Authorization {
    /// The header value (marked sensitive).
    pub value: HeaderValue,
    /// Which token this is, so a rejection refreshes only that one.
    pub generation: u64,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Why a call could not be authenticated. Never carries a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// The grant is gone (revoked, expired refresh token): the user must
    /// log in again. No retry will help.
    ReauthorizationRequired { credential: String },
    /// The token lacks scopes the operation needs (checked before sending,
    /// or reported by a 403 `insufficient_scope`).
    InsufficientScope { missing: Vec<String> },
    /// No token could be had now (store or token endpoint unavailable).
    Unavailable(String),
    /// No credential within the attempt's time (a refresh still under way).
    TimedOut { waited: std::time::Duration },
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::ReauthorizationRequired { credential } => {
                write!(f, "re-authorization required for {credential}")
            }
            AuthFailure::InsufficientScope { missing } => {
                write!(f, "missing scopes: {}", missing.join(" "))
            }
            AuthFailure::Unavailable(why) => write!(f, "no credentials available: {why}"),
            AuthFailure::TimedOut { waited } => {
                write!(f, "no credentials within the attempt's {waited:?}")
            }
        }
    }
}

impl std::error::Error for AuthFailure {}

/// Authenticates attempts of an integration's calls.
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// The `Authorization` for an attempt of `operation` (`None`: the
    /// operation needs no authentication).
    fn authorize<'a>(
        &'a self,
        operation: &'a OperationMeta,
    ) -> AuthFuture<'a, Result<Option<Authorization>, AuthFailure>>;

    /// The provider answered 401 or 403 to the token of `generation`.
    /// `Ok(true)`: credentials were renewed, replay the call once.
    fn rejected<'a>(
        &'a self,
        generation: u64,
        status: StatusCode,
        headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<bool, AuthFailure>>;
}
