//! The embedded sandbox provider, through wharf's own client side: discovery,
//! PKCE login over the loopback listener (with the sandbox's stand-in
//! browser), consent, refresh with rotation and reuse detection, client
//! credentials, revocation and introspection, the API's token and scope
//! checks, pagination, idempotent replays, scripted faults through an
//! `Integration` with retries, and the drift switch. Real sockets on
//! 127.0.0.1 and real time; every test is bounded.

use http::{HeaderMap, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use wharf_runtime::auth::{
    ClientAuth, Credential, FlowError, MemoryStore, OAuthClient, ProviderProfile, TokenEndpoint,
    TokenError, TokenSet,
};
use wharf_runtime::call::{
    AuthFailure, CallOptions, ErrorKind, HttpRequest, Integration, IntegrationConfig,
    OperationMeta, Request, Response, SchemeScopes, SecurityRequirement, Transport,
};
use wharf_runtime::policy::retry::RetryPolicy;
use wharf_runtime::testing::sandbox::{
    self, auto_browser, auto_browser_with, rate_limited, unavailable, Consent, GrantType,
    RevocationCause, Sandbox, SandboxConfig, Target, TokenCheck,
};
use wharf_runtime::testing::Fault;
use wharf_runtime::time::TokioClock;

/// No test runs longer than this.
const BOUND: Duration = Duration::from_secs(20);

async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(BOUND, test)
        .await
        .expect("the test ran past its bound")
}

fn transport() -> Arc<dyn Transport> {
    Arc::new(Sandbox::transport().expect("transport"))
}

async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn quickstart(sandbox: &Sandbox) -> OAuthClient {
    sandbox
        .oauth_client(sandbox::QUICKSTART_CLIENT_ID, transport())
        .expect("registered")
}

fn service(sandbox: &Sandbox) -> OAuthClient {
    sandbox
        .oauth_client(sandbox::SERVICE_CLIENT_ID, transport())
        .expect("registered")
}

/// A full PKCE login with the stand-in browser.
async fn login(client: &OAuthClient, wanted: &[&str]) -> TokenSet {
    client
        .login_loopback(
            &scopes(wanted),
            |url| drop(auto_browser(url)),
            Duration::from_secs(10),
        )
        .await
        .expect("login")
}

