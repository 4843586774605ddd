//! The OAuth flows: authorization code + PKCE (S256), client credentials,
//! device authorization (RFC 8628), refresh, revocation (RFC 7009),
//! introspection (RFC 7662) and discovery (RFC 8414 / OpenID).
//!
//! PKCE verifiers and `state` come from the `oauth2` crate; requests and
//! responses go through wharf's profile-aware layer, because real token
//! endpoints answer errors with HTTP 200, nest tokens and send `expires_in`
//! as strings, which a strict client cannot read.

pub use super::flow_error::FlowError;
use super::profile::{parse_token_response, ProviderProfile, ResponseContext, TokenError};
use super::request::{
    authorization_url, endpoint_request, AuthorizationRequest, ClientCredentials, Param,
};
use super::token::TokenSet;
use super::token_endpoint::TokenEndpoint;
use crate::call::{AuthFuture, HttpRequest, Transport};
use http::{HeaderMap, Method};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// An authorization server's endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerMetadata {
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    /// Whether the server sends `iss` in authorization responses (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
}

/// A configured client of one authorization server.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub metadata: ServerMetadata,
    pub profile: ProviderProfile,
    pub client: ClientCredentials,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn crate::time::Clock>,
    request_timeout: Duration,
}

/// The longest a request to the authorization server may take by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An authorization in progress (state bound to this login attempt).
pub struct PendingAuthorization {
    /// Where to send the user.
    pub url: String,
    pub redirect_uri: String,
    state: SecretString,
    verifier: SecretString,
    scopes: Vec<String>,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

/// A device authorization in progress (RFC 8628).
pub struct DeviceAuthorization {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
    device_code: SecretString,
    scopes: Vec<String>,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// RFC 7662's answer (the fields apps use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub exp: Option<u64>,
}

impl OAuthClient {
    pub fn new(
        metadata: ServerMetadata,
        profile: ProviderProfile,
        client: ClientCredentials,
        transport: Arc<dyn Transport>,
    ) -> Self {
        OAuthClient {
            metadata,
            profile,
            client,
            transport,
            clock: Arc::new(crate::time::TokioClock),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The longest each request to the server may take, the answer's body
    /// included (default [`DEFAULT_REQUEST_TIMEOUT`]): a token endpoint
    /// that never answers fails the request instead of holding it.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Reads "now" (token issue times) from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn crate::time::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The whole native-app login: a loopback listener, the authorization
    /// URL handed to `open` (start a browser, or print it), the callback,
    /// the code exchange.
    pub async fn login_loopback(
        &self,
        scopes: &[String],
        open: impl FnOnce(&str),
        timeout: Duration,
    ) -> Result<TokenSet, FlowError> {
        let listener = super::loopback::LoopbackListener::bind().await?;
        let pending = self.start_authorization(scopes, listener.redirect_uri())?;
        open(&pending.url);
        let query = listener.receive(timeout, self.clock.as_ref()).await?;
        self.complete_authorization(&pending, &query).await
    }

    /// Discovers a server's endpoints from its issuer URL: RFC 8414's
    /// `/.well-known/oauth-authorization-server`, then OpenID's
    /// `/.well-known/openid-configuration`.
    pub async fn discover(
        issuer: &str,
        transport: &Arc<dyn Transport>,
    ) -> Result<ServerMetadata, FlowError> {
        let issuer = issuer.trim_end_matches('/');
        let mut last = String::new();
        for well_known in ["oauth-authorization-server", "openid-configuration"] {
            let Some((scheme, rest)) = issuer.split_once("://") else {
                return Err(FlowError::Listener(format!(
                    "issuer {issuer:?} is not a URL"
                )));
            };
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            // RFC 8414 §3.1 puts the well-known segment before an issuer's
            // path; OpenID appends it.
            let url = if path.is_empty() {
                format!("{scheme}://{host}/.well-known/{well_known}")
            } else if well_known == "openid-configuration" {
                format!("{issuer}/.well-known/{well_known}")
            } else {
                format!("{scheme}://{host}/.well-known/{well_known}/{path}")
            };
            let request = HttpRequest {
                method: Method::GET,
                url,
                headers: HeaderMap::new(),
                body: Default::default(),
            };
            let sent = transport.send(request);
            let clock = crate::time::TokioClock;
            let response = match crate::time::timeout(&clock, DEFAULT_REQUEST_TIMEOUT, sent).await {
                Ok(Ok(r)) => r,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
                Ok(Err(e)) => {
                    last = e.to_string();
                    continue;
                }
            };
            if !response.status.is_success() {
                last = format!("HTTP {}", response.status);
                continue;
            }
            let doc: Value = serde_json::from_slice(&response.body).map_err(|_| {
                FlowError::Token(TokenError::Malformed {
                    status: response.status.as_u16(),
                    reason: "discovery document is not JSON".into(),
                })
            })?;
            let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
            let metadata = ServerMetadata {
                issuer: text("issuer"),
                authorization_endpoint: text("authorization_endpoint"),
                token_endpoint: text("token_endpoint")
                    .ok_or(FlowError::Unsupported("token endpoint in its metadata"))?,
                revocation_endpoint: text("revocation_endpoint"),
                introspection_endpoint: text("introspection_endpoint"),
                device_authorization_endpoint: text("device_authorization_endpoint"),
                authorization_response_iss_parameter_supported: doc
                    .get("authorization_response_iss_parameter_supported")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            // RFC 8414 §3.3: the issuer in the document must be the one asked.
            if metadata
                .issuer
                .as_deref()
                .is_some_and(|i| i.trim_end_matches('/') != issuer)
            {
                return Err(FlowError::IssuerMismatch);
            }
            return Ok(metadata);
        }
        Err(FlowError::Token(TokenError::Transport(format!(
            "discovery failed: {last}"
        ))))
    }

    /// Starts an authorization-code login with PKCE (S256).
    pub fn start_authorization(
        &self,
        scopes: &[String],
        redirect_uri: &str,
    ) -> Result<PendingAuthorization, FlowError> {
        let endpoint = self
            .metadata
            .authorization_endpoint
            .as_deref()
            .ok_or(FlowError::Unsupported("authorization endpoint"))?;
        let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
        let state = oauth2::CsrfToken::new_random();
        let url = authorization_url(
            &self.profile,
            &AuthorizationRequest {
                authorization_url: endpoint,
                client_id: &self.client.client_id,
                redirect_uri,
                scopes,
                state: state.secret(),
                code_challenge: challenge.as_str(),
            },
        )
        .map_err(FlowError::Listener)?;
        Ok(PendingAuthorization {
            url,
            redirect_uri: redirect_uri.to_owned(),
            state: SecretString::from(state.secret().clone()),
            verifier: SecretString::from(verifier.secret().clone()),
            scopes: scopes.to_vec(),
        })
    }

    /// Completes a login from the callback's query string: checks `state`,
    /// `iss` and errors, then exchanges the code.
    pub async fn complete_authorization(
        &self,
        pending: &PendingAuthorization,
        query: &str,
    ) -> Result<TokenSet, FlowError> {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("state") != Some(pending.state.expose_secret()) {
            return Err(FlowError::StateMismatch);
        }
        match (get("iss"), &self.metadata.issuer) {
            (Some(iss), Some(ours)) if iss.trim_end_matches('/') != ours.trim_end_matches('/') => {
                return Err(FlowError::IssuerMismatch)
            }
            (None, Some(_)) if self.metadata.authorization_response_iss_parameter_supported => {
                return Err(FlowError::IssuerMismatch)
            }
            _ => {}
        }
        if let Some(error) = get("error") {
            return Err(FlowError::Denied {
                error: error.chars().take(100).collect(),
                description: get("error_description").map(|d| {
                    crate::redact::provider_text(&d.chars().take(300).collect::<String>(), &[])
                }),
            });
        }
        let code = SecretString::from(get("code").ok_or(FlowError::MissingCode)?.to_owned());
        self.token_request(
            &[
                Param::Plain("grant_type", "authorization_code"),
                Param::Secret("code", &code),
                Param::Plain("redirect_uri", &pending.redirect_uri),
                Param::Secret("code_verifier", &pending.verifier),
            ],
            &pending.scopes,
            None,
        )
        .await
        .map_err(FlowError::from)
    }

    async fn post(
        &self,
        url: &str,
        params: &[Param<'_>],
    ) -> Result<crate::call::Response, TokenError> {
        let request = endpoint_request(&self.profile, url, &self.client, params)
            .map_err(TokenError::Transport)?;
        let sent = self.transport.send(request);
        crate::time::timeout(&*self.clock, self.request_timeout, sent)
            .await
            .map_err(|elapsed| TokenError::Transport(elapsed.to_string()))?
            .map_err(|e| TokenError::Transport(e.to_string()))
    }

    async fn token_request(
        &self,
        params: &[Param<'_>],
        scopes: &[String],
        previous_refresh: Option<&SecretString>,
    ) -> Result<TokenSet, TokenError> {
        let response = self.post(&self.metadata.token_endpoint, params).await?;
        let content_type = response
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let mut sent: Vec<&SecretString> = params
            .iter()
            .filter_map(|p| match p {
                Param::Secret(_, v) => Some(*v),
                Param::Plain(..) => None,
            })
            .collect();
        sent.extend(self.client.client_secret.as_ref());
        parse_token_response(
            &self.profile,
            response.status.as_u16(),
            content_type,
            &response.body,
            ResponseContext {
                now: self.clock.wall(),
                requested_scopes: scopes,
                previous_refresh,
                sent_secrets: &sent,
            },
        )
    }

    fn scope_param(&self, scopes: &[String]) -> String {
        self.profile
            .scope_separator
            .join(scopes.iter().map(String::as_str))
    }

    /// Client credentials (machine to machine).
    pub async fn client_credentials(&self, scopes: &[String]) -> Result<TokenSet, FlowError> {
        let scope = self.scope_param(scopes);
        let mut params = vec![Param::Plain("grant_type", "client_credentials")];
        if !scopes.is_empty() {
            params.push(Param::Plain("scope", &scope));
        }
        Ok(self.token_request(&params, scopes, None).await?)
    }

    /// Starts a device authorization: show `user_code` and
    /// `verification_uri` to the user, then [`OAuthClient::poll_device`].
    pub async fn start_device(&self, scopes: &[String]) -> Result<DeviceAuthorization, FlowError> {
        let url = self
            .metadata
            .device_authorization_endpoint
            .clone()
            .ok_or(FlowError::Unsupported("device authorization endpoint"))?;
        let scope = self.scope_param(scopes);
        let response = self.post(&url, &[Param::Plain("scope", &scope)]).await?;
        let status = response.status.as_u16();
        let doc: Value =
            serde_json::from_slice(&response.body).map_err(|_| TokenError::Malformed {
                status,
                reason: "device authorization response is not JSON".into(),
            })?;
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
        let secs = |k: &str, default: u64| {
            doc.get(k)
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(default)
        };
        if let Some(error) = text("error") {
            return Err(FlowError::Token(TokenError::OAuth {
                code: error,
                description: text("error_description"),
                status,
            }));
        }
        let device_code = text("device_code").ok_or(TokenError::Malformed {
            status,
            reason: "no device_code".into(),
        })?;
        Ok(DeviceAuthorization {
            user_code: text("user_code").unwrap_or_default(),
            verification_uri: text("verification_uri")
                .or_else(|| text("verification_url"))
                .unwrap_or_default(),
            verification_uri_complete: text("verification_uri_complete"),
            expires_in: Duration::from_secs(secs("expires_in", 600)),
            interval: Duration::from_secs(secs("interval", 5)),
            device_code: SecretString::from(device_code),
            scopes: scopes.to_vec(),
        })
    }

    /// Polls until the user approves, at the server's interval (5 s longer
    /// after each `slow_down`), until the device code expires.
    pub async fn poll_device(
        &self,
        device: &DeviceAuthorization,
        clock: &dyn crate::time::Clock,
    ) -> Result<TokenSet, FlowError> {
        let started = clock.now();
        let mut interval = device.interval;
        loop {
            if clock.now().saturating_duration_since(started) >= device.expires_in {
                return Err(FlowError::DeviceCodeExpired);
            }
            clock.sleep(interval).await;
            let result = self
                .token_request(
                    &[
                        Param::Plain("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                        Param::Secret("device_code", &device.device_code),
                    ],
                    &device.scopes,
                    None,
                )
                .await;
            match result {
                Ok(tokens) => return Ok(tokens),
                Err(TokenError::AuthorizationPending) => {}
                Err(TokenError::SlowDown) => interval += Duration::from_secs(5),
                Err(TokenError::OAuth { code, .. }) if code == "expired_token" => {
                    return Err(FlowError::DeviceCodeExpired)
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Revokes a token (RFC 7009).
    pub async fn revoke(&self, token: &SecretString, hint: &str) -> Result<(), FlowError> {
        let url = self
            .metadata
            .revocation_endpoint
            .clone()
            .ok_or(FlowError::Unsupported("revocation endpoint"))?;
        let response = self
            .post(
                &url,
                &[
                    Param::Secret("token", token),
                    Param::Plain("token_type_hint", hint),
                ],
            )
            .await?;
        if response.status.is_success() {
            Ok(())
        } else {
            Err(FlowError::Token(TokenError::Malformed {
                status: response.status.as_u16(),
                reason: "revocation refused".into(),
            }))
        }
    }

    /// Asks the server whether a token is active (RFC 7662).
    pub async fn introspect(&self, token: &SecretString) -> Result<Introspection, FlowError> {
        let url = self
            .metadata
            .introspection_endpoint
            .clone()
            .ok_or(FlowError::Unsupported("introspection endpoint"))?;
        let response = self.post(&url, &[Param::Secret("token", token)]).await?;
        let status = response.status.as_u16();
        let doc: Value =
            serde_json::from_slice(&response.body).map_err(|_| TokenError::Malformed {
                status,
                reason: "introspection response is not JSON".into(),
            })?;
        if !response.status.is_success() {
            return Err(FlowError::Token(TokenError::Malformed {
                status,
                reason: "introspection refused".into(),
            }));
        }
        Ok(Introspection {
            active: doc.get("active").and_then(Value::as_bool).unwrap_or(false),
            scope: doc.get("scope").and_then(Value::as_str).map(str::to_owned),
            client_id: doc
                .get("client_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            exp: doc.get("exp").and_then(Value::as_u64),
        })
    }
}

impl TokenEndpoint for OAuthClient {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a SecretString,
        scopes: &'a [String],
        _now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        Box::pin(async move {
            self.token_request(
                &[
                    Param::Plain("grant_type", "refresh_token"),
                    Param::Secret("refresh_token", refresh_token),
                ],
                scopes,
                Some(refresh_token),
            )
            .await
        })
    }
}

/// An [`OAuthClient`] that renews its tokens with the client-credentials
/// grant (a service acting for itself): a [`super::Credential`] built on it
/// asks for a new token at 80% of the lifetime, with no refresh token.
#[derive(Debug, Clone)]
pub struct ClientCredentialsGrant(pub OAuthClient);

impl TokenEndpoint for ClientCredentialsGrant {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a SecretString,
        scopes: &'a [String],
        now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        self.0.refresh(refresh_token, scopes, now)
    }

    fn reissue<'a>(
        &'a self,
        scopes: &'a [String],
    ) -> Option<AuthFuture<'a, Result<TokenSet, TokenError>>> {
        Some(Box::pin(async move {
            self.0
                .client_credentials(scopes)
                .await
                .map_err(|e| match e {
                    FlowError::Token(t) => t,
                    other => TokenError::Transport(other.to_string()),
                })
        }))
    }
}

/// A security scheme of the spec, as generated code describes it
/// (`security_schemes::…` constants): where its flows' endpoints are and
/// which scopes it defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityScheme {
    /// The scheme's name in the spec (`securitySchemes` key).
    pub name: &'static str,
    /// `oauth2`, `openIdConnect`, `apiKey`, `http`, ...
    pub kind: &'static str,
    pub authorization_url: Option<&'static str>,
    pub token_url: Option<&'static str>,
    pub refresh_url: Option<&'static str>,
    pub device_authorization_url: Option<&'static str>,
    /// OpenID Connect discovery URL (for `openIdConnect` schemes).
    pub openid_connect_url: Option<&'static str>,
    /// Every scope the scheme's flows define.
    pub scopes: &'static [&'static str],
    /// An `http` scheme's `scheme` (`basic`, `bearer`), lowercased.
    pub http_scheme: Option<&'static str>,
    /// An `apiKey` scheme's `in` (`header`, `query`, `cookie`).
    pub key_location: Option<&'static str>,
    /// An `apiKey` scheme's parameter `name` (`X-Shopify-Access-Token`).
    pub key_name: Option<&'static str>,
}

impl ServerMetadata {
    /// Endpoints from a spec's OAuth scheme (no discovery request needed).
    /// `None` when the scheme names no token endpoint.
    pub fn from_scheme(scheme: &SecurityScheme) -> Option<ServerMetadata> {
        ServerMetadata::from_flow_urls(
            scheme.authorization_url,
            scheme.token_url,
            scheme.refresh_url,
            scheme.device_authorization_url,
        )
    }

    /// Endpoints from an OAuth scheme's flow URLs (the token URL, else the
    /// refresh URL, is the token endpoint). `None` without either.
    pub fn from_flow_urls(
        authorization: Option<&str>,
        token: Option<&str>,
        refresh: Option<&str>,
        device_authorization: Option<&str>,
    ) -> Option<ServerMetadata> {
        Some(ServerMetadata {
            issuer: None,
            authorization_endpoint: authorization.map(str::to_owned),
            token_endpoint: token.or(refresh)?.to_owned(),
            revocation_endpoint: None,
            introspection_endpoint: None,
            device_authorization_endpoint: device_authorization.map(str::to_owned),
            authorization_response_iss_parameter_supported: false,
        })
    }
}
