//! The hook that authenticates every attempt: the request path asks an
//! [`Authenticator`] for the attempt's credential before sending, and tells
//! it about a 401/403 so it can refresh once and have the call replayed.

use crate::operation::OperationMeta;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where an attempt's credential goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A header (`Authorization` for bearer tokens and basic auth, or an
    /// API key's own header such as `X-Shopify-Access-Token`).
    Header(HeaderName),
    /// A query parameter of this name.
    Query(Cow<'static, str>),
    /// A cookie of this name, added to any the request already sends.
    Cookie(Cow<'static, str>),
}

/// Credentials for one attempt.
pub struct Authorization {
    pub placement: Placement,
    /// The value (marked sensitive: never logged by `http`'s `Debug`).
    pub value: HeaderValue,
    /// Which credential this is, so a rejection renews only that one.
    pub generation: u64,
}

impl Authorization {
    /// `value` in the `Authorization` header.
    pub fn header(value: HeaderValue, generation: u64) -> Self {
        Authorization {
            placement: Placement::Header(http::header::AUTHORIZATION),
            value,
            generation,
        }
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("placement", &self.placement)
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
    /// The operation needs one of these security schemes (each alternative
    /// listed as its schemes joined by `+`) and none is configured.
    NoSchemeConfigured { needed: Vec<String> },
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
            AuthFailure::NoSchemeConfigured { needed } => write!(
                f,
                "the operation needs one of the security schemes {}, and none is configured",
                needed.join(", ")
            ),
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