async fn send(
    method: Method,
    url: String,
    token: Option<&SecretString>,
    headers: &[(&'static str, &str)],
    body: &[u8],
) -> Response {
    let mut map = HeaderMap::new();
    if let Some(t) = token {
        let value = format!("Bearer {}", t.expose_secret());
        map.insert(http::header::AUTHORIZATION, value.parse().unwrap());
    }
    for (k, v) in headers {
        map.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    transport()
        .send(HttpRequest {
            method,
            url,
            headers: map,
            body: body.to_vec().into(),
        })
        .await
        .expect("the sandbox answers")
}

async fn get(sandbox: &Sandbox, path: &str, token: Option<&SecretString>) -> Response {
    send(
        Method::GET,
        format!("{}{path}", sandbox.base_url()),
        token,
        &[],
        b"",
    )
    .await
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("a JSON body")
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A form POST to an OAuth endpoint as a public client.
async fn post_form(url: String, pairs: &[(&str, &str)]) -> Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    send(
        Method::POST,
        url,
        None,
        &[("content-type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .await
}

static REPO_READ: &[SecurityRequirement] = &[SecurityRequirement {
    schemes: &[SchemeScopes {
        scheme: "harbor_oauth",
        scopes: &["repo:read"],
        oauth: true,
    }],
}];
static USER_READ: &[SecurityRequirement] = &[SecurityRequirement {
    schemes: &[SchemeScopes {
        scheme: "harbor_oauth",
        scopes: &["user:read"],
        oauth: true,
    }],
}];
static REPO_WRITE: &[SecurityRequirement] = &[SecurityRequirement {
    schemes: &[SchemeScopes {
        scheme: "harbor_oauth",
        scopes: &["repo:write"],
        oauth: true,
    }],
}];

fn get_repo() -> OperationMeta {
    let mut op = OperationMeta::new("getRepo", Method::GET, "/repos/{owner}/{repo}");
    op.security = REPO_READ;
    op
}

fn get_user() -> OperationMeta {
    let mut op = OperationMeta::new("getUser", Method::GET, "/user");
    op.security = USER_READ;
    op
}

fn create_issue() -> OperationMeta {
    let mut op = OperationMeta::new("createIssue", Method::POST, "/repos/{owner}/{repo}/issues")
        .with_idempotency_key();
    op.security = REPO_WRITE;
    op
}

/// A credential holding `tokens`, refreshed through `client`.
async fn credential(client: &OAuthClient, tokens: TokenSet) -> Credential {
    let credential = Credential::new(
        "harbor:test",
        Arc::new(MemoryStore::new()),
        Arc::new(client.clone()),
        Arc::new(TokioClock),
    );
    credential.set_tokens(tokens).await.expect("stored");
    credential
}

/// An integration with quick retries, authenticated by `credential`.
fn integration(credential: &Credential) -> Integration {
    Integration::builder("harbor")
        .config(IntegrationConfig {
            jitter_seed: Some(7),
            attempt_timeout: Duration::from_secs(3),
            retry: RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(5),
                cap: Duration::from_millis(20),
            },
            ..IntegrationConfig::default()
        })
        .transport(transport())
        .authenticator(Arc::new(credential.clone()))
        .build()
        .expect("integration")
}

#[tokio::test]
async fn discovery_finds_the_sandbox_metadata() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        assert_eq!(sandbox.base_url(), sandbox.issuer());
        assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
        let found = OAuthClient::discover(&sandbox.issuer(), &transport())
            .await
            .expect("discovery");
        assert_eq!(found, sandbox.metadata());
        let document = json(&get(&sandbox, "/.well-known/oauth-authorization-server", None).await);
        assert_eq!(
            document["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            document["scopes_supported"],
            serde_json::json!(sandbox::SCOPES)
        );
    })
    .await;
}

#[tokio::test]
async fn pkce_login_through_the_loopback_listener() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let tokens = login(&client, &["user:read", "repo:read"]).await;
        assert!(tokens.refresh_token.is_some());
        assert_eq!(tokens.lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(
            tokens.scopes.iter().map(String::as_str).collect::<Vec<_>>(),
            ["repo:read", "user:read"]
        );
        let me = get(&sandbox, "/user", Some(&tokens.access_token)).await;
        assert_eq!(me.status.as_u16(), 200);
        assert_eq!(
            json(&me),
            serde_json::json!({"login": "ada", "name": "Ada Lovelace", "plan": "pro"})
        );
        assert!(header(&me, "x-ratelimit-remaining").parse::<u64>().is_ok());
        assert!(header(&me, "x-ratelimit-reset").parse::<u64>().unwrap() > 1_700_000_000);

        let seen = client.introspect(&tokens.access_token).await.unwrap();
        assert!(seen.active);
        assert_eq!(
            seen.client_id.as_deref(),
            Some(sandbox::QUICKSTART_CLIENT_ID)
        );
        assert_eq!(seen.scope.as_deref(), Some("repo:read user:read"));

        let log = sandbox.log();
        assert_eq!(log.grants(GrantType::AuthorizationCode), 1);
        assert_eq!(log.authorizations.len(), 1);
        assert_eq!(log.authorizations[0].error, None);
        // The log never holds a token.
        let printed = format!("{log:?} {sandbox:?}");
        assert!(!printed.contains(tokens.access_token.expose_secret()));
        assert!(!printed.contains(tokens.refresh_token.as_ref().unwrap().expose_secret()));
    })
    .await;
}

#[tokio::test]
async fn the_consent_page_approves_or_denies() {
    bounded(async {
        let sandbox = start(SandboxConfig {
            auto_consent: false,
            ..SandboxConfig::default()
        })
        .await;
        let client = quickstart(&sandbox);
        let tokens = login(&client, &["repo:read"]).await;
        assert!(tokens.scopes.contains("repo:read"));

        let denied = client
            .login_loopback(
                &scopes(&["repo:write"]),
                |url| drop(auto_browser_with(url, Consent::Deny)),
                Duration::from_secs(10),
            )
            .await;
        assert!(
            matches!(denied, Err(FlowError::Denied { ref error, .. }) if error == "access_denied"),
            "{denied:?}"
        );
        let errors: Vec<_> = sandbox
            .log()
            .authorizations
            .into_iter()
            .map(|a| a.error)
            .collect();
        assert_eq!(
            errors,
            [
                Some("consent_pending".into()),
                None,
                Some("consent_pending".into()),
                Some("access_denied".into())
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn authorization_errors_redirect_only_to_trusted_uris() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let authorize = |pairs: &[(&str, &str)]| {
            let mut url =
                url::Url::parse(&format!("{}/oauth/authorize", sandbox.base_url())).unwrap();
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        };
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let good = [
            ("response_type", "code"),
            ("client_id", sandbox::QUICKSTART_CLIENT_ID),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("state", "st"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("scope", "repo:read"),
        ];
        let with = |key: &str, value: &'static str| {
            let mut pairs: Vec<(&str, &str)> =
                good.iter().filter(|(k, _)| *k != key).copied().collect();
            if !value.is_empty() {
                pairs.push((key, value));
            }
            authorize(&pairs)
        };

        // Untrusted client or redirect: a page, never a redirect.
        for url in [
            with("client_id", "nobody"),
            with("redirect_uri", "https://attacker.example/callback"),
            with("redirect_uri", "http://localhost:9/callback"),
            with("redirect_uri", ""),
        ] {
            let r = send(Method::GET, url, None, &[], b"").await;
            assert_eq!(r.status.as_u16(), 400);
            assert!(r.headers.get("location").is_none());
        }

        // Trusted redirect: the error goes back with state and iss.
        for (url, error) in [
            (with("code_challenge_method", "plain"), "invalid_request"),
            (with("code_challenge_method", ""), "invalid_request"),
            (with("code_challenge", ""), "invalid_request"),
            (with("scope", "repo:read admin"), "invalid_scope"),
            (with("response_type", "token"), "unsupported_response_type"),
        ] {
            let r = send(Method::GET, url, None, &[], b"").await;
            assert_eq!(r.status.as_u16(), 302);
            let location = url::Url::parse(header(&r, "location")).unwrap();
            assert!(location
                .as_str()
                .starts_with("http://127.0.0.1:9/callback?"));
            let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
            assert_eq!(q["error"], error);
            assert_eq!(q["state"], "st");
            assert_eq!(q["iss"], sandbox.issuer());
            assert!(!q.contains_key("code"));
        }

        // An IPv6 loopback redirect is fine too, and the client rejects an
        // answer carrying another issuer (RFC 9207).
        let pending = client
            .start_authorization(&scopes(&["repo:read"]), "http://[::1]:9/callback")
            .unwrap();
        let r = send(Method::GET, pending.url.clone(), None, &[], b"").await;
        assert_eq!(r.status.as_u16(), 302);
        let location = url::Url::parse(header(&r, "location")).unwrap();
        let forged = location.query().unwrap().replace("iss=http", "iss=https");
        assert_eq!(
            client
                .complete_authorization(&pending, &forged)
                .await
                .unwrap_err(),
            FlowError::IssuerMismatch
        );
    })
    .await;
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_their_verifier() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let redirect = "http://127.0.0.1:9/callback";
        let code_for = |pending: wharf_runtime::auth::PendingAuthorization| async move {
            let r = send(Method::GET, pending.url.clone(), None, &[], b"").await;
            let location = url::Url::parse(header(&r, "location")).unwrap();
            (pending, location.query().unwrap().to_owned())
        };

        // Another login's verifier does not fit this code.
        let (first, first_query) = code_for(
            client
                .start_authorization(&scopes(&["repo:read"]), redirect)
                .unwrap(),
        )
        .await;
        let other = client
            .start_authorization(&scopes(&["repo:read"]), redirect)
            .unwrap();
        let code = url::form_urlencoded::parse(first_query.as_bytes())
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let r = post_form(
            sandbox.metadata().token_endpoint,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", sandbox::QUICKSTART_CLIENT_ID),
                ("code", &code),
                ("redirect_uri", redirect),
                (
                    "code_verifier",
                    "wrong-verifier-wrong-verifier-wrong-verifier-0",
                ),
            ],
        )
        .await;
        assert_eq!(r.status.as_u16(), 400);
        assert_eq!(json(&r)["error"], "invalid_grant");
        assert_eq!(header(&r, "cache-control"), "no-store");
        // ... and that attempt used the code up.
        let again = client.complete_authorization(&first, &first_query).await;
        assert!(matches!(
            again,
            Err(FlowError::Token(TokenError::InvalidGrant { .. }))
        ));
        drop(other);

        // A code exchanged twice revokes what the first exchange gave.
        let (pending, query) = code_for(
            client
                .start_authorization(&scopes(&["repo:read"]), redirect)
                .unwrap(),
        )
        .await;
        let tokens = client
            .complete_authorization(&pending, &query)
            .await
            .unwrap();
        assert_eq!(
            get(&sandbox, "/repos", Some(&tokens.access_token))
                .await
                .status
                .as_u16(),
            200
        );
        let replayed = client.complete_authorization(&pending, &query).await;
        assert!(matches!(
            replayed,
            Err(FlowError::Token(TokenError::InvalidGrant { .. }))
        ));
        let after = get(&sandbox, "/repos", Some(&tokens.access_token)).await;
        assert_eq!(after.status.as_u16(), 401);
        assert!(header(&after, "www-authenticate").contains("error=\"invalid_token\""));
        let log = sandbox.log();
        assert_eq!(log.revocations_by(RevocationCause::CodeReuse), 2);
        assert_eq!(log.revocations.iter().map(|r| r.grants).sum::<usize>(), 1);
        assert_eq!(log.grants(GrantType::AuthorizationCode), 1);
        assert_eq!(log.token_errors("invalid_grant"), 3);
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_grant() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let tokens = login(&client, &["repo:read", "repo:write"]).await;
        let old = tokens.refresh_token.clone().unwrap();
        let now = std::time::SystemTime::now();
        let fresh = client
            .refresh(&old, &scopes(&["repo:read", "repo:write"]), now)
            .await
            .expect("refresh");
        let new = fresh.refresh_token.clone().unwrap();
        assert_ne!(new.expose_secret(), old.expose_secret());
        assert_ne!(
            fresh.access_token.expose_secret(),
            tokens.access_token.expose_secret()
        );
        assert_eq!(
            get(&sandbox, "/repos", Some(&fresh.access_token))
                .await
                .status
                .as_u16(),
            200
        );

        // Narrowing is allowed, widening is not.
        let token_url = sandbox.metadata().token_endpoint;
        let narrow = post_form(
            token_url.clone(),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", sandbox::QUICKSTART_CLIENT_ID),
                ("refresh_token", new.expose_secret()),
                ("scope", "repo:read"),
            ],
        )
        .await;
        assert_eq!(narrow.status.as_u16(), 200);
        let narrow = json(&narrow);
        assert_eq!(narrow["scope"], "repo:read");
        let newest = narrow["refresh_token"].as_str().unwrap().to_owned();
        let wide = post_form(
            token_url,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", sandbox::QUICKSTART_CLIENT_ID),
                ("refresh_token", &newest),
                ("scope", "repo:read user:read"),
            ],
        )
        .await;
        assert_eq!(json(&wide)["error"], "invalid_scope");

        // The first refresh token again: theft, so the whole grant ends.
        let reuse = client.refresh(&old, &[], now).await;
        assert!(matches!(reuse, Err(TokenError::InvalidGrant { .. })));
        let newest = SecretString::from(newest);
        assert!(matches!(
            client.refresh(&newest, &[], now).await,
            Err(TokenError::InvalidGrant { .. })
        ));
        let dead = get(&sandbox, "/repos", Some(&fresh.access_token)).await;
        assert_eq!(dead.status.as_u16(), 401);
        let log = sandbox.log();
        assert_eq!(log.refreshes(), 2);
        assert_eq!(log.revocations_by(RevocationCause::RefreshTokenReuse), 1);
        assert_eq!(log.api_requests.last().unwrap().token, TokenCheck::Revoked);
    })
    .await;
}

