//! Living with tokens, on a paused clock against a scripted authorization
//! server that rotates refresh tokens and revokes the whole grant when a
//! used refresh token comes back (as real servers with rotation do):
//! refresh at 80%, one refresh for 10,000 callers, one refresh across
//! "processes" sharing a store, 401 → one refresh and one replay, dead
//! grants → `ReauthorizationRequired` and an event, scopes checked before
//! a call, and no secret in any `Debug` or error.

use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use wharf_runtime::auth::{
    AuthEvent, Credential, CredentialConfig, MemoryStore, TokenEndpoint, TokenError, TokenSet,
    TokenStore,
};
use wharf_runtime::call::{
    AuthFailure, AuthFuture, CallOptions, ErrorKind, Integration, IntegrationConfig, OperationMeta,
    Request, SchemeScopes, SecurityRequirement,
};
use wharf_runtime::http::Method;
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport};
use wharf_runtime::time::{Clock, FollowingWallClock};

const LIFETIME: Duration = Duration::from_secs(100);

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// An authorization server with refresh-token rotation.
#[derive(Debug)]
struct RotatingServer {
    clock: Arc<dyn Clock>,
    valid_refresh: Mutex<String>,
    refreshes: AtomicUsize,
    invalid_grants: AtomicUsize,
    /// The whole grant was revoked (reuse detected, or by an admin).
    revoked: AtomicBool,
    latency: Duration,
}

impl RotatingServer {
    fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(RotatingServer {
            clock,
            valid_refresh: Mutex::new("RT-0".into()),
            refreshes: AtomicUsize::new(0),
            invalid_grants: AtomicUsize::new(0),
            revoked: AtomicBool::new(false),
            latency: Duration::from_millis(50),
        })
    }

    fn initial_tokens(&self) -> TokenSet {
        tokens("AT-0", "RT-0", self.clock.wall(), &["read"])
    }
}

fn tokens(access: &str, refresh: &str, issued_at: SystemTime, scopes: &[&str]) -> TokenSet {
    TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: Some(SecretString::from(refresh.to_owned())),
        id_token: None,
        token_type: "Bearer".into(),
        issued_at,
        lifetime: Some(LIFETIME),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

impl TokenEndpoint for RotatingServer {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a SecretString,
        scopes: &'a [String],
        now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        Box::pin(async move {
            self.clock.sleep(self.latency).await;
            let mut valid = self.valid_refresh.lock().unwrap();
            if self.revoked.load(Ordering::SeqCst) || refresh_token.expose_secret() != *valid {
                // Reuse of a rotated refresh token revokes the grant.
                self.revoked.store(true, Ordering::SeqCst);
                self.invalid_grants.fetch_add(1, Ordering::SeqCst);
                return Err(TokenError::InvalidGrant { description: None });
            }
            let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
            *valid = format!("RT-{n}");
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            Ok(tokens(&format!("AT-{n}"), &valid, now, &scopes))
        })
    }
}

struct Setup {
    clock: Arc<dyn Clock>,
    server: Arc<RotatingServer>,
    store: Arc<MemoryStore>,
    events: Arc<Mutex<Vec<AuthEvent>>>,
}

