//! A real authorization server for the OAuth tests: npm `oidc-provider`
//! over TLS with a CA made at test time (see `tests/oidc/server.mjs`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wharf_runtime::auth::{ClientAuth, ClientCredentials, OAuthClient, ProviderProfile};
use wharf_runtime::call::{HttpRequest, ReqwestTransport, Transport};
use wharf_runtime::http::{HeaderMap, HeaderValue, Method};
use wharf_runtime::testing::TestCa;

pub struct OidcServer {
    pub issuer: String,
    pub ca_der: Vec<u8>,
    child: Child,
    events: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl OidcServer {
    pub fn start(options: &str) -> OidcServer {
        let install = workspace().join("build/oidc");
        assert!(
            install.join("node_modules/oidc-provider/package.json").is_file(),
            "oidc-provider is not installed in {} (run `bash scripts/install-oidc.sh`; scripts/test.sh does)",
            install.display()
        );
        // The script runs beside node_modules so node resolves the package.
        let script = install.join("server.mjs");
        let source =
            std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/server.mjs"))
                .expect("read tests/oidc/server.mjs");
        // Tests start servers concurrently: the script is replaced only when
        // it changed, and by a rename, so no node process ever reads it
        // half-written.
        if std::fs::read(&script).ok().as_deref() != Some(&source[..]) {
            let staged = install.join(format!(
                "server.mjs.{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::write(&staged, &source).expect("stage server.mjs");
            std::fs::rename(&staged, &script).expect("install server.mjs");
        }
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

    pub fn transport(&self) -> Arc<dyn Transport> {
        Arc::new(
            ReqwestTransport::builder()
                .add_root_certificate_der(self.ca_der.clone())
                .allow_plain_http_loopback(true)
                .build()
                .expect("transport"),
        )
    }

    /// Events arrive on the server's stdout a moment after the HTTP
    /// response: wait until the log has been quiet for 200 ms (at most 5 s).
    fn settled_events(&self) -> Vec<String> {
        let started = std::time::Instant::now();
        let mut last = self.events.lock().unwrap().len();
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.events.lock().unwrap().len();
            if now == last || started.elapsed() > Duration::from_secs(5) {
                return self.events.lock().unwrap().clone();
            }
            last = now;
        }
    }

    pub fn count(&self, event: &str) -> usize {
        self.settled_events()
            .iter()
            .filter(|e| e.split(' ').next() == Some(event))
            .count()
    }

    pub fn invalid_grants(&self) -> usize {
        self.settled_events()
            .iter()
            .filter(|e| e.starts_with("grant.error") && e.contains("invalid_grant"))
            .count()
    }

    pub async fn client(&self, id: &str, secret: Option<&str>) -> OAuthClient {
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

pub fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(7);
    h.finish()
}

/// What a browser does: follow redirects with cookies until the loopback
/// redirect, then GET that.
pub async fn browse(start: String, transport: Arc<dyn Transport>) {
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

pub fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

pub async fn login(server: &OidcServer, client: &OAuthClient) -> wharf_runtime::auth::TokenSet {
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