#[tokio::test]
async fn without_rotation_the_refresh_token_stays() {
    bounded(async {
        let sandbox = start(SandboxConfig {
            refresh_token_rotation: false,
            ..SandboxConfig::default()
        })
        .await;
        let client = quickstart(&sandbox);
        let tokens = login(&client, &["repo:read"]).await;
        let rt = tokens.refresh_token.clone().unwrap();
        let now = std::time::SystemTime::now();
        for _ in 0..2 {
            let fresh = client.refresh(&rt, &[], now).await.expect("refresh");
            assert_eq!(
                fresh.refresh_token.unwrap().expose_secret(),
                rt.expose_secret()
            );
        }
        assert_eq!(sandbox.log().refreshes(), 2);
        assert!(sandbox.log().revocations.is_empty());
    })
    .await;
}

#[tokio::test]
async fn client_credentials_with_basic_and_post_authentication() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let basic = service(&sandbox);
        assert_eq!(basic.profile.client_auth, ClientAuth::Basic);
        let tokens = basic.client_credentials(&[]).await.expect("basic");
        assert!(tokens.refresh_token.is_none());
        assert_eq!(tokens.scopes.len(), 3);
        let me = json(&get(&sandbox, "/user", Some(&tokens.access_token)).await);
        assert_eq!(me["login"], "wharf-service[bot]");

        let mut post = service(&sandbox);
        post.profile = ProviderProfile {
            client_auth: ClientAuth::Body,
            ..ProviderProfile::default()
        };
        let narrow = post
            .client_credentials(&scopes(&["repo:read"]))
            .await
            .expect("post");
        assert_eq!(narrow.scopes.len(), 1);

        let mut wrong = service(&sandbox);
        wrong.client.client_secret = Some(SecretString::from("not-the-secret".to_owned()));
        let refused = wrong.client_credentials(&[]).await.unwrap_err();
        assert!(
            matches!(refused, FlowError::Token(TokenError::OAuth { ref code, status: 401, .. }) if code == "invalid_client"),
            "{refused:?}"
        );
        // A public client may not use client credentials.
        let public = quickstart(&sandbox).client_credentials(&[]).await.unwrap_err();
        assert!(
            matches!(public, FlowError::Token(TokenError::OAuth { ref code, .. }) if code == "unauthorized_client"),
            "{public:?}"
        );
        assert_eq!(sandbox.log().grants(GrantType::ClientCredentials), 2);
        assert_eq!(sandbox.log().token_errors("invalid_client"), 1);
    })
    .await;
}

