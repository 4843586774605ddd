//! The app against the OAuth sandbox: a service credential, a typed call
//! and a stream read to the end.

use std::sync::Arc;
use wharf::auth::{Credential, MemoryStore};
use wharf::call::Integration;
use wharf::testing::sandbox::{self, Sandbox, SandboxConfig};
use wharf::time::TokioClock;

#[tokio::test]
async fn calls_the_sandbox_and_reads_a_stream() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let transport = Arc::new(Sandbox::transport().unwrap());
    let oauth = sandbox
        .oauth_client(sandbox::SERVICE_CLIENT_ID, transport.clone())
        .unwrap();
    let tokens = oauth.client_credentials(&[]).await.unwrap();
    let credential = Credential::new(
        "harbor:service",
        Arc::new(MemoryStore::new()),
        Arc::new(oauth),
        Arc::new(TokioClock),
    );
    credential.set_tokens(tokens).await.unwrap();
    let integration = Integration::builder("harbor")
        .transport(transport)
        .authenticator(Arc::new(credential))
        .build()
        .unwrap();
    let client = fresh_app::harbor::Client::new(integration, &sandbox.base_url());
    let me = client.get_user(Default::default()).await.unwrap().value;
    assert!(!me.login.is_empty());
    let names = fresh_app::repository_names(&client).await.unwrap();
    assert!(names.len() > 2, "more than one page: {names:?}");
}
