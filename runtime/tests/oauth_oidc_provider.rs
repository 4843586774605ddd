//! OAuth against a real, certified authorization server: npm `oidc-provider`
//! over TLS (a CA made at test time), with PKCE required, refresh-token
//! rotation, revocation, introspection and client credentials. The server's
//! own events are counted: refreshes (`refresh_token.consumed`), revoked
//! grants and `invalid_grant` errors.
//!
//! oidc-provider comes from npm (`scripts/install-oidc.sh`, run by
//! `scripts/test.sh`). Without it these tests fail; they never skip.

use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wharf_runtime::auth::{
    AuthEvent, ClientAuth, ClientCredentials, Credential, MemoryStore, OAuthClient,
    ProviderProfile, TokenStore,
};
use wharf_runtime::call::{AuthFailure, HttpRequest, ReqwestTransport, Transport};
use wharf_runtime::http::{HeaderMap, HeaderValue, Method};
use wharf_runtime::testing::TestCa;
use wharf_runtime::time::{Clock, TokioClock};

struct OidcServer {
    child: Child,
    issuer: String,
    events: Arc<Mutex<Vec<String>>>,
    ca_der: Vec<u8>,
    dir: PathBuf,
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl OidcServer {
    fn start(options: &str) -> OidcServer {
        let install = workspace().join("build/oidc");
        assert!(
            install.join("node_modules/oidc-provider/package.json").is_file(),
            "oidc-provider is not installed in {} (run `bash scripts/install-oidc.sh`; scripts/test.sh does)",
            install.display()
        );
        // The script runs beside node_modules so node resolves the package.
        let script = install.join("server.mjs");
        std::fs::copy(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/server.mjs"),
            &script,
        )
        .expect("copy server.mjs");
        let ca = TestCa::new().expect("test CA");
        let cert = ca.issue(&["localhost"]).expect("server certificate");
        let dir = std::env::temp_dir().join(format!(
            "wharf-oidc-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("cert.pem"), &cert.cert_pem).expect("cert");
        std::fs::write(dir.join("key.pem"), &cert.key_pem).expect("key");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let mut child = Command::new("node")
            .arg(&script)
            .arg(dir.join("cert.pem"))
            .arg(dir.join("key.pem"))
            .arg(port.to_string())
            .arg(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (Node 20) is required for the OAuth server");
        let stdout = child.stdout.take().expect("stdout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("READY ") {
                    let _ = ready_tx.send(issuer.to_owned());
                } else if let Some(event) = line.strip_prefix("EVENT ") {
                    sink.lock().unwrap().push(event.to_owned());
                }
            }
        });
        let issuer = ready_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("oidc-provider did not start within 60 s");
        OidcServer {
            child,
            issuer,
            events,
            ca_der: ca.cert_der.clone(),
            dir,
        }
    }

    fn transport(&self) -> Arc<dyn Transport> {
        Arc::new(
            ReqwestTransport::builder()
                .add_root_certificate_der(self.ca_der.clone())
                .allow_plain_http_loopback(true)
                .build()
                .expect("transport"),
        )
    }

    fn count(&self, event: &str) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.split(' ').next() == Some(event))
            .count()
    }

    fn invalid_grants(&self) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.starts_with("grant.error") && e.contains("invalid_grant"))
            .count()
    }

    async fn client(&self, id: &str, secret: Option<&str>) -> OAuthClient {
        let transport = self.transport();
        let metadata = OAuthClient::discover(&self.issuer, &transport)
            .await
            .expect("discovery");
        OAuthClient::new(
            metadata,
            ProviderProfile {
                client_auth: ClientAuth::Basic,
                ..ProviderProfile::default()
            },
            ClientCredentials {
                client_id: id.into(),
                client_secret: secret.map(|s| secrecy::SecretString::from(s.to_owned())),
            },
            transport,
        )
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(7);
    h.finish()
}

/// What a browser does: follow redirects with cookies until the loopback
/// redirect, then GET that.
async fn browse(start: String, transport: Arc<dyn Transport>) {
    let mut url = start;
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..20 {
        let mut headers = HeaderMap::new();
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            headers.insert("cookie", HeaderValue::from_str(&jar.join("; ")).unwrap());
        }
        let response = transport
            .send(HttpRequest {
                method: Method::GET,
                url: url.clone(),
                headers,
                body: Default::default(),
            })
            .await
            .expect("browser request");
        for c in response.headers.get_all("set-cookie") {
            if let Some((k, v)) = c
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
            {
                cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
        if url.starts_with("http://127.0.0.1") {
            assert_eq!(response.status, 200, "the loopback listener answered");
            return;
        }
        let location = response
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no redirect from {url}: HTTP {} {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                )
            })
            .to_owned();
        url = url::Url::parse(&url)
            .unwrap()
            .join(&location)
            .unwrap()
            .to_string();
    }
    panic!("too many redirects");
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

async fn login(server: &OidcServer, client: &OAuthClient) -> wharf_runtime::auth::TokenSet {
    let browser = server.transport();
    client
        .login_loopback(
            &scopes(&["openid", "offline_access", "repo"]),
            move |url| {
                let url = url.to_owned();
                tokio::spawn(browse(url, browser));
            },
            Duration::from_secs(30),
        )
        .await
        .expect("PKCE login")
}

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
