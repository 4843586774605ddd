//! The status page in a real browser: headless Debian Chromium loads the
//! page an app serves (with the Prometheus exporter beside it on the same
//! listener), shows the breaker the test opened as open and the healthy
//! integration's as closed, the queues and credentials; a screenshot is
//! written to `target/test-output/status-page.png` for a person to look
//! at. The exporter's `/metrics` carries the same story.

mod common;

use common::get;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_runtime::auth::{Credential, MemoryStore, TokenEndpoint, TokenError, TokenSet};
use wharf_runtime::call::{AuthFuture, CallOptions, HealthCheck, Integration, IntegrationConfig};
use wharf_runtime::observe::{Exporter, OpsServer, StatusPage};
use wharf_runtime::policy::breaker::BreakerConfig;
use wharf_runtime::policy::retry::RetryPolicy;
use wharf_runtime::store::{NewEvent, NewMessage, OutboxStore, SqliteStore, Store};
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport, Seen};
use wharf_runtime::time::TokioClock;

fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("chromium (Debian) is required; scripts/test.sh installs it")
}

/// Runs headless Chromium on `url` with `args`, bounded in time.
fn browse(url: &str, args: &[&str]) -> String {
    let profile =
        std::env::temp_dir().join(format!("wharf-status-chromium-{}", std::process::id()));
    let mut child = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    out
}

/// An integration named `name` on the fault server.
fn integration(name: &str, server: &Arc<FaultServer>, config: IntegrationConfig) -> Integration {
    Integration::builder(name)
        .config(config)
        .transport(Arc::new(FaultTransport::new(
            server.clone(),
            Arc::new(TokioClock),
        )))
        .build()
        .unwrap()
}

/// A token endpoint that never refreshes.
#[derive(Debug)]
struct NoRefresh;