#[tokio::test]
async fn revocation_ends_tokens_and_grants() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let tokens = login(&client, &["repo:read"]).await;
        let rt = tokens.refresh_token.clone().unwrap();

        // An access token alone: it dies, the grant lives on.
        client
            .revoke(&tokens.access_token, "access_token")
            .await
            .unwrap();
        assert_eq!(
            get(&sandbox, "/repos", Some(&tokens.access_token))
                .await
                .status
                .as_u16(),
            401
        );
        assert!(
            !client
                .introspect(&tokens.access_token)
                .await
                .unwrap()
                .active
        );
        let now = std::time::SystemTime::now();
        let fresh = client
            .refresh(&rt, &[], now)
            .await
            .expect("still refreshable");

        // A refresh token: the grant and its access tokens end.
        let rt = fresh.refresh_token.clone().unwrap();
        assert!(client.introspect(&rt).await.unwrap().active);
        client.revoke(&rt, "refresh_token").await.unwrap();
        assert_eq!(
            get(&sandbox, "/repos", Some(&fresh.access_token))
                .await
                .status
                .as_u16(),
            401
        );
        assert!(matches!(
            client.refresh(&rt, &[], now).await,
            Err(TokenError::InvalidGrant { .. })
        ));
        // Unknown tokens are no error (RFC 7009 §2.2).
        client
            .revoke(
                &SecretString::from("hbr_nothing".to_owned()),
                "refresh_token",
            )
            .await
            .unwrap();
        let log = sandbox.log();
        assert_eq!(log.revocations_by(RevocationCause::Endpoint), 2);
        assert_eq!(
            log.revocations
                .iter()
                .map(|r| (r.token_type, r.grants))
                .collect::<Vec<_>>(),
            [(Some("access_token"), 0), (Some("refresh_token"), 1)]
        );
    })
    .await;
}

