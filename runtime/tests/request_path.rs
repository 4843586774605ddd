//! The request path bounded end to end, and the defects an outside check
//! found in it: a token refresh that ignored the call's deadline (paused
//! clock and real TCP), keys that were dropped or guessable, 502/504 after
//! a mutation retried without a plan, decode errors without their attempt
//! count, unbounded drift, a refresher that never stopped, and call futures
//! that could hang instead of failing loudly.

mod common;

use common::{integration, secured_get};
use secrecy::SecretString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wharf_runtime::auth::{
    ClientCredentials, Credential, CredentialConfig, MemoryStore, OAuthClient, ProviderProfile,
    ServerMetadata, TokenEndpoint, TokenError, TokenSet, TokenStore,
};
use wharf_runtime::call::{
    AuthFuture, CallOptions, ErrorClass, ErrorKind, Integration, IntegrationConfig, OperationMeta,
    Request, ReqwestTransport,
};
use wharf_runtime::client::{ApiError, CallSettings, ClientCore};
use wharf_runtime::http::Method;
use wharf_runtime::policy::declared::{Idempotency, Policy};
use wharf_runtime::policy::scope::Scope;
use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, FaultTransport};
use wharf_runtime::time::{Clock, FollowingWallClock, TokioClock};
use wharf_runtime::DriftKind;

const LIFETIME: Duration = Duration::from_secs(100);

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn tokens(issued_at: SystemTime) -> TokenSet {
    TokenSet {
        access_token: SecretString::from("AT-0".to_owned()),
        refresh_token: Some(SecretString::from("RT-0".to_owned())),
        id_token: None,
        token_type: "Bearer".into(),
        issued_at,
        lifetime: Some(LIFETIME),
        scopes: ["read".to_owned()].into_iter().collect(),
    }
}

/// An authorization server that takes refresh requests and never answers.
#[derive(Debug, Default)]
struct HungEndpoint {
    asked: AtomicUsize,
}

impl TokenEndpoint for HungEndpoint {
    fn refresh<'a>(
        &'a self,
        _refresh_token: &'a SecretString,
        _scopes: &'a [String],
        _now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

/// A credential whose token expired `ago` (issued `LIFETIME + ago` ago).
async fn credential(
    endpoint: Arc<dyn TokenEndpoint>,
    clock: Arc<dyn Clock>,
    issued_at: SystemTime,
) -> Credential {
    let store = Arc::new(MemoryStore::new());
    store.save("me", &tokens(issued_at)).await.unwrap();
    Credential::with_config(
        "me",
        store,
        endpoint,
        clock,
        CredentialConfig {
            jitter_seed: Some(1),
            ..CredentialConfig::default()
        },
    )
}

fn authenticated(api: &Arc<FaultServer>, c: &Credential, clock: Arc<dyn Clock>) -> Integration {
    Integration::builder("github")
        .config(IntegrationConfig {
            breaker: None,
            ..IntegrationConfig::default()
        })
        .transport(Arc::new(FaultTransport::new(api.clone(), clock.clone())))
        .clock(clock)
        .authenticator(Arc::new(c.clone()))
        .build()
        .unwrap()
}

fn within(timeout: Duration) -> CallOptions {
    CallOptions::new().timeout(timeout)
}

#[tokio::test(start_paused = true)]
async fn a_hung_token_endpoint_ends_every_call_at_its_deadline() {
    let clock: Arc<dyn Clock> = Arc::new(FollowingWallClock::starting_at(t0()));
    let endpoint = Arc::new(HungEndpoint::default());
    let expired = t0() - LIFETIME - Duration::from_secs(1);
    let c = credential(endpoint.clone(), clock.clone(), expired).await;
    let api = FaultServer::new(|_| Fault::ok());
    let i = authenticated(&api, &c, clock);
    let start = tokio::time::Instant::now();
    let calls = (0..20).map(|_| {
        let i = i.clone();
        tokio::spawn(async move {
            let request = Request::new(secured_get(), "https://api.test/repos");
            let result = i.call(request, within(Duration::from_secs(2))).await;
            (result, start.elapsed())
        })
    });
    let ended = futures_util::future::join_all(calls).await;
    for joined in ended {
        let (result, elapsed) = joined.unwrap();
        let err = result.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::DeadlineExceeded), "{err:?}");
        assert_eq!(elapsed, Duration::from_secs(2), "{err}");
        assert_eq!(err.attempts, 0, "nothing was sent");
    }
    assert_eq!(api.log().requests.len(), 0);
    assert_eq!(
        endpoint.asked.load(Ordering::SeqCst),
        1,
        "20 callers joined one refresh"
    );
}

