//! What the sandbox saw and did, for tests to assert on. Never holds a
//! token, code, verifier or secret.

use super::config::GrantType;

/// One request to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `grant_type` as sent (`None` when missing).
    pub grant_type: Option<String>,
    /// The authenticated client, when authentication succeeded.
    pub client_id: Option<String>,
    /// The OAuth error answered; `None` when tokens were issued.
    pub error: Option<String>,
}

/// One request to the authorization endpoint (or the consent form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: Option<String>,
    /// The error sent back (`access_denied`, `invalid_scope`, ...), or the
    /// reason for a 400 page; `None` when a code was issued.
    pub error: Option<String>,
}

/// Why tokens were revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationCause {
    /// A request to the revocation endpoint (RFC 7009).
    Endpoint,
    /// [`super::Sandbox::revoke_grants`]: the user revoked the app.
    Admin,
    /// A rotated-out refresh token was used again.
    RefreshTokenReuse,
    /// An authorization code was exchanged a second time.
    CodeReuse,
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub cause: RevocationCause,
    pub client_id: Option<String>,
    /// `access_token` or `refresh_token` for endpoint revocations of a
    /// known token; `None` otherwise.
    pub token_type: Option<&'static str>,
    /// Grants ended (a refresh token ends its grant; an access token alone
    /// ends none).
    pub grants: usize,
}

/// What the credential of an API request was: a bearer token (valid,
/// missing, unknown, expired or revoked), or an accepted API key or basic
/// account. A refused key or account is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    ApiKey,
    Basic,
    Missing,
    Unknown,
    Expired,
    Revoked,
}

/// One API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// The spec's `operationId`, when the path is one of the spec's.
    pub operation: Option<&'static str>,
    pub status: u16,
    pub token: TokenCheck,
    /// A scripted fault answered instead of the API (`status` is then the
    /// fault's, or 0 when it sent no status).
    pub fault: bool,
    /// The answer was a stored one, replayed for a repeated idempotency key.
    pub replayed: bool,
    pub idempotency_key: Option<String>,
}

/// Everything so far, oldest first.
#[derive(Debug, Clone, Default)]
pub struct SandboxLog {
    pub authorizations: Vec<AuthorizeRequest>,
    pub token_requests: Vec<TokenRequest>,
    pub revocations: Vec<Revocation>,
    pub api_requests: Vec<ApiRequest>,
}

impl SandboxLog {
    /// Tokens issued by grants of this type (for `RefreshToken`: the
    /// refreshes).
    pub fn grants(&self, grant: GrantType) -> usize {
        self.token_requests
            .iter()
            .filter(|t| t.error.is_none() && t.grant_type.as_deref() == Some(grant.as_str()))
            .count()
    }

    /// Successful refreshes.
    pub fn refreshes(&self) -> usize {
        self.grants(GrantType::RefreshToken)
    }

    /// Token requests answered with this OAuth error code.
    pub fn token_errors(&self, code: &str) -> usize {
        self.token_requests
            .iter()
            .filter(|t| t.error.as_deref() == Some(code))
            .count()
    }

    /// Revocations with this cause.
    pub fn revocations_by(&self, cause: RevocationCause) -> usize {
        self.revocations.iter().filter(|r| r.cause == cause).count()
    }

    /// API requests to one operation (by `operationId`).
    pub fn requests_to<'a>(&'a self, operation: &'a str) -> impl Iterator<Item = &'a ApiRequest> {
        self.api_requests
            .iter()
            .filter(move |r| r.operation == Some(operation))
    }

    /// Answers replayed for a repeated idempotency key.
    pub fn replays(&self) -> usize {
        self.api_requests.iter().filter(|r| r.replayed).count()
    }
}
