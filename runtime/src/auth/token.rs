//! [`TokenSet`]: what a token endpoint granted, with every secret in a
//! `secrecy` box so it cannot reach a log, an error or `Debug` output.

use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, SystemTime};

/// Tokens for one credential.
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub id_token: Option<SecretString>,
    /// `Bearer` for nearly everyone.
    pub token_type: String,
    /// When the access token was issued (as seen by this client).
    pub issued_at: SystemTime,
    /// Its lifetime (`expires_in`, or the profile's default when missing).
    pub lifetime: Option<Duration>,
    /// The scopes granted (the request's when the server does not say).
    pub scopes: BTreeSet<String>,
}

impl TokenSet {
    /// When the access token expires, if its lifetime is known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.lifetime.map(|l| self.issued_at + l)
    }

    /// The moment to refresh: `fraction` (0.8) of the lifetime after issue.
    pub fn refresh_due(&self, fraction: f64) -> Option<SystemTime> {
        self.lifetime
            .map(|l| self.issued_at + l.mul_f64(fraction.clamp(0.0, 1.0)))
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at().is_some_and(|at| now >= at)
    }

    /// Whether every scope of `needed` was granted.
    pub fn covers<'a>(&self, needed: impl IntoIterator<Item = &'a str>) -> bool {
        needed.into_iter().all(|s| self.scopes.contains(s))
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> SecretString {
        let kind = if self.token_type.eq_ignore_ascii_case("bearer") || self.token_type.is_empty() {
            "Bearer"
        } else {
            self.token_type.as_str()
        };
        SecretString::from(format!("{kind} {}", self.access_token.expose_secret()))
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("lifetime", &self.lifetime)
            .field("scopes", &self.scopes)
            .finish()
    }
}
