//! Token-endpoint requests and authorization URLs, shaped by a provider
//! profile: client authentication by Basic or in the body, form or JSON
//! bodies, extra authorization parameters, the profile's scope separator.

use super::profile::{ClientAuth, ProviderProfile};
use crate::call::HttpRequest;
use crate::client::form_body;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// An OAuth client registration.
#[derive(Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    /// Absent for public clients (CLIs, desktop apps: PKCE instead).
    pub client_secret: Option<SecretString>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A request parameter whose value may be a secret (codes, verifiers,
/// refresh tokens): kept boxed until the body is built.
pub enum Param<'a> {
    Plain(&'a str, &'a str),
    Secret(&'a str, &'a SecretString),
}

/// A POST to the token endpoint (or revocation, introspection, device
/// authorization endpoints, which take the same client authentication).
pub fn endpoint_request(
    profile: &ProviderProfile,
    url: &str,
    client: &ClientCredentials,
    params: &[Param<'_>],
) -> Result<HttpRequest, String> {
    let mut fields: Vec<(String, String)> = params
        .iter()
        .map(|p| match p {
            Param::Plain(k, v) => ((*k).to_owned(), (*v).to_owned()),
            Param::Secret(k, v) => ((*k).to_owned(), v.expose_secret().to_owned()),
        })
        .collect();
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    match (profile.client_auth, &client.client_secret) {
        (ClientAuth::Basic, Some(secret)) => {
            // RFC 6749 §2.3.1: both parts form-encoded before base64.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(&client.client_id), enc(secret.expose_secret()));
            let mut value =
                HeaderValue::from_str(&format!("Basic {}", BASE64.encode(pair.as_bytes())))
                    .map_err(|_| "client credentials cannot be sent in a header".to_owned())?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        (ClientAuth::Body, Some(secret)) => {
            fields.push(("client_id".into(), client.client_id.clone()));
            fields.push(("client_secret".into(), secret.expose_secret().to_owned()));
        }
        (_, None) => fields.push(("client_id".into(), client.client_id.clone())),
    }
    let body = if profile.json_requests {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let map: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        serde_json::to_vec(&map).map_err(|e| e.to_string())?
    } else {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let map: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        form_body(&serde_json::Value::Object(map), &[]).into_bytes()
    };
    Ok(HttpRequest {
        method: Method::POST,
        url: url.to_owned(),
        headers,
        body: body.into(),
    })
}

/// An authorization-code request URL (RFC 6749 §4.1.1 with PKCE S256).
#[derive(Debug, Clone)]
pub struct AuthorizationRequest<'a> {
    pub authorization_url: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub state: &'a str,
    pub code_challenge: &'a str,
}

/// The URL to send the user to: the request's parameters, the profile's
/// extra parameters and scopes.
pub fn authorization_url(
    profile: &ProviderProfile,
    r: &AuthorizationRequest<'_>,
) -> Result<String, String> {
    let mut url =
        url::Url::parse(r.authorization_url).map_err(|e| format!("authorization URL: {e}"))?;
    let mut scopes: Vec<&str> = r.scopes.iter().map(String::as_str).collect();
    for extra in &profile.extra_scopes {
        if !scopes.contains(&extra.as_str()) {
            scopes.push(extra);
        }
    }
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", r.client_id)
            .append_pair("redirect_uri", r.redirect_uri)
            .append_pair("state", r.state)
            .append_pair("code_challenge", r.code_challenge)
            .append_pair("code_challenge_method", "S256");
        if !scopes.is_empty() {
            q.append_pair("scope", &profile.scope_separator.join(scopes));
        }
        for (k, v) in &profile.authorize_params {
            q.append_pair(k, v);
        }
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ClientCredentials {
        ClientCredentials {
            client_id: "app id".into(),
            client_secret: Some(SecretString::from("s3cr:t".to_owned())),
        }
    }

    #[test]
    fn basic_client_authentication_encodes_then_base64s() {
        let code = SecretString::from("CODE".to_owned());
        let r = endpoint_request(
            &ProviderProfile::default(),
            "https://as.test/token",
            &client(),
            &[
                Param::Plain("grant_type", "authorization_code"),
                Param::Secret("code", &code),
            ],
        )
        .unwrap();
        // base64("app+id:s3cr%3At")
        assert_eq!(r.headers[AUTHORIZATION], "Basic YXBwK2lkOnMzY3IlM0F0");
        assert_eq!(
            &r.body.as_bytes().unwrap()[..],
            b"grant_type=authorization_code&code=CODE"
        );
        assert!(!format!("{r:?}").contains("CODE") && !format!("{r:?}").contains("YXBw"));
    }

    #[test]
    fn body_client_authentication_and_json_requests() {
        let profile = ProviderProfile {
            json_requests: true,
            ..ProviderProfile::github()
        };
        let r = endpoint_request(
            &profile,
            "https://as.test/token",
            &client(),
            &[Param::Plain("grant_type", "refresh_token")],
        )
        .unwrap();
        assert!(r.headers.get(AUTHORIZATION).is_none());
        assert_eq!(r.headers[CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_slice(r.body.as_bytes().unwrap()).unwrap();
        assert_eq!(body["client_id"], "app id");
        assert_eq!(body["client_secret"], "s3cr:t");
    }

    #[test]
    fn authorization_urls_carry_pkce_state_and_profile_extras() {
        let scopes = vec!["repo".to_owned(), "user".to_owned()];
        let request = AuthorizationRequest {
            authorization_url: "https://as.test/authorize?tenant=x",
            client_id: "cid",
            redirect_uri: "http://127.0.0.1:5000/callback",
            scopes: &scopes,
            state: "st",
            code_challenge: "ch",
        };
        let github = authorization_url(&ProviderProfile::github(), &request).unwrap();
        assert!(github
            .starts_with("https://as.test/authorize?tenant=x&response_type=code&client_id=cid"));
        assert!(github.contains("&scope=repo%2Cuser"));
        assert!(github.contains("&code_challenge=ch&code_challenge_method=S256"));
        let google = authorization_url(&ProviderProfile::google(), &request).unwrap();
        assert!(google.ends_with("&scope=repo+user&access_type=offline&prompt=consent"));
        let microsoft = authorization_url(&ProviderProfile::microsoft(), &request).unwrap();
        assert!(microsoft.contains("&scope=repo+user+offline_access"));
    }
}