#[tokio::test(start_paused = true)]
async fn a_401_whose_refresh_hangs_ends_at_the_deadline() {
    let clock: Arc<dyn Clock> = Arc::new(FollowingWallClock::starting_at(t0()));
    let endpoint = Arc::new(HungEndpoint::default());
    let c = credential(endpoint.clone(), clock.clone(), t0()).await;
    // The API refuses the (unexpired) token: 401 → refresh → replay.
    let api = FaultServer::new(|_| Fault::status(401));
    let i = authenticated(&api, &c, clock);
    let start = tokio::time::Instant::now();
    let request = Request::new(secured_get(), "https://api.test/repos");
    let err = i
        .call(request, within(Duration::from_secs(3)))
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::DeadlineExceeded), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(err.attempts, 1);
    assert_eq!(endpoint.asked.load(Ordering::SeqCst), 1);
}

/// The same over real TCP: the token endpoint is a socket that accepts and
/// never answers, reached by the reqwest transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_token_endpoint_over_tcp_ends_every_call_at_its_deadline() {
    let silent = FaultHttpServer::start(FaultServer::new(|_| Fault::BlackHole))
        .await
        .unwrap();
    let transport = Arc::new(
        ReqwestTransport::builder()
            .allow_plain_http_loopback(true)
            .build()
            .unwrap(),
    );
    let metadata = ServerMetadata {
        token_endpoint: silent.url("/token"),
        ..ServerMetadata::default()
    };
    let client = ClientCredentials {
        client_id: "wharf".into(),
        client_secret: None,
    };
    let oauth = OAuthClient::new(metadata, ProviderProfile::default(), client, transport);
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let expired = SystemTime::now() - LIFETIME - Duration::from_secs(1);
    let c = credential(Arc::new(oauth.clone()), clock.clone(), expired).await;
    let api = FaultServer::new(|_| Fault::ok());
    let i = authenticated(&api, &c, clock);
    let calls = (0..5).map(|_| {
        let i = i.clone();
        tokio::spawn(async move {
            let request = Request::new(secured_get(), "https://api.test/repos");
            i.call(request, within(Duration::from_millis(800))).await
        })
    });
    // Only a hang detector: each call ends at its 0.8 s deadline.
    let ended = tokio::time::timeout(
        Duration::from_secs(20),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("calls still pending long after their deadline");
    for joined in ended {
        let err = joined.unwrap().unwrap_err();
        assert!(matches!(err.kind, ErrorKind::DeadlineExceeded), "{err:?}");
    }
    // The OAuth client's own requests are bounded too.
    let bounded = oauth.with_request_timeout(Duration::from_millis(300));
    let refused = tokio::time::timeout(
        Duration::from_secs(20),
        bounded.refresh(
            &SecretString::from("RT-0".to_owned()),
            &[],
            SystemTime::now(),
        ),
    )
    .await
    .expect("the token request is still pending")
    .unwrap_err();
    assert!(matches!(refused, TokenError::Transport(_)), "{refused:?}");
    assert!(refused.to_string().contains("300ms"), "{refused}");
}

fn post() -> Request {
    Request::new(
        OperationMeta::new("createThing", Method::POST, "/things"),
        "https://fault.test/things",
    )
    .with_body("{\"title\": \"x\"}")
}

static NATURAL: Policy = Policy {
    idempotency: Some(Idempotency::NaturalKey),
    ..Policy::NONE
};

