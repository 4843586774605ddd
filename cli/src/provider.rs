//! From an integration's config to a ready [`OAuthClient`]: the spec's
//! OAuth scheme (or the issuer's discovery document) gives the endpoints
//! and the scopes; the config gives the client registration.

use crate::auth_config::Integration;
use std::sync::Arc;
use wharf::auth::{ClientCredentials, OAuthClient, ServerMetadata};
use wharf::call::{ReqwestTransport, Transport};
use wharf_codegen::{Generator, SchemeDef};

/// An integration's authorization server, as this machine talks to it.
#[derive(Debug)]
pub(crate) struct Provider {
    pub client: OAuthClient,
    /// Every scope the spec's scheme defines (empty without a spec).
    pub scheme_scopes: Vec<String>,
    /// The scheme's name in the spec, for messages.
    pub scheme_name: Option<String>,
}

impl Provider {
    pub(crate) async fn connect(integration: &Integration) -> Result<Provider, String> {
        let transport: Arc<dyn Transport> = Arc::new(
            ReqwestTransport::builder()
                // Only loopback may be plain HTTP (local servers, sandboxes).
                .allow_plain_http_loopback(true)
                .build()
                .map_err(|e| format!("cannot set up HTTPS: {e}"))?,
        );
        let scheme = match &integration.spec {
            Some(spec) => Some(oauth_scheme(integration, spec)?),
            None => None,
        };
        let mut metadata = match (&integration.issuer, &scheme) {
            (Some(issuer), _) => discover(issuer, &transport).await?,
            (None, Some(def)) if def.kind == "openIdConnect" => {
                let issuer = issuer_of_openid_url(def)?;
                discover(&issuer, &transport).await?
            }
            (None, Some(def)) => metadata_from_scheme(def).ok_or_else(|| {
                format!(
                    "security scheme {:?} names no tokenUrl; set `issuer` for integration {:?}",
                    def.name, integration.name
                )
            })?,
            // The config check requires a spec or an issuer.
            (None, None) => return Err("neither `spec` nor `issuer` is set".into()),
        };
        if let Some(url) = &integration.revocation_url {
            metadata.revocation_endpoint = Some(url.clone());
        }
        let client = ClientCredentials {
            client_id: integration.client_id.clone(),
            client_secret: integration.client_secret()?,
        };
        Ok(Provider {
            client: OAuthClient::new(metadata, integration.profile.clone(), client, transport),
            scheme_scopes: scheme
                .as_ref()
                .map(|s| s.scopes.clone())
                .unwrap_or_default(),
            scheme_name: scheme.map(|s| s.name),
        })
    }
}

async fn discover(issuer: &str, transport: &Arc<dyn Transport>) -> Result<ServerMetadata, String> {
    OAuthClient::discover(issuer, transport)
        .await
        .map_err(|e| format!("discovery at issuer {issuer}: {e}"))
}

/// The integration's OAuth scheme: the one named by `scheme`, or the only
/// `oauth2`/`openIdConnect` scheme of the spec.
fn oauth_scheme(integration: &Integration, spec: &std::path::Path) -> Result<SchemeDef, String> {
    let (schemes, _) = Generator::new(spec)
        .rerun_if_changed(false)
        .cargo_warnings(false)
        .security_schemes()
        .map_err(|e| format!("spec of integration {:?}: {e}", integration.name))?;
    let is_oauth = |s: &SchemeDef| s.is_oauth();
    let names = |pick: &dyn Fn(&SchemeDef) -> bool| {
        let list: Vec<&str> = schemes
            .iter()
            .filter(|s| pick(s))
            .map(|s| s.name.as_str())
            .collect();
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    };
    let at = spec.display();
    match &integration.scheme {
        Some(wanted) => {
            let Some(found) = schemes.iter().find(|s| &s.name == wanted) else {
                return Err(format!(
                    "{at} has no security scheme {wanted:?} (it has: {})",
                    names(&|_| true)
                ));
            };
            if !is_oauth(found) {
                return Err(format!(
                    "security scheme {wanted:?} in {at} is {:?}, not oauth2 or openIdConnect",
                    found.kind
                ));
            }
            Ok(found.clone())
        }
        None => {
            let mut oauth = schemes.iter().filter(|s| is_oauth(s));
            match (oauth.next(), oauth.next()) {
                (Some(only), None) => Ok(only.clone()),
                (None, _) => Err(format!(
                    "{at} has no oauth2 or openIdConnect security scheme (schemes: {}); set `issuer` instead of `spec`",
                    names(&|_| true)
                )),
                (Some(_), Some(_)) => Err(format!(
                    "{at} has several OAuth schemes ({}); choose one with `scheme` in integration {:?}",
                    names(&is_oauth),
                    integration.name
                )),
            }
        }
    }
}

/// [`ServerMetadata::from_scheme`] for a scheme read at run time (that one
/// takes generated `'static` data).
fn metadata_from_scheme(def: &SchemeDef) -> Option<ServerMetadata> {
    ServerMetadata::from_flow_urls(
        def.authorization_url.as_deref(),
        def.token_url.as_deref(),
        def.refresh_url.as_deref(),
        def.device_authorization_url.as_deref(),
    )
}

/// The issuer of an `openIdConnectUrl` (`<issuer>/.well-known/openid-configuration`).
fn issuer_of_openid_url(def: &SchemeDef) -> Result<String, String> {
    def.openid_connect_url
        .as_deref()
        .and_then(|u| u.strip_suffix("/.well-known/openid-configuration"))
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "security scheme {:?} has no openIdConnectUrl ending in /.well-known/openid-configuration; set `issuer`",
                def.name
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(kind: &str) -> SchemeDef {
        SchemeDef {
            const_name: "S".into(),
            name: "s".into(),
            kind: kind.into(),
            authorization_url: Some("https://as.test/authorize".into()),
            token_url: None,
            refresh_url: Some("https://as.test/token".into()),
            device_authorization_url: None,
            openid_connect_url: Some(
                "https://id.test/tenant/.well-known/openid-configuration".into(),
            ),
            scopes: vec!["a".into()],
            http_scheme: None,
            key_location: None,
            key_name: None,
        }
    }

    #[test]
    fn owned_schemes_become_metadata() {
        let m = metadata_from_scheme(&scheme("oauth2")).unwrap();
        assert_eq!(m.token_endpoint, "https://as.test/token");
        assert_eq!(
            m.authorization_endpoint.as_deref(),
            Some("https://as.test/authorize")
        );
        let none = SchemeDef {
            refresh_url: None,
            ..scheme("oauth2")
        };
        assert!(metadata_from_scheme(&none).is_none());
        assert_eq!(
            issuer_of_openid_url(&scheme("openIdConnect")).unwrap(),
            "https://id.test/tenant"
        );
    }
}