impl Setup {
    async fn new() -> Setup {
        let clock: Arc<dyn Clock> = Arc::new(FollowingWallClock::starting_at(t0()));
        let server = RotatingServer::new(clock.clone());
        let store = Arc::new(MemoryStore::new());
        store
            .save("github:me", &server.initial_tokens())
            .await
            .unwrap();
        Setup {
            clock,
            server,
            store,
            events: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A credential (one "process") over the shared store and server.
    fn credential(&self, jitter: f64) -> Credential {
        let c = Credential::with_config(
            "github:me",
            self.store.clone(),
            self.server.clone(),
            self.clock.clone(),
            CredentialConfig {
                jitter,
                jitter_seed: Some(7),
                ..CredentialConfig::default()
            },
        );
        let events = self.events.clone();
        c.on_event(move |e| events.lock().unwrap().push(e.clone()));
        c
    }

    fn refreshes(&self) -> usize {
        self.server.refreshes.load(Ordering::SeqCst)
    }
}

#[tokio::test(start_paused = true)]
async fn background_refresh_happens_at_80_percent_of_the_lifetime() {
    let s = Setup::new().await;
    let c = s.credential(0.0);
    let refresher = c.spawn_refresher();
    tokio::time::sleep(Duration::from_secs(79)).await;
    assert_eq!(s.refreshes(), 0, "nothing before 80 s of a 100 s token");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        s.refreshes(),
        1,
        "refreshed at 80 s (+50 ms of endpoint latency)"
    );
    // The next token was issued at ~80 s: its refresh is due at ~160 s.
    tokio::time::sleep(Duration::from_secs(78)).await;
    assert_eq!(s.refreshes(), 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(s.refreshes(), 2);
    // Calls in between never waited: the token in use was always valid.
    let (t, _) = c.access_token().await.unwrap();
    assert_eq!(t.access_token.expose_secret(), "AT-2");
    assert!(!t.is_expired(s.clock.wall()));
    refresher.abort();
}

#[tokio::test(start_paused = true)]
async fn jitter_spreads_refreshes_within_two_percent() {
    for seed in 0..20u64 {
        let s = Setup::new().await;
        let c = Credential::with_config(
            "github:me",
            s.store.clone(),
            s.server.clone(),
            s.clock.clone(),
            CredentialConfig {
                jitter_seed: Some(seed),
                ..CredentialConfig::default()
            },
        );
        let started = tokio::time::Instant::now();
        let refresher = c.spawn_refresher();
        while s.refreshes() == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let at = started.elapsed().as_secs_f64();
        assert!(
            (77.9..=82.2).contains(&at),
            "seed {seed}: refreshed at {at} s"
        );
        refresher.abort();
    }
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_callers_at_expiry_cause_exactly_one_refresh() {
    let s = Setup::new().await;
    let c = s.credential(0.0);
    c.access_token().await.unwrap();
    tokio::time::sleep(LIFETIME).await; // expired, no background refresher
    let mut tasks = Vec::new();
    for _ in 0..10_000 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.access_token().await }));
    }
    for t in tasks {
        let (tokens, _) = t.await.unwrap().unwrap();
        assert_eq!(tokens.access_token.expose_secret(), "AT-1");
    }
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.server.invalid_grants.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn processes_sharing_a_store_refresh_once_and_never_trip_rotation() {
    let s = Setup::new().await;
    // Four "processes", each with fifty tasks, all at expiry.
    let processes: Vec<Credential> = (0..4).map(|_| s.credential(0.0)).collect();
    for p in &processes {
        p.access_token().await.unwrap();
    }
    tokio::time::sleep(LIFETIME).await;
    let mut tasks = Vec::new();
    for p in &processes {
        for _ in 0..50 {
            let p = p.clone();
            tasks.push(tokio::spawn(async move { p.access_token().await }));
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(s.refreshes(), 1, "one refresh per expiry across processes");
    assert_eq!(s.server.invalid_grants.load(Ordering::SeqCst), 0);
    assert!(
        !s.server.revoked.load(Ordering::SeqCst),
        "the grant survived"
    );
    let adopted = s
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, AuthEvent::Adopted { .. }))
        .count();
    assert_eq!(adopted, 3, "the other three adopted the stored tokens");
}

#[tokio::test(start_paused = true)]
async fn a_revoked_grant_ends_in_reauthorization_required_and_one_event() {
    let s = Setup::new().await;
    let c = s.credential(0.0);
    c.access_token().await.unwrap();
    s.server.revoked.store(true, Ordering::SeqCst);
    tokio::time::sleep(LIFETIME).await;
    let e = c.access_token().await.unwrap_err();
    assert_eq!(
        e,
        AuthFailure::ReauthorizationRequired {
            credential: "github:me".into()
        }
    );
    let attempts = s.server.invalid_grants.load(Ordering::SeqCst);
    // Later calls fail fast: no retry loop against the token endpoint.
    for _ in 0..100 {
        assert!(c.access_token().await.is_err());
    }
    assert_eq!(s.server.invalid_grants.load(Ordering::SeqCst), attempts);
    assert!(c.needs_reauthorization());
    let events = s.events.lock().unwrap().clone();
    assert_eq!(
        events,
        [AuthEvent::ReauthorizationRequired {
            credential: "github:me".into()
        }]
    );
}

fn operation(scopes: &'static [&'static str]) -> OperationMeta {
    let mut op = OperationMeta::new("repos/get", Method::GET, "/repos");
    op.security = Box::leak(Box::new([SecurityRequirement {
        schemes: Box::leak(Box::new([SchemeScopes {
            scheme: "oauth",
            scopes,
            oauth: true,
        }])),
    }]));
    op
}

