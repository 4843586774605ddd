//! OAuth against a real, certified authorization server: npm `oidc-provider`
//! over TLS (a CA made at test time), with PKCE required, refresh-token
//! rotation, revocation, introspection and client credentials. The server's
//! own events are counted: refreshes (`refresh_token.consumed`), revoked
//! grants and `invalid_grant` errors.
//!
//! oidc-provider comes from npm (`scripts/install-oidc.sh`, run by
//! `scripts/test.sh`). Without it these tests fail; they never skip.

mod peers;

use peers::oidc::{login, OidcServer};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wharf_runtime::auth::{AuthEvent, Credential, MemoryStore, TokenStore};
use wharf_runtime::call::AuthFailure;
use wharf_runtime::time::{Clock, TokioClock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_login_refresh_with_rotation_introspection_and_logout() {
    let server = OidcServer::start(r#"{"autoConsent":true}"#);
    let client = server.client("cli", None).await;
    assert!(
        client
            .metadata
            .authorization_response_iss_parameter_supported
    );
    let tokens = login(&server, &client).await;
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access gave a refresh token"
    );
    assert!(tokens.scopes.contains("repo"), "{:?}", tokens.scopes);
    assert_eq!(server.count("grant.success"), 1);

    let store = Arc::new(MemoryStore::new());
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let credential = Credential::new("oidc:me", store.clone(), Arc::new(client.clone()), clock);
    credential.set_tokens(tokens.clone()).await.unwrap();
    let (_, generation) = credential.access_token().await.unwrap();
    credential.refresh(generation).await.expect("refresh");
    let (fresh, _) = credential.access_token().await.unwrap();
    assert_ne!(
        fresh.access_token.expose_secret(),
        tokens.access_token.expose_secret()
    );
    assert_ne!(
        fresh.refresh_token.as_ref().unwrap().expose_secret(),
        tokens.refresh_token.as_ref().unwrap().expose_secret(),
        "the server rotated the refresh token"
    );
    assert_eq!(server.count("refresh_token.consumed"), 1);

    let active = client
        .introspect(&fresh.access_token)
        .await
        .expect("introspection");
    assert!(active.active);

    credential.logout(&client).await.expect("revocation");
    assert!(store.load("oidc:me").await.unwrap().is_none());
    let after = client
        .introspect(&fresh.access_token)
        .await
        .expect("introspection");
    assert!(!after.active, "revoked at the server");
    assert_eq!(server.invalid_grants(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_by_the_server_ends_in_reauthorization_required() {
    let server = OidcServer::start(r#"{"autoConsent":true}"#);
    let client = server.client("cli", None).await;
    let tokens = login(&server, &client).await;
    let credential = Credential::new(
        "oidc:me",
        Arc::new(MemoryStore::new()),
        Arc::new(client.clone()),
        Arc::new(TokioClock),
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    credential.on_event(move |e| sink.lock().unwrap().push(e.clone()));
    credential.set_tokens(tokens.clone()).await.unwrap();
    // An administrator revokes the grant.
    client
        .revoke(tokens.refresh_token.as_ref().unwrap(), "refresh_token")
        .await
        .unwrap();
    let (_, generation) = credential.access_token().await.unwrap();
    let e = credential.refresh(generation).await.unwrap_err();
    assert!(
        matches!(e, AuthFailure::ReauthorizationRequired { .. }),
        "{e:?}"
    );
    assert!(events
        .lock()
        .unwrap()
        .contains(&AuthEvent::ReauthorizationRequired {
            credential: "oidc:me".into()
        }));
    assert_eq!(
        server.invalid_grants(),
        1,
        "one refresh attempt, no retry loop"
    );
    assert!(credential.access_token().await.is_err());
    assert_eq!(server.invalid_grants(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_basic_authentication() {
    let server = OidcServer::start(r#"{"autoConsent":true}"#);
    let client = server
        .client("service", Some("service-secret-for-tests"))
        .await;
    let tokens = client
        .client_credentials(&[])
        .await
        .expect("client credentials");
    assert!(!tokens.access_token.expose_secret().is_empty());
    assert!(tokens.lifetime.is_some());
    let wrong = server.client("service", Some("wrong-secret")).await;
    let e = wrong.client_credentials(&[]).await.unwrap_err();
    assert!(e.to_string().contains("invalid_client"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_of_fifty_tasks_refresh_once_per_expiry_on_a_short_ttl() {
    let server = OidcServer::start(r#"{"autoConsent":true,"accessTtl":2}"#);
    let client = server.client("cli", None).await;
    let tokens = login(&server, &client).await;
    assert_eq!(tokens.lifetime, Some(Duration::from_secs(2)));
    // One shared store: four "processes", each its own Credential.
    let store = Arc::new(MemoryStore::new());
    store.save("oidc:me", &tokens).await.unwrap();
    let processes: Vec<Credential> = (0..4)
        .map(|_| {
            Credential::new(
                "oidc:me",
                store.clone(),
                Arc::new(client.clone()),
                Arc::new(TokioClock),
            )
        })
        .collect();
    for round in 1..=2 {
        tokio::time::sleep(Duration::from_millis(2_100)).await; // past expiry
        let started = Instant::now();
        let mut tasks = Vec::new();
        for p in &processes {
            for _ in 0..50 {
                let p = p.clone();
                tasks.push(tokio::spawn(async move { p.access_token().await }));
            }
        }
        for t in tasks {
            let (token, _) = t.await.unwrap().expect("a valid token");
            assert!(!token.is_expired(std::time::SystemTime::now()));
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            server.count("refresh_token.consumed"),
            round,
            "one refresh per expiry"
        );
    }
    assert_eq!(server.invalid_grants(), 0);
    assert_eq!(
        server.count("grant.revoked"),
        0,
        "rotation never saw a reused refresh token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_refresh_at_80_percent_on_a_real_short_ttl() {
    let server = OidcServer::start(r#"{"autoConsent":true,"accessTtl":5}"#);
    let client = server.client("cli", None).await;
    let tokens = login(&server, &client).await;
    let credential = Credential::with_config(
        "oidc:me",
        Arc::new(MemoryStore::new()),
        Arc::new(client.clone()),
        Arc::new(TokioClock),
        wharf_runtime::auth::CredentialConfig {
            jitter: 0.0,
            ..Default::default()
        },
    );
    credential.set_tokens(tokens).await.unwrap();
    let refresher = credential.spawn_refresher();
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(server.count("refresh_token.consumed"), 0, "not before 4 s");
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(
        server.count("refresh_token.consumed"),
        1,
        "refreshed at 80% (4 s)"
    );
    let (t, _) = credential.access_token().await.unwrap();
    assert!(!t.is_expired(std::time::SystemTime::now()));
    refresher.abort();
}