#[tokio::test]
async fn a_revoked_app_ends_in_reauthorization_required() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let credential = credential(&client, login(&client, &["user:read"]).await).await;
        let api = integration(&credential);
        let url = format!("{}/user", sandbox.base_url());
        let ok = api
            .call(
                Request::new(get_user(), url.clone()),
                CallOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(ok.status.as_u16(), 200);

        sandbox.revoke_grants();
        let e = api
            .call(Request::new(get_user(), url), CallOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::Auth(AuthFailure::ReauthorizationRequired { .. })
            ),
            "{e:?}"
        );
        assert!(credential.needs_reauthorization());
        let log = sandbox.log();
        assert_eq!(log.revocations_by(RevocationCause::Admin), 1);
        assert_eq!(log.token_errors("invalid_grant"), 1, "one refresh, no loop");
        let checks: Vec<_> = log.requests_to("getUser").map(|r| r.token).collect();
        assert_eq!(checks, [TokenCheck::Valid, TokenCheck::Revoked]);
    })
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_call_replayed() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = quickstart(&sandbox);
        let credential = credential(&client, login(&client, &["repo:read"]).await).await;
        let api = integration(&credential);
        sandbox.expire_access_tokens();
        let response = api
            .call(
                Request::new(
                    get_repo(),
                    format!("{}/repos/ada/letters", sandbox.base_url()),
                ),
                CallOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(json(&response)["visibility"], "private");
        let log = sandbox.log();
        assert_eq!(log.refreshes(), 1);
        let checks: Vec<_> = log
            .requests_to("getRepo")
            .map(|r| (r.token, r.status))
            .collect();
        assert_eq!(
            checks,
            [(TokenCheck::Expired, 401), (TokenCheck::Valid, 200)]
        );
    })
    .await;
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_in_the_background() {
    bounded(async {
        let sandbox = start(SandboxConfig {
            access_token_lifetime: Duration::from_secs(1),
            ..SandboxConfig::default()
        })
        .await;
        let client = quickstart(&sandbox);
        let tokens = login(&client, &["repo:read"]).await;
        assert_eq!(tokens.lifetime, Some(Duration::from_secs(1)));
        let credential = credential(&client, tokens).await;
        let refresher = credential.spawn_refresher();
        // At 80% of a second, give or take jitter: two refreshes in 2.5 s.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        refresher.abort();
        assert!(
            sandbox.log().refreshes() >= 2,
            "{:?}",
            sandbox.log().token_requests
        );
        let (current, _) = credential.access_token().await.unwrap();
        assert_eq!(
            get(&sandbox, "/repos", Some(&current.access_token))
                .await
                .status
                .as_u16(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn a_service_credential_renews_with_client_credentials() {
    bounded(async {
        let sandbox = start(SandboxConfig {
            access_token_lifetime: Duration::from_secs(1),
            ..SandboxConfig::default()
        })
        .await;
        let client = service(&sandbox);
        let tokens = client
            .client_credentials(&scopes(&["repo:read"]))
            .await
            .unwrap();
        assert!(tokens.refresh_token.is_none());
        let credential = Credential::new(
            "harbor:service",
            Arc::new(MemoryStore::new()),
            Arc::new(wharf_runtime::auth::ClientCredentialsGrant(client)),
            Arc::new(TokioClock),
        );
        credential.set_tokens(tokens).await.unwrap();
        let refresher = credential.spawn_refresher();
        // No refresh token: renewal is a new client-credentials grant at
        // 80% of each second, and the credential never needs a user.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        refresher.abort();
        let log = sandbox.log();
        assert!(
            log.grants(GrantType::ClientCredentials) >= 3,
            "{:?}",
            log.token_requests
        );
        assert_eq!(log.refreshes(), 0);
        assert!(!credential.needs_reauthorization());
        let (current, _) = credential.access_token().await.unwrap();
        let status = get(&sandbox, "/repos", Some(&current.access_token))
            .await
            .status;
        assert_eq!(status.as_u16(), 200);
    })
    .await;
}

#[tokio::test]
async fn the_api_checks_tokens_scopes_and_input() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let reader = service(&sandbox)
            .client_credentials(&scopes(&["repo:read"]))
            .await
            .unwrap();
        let token = Some(&reader.access_token);

        let none = get(&sandbox, "/repos", None).await;
        assert_eq!(none.status.as_u16(), 401);
        assert_eq!(header(&none, "www-authenticate"), "Bearer realm=\"harbor\"");
        let junk = SecretString::from("hba_junk".to_owned());
        let unknown = get(&sandbox, "/repos", Some(&junk)).await;
        assert_eq!(unknown.status.as_u16(), 401);
        assert!(header(&unknown, "www-authenticate").contains("error=\"invalid_token\""));
        assert_eq!(json(&unknown)["code"], "unauthorized");

        let user = get(&sandbox, "/user", token).await;
        assert_eq!(user.status.as_u16(), 403);
        assert_eq!(
            header(&user, "www-authenticate"),
            "Bearer realm=\"harbor\", error=\"insufficient_scope\", scope=\"user:read\""
        );
        let issues = format!("{}/repos/ada/letters/issues", sandbox.base_url());
        let write = send(Method::POST, issues.clone(), token, &[], b"{}").await;
        assert_eq!(write.status.as_u16(), 403);
        assert!(header(&write, "www-authenticate").contains("scope=\"repo:write\""));

        let missing = get(&sandbox, "/repos/ada/nothing-here", token).await;
        assert_eq!(missing.status.as_u16(), 404);
        assert_eq!(json(&missing)["code"], "not_found");
        assert_eq!(get(&sandbox, "/nowhere", token).await.status.as_u16(), 404);
        let wrong_method = send(
            Method::DELETE,
            format!("{}/repos", sandbox.base_url()),
            token,
            &[],
            b"",
        )
        .await;
        assert_eq!(wrong_method.status.as_u16(), 405);
        assert_eq!(
            get(&sandbox, "/repos?limit=0", token).await.status.as_u16(),
            400
        );
        assert_eq!(
            get(&sandbox, "/repos?starting_after=repo_99", token)
                .await
                .status
                .as_u16(),
            400
        );

        let writer = service(&sandbox).client_credentials(&[]).await.unwrap();
        let token = Some(&writer.access_token);
        let bad_json = send(Method::POST, issues.clone(), token, &[], b"{not json").await;
        assert_eq!(bad_json.status.as_u16(), 400);
        assert_eq!(json(&bad_json)["code"], "invalid_json");
        let no_title = send(Method::POST, issues, token, &[], br#"{"body":"x"}"#).await;
        assert_eq!(no_title.status.as_u16(), 422);

        // Malformed OAuth input is an OAuth error, never a crash.
        let token_url = sandbox.metadata().token_endpoint;
        let garbage = send(
            Method::POST,
            token_url.clone(),
            None,
            &[("content-type", "application/json")],
            b"{",
        )
        .await;
        assert_eq!(json(&garbage)["error"], "invalid_request");
        let twice = post_form(
            token_url.clone(),
            &[("grant_type", "a"), ("grant_type", "b")],
        )
        .await;
        assert_eq!(json(&twice)["error"], "invalid_request");
        let nonsense = post_form(
            token_url,
            &[
                ("grant_type", "password"),
                ("client_id", sandbox::QUICKSTART_CLIENT_ID),
            ],
        )
        .await;
        assert_eq!(json(&nonsense)["error"], "unsupported_grant_type");
        assert_eq!(
            get(&sandbox, "/repos", Some(&reader.access_token))
                .await
                .status
                .as_u16(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn repositories_come_in_three_pages_of_three() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let tokens = service(&sandbox).client_credentials(&[]).await.unwrap();
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = match &after {
                Some(id) => format!("/repos?limit=3&starting_after={id}"),
                None => "/repos?limit=3".to_owned(),
            };
            let page = json(&get(&sandbox, &query, Some(&tokens.access_token)).await);
            let items = page["data"].as_array().unwrap().clone();
            after = items
                .last()
                .and_then(|r| r["id"].as_str())
                .map(str::to_owned);
            pages.push(items.len());
            if page["has_more"] != Value::Bool(true) {
                break;
            }
            assert!(pages.len() < 5, "pagination does not end");
        }
        assert_eq!(pages, [3, 3, 1]);
        let all = json(&get(&sandbox, "/repos", Some(&tokens.access_token)).await);
        let first = &all["data"][0];
        assert_eq!(first["id"], "repo_01");
        assert_eq!(first["owner"]["login"], "ada");
        assert!(first["stars"].is_u64() && first["created_at"].is_string());
        assert!(all["data"][2]["description"].is_null());
        assert_eq!(all["has_more"], false);
    })
    .await;
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let tokens = service(&sandbox).client_credentials(&[]).await.unwrap();
        let token = Some(&tokens.access_token);
        let url = format!("{}/repos/ada/notes-that-do-not-exist/issues", sandbox.base_url());
        let missing = send(Method::POST, url, token, &[], br#"{"title":"x"}"#).await;
        assert_eq!(missing.status.as_u16(), 404);

        let url = format!("{}/repos/ada/letters/issues", sandbox.base_url());
        let body = br#"{"title":"Note G has a bug","body":"step 4"}"#;
        let key = [("idempotency-key", "key-1")];
        let first = send(Method::POST, url.clone(), token, &key, body).await;
        assert_eq!(first.status.as_u16(), 201);
        assert_eq!(
            json(&first),
            serde_json::json!({"number": 1, "title": "Note G has a bug", "body": "step 4", "state": "open"})
        );
        let again = send(Method::POST, url.clone(), token, &key, body).await;
        assert_eq!(again.status.as_u16(), 201);
        assert_eq!(json(&again)["number"], 1);
        assert_eq!(header(&again, "idempotent-replayed"), "true");
        let other_body = send(Method::POST, url.clone(), token, &key, br#"{"title":"other"}"#).await;
        assert_eq!(other_body.status.as_u16(), 422);
        assert_eq!(json(&other_body)["code"], "idempotency_key_reused");
        let unkeyed = send(Method::POST, url, token, &[], body).await;
        assert_eq!(json(&unkeyed)["number"], 2);
        assert_eq!(sandbox.log().replays(), 1);
    })
    .await;
}

#[tokio::test]
async fn scripted_faults_then_success_through_an_integration() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let client = service(&sandbox);
        let credential = credential(&client, client.client_credentials(&[]).await.unwrap()).await;
        let api = integration(&credential);
        let repo_url = format!("{}/repos/ada/analytical-engine", sandbox.base_url());

        // Two 503s, then the real answer, within one call.
        sandbox
            .faults()
            .push_times(2, Target::operation("getRepo"), unavailable());
        let response = api
            .call(
                Request::new(get_repo(), repo_url.clone()),
                CallOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(json(&response)["name"], "analytical-engine");
        let seen: Vec<_> = sandbox
            .log()
            .requests_to("getRepo")
            .map(|r| (r.status, r.fault))
            .collect();
        assert_eq!(seen, [(503, true), (503, true), (200, false)]);

        // A 429 asking for a second: the integration waits, then succeeds.
        sandbox.faults().push(
            Target::route("GET /repos/{owner}/{repo}"),
            rate_limited(Duration::from_secs(1)),
        );
        let started = std::time::Instant::now();
        let response = api
            .call(Request::new(get_repo(), repo_url), CallOptions::default())
            .await
            .unwrap();
        assert_eq!(response.status.as_u16(), 200);
        assert!(started.elapsed() >= Duration::from_millis(900));

        // The issue is opened, then the connection is reset: the retry
        // carries the same key and gets the stored answer back.
        sandbox.faults().push(
            Target::operation("createIssue"),
            Fault::Reset { processed: true },
        );
        let issue = api
            .call(
                Request::new(
                    create_issue(),
                    format!("{}/repos/ada/letters/issues", sandbox.base_url()),
                )
                .with_body(&br#"{"title":"retried"}"#[..]),
                CallOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(issue.status.as_u16(), 201);
        assert_eq!(json(&issue)["number"], 1);
        assert_eq!(header(&issue, "idempotent-replayed"), "true");
        let log = sandbox.log();
        let keys: Vec<_> = log
            .requests_to("createIssue")
            .map(|r| r.idempotency_key.clone().unwrap())
            .collect();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], keys[1]);
        assert_eq!(log.replays(), 1);
        assert_eq!(sandbox.faults().pending(), 0);

        // Faults reach the token endpoint too.
        sandbox
            .faults()
            .push(Target::route("POST /oauth/token"), unavailable());
        let e = client.client_credentials(&[]).await.unwrap_err();
        assert!(
            matches!(
                e,
                FlowError::Token(TokenError::OAuth { status: 503, .. })
                    | FlowError::Token(TokenError::Malformed { status: 503, .. })
            ),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_drift_switch_makes_get_repo_drift() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let tokens = service(&sandbox).client_credentials(&[]).await.unwrap();
        let path = "/repos/ada/analytical-engine";
        let plain = json(&get(&sandbox, path, Some(&tokens.access_token)).await);
        assert_eq!(plain["stars"], 1843);

        sandbox.faults().set_drift(true);
        let drifted = json(&get(&sandbox, path, Some(&tokens.access_token)).await);
        assert_eq!(drifted["stars"], "1843");
        assert_eq!(drifted["visibility"], "internal");
        assert!(drifted["topics"].is_array());
        // wharf's tolerant decoding takes the string and reports it.
        let stars = wharf_runtime::decode::<i64>(drifted["stars"].to_string().as_bytes()).unwrap();
        assert_eq!(stars.value, 1843);
        assert_eq!(stars.drift.len(), 1);

        sandbox.faults().set_drift(false);
        let back = json(&get(&sandbox, path, Some(&tokens.access_token)).await);
        assert_eq!(back, plain);
    })
    .await;
}

#[tokio::test]
async fn the_sandbox_stops_when_dropped() {
    bounded(async {
        let sandbox = start(SandboxConfig::default()).await;
        let url = format!("{}/repos", sandbox.base_url());
        drop(sandbox);
        // Aborting is asynchronous: give the runtime a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let result = transport()
            .send(HttpRequest {
                method: Method::GET,
                url,
                headers: HeaderMap::new(),
                body: Default::default(),
            })
            .await;
        assert!(result.is_err());
        assert!(Sandbox::start(SandboxConfig {
            access_token_lifetime: Duration::ZERO,
            ..SandboxConfig::default()
        })
        .await
        .is_err());
    })
    .await;
}