fn integration(server: Arc<FaultServer>, c: &Credential, clock: Arc<dyn Clock>) -> Integration {
    Integration::builder("github")
        .config(IntegrationConfig {
            breaker: None,
            ..IntegrationConfig::default()
        })
        .transport(Arc::new(FaultTransport::new(server, clock.clone())))
        .clock(clock)
        .authenticator(Arc::new(c.clone()))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_401_leads_to_one_refresh_and_one_replay() {
    let s = Setup::new().await;
    let c = s.credential(0.0);
    // The API refuses the first token (revoked server-side), accepts later ones.
    let api = FaultServer::failing_first(1, Fault::status(401));
    let i = integration(api.clone(), &c, s.clock.clone());
    let op = operation(&["read"]);
    let response = i
        .call(
            Request::new(op.clone(), "https://api.test/repos"),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(s.refreshes(), 1);
    assert_eq!(api.log().requests.len(), 2, "the call was replayed once");

    // An API that keeps refusing: one refresh, one replay, then the 401.
    let refusing = FaultServer::new(|_| Fault::status(401));
    let i = integration(refusing.clone(), &c, s.clock.clone());
    let err = i
        .call(
            Request::new(op, "https://api.test/repos"),
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(refusing.log().requests.len(), 2);
    assert_eq!(s.refreshes(), 2);
}

#[tokio::test(start_paused = true)]
async fn missing_scopes_are_refused_before_sending_and_403_insufficient_scope_is_typed() {
    let s = Setup::new().await;
    let c = s.credential(0.0);
    let api = FaultServer::new(|_| Fault::ok());
    let i = integration(api.clone(), &c, s.clock.clone());
    let err = i
        .call(
            Request::new(operation(&["read", "write"]), "https://api.test/repos"),
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Auth(AuthFailure::InsufficientScope { missing }) if missing == &["write"]),
        "{err:?}"
    );
    assert!(api.log().requests.is_empty(), "nothing was sent");

    let forbidding = FaultServer::new(|_| {
        Fault::status(403).with_header(
            "www-authenticate",
            "Bearer error=\"insufficient_scope\", scope=\"read admin\"",
        )
    });
    let i = integration(forbidding, &c, s.clock.clone());
    let err = i
        .call(
            Request::new(operation(&["read"]), "https://api.test/repos"),
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Auth(AuthFailure::InsufficientScope { missing }) if missing == &["admin"]),
        "{err:?}"
    );
    // Operations without security get no token at all.
    let status = OperationMeta::new("status", Method::GET, "/status");
    let authorization = wharf_runtime::call::Authenticator::authorize(&c, &status)
        .await
        .unwrap();
    assert!(authorization.is_none());
    let open = FaultServer::new(|_| Fault::ok());
    let i = integration(open.clone(), &c, s.clock.clone());
    i.call(
        Request::new(status, "https://api.test/status"),
        CallOptions::default(),
    )
    .await
    .unwrap();
}

#[tokio::test(start_paused = true)]
async fn no_token_appears_in_debug_or_errors() {
    let s = Setup::new().await;
    s.store
        .save(
            "github:me",
            &tokens("CANARY-ACCESS", "CANARY-REFRESH", s.clock.wall(), &["read"]),
        )
        .await
        .unwrap();
    let c = s.credential(0.0);
    let (t, _) = c.access_token().await.unwrap();
    let shown = format!("{c:?} {t:?} {:?}", s.store);
    assert!(!shown.contains("CANARY"), "{shown}");
    tokio::time::sleep(LIFETIME).await;
    let e = c.access_token().await.unwrap_err();
    assert!(!format!("{e} {e:?}").contains("CANARY"));
}

#[tokio::test(start_paused = true)]
async fn a_credential_for_one_scheme_does_not_authenticate_another() {
    use wharf_runtime::call::Authenticator;
    let s = Setup::new().await;
    let other = Credential::with_config(
        "github:me",
        s.store.clone(),
        s.server.clone(),
        s.clock.clone(),
        CredentialConfig {
            scheme: Some("apiKey"),
            ..CredentialConfig::default()
        },
    );
    assert!(other
        .authorize(&operation(&["read"]))
        .await
        .unwrap()
        .is_none());
    let mine = Credential::with_config(
        "github:me",
        s.store.clone(),
        s.server.clone(),
        s.clock.clone(),
        CredentialConfig {
            scheme: Some("oauth"),
            ..CredentialConfig::default()
        },
    );
    assert!(mine
        .authorize(&operation(&["read"]))
        .await
        .unwrap()
        .is_some());
}
