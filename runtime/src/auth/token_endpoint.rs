//! [`TokenEndpoint`]: where a credential gets new tokens.

use super::profile::TokenError;
use super::token::TokenSet;
use crate::call::AuthFuture;
use secrecy::SecretString;
use std::fmt;
use std::time::SystemTime;

/// Exchanges a refresh token for new tokens ([`super::OAuthClient`] is the
/// real one; tests script their own).
pub trait TokenEndpoint: Send + Sync + fmt::Debug {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a SecretString,
        scopes: &'a [String],
        now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>>;

    /// New tokens without a refresh token, for grants the client can
    /// repeat on its own (client credentials). `None`: it cannot, and a
    /// token without a refresh token needs the user again.
    fn reissue<'a>(
        &'a self,
        _scopes: &'a [String],
    ) -> Option<AuthFuture<'a, Result<TokenSet, TokenError>>> {
        None
    }
}