#[tokio::test(start_paused = true)]
async fn a_natural_key_that_is_not_header_safe_is_hashed_and_sent_on_every_attempt() {
    // The first request commits, then the connection drops.
    let server = FaultServer::failing_first(1, Fault::Reset { processed: true });
    let api = integration(&server, IntegrationConfig::default());
    for title in ["Buy milk\nand eggs", "café"] {
        let response = Scope::new(&NATURAL, "create_todo")
            .natural_key(title)
            .run(async { api.call(post(), CallOptions::default()).await })
            .await
            .unwrap();
        assert_eq!(response.status, 200);
    }
    let log = server.log();
    // Three requests (the dropped one, its retry, the second call), two effects.
    assert_eq!(log.requests.len(), 3);
    assert_eq!(log.effects(), 2, "{log:?}");
    let keys: Vec<&str> = log
        .requests
        .iter()
        .map(|s| {
            s.idempotency_key
                .as_deref()
                .expect("every request has its key")
        })
        .collect();
    assert_eq!(keys[0], keys[1], "the retry carried the same key");
    assert_ne!(keys[1], keys[2]);
    for key in keys {
        assert!(
            key.starts_with("nk-sha256-") && key.bytes().all(|b| b.is_ascii_graphic()),
            "{key}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_given_key_or_correlation_id_that_cannot_be_sent_is_refused_before_sending() {
    let server = FaultServer::new(|_| Fault::ok());
    let api = integration(&server, IntegrationConfig::default());
    for (key, id) in [
        (Some("café"), None),
        (Some("a\nb"), None),
        (None, Some("trace\n42")),
    ] {
        let mut options = CallOptions::new();
        if let Some(key) = key {
            options = options.idempotency_key(key);
        }
        if let Some(id) = id {
            options = options.correlation_id(id);
        }
        let err = api.call(post(), options).await.unwrap_err();
        let ErrorKind::InvalidRequest { reason } = &err.kind else {
            panic!("{err:?}");
        };
        assert!(reason.contains("header"), "{reason}");
        assert_eq!(err.operation, "createThing");
    }
    assert_eq!(server.log().requests.len(), 0, "nothing was sent");
}

#[tokio::test(start_paused = true)]
async fn a_gateway_error_after_a_mutation_without_a_plan_is_not_retried() {
    for status in [502, 504] {
        let server = FaultServer::new(move |_| Fault::status(status));
        let api = integration(
            &server,
            IntegrationConfig {
                breaker: None,
                ..IntegrationConfig::default()
            },
        );
        for _ in 0..100 {
            let err = api.call(post(), CallOptions::default()).await.unwrap_err();
            assert_eq!(err.class(), ErrorClass::Ambiguous);
            assert_eq!(err.attempts, 1);
        }
        assert_eq!(server.log().requests.len(), 100, "HTTP {status}");
        // With a key, the same answer is retried (with that key).
        let keyed = CallOptions::new().idempotency_key("order-1");
        let err = api.call(post(), keyed).await.unwrap_err();
        assert_eq!(err.attempts, 3);
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_does_not_decode_reports_the_attempts_made() {
    let garbled = FaultServer::new(|seen| {
        if seen.index == 0 {
            Fault::status(503)
        } else {
            Fault::Respond {
                status: 200,
                headers: Vec::new(),
                body: bytes::Bytes::from_static(b"not json"),
            }
        }
    });
    let api = integration(&garbled, IntegrationConfig::default());
    let core = ClientCore::new(api, "https://fault.test");
    let op: &'static OperationMeta = Box::leak(Box::new(OperationMeta::new(
        "listThings",
        Method::GET,
        "/things",
    )));
    let reply = core
        .send::<()>(core.request(op), CallSettings::default())
        .await
        .unwrap();
    let err = reply.json::<Vec<i64>, ()>().unwrap_err();
    let ApiError::Decode { response, .. } = err else {
        panic!("not a decode error");
    };
    assert_eq!(
        response.attempts, 2,
        "a 503, then the body that did not decode"
    );
}

#[test]
fn drift_is_capped_per_document_and_the_rest_counted() {
    let mut payload = String::from("[");
    for n in 0..1_000_000 {
        if n > 0 {
            payload.push(',');
        }
        payload.push_str("\"1\"");
    }
    payload.push(']');
    let decoded = wharf_runtime::decode::<Vec<i64>>(payload.as_bytes()).unwrap();
    assert_eq!(decoded.value.len(), 1_000_000);
    assert_eq!(decoded.drift.len(), 1_001);
    assert_eq!(
        decoded.drift.last().map(|d| &d.kind),
        Some(&DriftKind::Truncated { dropped: 999_000 })
    );
}

/// An endpoint that answers every refresh at once.
#[derive(Debug, Default)]
struct CountingEndpoint {
    refreshes: AtomicUsize,
}

impl TokenEndpoint for CountingEndpoint {
    fn refresh<'a>(
        &'a self,
        _refresh_token: &'a SecretString,
        _scopes: &'a [String],
        now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Ok(tokens(now)) })
    }
}

#[tokio::test(start_paused = true)]
async fn the_refresher_stops_once_every_handle_is_dropped() {
    let clock: Arc<dyn Clock> = Arc::new(FollowingWallClock::starting_at(t0()));
    let endpoint = Arc::new(CountingEndpoint::default());
    let c = credential(endpoint.clone(), clock, t0()).await;
    let refresher = c.spawn_refresher();
    tokio::time::sleep(Duration::from_secs(90)).await;
    assert_eq!(
        endpoint.refreshes.load(Ordering::SeqCst),
        1,
        "refreshed at 80 s"
    );
    drop(c);
    tokio::time::sleep(Duration::from_secs(1_000)).await;
    assert!(
        refresher.is_finished(),
        "the refresher outlived its credential"
    );
    assert_eq!(endpoint.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_call_future_polled_after_it_finished_fails_loudly() {
    use std::future::Future;
    let server = FaultServer::new(|_| Fault::ok());
    let api = integration(&server, IntegrationConfig::default());
    let mut call = Box::pin(api.call(common::get(), CallOptions::default()));
    assert_eq!((&mut call).await.unwrap().status, 200);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call.as_mut().poll(&mut cx).is_pending()
    }));
    assert!(
        polled.is_err(),
        "polled again, a finished call must not pend forever"
    );
}
