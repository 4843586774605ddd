//! The authorization server's endpoints: metadata (RFC 8414), authorize
//! with PKCE S256 required and `iss` in responses (RFC 7636, RFC 9207),
//! the consent page's decision, token (RFC 6749 §4.1, §4.4, §6), revocation
//! (RFC 7009) and introspection (RFC 7662).

use super::super::fault::Fault;
use super::super::wire::WireRequest;
use super::api::USER_LOGIN;
use super::config::{GrantType, SandboxClient};
use super::grants::{Issued, PendingConsent, Refused, Revoked};
use super::log::{AuthorizeRequest, Revocation, RevocationCause, TokenRequest};
use super::server::Shared;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

pub(super) const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub(super) const CONSENT_PATH: &str = "/oauth/consent";
pub(super) const TOKEN_PATH: &str = "/oauth/token";
pub(super) const REVOKE_PATH: &str = "/oauth/revoke";
pub(super) const INTROSPECT_PATH: &str = "/oauth/introspect";
pub(super) const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// The RFC 8414 document.
pub(super) fn metadata(shared: &Shared) -> Fault {
    let issuer = &shared.issuer;
    let document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT_PATH}"),
        "scopes_supported": shared.config.scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    });
    json_answer(200, &document)
}

fn json_answer(status: u16, body: &Value) -> Fault {
    Fault::Respond {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            // RFC 6749 §5.1: token responses must not be cached.
            ("cache-control".into(), "no-store".into()),
            ("pragma".into(), "no-cache".into()),
        ],
        body: body.to_string().into(),
    }
}

/// A page for errors the redirect URI cannot be trusted with (RFC 6749
/// §4.1.2.1): the user sees it, the client never does.
fn page(status: u16, message: &str) -> Fault {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Harbor sandbox</title><p>{}</p>",
        escape(message)
    );
    Fault::Respond {
        status,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body: body.into(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An OAuth error of the token, revocation or introspection endpoint.
struct Failure {
    status: u16,
    code: &'static str,
    description: &'static str,
}

fn failure(code: &'static str, description: &'static str) -> Failure {
    let status = if code == "invalid_client" { 401 } else { 400 };
    Failure {
        status,
        code,
        description,
    }
}

impl Failure {
    fn answer(&self) -> Fault {
        let fault = json_answer(
            self.status,
            &json!({"error": self.code, "error_description": self.description}),
        );
        if self.status == 401 {
            // RFC 6749 §5.2: a 401 names the scheme the client should use.
            fault.with_header("www-authenticate", "Basic realm=\"harbor\"")
        } else {
            fault
        }
    }
}

impl From<Refused> for Failure {
    fn from(r: Refused) -> Self {
        failure(r.code, r.description)
    }
}

/// Form or query parameters; a repeated one is refused (RFC 6749 §3.1).
fn parameters(text: &[u8]) -> Result<HashMap<String, String>, &'static str> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(text) {
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err("a parameter is repeated");
        }
    }
    Ok(out)
}

