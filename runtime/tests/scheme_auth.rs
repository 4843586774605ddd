//! Providers without OAuth: API keys in a header, the query or a cookie,
//! HTTP basic and bearer, each on the operations whose security names its
//! scheme; several schemes on one integration; a key rotated between
//! calls; an operation whose scheme is not configured refused before
//! sending; and no secret in any `Debug` or error.

use http::{HeaderValue, Method};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use wharf_runtime::auth::{Authenticators, KeySource, SchemeAuth};
use wharf_runtime::call::{
    AuthFailure, Authenticator, CallOptions, ErrorKind, HttpRequest, Integration, OperationMeta,
    Request, Response, SchemeScopes, SecurityRequirement, SendFuture, Transport,
};

/// A transport that keeps every request it is given and answers 200.
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<HttpRequest>>,
}

impl Transport for Recorder {
    fn send(&self, request: HttpRequest) -> SendFuture {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(request);
        }
        Box::pin(async {
            Ok(Response {
                status: http::StatusCode::OK,
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::from_static(b"{}"),
            })
        })
    }
}

impl Recorder {
    fn last(&self) -> HttpRequest {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// An operation secured by `scheme` alone.
fn secured_by(scheme: &'static str) -> OperationMeta {
    let mut op = OperationMeta::new("things/list", Method::GET, "/things");
    op.security = Box::leak(Box::new([SecurityRequirement {
        schemes: Box::leak(Box::new([SchemeScopes {
            scheme,
            scopes: &[],
            oauth: false,
        }])),
    }]));
    op
}

fn integration(recorder: &Arc<Recorder>, auth: Arc<dyn Authenticator>) -> Integration {
    Integration::builder("keys")
        .transport(recorder.clone())
        .authenticator(auth)
        .build()
        .unwrap()
}

fn key(text: &str) -> Arc<KeySource> {
    KeySource::new(SecretString::from(text.to_owned()))
}

async fn call(
    api: &Integration,
    op: OperationMeta,
    url: &str,
) -> Result<Response, wharf_runtime::call::Error> {
    api.call(Request::new(op, url), CallOptions::default())
        .await
}

#[tokio::test]
async fn each_placement_sends_the_key_where_the_scheme_says() {
    let recorder = Arc::new(Recorder::default());

    let header =
        SchemeAuth::api_key_header("shopify", "X-Shopify-Access-Token", key("shpat_CANARY1"))
            .unwrap();
    let api = integration(&recorder, Arc::new(header));
    call(&api, secured_by("shopify"), "https://shop.test/things")
        .await
        .unwrap();
    let sent = recorder.last();
    let value = sent.headers.get("x-shopify-access-token").unwrap();
    assert_eq!(value, "shpat_CANARY1");
    assert!(value.is_sensitive());

    let query = SchemeAuth::api_key_query("hubspot", "hapikey", key("hub CANARY2&x"));
    let api = integration(&recorder, Arc::new(query));
    call(
        &api,
        secured_by("hubspot"),
        "https://crm.test/things?limit=5",
    )
    .await
    .unwrap();
    assert_eq!(
        recorder.last().url,
        "https://crm.test/things?limit=5&hapikey=hub+CANARY2%26x"
    );

    let cookie = SchemeAuth::api_key_cookie("session", "sid", key("CANARY3"));
    let api = integration(&recorder, Arc::new(cookie));
    let mut request = Request::new(secured_by("session"), "https://app.test/things");
    request
        .headers
        .insert("cookie", HeaderValue::from_static("theme=dark"));
    api.call(request, CallOptions::default()).await.unwrap();
    assert_eq!(
        recorder.last().headers.get("cookie").unwrap(),
        "theme=dark; sid=CANARY3"
    );

    let basic = SchemeAuth::basic("twilio", "AC123", key("CANARY4"));
    let api = integration(&recorder, Arc::new(basic));
    call(&api, secured_by("twilio"), "https://api.twilio.test/things")
        .await
        .unwrap();
    // base64("AC123:CANARY4")
    assert_eq!(
        recorder.last().headers.get("authorization").unwrap(),
        "Basic QUMxMjM6Q0FOQVJZNA=="
    );

    let bearer = SchemeAuth::bearer("stripe", key("sk_test_CANARY5"));
    let api = integration(&recorder, Arc::new(bearer));
    call(&api, secured_by("stripe"), "https://api.stripe.test/things")
        .await
        .unwrap();
    assert_eq!(
        recorder.last().headers.get("authorization").unwrap(),
        "Bearer sk_test_CANARY5"
    );

    // An operation without security is sent without a credential.
    let open = OperationMeta::new("status", Method::GET, "/status");
    call(&api, open, "https://api.stripe.test/status")
        .await
        .unwrap();
    assert!(recorder.last().headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_rotated_key_is_sent_from_the_next_call_on() {
    let recorder = Arc::new(Recorder::default());
    let source = key("CANARY-old");
    let api = integration(
        &recorder,
        Arc::new(SchemeAuth::bearer("stripe", source.clone())),
    );
    call(&api, secured_by("stripe"), "https://api.stripe.test/a")
        .await
        .unwrap();
    source.rotate(SecretString::from("CANARY-new".to_owned()));
    call(&api, secured_by("stripe"), "https://api.stripe.test/b")
        .await
        .unwrap();
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(
        seen[0].headers.get("authorization").unwrap(),
        "Bearer CANARY-old"
    );
    assert_eq!(
        seen[1].headers.get("authorization").unwrap(),
        "Bearer CANARY-new"
    );
}

#[tokio::test]
async fn several_schemes_on_one_integration_and_a_missing_one_refused() {
    let recorder = Arc::new(Recorder::default());
    let both = Authenticators::new()
        .with(
            "stripe",
            Arc::new(SchemeAuth::bearer("stripe", key("CANARY6"))),
        )
        .unwrap()
        .with(
            "shopify",
            Arc::new(
                SchemeAuth::api_key_header("shopify", "x-shopify-access-token", key("CANARY7"))
                    .unwrap(),
            ),
        )
        .unwrap();
    let api = integration(&recorder, Arc::new(both));
    call(&api, secured_by("stripe"), "https://x.test/a")
        .await
        .unwrap();
    assert_eq!(
        recorder.last().headers.get("authorization").unwrap(),
        "Bearer CANARY6"
    );
    call(&api, secured_by("shopify"), "https://x.test/b")
        .await
        .unwrap();
    assert_eq!(
        recorder
            .last()
            .headers
            .get("x-shopify-access-token")
            .unwrap(),
        "CANARY7"
    );

    let before = recorder.count();
    let err = call(&api, secured_by("oauth"), "https://x.test/c")
        .await
        .unwrap_err();
    let ErrorKind::Auth(AuthFailure::NoSchemeConfigured { needed }) = &err.kind else {
        panic!("{err:?}");
    };
    assert_eq!(needed, &["oauth".to_owned()]);
    assert!(err.to_string().contains("oauth"), "{err}");
    assert_eq!(recorder.count(), before, "nothing was sent");

    // No secret in any Debug or error.
    let text = format!(
        "{err} {err:?} {api:?} {:?}",
        SchemeAuth::basic("b", "user", key("CANARY8"))
    );
    for canary in ["CANARY6", "CANARY7", "CANARY8"] {
        assert!(!text.contains(canary), "{canary} in {text}");
    }
    // A header name that cannot be one is a typed error when configured.
    assert!(SchemeAuth::api_key_header("bad", "not a header", key("k")).is_err());
}

#[tokio::test]
async fn a_credential_that_cannot_be_placed_is_never_sent_without_it() {
    let recorder = Arc::new(Recorder::default());
    let cookie = SchemeAuth::api_key_cookie("session", "bad name;", key("CANARY9"));
    let api = integration(&recorder, Arc::new(cookie));
    let err = call(&api, secured_by("session"), "https://app.test/things")
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Auth(AuthFailure::Unavailable(_))),
        "{err:?}"
    );
    assert_eq!(recorder.count(), 0, "not sent without its credential");
    assert_eq!(err.attempts, 0);

    // More schemes than a credential's generation can name: refused.
    let mut many = Authenticators::new();
    for n in 0..256 {
        many = many
            .with(format!("s{n}"), Arc::new(SchemeAuth::bearer("s", key("k"))))
            .unwrap();
    }
    assert!(many
        .with("one-too-many", Arc::new(SchemeAuth::bearer("s", key("k"))))
        .is_err());
}

/// API keys kept where tokens are: saved encrypted in the file store (no
/// clear text on disk), read into a key source the authenticator sends,
/// and reloaded after an operator replaces the saved key.
#[tokio::test]
async fn a_key_saved_in_the_encrypted_store_is_sent_and_reloaded() {
    use wharf_runtime::auth::{DataKey, EncryptedFileStore, KeyRing};
    let dir = std::env::temp_dir().join(format!("wharf-key-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store =
        EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k1").unwrap())).unwrap();
    KeySource::save_to(
        &store,
        "stripe:api_key",
        SecretString::from("sk_test_CANARYstore1"),
    )
    .await
    .unwrap();
    let on_disk = std::fs::read(store.path_of("stripe:api_key")).unwrap();
    assert!(
        !String::from_utf8_lossy(&on_disk).contains("CANARYstore1"),
        "encrypted at rest"
    );
    let missing = KeySource::from_store(&store, "stripe:nope")
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("stripe:nope"), "{missing}");
    // OAuth tokens under a name are not a key, and not sent as one.
    let tokens = wharf_runtime::auth::TokenSet {
        access_token: SecretString::from("oauth-CANARYaccess"),
        refresh_token: None,
        id_token: None,
        token_type: "Bearer".into(),
        issued_at: std::time::SystemTime::now(),
        lifetime: None,
        scopes: Default::default(),
    };
    wharf_runtime::auth::TokenStore::save(&store, "stripe:oauth", &tokens)
        .await
        .unwrap();
    let oauth = KeySource::from_store(&store, "stripe:oauth")
        .await
        .unwrap_err()
        .to_string();
    assert!(oauth.contains("holds OAuth tokens, not a key"), "{oauth}");
    assert!(!oauth.contains("CANARY"), "{oauth}");

    let source = KeySource::from_store(&store, "stripe:api_key")
        .await
        .unwrap();
    assert!(!format!("{source:?}").contains("CANARY"));
    let recorder = Arc::new(Recorder::default());
    let api = integration(
        &recorder,
        Arc::new(SchemeAuth::bearer("stripe", Arc::clone(&source))),
    );
    call(&api, secured_by("stripe"), "https://api.stripe.test/things")
        .await
        .unwrap();
    let sent = recorder.last();
    assert_eq!(
        sent.headers.get("authorization").unwrap(),
        "Bearer sk_test_CANARYstore1"
    );

    // Replaced in the store: sent once reloaded.
    KeySource::save_to(
        &store,
        "stripe:api_key",
        SecretString::from("sk_test_CANARYstore2"),
    )
    .await
    .unwrap();
    assert!(
        source.reload_from(&store, "stripe:api_key").await.unwrap(),
        "rotated to the new key"
    );
    call(&api, secured_by("stripe"), "https://api.stripe.test/things")
        .await
        .unwrap();
    assert_eq!(
        recorder.last().headers.get("authorization").unwrap(),
        "Bearer sk_test_CANARYstore2"
    );
    assert!(
        !source.reload_from(&store, "stripe:api_key").await.unwrap(),
        "nothing new"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
