//! [`SchemeAuth`]: authentication without OAuth, one per `securitySchemes`
//! entry of type `apiKey` (in a header, the query or a cookie), `http`
//! `basic` or `http` `bearer`. It authenticates the operations whose
//! security lists its scheme alone; an operation that needs another scheme
//! fails with [`AuthFailure::NoSchemeConfigured`] naming what it needs.
//! Several schemes at once: [`super::Authenticators`].

use super::key_source::KeySource;
use crate::call::{AuthFailure, AuthFuture, Authenticator, Authorization, Placement};
use crate::operation::OperationMeta;
use crate::policy::ConfigError;
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use secrecy::ExposeSecret;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// One non-OAuth security scheme, configured.
pub struct SchemeAuth {
    scheme: Cow<'static, str>,
    kind: Kind,
    secret: Arc<KeySource>,
}

enum Kind {
    ApiKey(Placement),
    Basic { user: String },
    Bearer,
}

impl super::flows::SecurityScheme {
    /// The ready authenticator of an `apiKey` scheme (the key in the
    /// header, query parameter or cookie the spec names) or an `http`
    /// `bearer` one, sending `secret`: `security_schemes::API_KEY
    /// .authenticator(KeySource::from_env("STRIPE_KEY")?)`. Other schemes
    /// are a configuration error saying what they need instead.
    pub fn authenticator(&self, secret: Arc<KeySource>) -> Result<SchemeAuth, ConfigError> {
        let setting = || format!("security_schemes.{}", self.name);
        match (self.kind, self.http_scheme, self.key_location) {
            ("apiKey", _, Some(location)) => {
                let name = self.key_name.filter(|n| !n.is_empty()).ok_or_else(|| {
                    ConfigError::new(setting(), "the apiKey scheme names no parameter (`name`)")
                })?;
                match location {
                    "header" => SchemeAuth::api_key_header(self.name, name, secret)
                        .map_err(|e| e.within(&setting())),
                    "query" => Ok(SchemeAuth::api_key_query(self.name, name, secret)),
                    "cookie" => Ok(SchemeAuth::api_key_cookie(self.name, name, secret)),
                    other => Err(ConfigError::new(
                        setting(),
                        format!("an apiKey `in: {other}` is not a place a key can go (header, query, cookie)"),
                    )),
                }
            }
            ("http", Some("bearer"), _) => Ok(SchemeAuth::bearer(self.name, secret)),
            ("http", Some("basic"), _) => Err(ConfigError::new(
                setting(),
                "an http basic scheme needs a user too: use basic_authenticator(user, password)",
            )),
            ("oauth2" | "openIdConnect", _, _) => Err(ConfigError::new(
                setting(),
                "an OAuth scheme is served by a Credential (wharf::auth), not a static secret",
            )),
            (kind, http, _) => Err(ConfigError::new(
                setting(),
                format!(
                    "no ready authenticator for a `{kind}` scheme{}",
                    http.map_or_else(String::new, |h| format!(" `{h}`"))
                ),
            )),
        }
    }

    /// The ready authenticator of an `http` `basic` scheme: `user` and the
    /// password in `password` (Twilio: the account SID and the auth token).
    pub fn basic_authenticator(
        &self,
        user: &str,
        password: Arc<KeySource>,
    ) -> Result<SchemeAuth, ConfigError> {
        if (self.kind, self.http_scheme) == ("http", Some("basic")) {
            return Ok(SchemeAuth::basic(self.name, user, password));
        }
        Err(ConfigError::new(
            format!("security_schemes.{}", self.name),
            format!(
                "not an http basic scheme (a `{}`{} one)",
                self.kind,
                self.http_scheme
                    .map_or_else(String::new, |h| format!(" `{h}`"))
            ),
        ))
    }
}

impl SchemeAuth {
    /// An API key sent in header `header` (e.g. `X-Shopify-Access-Token`).
    pub fn api_key_header(
        scheme: impl Into<Cow<'static, str>>,
        header: &str,
        key: Arc<KeySource>,
    ) -> Result<Self, ConfigError> {
        let name = HeaderName::from_bytes(header.as_bytes())
            .map_err(|e| ConfigError::caused_by("api_key.header", e))?;
        Ok(SchemeAuth::new(
            scheme,
            Kind::ApiKey(Placement::Header(name)),
            key,
        ))
    }

