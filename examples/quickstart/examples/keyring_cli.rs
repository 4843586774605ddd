//! `cargo run --example keyring_cli`: a command-line app keeping its tokens
//! in the platform's OS keyring (`os_credential_store()`: on Linux the
//! Secret Service when wharf's `secret-service` feature is on and a session
//! bus offers one, else the kernel keyutils keyring, which works headless;
//! the keychain on macOS; the Credential Manager on Windows). It logs in,
//! then starts over the way a second run of a CLI would: a new credential
//! that finds the tokens in the keyring, calls, and logs out (revocation at
//! the provider, entry and data key deleted from the keyring).

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;
    use std::time::Duration;
    use wharf::auth::{os_credential_store, Credential, KeyringStore, TokenStore};
    use wharf::call::Integration;
    use wharf::testing::sandbox::{self, Sandbox, SandboxConfig};
    use wharf::time::TokioClock;
    use wharf_quickstart::{harbor, narrate};

    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let transport = Arc::new(Sandbox::transport()?);
    let oauth = sandbox
        .oauth_client(sandbox::QUICKSTART_CLIENT_ID, transport.clone())
        .ok_or("no quickstart client")?;
    let service = format!("wharf-example-{}", std::process::id());
    let overflow = std::env::temp_dir().join(&service);
    let keyring = os_credential_store()?;

    narrate::section("first run: `mycli login`");
    narrate::step(&format!("OS keyring: {}", keyring.vendor()));
    let store = Arc::new(KeyringStore::open(keyring.clone(), &service, &overflow)?);
    let scopes = ["user:read".to_owned()];
    let tokens = oauth
        .login_loopback(
            &scopes,
            |url| drop(sandbox::auto_browser(url)),
            Duration::from_secs(10),
        )
        .await?;
    store.save("harbor", &tokens).await?;
    narrate::step(&format!(
        "tokens saved in the OS keyring under service {service:?}"
    ));
    drop(store);

    narrate::section("second run: `mycli whoami`, then `mycli logout`");
    let store = Arc::new(KeyringStore::open(keyring, &service, &overflow)?);
    let credential = Credential::new(
        "harbor",
        store.clone() as Arc<dyn TokenStore>,
        Arc::new(oauth.clone()),
        Arc::new(TokioClock),
    );
    let integration = Integration::builder("harbor")
        .transport(transport)
        .authenticator(Arc::new(credential.clone()))
        .build()?;
    let client = harbor::Client::new(integration, sandbox.base_url());
    let me = client.get_user(Default::default()).await?.value;
    narrate::step(&format!(
        "whoami → {} (tokens read from the keyring)",
        me.login
    ));
    credential.logout(&oauth).await?;
    let left = store.load("harbor").await?;
    narrate::step(&format!(
        "logout → revoked at the provider ({} revocation(s)); keyring entry left: {}",
        sandbox.log().revocations.len(),
        if left.is_some() { "yes (bug)" } else { "none" }
    ));
    // Signing out for good: the data key that encrypted the entries goes too.
    store.forget_data_key().await?;
    narrate::step("data key removed from the OS keyring: nothing of the app is left there");
    let _ = std::fs::remove_dir_all(&overflow);
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn main() {
    eprintln!("this example needs an OS keyring: Linux, macOS or Windows");
}