impl TokenEndpoint for NoRefresh {
    fn refresh<'a>(
        &'a self,
        _refresh_token: &'a SecretString,
        _scopes: &'a [String],
        _now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        Box::pin(async { Err(TokenError::InvalidGrant { description: None }) })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn tokens(lifetime: Duration) -> TokenSet {
    TokenSet {
        access_token: SecretString::from("gho_STATUSPAGEcanary0000000000000000".to_owned()),
        refresh_token: None,
        id_token: None,
        token_type: "Bearer".into(),
        issued_at: SystemTime::now(),
        lifetime: Some(lifetime),
        scopes: Default::default(),
    }
}

/// A credential `key` holding a token that lives `lifetime` and cannot be
/// refreshed.
async fn logged_in(key: &str, lifetime: Duration) -> Credential {
    let credential = Credential::new(
        key,
        Arc::new(MemoryStore::new()),
        Arc::new(NoRefresh),
        Arc::new(TokioClock),
    );
    credential.set_tokens(tokens(lifetime)).await.unwrap();
    credential
}

/// The state of the breaker shown in `id`'s section of the page.
fn breaker_shown(dom: &str, id: &str) -> String {
    let section = dom
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {id} in {dom}"));
    let from = section.find("data-breaker=\"").expect("a breaker state") + 14;
    section[from..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_an_opened_breaker_in_a_real_browser() {
    let exporter = Exporter::install().unwrap();

    // github: down; its breaker opens after three failed calls.
    let down = FaultServer::new(|_: &Seen| Fault::status(503));
    let github = integration(
        "github",
        &down,
        IntegrationConfig {
            breaker: Some(BreakerConfig {
                consecutive_failures: 3,
                open_for: Duration::from_secs(600),
                ..Default::default()
            }),
            retry: RetryPolicy {
                max_attempts: 1,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    for _ in 0..5 {
        let _ = github.call(get(), CallOptions::default()).await;
    }
    // stripe: healthy, with a passing health check.
    let up = FaultServer::new(|_: &Seen| Fault::ok().after(Duration::from_millis(3)));
    let stripe = integration("stripe", &up, IntegrationConfig::default());
    for _ in 0..20 {
        stripe.call(get(), CallOptions::default()).await.unwrap();
    }
    let probe = stripe.clone();
    let check = HealthCheck::new(&stripe, "getThing", move |options| {
        let api = probe.clone();
        async move { api.call(get(), options).await.map(drop) }
    });
    assert!(check.check_once().await.passed());

    // Queues: one pending and one dead inbound event, one queued message.
    let dir = std::env::temp_dir().join(format!("wharf-status-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("store.db")).await.unwrap());
    for id in ["evt_1", "evt_2"] {
        store
            .insert(NewEvent {
                source: "github".into(),
                event_id: id.into(),
                received_at: now_ms(),
                headers: Vec::new(),
                body: bytes::Bytes::from_static(b"{}"),
                order_key: None,
            })
            .await
            .unwrap();
    }
    store
        .enqueue(NewMessage::new("customer-1", "order.paid", "{}", now_ms()).unwrap())
        .await
        .unwrap();

    // Credentials: one fine, one that needs a new login.
    let fine = logged_in("stripe:acct_1", Duration::from_secs(3600)).await;
    let dead = logged_in("github:alice", Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let _ = dead.access_token().await;

    let page = StatusPage::new();
    page.integration(&github)
        .integration(&stripe)
        .credential(&fine)
        .credential(&dead)
        .inbox(Arc::clone(&store))
        .outbox(Arc::clone(&store));
    let listener = OpsServer::new()
        .metrics(exporter.clone())
        .status(page.clone())
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    let url = listener.url("/status");
    let dom = tokio::task::spawn_blocking(move || browse(&url, &["--dump-dom"]))
        .await
        .unwrap();
    assert_eq!(breaker_shown(&dom, "integration-github"), "open", "{dom}");
    assert_eq!(breaker_shown(&dom, "integration-stripe"), "closed");
    assert!(
        dom.contains("data-check=\"passed\""),
        "stripe's check shown"
    );
    assert!(dom.contains("closed → open"), "the transition is listed");
    assert!(dom.contains("<polyline"), "stripe's latency chart");
    assert!(dom.contains("data-queue=\"inbox\" data-name=\"github\""));
    assert!(dom.contains("data-queue=\"outbox\" data-name=\"outbound_webhooks\""));
    assert!(
        dom.contains("reauthorization required") || dom.contains("expired"),
        "{dom}"
    );
    assert!(!dom.contains("STATUSPAGEcanary"), "no token on the page");
    // Nothing loaded from elsewhere: it works offline.
    for attr in ["src=", "href=", "@import", "url("] {
        assert!(!dom.contains(attr), "{attr} in {dom}");
    }

    let shot: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-output")
        .join("status-page.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&shot);
    let url = listener.url("/status");
    let arg = format!("--screenshot={}", shot.display());
    tokio::task::spawn_blocking(move || browse(&url, &[&arg, "--window-size=1280,2200"]))
        .await
        .unwrap();
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());

    // The JSON beside the page, and the metrics on the same listener.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let json = client
        .get(listener.url("/status.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["integrations"][0]["name"], "github");
    assert_eq!(json["integrations"][0]["breaker"], "open");
    // Three failed, then two refused by the open breaker (transient too).
    assert_eq!(json["integrations"][0]["calls"]["transient"], 5);
    assert_eq!(json["integrations"][1]["calls"]["success"], 20);
    let metrics = client
        .get(listener.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("wharf_breaker_state{integration=\"github\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wharf_calls_total{integration=\"stripe\",outcome=\"success\"} 20"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wharf_call_duration_seconds_bucket{integration=\"stripe\",le=\"0.005\"}"),
        "durations are histograms with buckets: {metrics}"
    );
    assert!(metrics.contains("wharf_health_check_up{integration=\"stripe\"} 1"));
    let missing = client.get(listener.url("/nothing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // Mounted on an app's own axum server instead.
    let app = exporter
        .router("/metrics")
        .merge(page.router("/ops/status"));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(tcp, app).await });
    let fetch = |path: &str| {
        let (client, url) = (client.clone(), format!("http://{addr}{path}"));
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (code, body) = fetch("/metrics").await;
    assert_eq!(code, 200);
    assert!(body.contains("wharf_breaker_state{integration=\"github\"} 2"));
    let (code, body) = fetch("/ops/status").await;
    assert_eq!(code, 200);
    assert!(body.contains("data-breaker=\"open\""));
    let (code, body) = fetch("/ops/status.json").await;
    assert_eq!(code, 200);
    assert!(body.contains("\"breaker\": \"open\""), "{body}");
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