    /// An API key sent as query parameter `name`.
    pub fn api_key_query(
        scheme: impl Into<Cow<'static, str>>,
        name: &str,
        key: Arc<KeySource>,
    ) -> Self {
        SchemeAuth::new(
            scheme,
            Kind::ApiKey(Placement::Query(name.to_owned().into())),
            key,
        )
    }

    /// An API key sent as cookie `name`.
    pub fn api_key_cookie(
        scheme: impl Into<Cow<'static, str>>,
        name: &str,
        key: Arc<KeySource>,
    ) -> Self {
        SchemeAuth::new(
            scheme,
            Kind::ApiKey(Placement::Cookie(name.to_owned().into())),
            key,
        )
    }

    /// HTTP basic: `user` and a password (Twilio: the account SID and the
    /// auth token).
    pub fn basic(
        scheme: impl Into<Cow<'static, str>>,
        user: &str,
        password: Arc<KeySource>,
    ) -> Self {
        SchemeAuth::new(
            scheme,
            Kind::Basic {
                user: user.to_owned(),
            },
            password,
        )
    }

    /// HTTP bearer with a static token (Stripe: the secret key).
    pub fn bearer(scheme: impl Into<Cow<'static, str>>, token: Arc<KeySource>) -> Self {
        SchemeAuth::new(scheme, Kind::Bearer, token)
    }

    fn new(scheme: impl Into<Cow<'static, str>>, kind: Kind, secret: Arc<KeySource>) -> Self {
        SchemeAuth {
            scheme: scheme.into(),
            kind,
            secret,
        }
    }

    /// The scheme's name in the spec's `securitySchemes`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The credential for one attempt, from the current secret.
    fn authorization(&self) -> Result<Authorization, AuthFailure> {
        let (secret, generation) = self.secret.current();
        let secret = secret.expose_secret();
        let (placement, text) = match &self.kind {
            Kind::ApiKey(placement) => (placement.clone(), Cow::Borrowed(secret)),
            Kind::Basic { user } => {
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
                (
                    Placement::Header(http::header::AUTHORIZATION),
                    Cow::Owned(format!("Basic {pair}")),
                )
            }
            Kind::Bearer => (
                Placement::Header(http::header::AUTHORIZATION),
                Cow::Owned(format!("Bearer {secret}")),
            ),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            AuthFailure::Unavailable(format!(
                "the {} secret cannot be sent in a request",
                self.scheme
            ))
        })?;
        value.set_sensitive(true);
        Ok(Authorization {
            placement,
            value,
            generation,
        })
    }
}

/// Whether one of `operation`'s security alternatives is `scheme` alone;
/// `Err` lists what it needs when none is (`None`: no authentication).
pub(super) fn alternative_for(
    operation: &OperationMeta,
    configured: &[&str],
) -> Result<Option<usize>, AuthFailure> {
    if operation.security.is_empty() {
        return Ok(None);
    }
    for alternative in operation.security {
        if let [only] = alternative.schemes {
            if let Some(index) = configured.iter().position(|c| *c == only.scheme) {
                return Ok(Some(index));
            }
        }
    }
    Err(AuthFailure::NoSchemeConfigured {
        needed: operation
            .security
            .iter()
            .map(|a| {
                a.schemes
                    .iter()
                    .map(|s| s.scheme)
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect(),
    })
}

impl Authenticator for SchemeAuth {
    fn authorize<'a>(
        &'a self,
        operation: &'a OperationMeta,
    ) -> AuthFuture<'a, Result<Option<Authorization>, AuthFailure>> {
        let result = alternative_for(operation, &[&self.scheme])
            .and_then(|found| found.map(|_| self.authorization()).transpose());
        Box::pin(std::future::ready(result))
    }

    /// A refused static secret cannot be renewed here: the 401 stands.
    fn rejected<'a>(
        &'a self,
        _generation: u64,
        _status: StatusCode,
        _headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<bool, AuthFailure>> {
        Box::pin(std::future::ready(Ok(false)))
    }
}

impl fmt::Debug for SchemeAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::ApiKey(placement) => format!("api key in {placement:?}"),
            Kind::Basic { user } => format!("basic as {user:?}"),
            Kind::Bearer => "bearer".to_owned(),
        };
        f.debug_struct("SchemeAuth")
            .field("scheme", &self.scheme)
            .field("kind", &kind)
            .field("secret", &self.secret)
            .finish()
    }
}
