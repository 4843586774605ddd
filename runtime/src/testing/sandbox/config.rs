//! How a sandbox is set up: token lifetimes, rotation, registered clients,
//! known scopes, consent.

use crate::auth::ClientCredentials;
use secrecy::SecretString;
use std::time::Duration;

/// The public client of the quickstart and `wharf login` (PKCE, no secret).
pub const QUICKSTART_CLIENT_ID: &str = "wharf-quickstart";
/// The confidential client allowed the client credentials grant.
pub const SERVICE_CLIENT_ID: &str = "wharf-service";
/// `wharf-service`'s secret. Not a secret at all: it only opens a sandbox
/// that runs inside the test process.
pub const SERVICE_CLIENT_SECRET: &str = "harbor-sandbox-service-secret";
/// The API key the Harbor API accepts by default, in [`API_KEY_HEADER`]
/// (scheme `harbor_key`). Not a secret: it opens an in-process sandbox.
pub const API_KEY: &str = "hk_sandbox_9d3f2a7c41e8b605";
/// The header of `harbor_key`.
pub const API_KEY_HEADER: &str = "x-harbor-key";
/// The account the Harbor API accepts by default with HTTP basic (scheme
/// `harbor_basic`), Twilio-style: the account id is the user...
pub const BASIC_ACCOUNT: &str = "AC-sandbox-0001";
/// ...and its auth token the password.
pub const BASIC_TOKEN: &str = "harbor-sandbox-auth-token";
/// The scopes of `specs/sandbox.yaml`.
pub const SCOPES: &[&str] = &["user:read", "repo:read", "repo:write"];

/// An OAuth grant type the sandbox implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    /// The `grant_type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    pub(super) fn parse(text: &str) -> Option<GrantType> {
        [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]
        .into_iter()
        .find(|g| g.as_str() == text)
    }
}

/// A client registered with the sandbox's authorization server.
#[derive(Debug, Clone)]
pub struct SandboxClient {
    pub client_id: String,
    /// `None`: a public client, identified by `client_id` alone and held to
    /// PKCE (which every client is, here).
    pub client_secret: Option<SecretString>,
    /// The grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Redirect URIs accepted besides loopback ones (`http://127.0.0.1` or
    /// `http://[::1]`, any port and path, RFC 8252 §7.3), compared exactly.
    pub redirect_uris: Vec<String>,
}

impl SandboxClient {
    /// A native app: authorization code with PKCE, and refresh.
    pub fn public(client_id: impl Into<String>) -> Self {
        SandboxClient {
            client_id: client_id.into(),
            client_secret: None,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            redirect_uris: Vec::new(),
        }
    }

    /// A service: client credentials only (add grants with
    /// [`SandboxClient::with_grant`]).
    pub fn confidential(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        SandboxClient {
            client_id: client_id.into(),
            client_secret: Some(SecretString::from(secret.into())),
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: Vec::new(),
        }
    }

    pub fn with_grant(mut self, grant: GrantType) -> Self {
        if !self.grant_types.contains(&grant) {
            self.grant_types.push(grant);
        }
        self
    }

    pub(super) fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// What the runtime's OAuth client needs to act as this client.
    pub fn credentials(&self) -> ClientCredentials {
        ClientCredentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
        }
    }
}

/// A sandbox's configuration; the defaults suit the quickstart except for
/// the token lifetime, which it shortens to see refreshes.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Access tokens live this long (`expires_in` is sent in whole seconds,
    /// at least 1). Default one hour.
    pub access_token_lifetime: Duration,
    /// Each refresh issues a new refresh token and retires the old one; a
    /// retired one used again revokes the whole grant (reuse detection,
    /// RFC 9700 §4.14.2). Default on.
    pub refresh_token_rotation: bool,
    /// Registered clients. Default: [`QUICKSTART_CLIENT_ID`] (public) and
    /// [`SERVICE_CLIENT_ID`] (confidential, client credentials).
    pub clients: Vec<SandboxClient>,
    /// Scopes the server grants. Default: [`SCOPES`].
    pub scopes: Vec<String>,
    /// `/oauth/authorize` grants at once and redirects. Off: it shows a
    /// consent page whose form approves or denies (see
    /// [`super::auto_browser_with`]). Default on.
    pub auto_consent: bool,
    /// API keys the API accepts in [`API_KEY_HEADER`], each acting with
    /// every scope. Default: [`API_KEY`].
    pub api_keys: Vec<String>,
    /// Accounts the API accepts with HTTP basic: (account id, auth
    /// token), each acting with every scope. Default: [`BASIC_ACCOUNT`]
    /// with [`BASIC_TOKEN`].
    pub basic_accounts: Vec<(String, String)>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_rotation: true,
            clients: vec![
                SandboxClient::public(QUICKSTART_CLIENT_ID),
                SandboxClient::confidential(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET),
            ],
            scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            auto_consent: true,
            api_keys: vec![API_KEY.to_owned()],
            basic_accounts: vec![(BASIC_ACCOUNT.to_owned(), BASIC_TOKEN.to_owned())],
        }
    }
}

impl SandboxConfig {
    pub(super) fn client(&self, client_id: &str) -> Option<&SandboxClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// Why the configuration cannot run, if it cannot.
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.access_token_lifetime.is_zero() {
            return Err("access_token_lifetime must not be zero".into());
        }
        if self.scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
            return Err("scopes must be non-empty and without spaces".into());
        }
        let mut ids: Vec<&str> = self.clients.iter().map(|c| c.client_id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("client ids must be unique".into());
        }
        Ok(())
    }
}