/// The body of a POST endpoint, which must be a form.
fn form(request: &WireRequest) -> Result<HashMap<String, String>, Failure> {
    let is_form = request.header("content-type").is_some_and(|c| {
        c.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if !is_form {
        return Err(failure(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    parameters(&request.body).map_err(|why| failure("invalid_request", why))
}

fn split_scopes(text: &str) -> BTreeSet<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Scopes the server knows, or `None` when one is not.
fn known_scopes(shared: &Shared, text: &str) -> Option<BTreeSet<String>> {
    let scopes = split_scopes(text);
    scopes
        .iter()
        .all(|s| shared.config.scopes.contains(s))
        .then_some(scopes)
}

/// Loopback redirect URIs on any port (RFC 8252 §7.3), or one registered.
fn redirect_allowed(client: &SandboxClient, uri: &str) -> bool {
    if client.redirect_uris.iter().any(|r| r == uri) {
        return true;
    }
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    url.scheme() == "http"
        && loopback
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// A 302 back to the client with `pairs` added to its redirect URI.
fn redirect(uri: &str, pairs: &[(&str, &str)]) -> Fault {
    let Ok(mut url) = url::Url::parse(uri) else {
        return page(400, "The redirect URI is not a URL.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    Fault::Respond {
        status: 302,
        headers: vec![
            ("location".into(), url.into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body: Default::default(),
    }
}

/// Where the authorization response goes, with `state` and `iss`.
struct Callback<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    issuer: &'a str,
}

impl Callback<'_> {
    fn send(&self, pairs: &[(&str, &str)]) -> Fault {
        let mut all = pairs.to_vec();
        if let Some(state) = self.state {
            all.push(("state", state));
        }
        all.push(("iss", self.issuer));
        redirect(self.redirect_uri, &all)
    }

    fn error(&self, code: &str, description: &str) -> Fault {
        self.send(&[("error", code), ("error_description", description)])
    }
}

/// `GET /oauth/authorize` (RFC 6749 §4.1.1 with RFC 7636).
pub(super) fn authorize(shared: &Shared, request: &WireRequest) -> Fault {
    let mut entry = AuthorizeRequest {
        client_id: None,
        error: None,
    };
    let fault = authorize_inner(shared, request, &mut entry);
    shared.record(|log| log.authorizations.push(entry));
    fault
}

fn authorize_inner(shared: &Shared, request: &WireRequest, entry: &mut AuthorizeRequest) -> Fault {
    if request.method != "GET" {
        entry.error = Some("method".into());
        return page(405, "Use GET.").with_header("allow", "GET");
    }
    let Ok(params) = parameters(request.query().as_bytes()) else {
        return refuse(entry, "invalid_request", "A parameter is repeated.");
    };
    let get = |k: &str| params.get(k).map(String::as_str);
    let Some(client) = get("client_id").and_then(|id| shared.config.client(id)) else {
        return refuse(entry, "invalid_client", "Unknown client.");
    };
    entry.client_id = Some(client.client_id.clone());
    let Some(redirect_uri) = get("redirect_uri").filter(|uri| redirect_allowed(client, uri)) else {
        return refuse(
            entry,
            "invalid_redirect_uri",
            "The redirect URI is missing, or neither loopback nor registered for this client.",
        );
    };
    // From here the redirect URI is trusted: errors go back to the client.
    let back = Callback {
        redirect_uri,
        state: get("state"),
        issuer: &shared.issuer,
    };
    let mut fail = |code: &str, description: &str| {
        entry.error = Some(code.to_owned());
        back.error(code, description)
    };
    if get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return fail(
            "unauthorized_client",
            "this client may not use the authorization code grant",
        );
    }
    if get("code_challenge_method") != Some("S256") {
        return fail(
            "invalid_request",
            "PKCE is required, with code_challenge_method=S256",
        );
    }
    let challenge = match get("code_challenge") {
        // BASE64URL of a SHA-256 digest: 43 characters.
        Some(c)
            if c.len() == 43
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            c.to_owned()
        }
        _ => return fail("invalid_request", "code_challenge is not an S256 challenge"),
    };
    let scopes = match get("scope").and_then(|s| known_scopes(shared, s)) {
        Some(s) if !s.is_empty() => s,
        _ => return fail("invalid_scope", "ask for one or more of the known scopes"),
    };
    let pending = PendingConsent::new(
        client.client_id.clone(),
        redirect_uri.to_owned(),
        get("state").map(str::to_owned),
        challenge,
        scopes,
    );
    if shared.config.auto_consent {
        let code = shared.grants().new_code(&pending, USER_LOGIN);
        return back.send(&[("code", &code)]);
    }
    let scope_list = pending
        .scopes
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let client_id = pending.client_id.clone();
    let id = shared.grants().hold_consent(pending);
    entry.error = Some("consent_pending".into());
    consent_page(&client_id, &scope_list, &id)
}

/// A 400 page, logged with `reason`.
fn refuse(entry: &mut AuthorizeRequest, reason: &str, message: &str) -> Fault {
    entry.error = Some(reason.to_owned());
    page(400, message)
}

fn consent_page(client_id: &str, scopes: &str, id: &str) -> Fault {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Authorize {client}</title>\
<h1>Harbor sandbox</h1><p>{client} asks to act as {user} with: {scopes}.</p>\
<form method=post action=\"{CONSENT_PATH}\"><input type=hidden name=request value=\"{id}\">\
<button name=decision value=approve>Approve</button> \
<button name=decision value=deny>Deny</button></form>",
        client = escape(client_id),
        user = USER_LOGIN,
        scopes = escape(scopes),
        id = escape(id),
    );
    Fault::Respond {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body: body.into(),
    }
}

/// `POST /oauth/consent`: the consent page's form.
pub(super) fn consent(shared: &Shared, request: &WireRequest) -> Fault {
    let mut entry = AuthorizeRequest {
        client_id: None,
        error: None,
    };
    let fault = consent_inner(shared, request, &mut entry);
    shared.record(|log| log.authorizations.push(entry));
    fault
}

fn consent_inner(shared: &Shared, request: &WireRequest, entry: &mut AuthorizeRequest) -> Fault {
    if request.method != "POST" {
        entry.error = Some("method".into());
        return page(405, "Use POST.").with_header("allow", "POST");
    }
    let Ok(params) = form(request) else {
        entry.error = Some("invalid_request".into());
        return page(400, "The form is malformed.");
    };
    let pending = params
        .get("request")
        .and_then(|id| shared.grants().take_consent(id));
    let Some(pending) = pending else {
        entry.error = Some("invalid_request".into());
        return page(400, "This authorization request is unknown or expired.");
    };
    entry.client_id = Some(pending.client_id.clone());
    let back = Callback {
        redirect_uri: &pending.redirect_uri,
        state: pending.state.as_deref(),
        issuer: &shared.issuer,
    };
    if params.get("decision").map(String::as_str) != Some("approve") {
        entry.error = Some("access_denied".into());
        return back.error("access_denied", "the user denied the request");
    }
    let code = shared.grants().new_code(&pending, USER_LOGIN);
    back.send(&[("code", &code)])
}

/// Compares secrets through their digests, in time independent of where
/// they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let digest = |s: &str| ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    let (a, b) = (digest(a), digest(b));
    a.as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn form_decode(part: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&part.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The client making a request to the token, revocation or introspection
/// endpoint: `client_secret_basic`, `client_secret_post`, or a public
/// client's `client_id` (RFC 6749 §2.3).
fn authenticate<'s>(
    shared: &'s Shared,
    request: &WireRequest,
    params: &HashMap<String, String>,
) -> Result<&'s SandboxClient, Failure> {
    let basic = request.header("authorization").and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    let bad_client = || failure("invalid_client", "client authentication failed");
    let (client_id, secret) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(failure(
                "invalid_request",
                "use one client authentication method, not two",
            ))
        }
        (Some(encoded), None) => {
            let decoded = BASE64
                .decode(encoded)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_client)?;
            let (id, secret) = decoded.split_once(':').ok_or_else(bad_client)?;
            let id = form_decode(id).ok_or_else(bad_client)?;
            if params.get("client_id").is_some_and(|p| *p != id) {
                return Err(failure(
                    "invalid_request",
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(form_decode(secret).ok_or_else(bad_client)?))
        }
        (None, secret) => {
            let id = params.get("client_id").ok_or_else(bad_client)?;
            (id.clone(), secret.cloned())
        }
    };
    let client = shared.config.client(&client_id).ok_or_else(bad_client)?;
    let authentic = match (&client.client_secret, &secret) {
        (Some(expected), Some(given)) => same_secret(expected.expose_secret(), given),
        // A public client has nothing to prove; one that sends a secret is
        // not what it claims.
        (None, None) => true,
        _ => false,
    };
    if authentic {
        Ok(client)
    } else {
        Err(bad_client())
    }
}

/// `POST /oauth/token`.
pub(super) fn token(shared: &Shared, request: &WireRequest) -> Fault {
    let mut entry = TokenRequest {
        grant_type: None,
        client_id: None,
        error: None,
    };
    let fault = match token_inner(shared, request, &mut entry) {
        Ok(issued) => json_answer(200, &issued.response(shared.config.access_token_lifetime)),
        Err(f) => {
            entry.error = Some(f.code.to_owned());
            f.answer()
        }
    };
    shared.record(|log| log.token_requests.push(entry));
    fault
}

fn token_inner(
    shared: &Shared,
    request: &WireRequest,
    entry: &mut TokenRequest,
) -> Result<Issued, Failure> {
    if request.method != "POST" {
        return Err(failure("invalid_request", "use POST"));
    }
    let params = form(request)?;
    entry.grant_type = params.get("grant_type").cloned();
    let client = authenticate(shared, request, &params)?;
    entry.client_id = Some(client.client_id.clone());
    let grant = entry
        .grant_type
        .as_deref()
        .ok_or_else(|| failure("invalid_request", "grant_type is missing"))?;
    let grant = GrantType::parse(grant)
        .ok_or_else(|| failure("unsupported_grant_type", "unsupported grant_type"))?;
    if !client.allows(grant) {
        return Err(failure(
            "unauthorized_client",
            "this client may not use this grant type",
        ));
    }
    let get = |k: &str| params.get(k).map(String::as_str);
    let lifetime = shared.config.access_token_lifetime;
    let outcome = match grant {
        GrantType::AuthorizationCode => {
            let code = get("code").ok_or_else(|| failure("invalid_request", "code is missing"))?;
            shared.grants().redeem_code(
                code,
                &client.client_id,
                get("redirect_uri"),
                get("code_verifier"),
                lifetime,
                client.allows(GrantType::RefreshToken),
            )
        }
        GrantType::RefreshToken => {
            let token = get("refresh_token")
                .ok_or_else(|| failure("invalid_request", "refresh_token is missing"))?;
            let scopes = match get("scope") {
                None => None,
                Some(s) => Some(
                    known_scopes(shared, s)
                        .ok_or_else(|| failure("invalid_scope", "unknown scope"))?,
                ),
            };
            shared.grants().refresh(
                token,
                &client.client_id,
                scopes,
                shared.config.refresh_token_rotation,
                lifetime,
            )
        }
        GrantType::ClientCredentials => {
            // RFC 6749 §4.4: confidential clients only.
            if client.client_secret.is_none() {
                return Err(failure(
                    "unauthorized_client",
                    "client credentials need a confidential client",
                ));
            }
            // Without `scope`, every scope the server knows.
            let scopes = match get("scope") {
                None => shared.config.scopes.iter().cloned().collect(),
                Some(s) => known_scopes(shared, s)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| failure("invalid_scope", "unknown scope"))?,
            };
            Ok(shared
                .grants()
                .client_credentials(&client.client_id, scopes, lifetime))
        }
    };
    outcome.map_err(|refused| {
        if let Some(cause) = refused.reuse {
            shared.record(|log| {
                log.revocations.push(Revocation {
                    cause,
                    client_id: Some(client.client_id.clone()),
                    token_type: None,
                    grants: refused.revoked_grants,
                })
            });
        }
        Failure::from(refused)
    })
}

/// `POST /oauth/revoke` (RFC 7009).
pub(super) fn revoke(shared: &Shared, request: &WireRequest) -> Fault {
    match revoke_inner(shared, request) {
        Ok(()) => Fault::Respond {
            status: 200,
            headers: vec![("cache-control".into(), "no-store".into())],
            body: Default::default(),
        },
        Err(f) => f.answer(),
    }
}

fn revoke_inner(shared: &Shared, request: &WireRequest) -> Result<(), Failure> {
    if request.method != "POST" {
        return Err(failure("invalid_request", "use POST"));
    }
    let params = form(request)?;
    let client = authenticate(shared, request, &params)?;
    let token = params
        .get("token")
        .ok_or_else(|| failure("invalid_request", "token is missing"))?;
    match shared.grants().revoke(token, &client.client_id) {
        Revoked::Unknown => Ok(()),
        Revoked::OtherClient => Err(failure(
            "unauthorized_client",
            "the token was issued to another client",
        )),
        Revoked::Done { token_type, grants } => {
            shared.record(|log| {
                log.revocations.push(Revocation {
                    cause: RevocationCause::Endpoint,
                    client_id: Some(client.client_id.clone()),
                    token_type: Some(token_type),
                    grants,
                })
            });
            Ok(())
        }
    }
}

/// `POST /oauth/introspect` (RFC 7662).
pub(super) fn introspect(shared: &Shared, request: &WireRequest) -> Fault {
    let answer = (|| {
        if request.method != "POST" {
            return Err(failure("invalid_request", "use POST"));
        }
        let params = form(request)?;
        authenticate(shared, request, &params)?;
        let token = params
            .get("token")
            .ok_or_else(|| failure("invalid_request", "token is missing"))?;
        Ok(shared.grants().introspect(token, &shared.issuer))
    })();
    match answer {
        Ok(document) => json_answer(200, &document),
        Err(f) => f.answer(),
    }
}
