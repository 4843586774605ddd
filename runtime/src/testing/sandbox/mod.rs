//! The embedded sandbox provider: an OAuth 2 authorization server and the
//! Harbor API of `specs/sandbox.yaml`, served in this process on 127.0.0.1
//! (an ephemeral port), with scripted faults. No accounts, no network.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use wharf_runtime::testing::sandbox::{self, Sandbox, SandboxConfig};
//!
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let transport = Arc::new(Sandbox::transport()?);
//! let client = sandbox
//!     .oauth_client(sandbox::QUICKSTART_CLIENT_ID, transport)
//!     .ok_or("no such client")?;
//! let scopes = ["repo:read".to_owned()];
//! let open = |url: &str| drop(sandbox::auto_browser(url));
//! let tokens = client
//!     .login_loopback(&scopes, open, std::time::Duration::from_secs(10))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Authorization-code grants act for the user `ada`; client-credentials
//! grants for the client's service account (`wharf-service[bot]`).

mod api;
mod browser;
mod config;
mod faults;
mod grants;
mod log;
mod oauth;
mod server;

pub use api::USER_LOGIN;
pub use browser::{auto_browser, auto_browser_with, Consent};
pub use config::{
    GrantType, SandboxClient, SandboxConfig, API_KEY, API_KEY_HEADER, BASIC_ACCOUNT, BASIC_TOKEN,
    QUICKSTART_CLIENT_ID, SCOPES, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET,
};
pub use faults::{error, rate_limited, unavailable, SandboxFaults, Target};
pub use log::{
    ApiRequest, AuthorizeRequest, Revocation, RevocationCause, SandboxLog, TokenCheck, TokenRequest,
};

use crate::auth::{OAuthClient, ProviderProfile, ServerMetadata};
use crate::call::{ReqwestTransport, Transport};
use server::Shared;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running sandbox; stops (and drops its connections) when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.shared.issuer)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts serving on 127.0.0.1 at a port the system picks. Fails with
    /// `InvalidInput` for a configuration that cannot run.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Sandbox::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts serving on `addr` (`wharf sandbox --listen`). Its URLs are
    /// `http://` + the bound address, so bind a loopback address: plain
    /// HTTP is allowed to loopback only.
    pub async fn start_on(addr: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let accept = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Sandbox {
            addr,
            shared,
            accept,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's base URL, `http://127.0.0.1:PORT` (paths as in the spec).
    pub fn base_url(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The issuer: the same origin, whose metadata is at
    /// `/.well-known/oauth-authorization-server` (RFC 8414).
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The server's endpoints, as discovery would find them.
    pub fn metadata(&self) -> ServerMetadata {
        let issuer = &self.shared.issuer;
        ServerMetadata {
            issuer: Some(issuer.clone()),
            authorization_endpoint: Some(format!("{issuer}{}", oauth::AUTHORIZE_PATH)),
            token_endpoint: format!("{issuer}{}", oauth::TOKEN_PATH),
            revocation_endpoint: Some(format!("{issuer}{}", oauth::REVOKE_PATH)),
            introspection_endpoint: Some(format!("{issuer}{}", oauth::INTROSPECT_PATH)),
            device_authorization_endpoint: None,
            authorization_response_iss_parameter_supported: true,
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// A transport that may speak plain HTTP to the sandbox (loopback only).
    pub fn transport() -> Result<ReqwestTransport, crate::policy::ConfigError> {
        ReqwestTransport::builder()
            .allow_plain_http_loopback(true)
            .build()
    }

    /// An OAuth client of this server acting as the registered client
    /// `client_id` (standard profile: Basic authentication when it has a
    /// secret). `None` for an unregistered client.
    pub fn oauth_client(
        &self,
        client_id: &str,
        transport: Arc<dyn Transport>,
    ) -> Option<OAuthClient> {
        let client = self.shared.config.client(client_id)?;
        Some(OAuthClient::new(
            self.metadata(),
            ProviderProfile::default(),
            client.credentials(),
            transport,
        ))
    }

    /// The fault script for upcoming requests, and the drift switch.
    pub fn faults(&self) -> &SandboxFaults {
        &self.shared.faults
    }

    /// The user revokes the app in the provider's settings: every grant
    /// ends, with all its access and refresh tokens.
    pub fn revoke_grants(&self) {
        let grants = self.shared.grants().revoke_all();
        self.shared.record(|log| {
            log.revocations.push(Revocation {
                cause: RevocationCause::Admin,
                client_id: None,
                token_type: None,
                grants,
            })
        });
    }

    /// Every access token issued so far expires now, as if its lifetime
    /// had passed (refresh tokens stay good).
    pub fn expire_access_tokens(&self) {
        self.shared.grants().expire_access();
    }

    /// A copy of what happened so far.
    pub fn log(&self) -> SandboxLog {
        self.shared.log()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
