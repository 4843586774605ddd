//! Start the sandbox provider, log in with PKCE through a loopback
//! listener, keep the tokens in an encrypted file store, and build the
//! integration every generated call goes through.

use crate::harbor;
use crate::narrate::{section, since, step, PrintDrift};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use wharf::auth::{AuthEvent, Credential, CredentialConfig, DataKey, EncryptedFileStore, KeyRing};
use wharf::call::{Integration, IntegrationConfig};
use wharf::policy::breaker::BreakerConfig;
use wharf::policy::retry::RetryPolicy;
use wharf::testing::sandbox::{self, Sandbox, SandboxConfig};
use wharf::time::TokioClock;

/// The access token's lifetime in the sandbox: short, so the refresh at
/// 80% happens during the tour.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(4);

/// What the tour works with.
pub struct Session {
    pub sandbox: Sandbox,
    pub client: harbor::Client,
    pub credential: Credential,
    pub drift: Arc<PrintDrift>,
    /// When the tokens were issued.
    pub logged_in: Instant,
    /// When the first background refresh happened, after login.
    pub refreshed: watch::Receiver<Option<Duration>>,
    store_dir: PathBuf,
}

impl Session {
    /// Removes the token store directory.
    pub fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(&self.store_dir);
    }
}

pub async fn login() -> Result<Session, Box<dyn std::error::Error>> {
    section("the sandbox provider (OAuth server + the Harbor API, on 127.0.0.1)");
    let sandbox = Sandbox::start(SandboxConfig {
        access_token_lifetime: TOKEN_LIFETIME,
        ..SandboxConfig::default()
    })
    .await?;
    step(&format!("listening at {}", sandbox.base_url()));

    section("PKCE login through a loopback listener");
    // Least privilege: the scopes of the operations this app calls.
    use harbor::operations::{CREATE_ISSUE, GET_REPO, GET_USER, LIST_REPOS};
    let scopes: Vec<String> = wharf::scopes_for([&GET_USER, &LIST_REPOS, &GET_REPO, &CREATE_ISSUE])
        .into_iter()
        .map(str::to_owned)
        .collect();
    step(&format!(
        "scopes the app needs (from the spec): {}",
        scopes.join(" ")
    ));
    let transport = Arc::new(Sandbox::transport()?);
    let oauth = sandbox
        .oauth_client(sandbox::QUICKSTART_CLIENT_ID, transport.clone())
        .ok_or("the sandbox has no quickstart client")?;
    let tokens = oauth
        .login_loopback(
            &scopes,
            |url| {
                let shown = url.split('?').next().unwrap_or(url);
                step(&format!(
                    "browser opened at {shown}?… (S256 challenge, state)"
                ));
                step("the sandbox consents at once and redirects to the loopback listener");
                drop(sandbox::auto_browser(url));
            },
            Duration::from_secs(10),
        )
        .await?;
    let logged_in = Instant::now();
    let mut granted: Vec<&str> = tokens.scopes.iter().map(String::as_str).collect();
    granted.sort_unstable();
    step(&format!(
        "code exchanged with the verifier; granted: {}; access token lives {} s",
        granted.join(" "),
        TOKEN_LIFETIME.as_secs()
    ));

    section("tokens at rest: encrypted file store (XChaCha20-Poly1305)");
    let store_dir = std::env::temp_dir().join(format!("wharf-quickstart-{}", std::process::id()));
    let keys = KeyRing::new(DataKey::generate("quickstart")?);
    let store = Arc::new(EncryptedFileStore::open(&store_dir, keys)?);
    let file = store.path_of("harbor:ada");
    let access_token = tokens.access_token.clone();
    let credential = Credential::with_config(
        "harbor:ada",
        store,
        Arc::new(oauth),
        Arc::new(TokioClock),
        CredentialConfig {
            jitter: 0.0,
            ..CredentialConfig::default()
        },
    );
    // The credential stores the tokens; then look at what reached the disk.
    credential.set_tokens(tokens).await?;
    let on_disk = std::fs::read(&file)?;
    let token = access_token.expose_secret().as_bytes();
    let in_clear = on_disk.windows(token.len()).any(|w| w == token);
    step(&format!(
        "{} ({} bytes); the access token appears in it: {}",
        file.display(),
        on_disk.len(),
        if in_clear { "YES (bug)" } else { "no" }
    ));

    let (tx, refreshed) = watch::channel(None);
    credential.on_event(move |event| {
        if let AuthEvent::Refreshed { generation, .. } = event {
            step(&format!(
                "[auth] refreshed in the background at {} after login (80% of {} s); generation {generation}",
                since(logged_in),
                TOKEN_LIFETIME.as_secs()
            ));
            tx.send_if_modified(|first| {
                let unset = first.is_none();
                if unset {
                    *first = Some(logged_in.elapsed());
                }
                unset
            });
        }
    });
    credential.spawn_refresher();

    let drift = Arc::new(PrintDrift::default());
    let config = IntegrationConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
        },
        breaker: Some(BreakerConfig {
            consecutive_failures: 3,
            open_for: Duration::from_secs(1),
            ..BreakerConfig::default()
        }),
        jitter_seed: Some(7),
        ..IntegrationConfig::default()
    };
    let integration = Integration::builder("harbor")
        .config(config)
        .transport(transport)
        .authenticator(Arc::new(credential.clone()))
        .drift_sink(drift.clone())
        .build()?;
    let client = harbor::Client::new(integration, sandbox.base_url());
    Ok(Session {
        sandbox,
        client,
        credential,
        drift,
        logged_in,
        refreshed,
        store_dir,
    })
}
