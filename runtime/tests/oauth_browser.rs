//! One end-to-end login in a real browser: headless Debian `chromium`,
//! driven over WebDriver (`chromium-driver`), signs in on oidc-provider's
//! own login and consent pages, and wharf's loopback listener receives the
//! code. Chromium and its driver are Debian packages that `scripts/test.sh`
//! installs; without them this test fails.

mod peers;

use peers::oidc::{scopes, OidcServer};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf_runtime::call::{HttpRequest, ReqwestTransport, Transport};
use wharf_runtime::http::{HeaderMap, HeaderValue, Method};

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    base: String,
    http: Arc<dyn Transport>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start() -> Driver {
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "chromedriver (Debian chromium-driver) is required; scripts/test.sh installs it",
            );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let http: Arc<dyn Transport> = Arc::new(
            ReqwestTransport::builder()
                .allow_plain_http_loopback(true)
                .build()
                .expect("transport"),
        );
        Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err(v) => panic!("WebDriver {path}: {v}"),
        }
    }

    /// A WebDriver command; `Err` holds the driver's error reply.
    async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let response = self
            .http
            .send(HttpRequest {
                method,
                url: format!("{}{path}", self.base),
                headers,
                body: body.map(|b| b.to_string()).unwrap_or_default().into(),
            })
            .await
            .expect("WebDriver request");
        let v: Value = serde_json::from_slice(&response.body).expect("WebDriver JSON");
        if response.status.is_success() {
            Ok(v["value"].clone())
        } else {
            Err(v)
        }
    }
}

struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Session<'_> {
    async fn element(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            let response = self
                .driver
                .http
                .send(HttpRequest {
                    method: Method::POST,
                    url: format!("{}/session/{}/element", self.driver.base, self.id),
                    headers,
                    body: json!({"using": "css selector", "value": css})
                        .to_string()
                        .into(),
                })
                .await
                .expect("find element");
            let v: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            if response.status.is_success() {
                if let Some(id) = v["value"]
                    .as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                {
                    return id.to_owned();
                }
            }
            if started.elapsed() > Duration::from_secs(20) {
                let source = self
                    .driver
                    .call(Method::GET, &format!("/session/{}/source", self.id), None)
                    .await;
                panic!("no element {css} in: {source}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.element(css).await;
        self.driver
            .call(
                Method::POST,
                &format!("/session/{}/element/{el}/value", self.id),
                Some(json!({"text": text})),
            )
            .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.driver
            .call(
                Method::POST,
                &format!("/session/{}/execute/sync", self.id),
                Some(json!({"script": script, "args": []})),
            )
            .await
    }

    /// Submits the page's form and waits until the next page has loaded.
    /// Without the wait, the next step could find the old page's submit
    /// button, mid-navigation, and click a stale element.
    async fn submit(&self) {
        self.script("window.__wharf_page = true;").await;
        let el = self.element("button[type=submit]").await;
        self.driver
            .call(
                Method::POST,
                &format!("/session/{}/element/{el}/click", self.id),
                Some(json!({})),
            )
            .await;
        let started = Instant::now();
        loop {
            // Mid-navigation the driver may refuse a script; ask again.
            let state = self
                .driver
                .try_call(
                    Method::POST,
                    &format!("/session/{}/execute/sync", self.id),
                    Some(json!({"script": "return window.__wharf_page === undefined && document.readyState === 'complete';", "args": []})),
                )
                .await;
            if state == Ok(Value::Bool(true)) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the page did not change after submitting"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn new_session(driver: &Driver) -> Session<'_> {
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromium (Debian) is required; scripts/test.sh installs it");
    let session = driver
        .call(
            Method::POST,
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "acceptInsecureCerts": true,
                "goog:chromeOptions": {
                    "binary": binary,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
                }
            }}})),
        )
        .await;
    Session {
        driver,
        id: session["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_logs_in_and_the_loopback_listener_gets_the_code() {
    let server = OidcServer::start(r#"{"autoConsent":false}"#);
    let client = server.client("cli", None).await;
    let driver = Driver::start();
    let session = new_session(&driver).await;
    let (url_tx, url_rx) = tokio::sync::oneshot::channel::<String>();
    let wanted = scopes(&["openid", "offline_access", "repo"]);
    let login = client.login_loopback(
        &wanted,
        move |url| {
            let _ = url_tx.send(url.to_owned());
        },
        Duration::from_secs(60),
    );
    let browse = async {
        let url = url_rx.await.expect("authorization URL");
        driver
            .call(
                Method::POST,
                &format!("/session/{}/url", session.id),
                Some(json!({ "url": url })),
            )
            .await;
        // oidc-provider's own login page, then its consent page.
        session.type_into("input[name=login]", "octocat").await;
        session
            .type_into("input[name=password]", "any-password")
            .await;
        session.submit().await;
        session.submit().await;
    };
    let (tokens, ()) = tokio::join!(login, browse);
    let tokens = tokens.expect("the browser login completed");
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.scopes.contains("repo"));
    assert_eq!(server.count("grant.success"), 1);
    let _ = driver
        .call(Method::DELETE, &format!("/session/{}", session.id), None)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_approved_in_a_real_browser() {
    let server = OidcServer::start(r#"{"autoConsent":false}"#);
    let client = server.client("cli", None).await;
    let device = client
        .start_device(&scopes(&["openid", "offline_access", "repo"]))
        .await
        .expect("device authorization");
    assert!(!device.user_code.is_empty());
    let driver = Driver::start();
    let session = new_session(&driver).await;
    let approve = async {
        let url = device
            .verification_uri_complete
            .clone()
            .unwrap_or_else(|| device.verification_uri.clone());
        driver
            .call(
                Method::POST,
                &format!("/session/{}/url", session.id),
                Some(json!({ "url": url })),
            )
            .await;
        // Confirm the code, sign in, consent.
        session.submit().await;
        session.type_into("input[name=login]", "octocat").await;
        session
            .type_into("input[name=password]", "any-password")
            .await;
        session.submit().await;
        session.submit().await;
    };
    let poll = client.poll_device(&device, &wharf_runtime::time::TokioClock);
    let (tokens, ()) = tokio::join!(poll, approve);
    let tokens = tokens.expect("approved on the device page");
    assert!(tokens.scopes.contains("repo"));
    assert!(server.count("grant.success") >= 1);
    let _ = driver
        .call(Method::DELETE, &format!("/session/{}", session.id), None)
        .await;
}
