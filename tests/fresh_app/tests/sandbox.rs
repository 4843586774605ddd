//! The app against the sandbox provider, authenticated the three ways its
//! spec offers: an OAuth service credential, an API key in a header and
//! HTTP basic (account id and auth token). Each makes a typed call; the
//! OAuth one also reads a stream to the end.

use fresh_app::harbor::{self, security_schemes};
use std::sync::Arc;
use wharf::auth::{Credential, KeySource, MemoryStore};
use wharf::call::{Authenticator, Integration};
use wharf::secrecy::SecretString;
use wharf::testing::sandbox::{self, Sandbox, SandboxConfig, TokenCheck};
use wharf::time::TokioClock;

fn client(sandbox: &Sandbox, authenticator: Arc<dyn Authenticator>) -> harbor::Client {
    let integration = Integration::builder("harbor")
        .transport(Arc::new(Sandbox::transport().unwrap()))
        .authenticator(authenticator)
        .build()
        .unwrap();
    harbor::Client::new(integration, &sandbox.base_url())
}

fn secret(text: &str) -> Arc<KeySource> {
    KeySource::new(SecretString::from(text.to_owned()))
}

#[tokio::test]
async fn calls_the_sandbox_and_reads_a_stream() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let transport = Arc::new(Sandbox::transport().unwrap());
    let oauth = sandbox
        .oauth_client(sandbox::SERVICE_CLIENT_ID, transport)
        .unwrap();
    let tokens = oauth.client_credentials(&[]).await.unwrap();
    let credential = Credential::new(
        "harbor:service",
        Arc::new(MemoryStore::new()),
        Arc::new(oauth),
        Arc::new(TokioClock),
    );
    credential.set_tokens(tokens).await.unwrap();
    let client = client(&sandbox, Arc::new(credential));
    let me = client.get_user(Default::default()).await.unwrap().value;
    assert!(!me.login.is_empty());
    let names = fresh_app::repository_names(&client).await.unwrap();
    assert!(names.len() > 2, "more than one page: {names:?}");
}

#[tokio::test]
async fn calls_with_an_api_key_and_with_basic_credentials() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();

    let key = security_schemes::HARBOR_KEY
        .authenticator(secret(sandbox::API_KEY))
        .unwrap();
    let me = client(&sandbox, Arc::new(key))
        .get_user(Default::default())
        .await
        .unwrap()
        .value;
    assert_eq!(me.login, "api-key");

    let basic = security_schemes::HARBOR_BASIC
        .basic_authenticator(sandbox::BASIC_ACCOUNT, secret(sandbox::BASIC_TOKEN))
        .unwrap();
    let me = client(&sandbox, Arc::new(basic))
        .get_user(Default::default())
        .await
        .unwrap()
        .value;
    assert_eq!(me.login, sandbox::BASIC_ACCOUNT);

    // A wrong key is refused by the provider, and said so.
    let wrong = security_schemes::HARBOR_KEY
        .authenticator(secret("hk_not_a_key"))
        .unwrap();
    let refused = client(&sandbox, Arc::new(wrong))
        .get_user(Default::default())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");

    let checks: Vec<TokenCheck> = sandbox
        .log()
        .api_requests
        .iter()
        .map(|r| r.token)
        .collect();
    assert_eq!(
        checks,
        [TokenCheck::ApiKey, TokenCheck::Basic, TokenCheck::Unknown]
    );
}
