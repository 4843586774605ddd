//! The flows' own rules, against a scripted authorization server: PKCE S256
//! and `state` in the authorization URL, the one-shot loopback listener
//! (wrong state, wrong issuer, error responses, a second request, a
//! timeout), device polling with `slow_down`, logout that deletes local
//! tokens even when revocation fails, and discovery. The same flows run
//! against a real server (oidc-provider) in `oauth_oidc_provider.rs`.

use secrecy::{ExposeSecret, SecretString};
use sha2_check::sha256_base64url;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wharf_runtime::auth::{
    ClientCredentials, Credential, FlowError, LoopbackListener, MemoryStore, OAuthClient,
    ProviderProfile, ServerMetadata, TokenStore,
};
use wharf_runtime::call::{
    HttpRequest, Response, SendFuture, Transport, TransportError, TransportErrorKind,
};
use wharf_runtime::http::{HeaderMap, HeaderValue, StatusCode};
use wharf_runtime::time::{Clock, TokioClock};

/// A tiny SHA-256 (FIPS 180-4) to check the PKCE challenge independently.
mod sha2_check {
    pub fn sha256_base64url(data: &[u8]) -> String {
        let h = sha256(data);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in h.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn sha256(data: &[u8]) -> [u8; 32] {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut h: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let mut msg = data.to_vec();
        let bits = (data.len() as u64) * 8;
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&bits.to_be_bytes());
        for block in msg.chunks(64) {
            let mut w = [0u32; 64];
            for i in 0..16 {
                w[i] = u32::from_be_bytes([
                    block[4 * i],
                    block[4 * i + 1],
                    block[4 * i + 2],
                    block[4 * i + 3],
                ]);
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16]
                    .wrapping_add(s0)
                    .wrapping_add(w[i - 7])
                    .wrapping_add(s1);
            }
            let mut v = h;
            for i in 0..64 {
                let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
                let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
                let t1 = v[7]
                    .wrapping_add(s1)
                    .wrapping_add(ch)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
                let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
                let t2 = s0.wrapping_add(maj);
                v = [
                    t1.wrapping_add(t2),
                    v[0],
                    v[1],
                    v[2],
                    v[3].wrapping_add(t1),
                    v[4],
                    v[5],
                    v[6],
                ];
            }
            for i in 0..8 {
                h[i] = h[i].wrapping_add(v[i]);
            }
        }
        let mut out = [0u8; 32];
        for (i, word) in h.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    #[test]
    fn fips_180_vector() {
        // SHA-256("abc") = ba7816bf…f20015ad, base64url without padding.
        assert_eq!(
            sha256_base64url(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}

type Handler = dyn Fn(&HttpRequest) -> (u16, String) + Send + Sync;

/// A scripted authorization server behind the transport trait.
struct Script {
    seen: Mutex<Vec<HttpRequest>>,
    handler: Box<Handler>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script")
    }
}

impl Transport for Script {
    fn send(&self, request: HttpRequest) -> SendFuture {
        let (status, body) = (self.handler)(&request);
        self.seen.lock().unwrap().push(request);
        Box::pin(async move {
            if status == 0 {
                return Err(TransportError::new(
                    TransportErrorKind::Connect,
                    false,
                    "connection refused",
                ));
            }
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            Ok(Response {
                status: StatusCode::from_u16(status).unwrap(),
                headers,
                body: body.into(),
            })
        })
    }
}

fn form(r: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(r.body.as_bytes().expect("token requests are in memory"))
        .into_owned()
        .collect()
}

fn field(r: &HttpRequest, name: &str) -> Option<String> {
    form(r).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn metadata() -> ServerMetadata {
    ServerMetadata {
        issuer: Some("https://as.test".into()),
        authorization_endpoint: Some("https://as.test/authorize".into()),
        token_endpoint: "https://as.test/token".into(),
        revocation_endpoint: Some("https://as.test/revoke".into()),
        introspection_endpoint: Some("https://as.test/introspect".into()),
        device_authorization_endpoint: Some("https://as.test/device".into()),
        authorization_response_iss_parameter_supported: true,
    }
}

fn client(
    handler: impl Fn(&HttpRequest) -> (u16, String) + Send + Sync + 'static,
) -> (OAuthClient, Arc<Script>) {
    let script = Arc::new(Script {
        seen: Mutex::new(Vec::new()),
        handler: Box::new(handler),
    });
    let c = OAuthClient::new(
        metadata(),
        ProviderProfile::default(),
        ClientCredentials {
            client_id: "cli".into(),
            client_secret: None,
        },
        script.clone(),
    );
    (c, script)
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn get(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// What a browser does with the redirect: GET it.
async fn browser_get(url: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.write_all(format!("GET /{path} HTTP/1.1\r\nhost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut out = String::new();
    s.read_to_string(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn pkce_login_through_the_loopback_listener() {
    let verifier_seen = Arc::new(Mutex::new(String::new()));
    let v = verifier_seen.clone();
    let (c, script) = client(move |r| {
        *v.lock().unwrap() = field(r, "code_verifier").unwrap_or_default();
        assert_eq!(field(r, "code").as_deref(), Some("CODE-1"));
        (
            200,
            r#"{"access_token":"AT","refresh_token":"RT","expires_in":600,"scope":"repo"}"#.into(),
        )
    });
    let scopes = vec!["repo".to_owned()];
    let url_seen = Arc::new(Mutex::new(String::new()));
    let u = url_seen.clone();
    // The browser's checks run in a task: keep its handle and await it, so
    // a failed assertion there fails the test.
    let browser = Arc::new(Mutex::new(None));
    let b = browser.clone();
    let login = c.login_loopback(
        &scopes,
        move |url| {
            *u.lock().unwrap() = url.to_owned();
            let q = query_of(url);
            let redirect = format!(
                "{}?code=CODE-1&state={}&iss=https%3A%2F%2Fas.test",
                get(&q, "redirect_uri"),
                get(&q, "state")
            );
            *b.lock().unwrap() = Some(tokio::spawn(async move {
                let page = browser_get(&redirect).await.unwrap();
                assert!(page.starts_with("HTTP/1.1 200"), "{page}");
                // The listener is gone after the first callback.
                assert!(
                    browser_get(&redirect).await.is_err(),
                    "a second request finds nothing"
                );
            }));
        },
        Duration::from_secs(10),
    );
    let tokens = login.await.unwrap();
    let browsed = browser
        .lock()
        .unwrap()
        .take()
        .expect("the browser was opened");
    browsed.await.expect("the browser's checks passed");
    assert_eq!(tokens.access_token.expose_secret(), "AT");
    let q = query_of(&url_seen.lock().unwrap());
    assert_eq!(get(&q, "code_challenge_method"), "S256");
    assert!(get(&q, "redirect_uri").starts_with("http://127.0.0.1:"));
    assert!(get(&q, "state").len() >= 16);
    let verifier = verifier_seen.lock().unwrap().clone();
    assert!((43..=128).contains(&verifier.len()));
    assert_eq!(
        get(&q, "code_challenge"),
        sha256_base64url(verifier.as_bytes()),
        "S256 of the verifier"
    );
    let token_request = &script.seen.lock().unwrap()[0];
    assert_eq!(field(token_request, "client_id").as_deref(), Some("cli"));
    assert_eq!(
        field(token_request, "grant_type").as_deref(),
        Some("authorization_code")
    );
}

#[tokio::test]
async fn callbacks_with_a_wrong_state_issuer_or_an_error_are_refused() {
    let (c, script) = client(|_| (200, r#"{"access_token":"AT"}"#.into()));
    let scopes = vec!["repo".to_owned()];
    let pending = c
        .start_authorization(&scopes, "http://127.0.0.1:1/callback")
        .unwrap();
    let state = get(&query_of(&pending.url), "state");
    let iss = "iss=https%3A%2F%2Fas.test";
    assert_eq!(
        c.complete_authorization(&pending, &format!("code=C&state=other&{iss}"))
            .await
            .unwrap_err(),
        FlowError::StateMismatch
    );
    assert_eq!(
        c.complete_authorization(
            &pending,
            &format!("code=C&state={state}&iss=https%3A%2F%2Fevil.test")
        )
        .await
        .unwrap_err(),
        FlowError::IssuerMismatch
    );
    assert_eq!(
        c.complete_authorization(&pending, &format!("code=C&state={state}"))
            .await
            .unwrap_err(),
        FlowError::IssuerMismatch,
        "the server announces iss, so a response without it is refused"
    );
    assert!(matches!(
        c.complete_authorization(&pending, &format!("error=access_denied&state={state}&{iss}")).await.unwrap_err(),
        FlowError::Denied { ref error, .. } if error == "access_denied"
    ));
    assert!(
        script.seen.lock().unwrap().is_empty(),
        "no code was exchanged"
    );
    let e = c
        .complete_authorization(&pending, &format!("code=C&state={state}&{iss}"))
        .await;
    assert!(e.is_ok());
    assert!(
        !format!("{pending:?}").contains(&state),
        "state is not shown"
    );
}

#[tokio::test(start_paused = true)]
async fn the_listener_times_out_and_ignores_stray_requests() {
    let listener = LoopbackListener::bind().await.unwrap();
    let base = listener.redirect_uri().replace("/callback", "");
    let clock = TokioClock;
    let wait =
        tokio::spawn(async move { listener.receive(Duration::from_secs(120), &clock).await });
    tokio::task::yield_now().await;
    let stray = browser_get(&format!("{base}/favicon.ico")).await.unwrap();
    assert!(stray.starts_with("HTTP/1.1 404"));
    tokio::time::sleep(Duration::from_secs(121)).await;
    assert_eq!(wait.await.unwrap().unwrap_err(), FlowError::TimedOut);
}

#[tokio::test(start_paused = true)]
async fn device_flow_polls_and_slows_down() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let started = tokio::time::Instant::now();
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    let (c, _) = client(move |r| {
        if r.url.ends_with("/device") {
            return (200, r#"{"device_code":"DC","user_code":"WDJB-MJHT","verification_uri":"https://as.test/device","expires_in":300,"interval":5}"#.into());
        }
        assert_eq!(field(r, "device_code").as_deref(), Some("DC"));
        t.lock().unwrap().push(started.elapsed().as_secs());
        match p.fetch_add(1, Ordering::SeqCst) {
            0 => (400, r#"{"error":"authorization_pending"}"#.into()),
            1 => (400, r#"{"error":"slow_down"}"#.into()),
            2 => (400, r#"{"error":"authorization_pending"}"#.into()),
            _ => (200, r#"{"access_token":"AT","expires_in":60}"#.into()),
        }
    });
    let device = c.start_device(&["repo".to_owned()]).await.unwrap();
    assert_eq!(device.user_code, "WDJB-MJHT");
    assert!(!format!("{device:?}").contains("DC\""));
    let tokens = c.poll_device(&device, &TokioClock).await.unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "AT");
    assert_eq!(
        *times.lock().unwrap(),
        [5, 10, 20, 30],
        "interval 5 s, then 10 s after slow_down"
    );
}

#[tokio::test]
async fn logout_revokes_and_deletes_local_tokens_even_when_the_server_is_down() {
    let store = Arc::new(MemoryStore::new());
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    for server_up in [true, false] {
        let (c, script) = client(move |_| {
            if server_up {
                (200, String::new())
            } else {
                (0, String::new())
            }
        });
        let credential = Credential::new("me", store.clone(), Arc::new(c.clone()), clock.clone());
        let tokens = wharf_runtime::auth::TokenSet {
            access_token: SecretString::from("AT".to_owned()),
            refresh_token: Some(SecretString::from("RT".to_owned())),
            id_token: None,
            token_type: "Bearer".into(),
            issued_at: std::time::SystemTime::now(),
            lifetime: Some(Duration::from_secs(600)),
            scopes: Default::default(),
        };
        credential.set_tokens(tokens).await.unwrap();
        let result = credential.logout(&c).await;
        assert_eq!(result.is_ok(), server_up);
        assert!(
            store.load("me").await.unwrap().is_none(),
            "local tokens deleted (server up: {server_up})"
        );
        assert!(credential.needs_reauthorization());
        let seen = script.seen.lock().unwrap();
        assert_eq!(
            field(&seen[0], "token_type_hint").as_deref(),
            Some("refresh_token")
        );
        assert_eq!(field(&seen[0], "token").as_deref(), Some("RT"));
    }
}

#[tokio::test]
async fn discovery_reads_rfc_8414_metadata_and_checks_the_issuer() {
    let transport: Arc<dyn Transport> = Arc::new(Script {
        seen: Mutex::new(Vec::new()),
        handler: Box::new(|r| {
            if r.url == "https://as.test/.well-known/oauth-authorization-server" {
                (200, r#"{"issuer":"https://as.test","authorization_endpoint":"https://as.test/auth","token_endpoint":"https://as.test/token","revocation_endpoint":"https://as.test/revoke","authorization_response_iss_parameter_supported":true}"#.into())
            } else if r.url == "https://evil.test/.well-known/oauth-authorization-server" {
                (
                    200,
                    r#"{"issuer":"https://as.test","token_endpoint":"https://evil.test/token"}"#
                        .into(),
                )
            } else {
                (404, String::new())
            }
        }),
    });
    let m = OAuthClient::discover("https://as.test", &transport)
        .await
        .unwrap();
    assert_eq!(m.token_endpoint, "https://as.test/token");
    assert!(m.authorization_response_iss_parameter_supported);
    assert_eq!(
        OAuthClient::discover("https://evil.test", &transport)
            .await
            .unwrap_err(),
        FlowError::IssuerMismatch
    );
}
