//! [`FlowError`]: why an OAuth flow (login, device authorization, token
//! request, listener) failed.

use super::profile::TokenError;
use std::fmt;

/// Why a flow failed. Never carries a code, token, verifier or secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowError {
    /// The callback's `state` is not this login's (CSRF or a stale tab).
    StateMismatch,
    /// The callback's `iss` is not this server's (mix-up attack, RFC 9207).
    IssuerMismatch,
    /// The server answered the authorization request with an error.
    Denied {
        error: String,
        description: Option<String>,
    },
    /// The callback has no `code`.
    MissingCode,
    /// The user did not finish in time.
    TimedOut,
    /// The device code expired before the user approved.
    DeviceCodeExpired,
    /// The server lacks an endpoint this flow needs.
    Unsupported(&'static str),
    Token(TokenError),
    /// The redirect listener failed.
    Listener(String),
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::StateMismatch => {
                f.write_str("the authorization response's state does not match this login")
            }
            FlowError::IssuerMismatch => {
                f.write_str("the authorization response comes from another issuer (mix-up)")
            }
            FlowError::Denied { error, description } => {
                write!(f, "authorization denied: {error}")?;
                if let Some(d) = description {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
            FlowError::MissingCode => f.write_str("the authorization response has no code"),
            FlowError::TimedOut => f.write_str("the login was not completed in time"),
            FlowError::DeviceCodeExpired => f.write_str("the device code expired before approval"),
            FlowError::Unsupported(what) => write!(f, "the server has no {what}"),
            FlowError::Token(e) => write!(f, "{e}"),
            FlowError::Listener(e) => write!(f, "redirect listener: {e}"),
        }
    }
}

impl std::error::Error for FlowError {}

impl From<TokenError> for FlowError {
    fn from(e: TokenError) -> Self {
        FlowError::Token(e)
    }
}
