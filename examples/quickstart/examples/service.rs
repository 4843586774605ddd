//! `DATABASE_URL='host=/var/run/postgresql user=postgres dbname=postgres' cargo run --example service`:
//! a server acting for itself (client credentials), run as two instances
//! that share one encrypted token in PostgreSQL. Each instance has its own
//! connection, credential and integration, as two processes would. Tokens
//! live 2 s here; each is renewed at 80% of its lifetime by whichever
//! instance gets the store's lease first, and the other adopts it: the
//! provider sees one grant per lifetime, not one per instance.

use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use wharf::auth::{ClientCredentialsGrant, Credential, DataKey, KeyRing, PostgresStore};
use wharf::call::Integration;
use wharf::testing::sandbox::{self, GrantType, Sandbox, SandboxConfig};
use wharf::time::TokioClock;
use wharf_quickstart::{harbor, narrate};

const RUN_FOR: Duration = Duration::from_secs(6);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = std::env::var("DATABASE_URL").map_err(|_| {
        "set DATABASE_URL (e.g. 'host=/var/run/postgresql user=postgres dbname=postgres')"
    })?;
    let sandbox = Sandbox::start(SandboxConfig {
        access_token_lifetime: Duration::from_secs(2),
        ..SandboxConfig::default()
    })
    .await?;
    // One data key for the fleet (in production: WHARF_TOKEN_KEY or a key file).
    let key = DataKey::generate("service")?.to_text();
    let scopes = ["repo:read".to_owned()];

    narrate::section("two instances, one PostgreSQL store, client credentials");
    let mut instances = Vec::new();
    for name in ["instance-a", "instance-b"] {
        let transport = Arc::new(Sandbox::transport()?);
        let oauth = sandbox
            .oauth_client(sandbox::SERVICE_CLIENT_ID, transport.clone())
            .ok_or("the sandbox has no service client")?;
        let store = Arc::new(
            PostgresStore::connect(
                &database,
                KeyRing::new(DataKey::parse(key.expose_secret())?),
            )
            .await?,
        );
        let credential = Credential::new(
            "harbor:service",
            store,
            Arc::new(ClientCredentialsGrant(oauth.clone())),
            Arc::new(TokioClock),
        );
        // The first instance to start gets the token; the other finds it
        // in the store on its first call.
        if instances.is_empty() {
            credential
                .set_tokens(oauth.client_credentials(&scopes).await?)
                .await?;
        }
        credential.spawn_refresher();
        let integration = Integration::builder(name)
            .transport(transport)
            .authenticator(Arc::new(credential.clone()))
            .build()?;
        let client = harbor::Client::new(integration, sandbox.base_url());
        instances.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut ok = 0;
            while started.elapsed() < RUN_FOR {
                if client.list_repos(Default::default()).await.is_ok() {
                    ok += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (name, ok)
        }));
    }
    for instance in instances {
        let (name, ok) = instance.await?;
        narrate::step(&format!(
            "{name}: {ok} calls succeeded in {} s",
            RUN_FOR.as_secs()
        ));
    }
    let grants = sandbox.log().grants(GrantType::ClientCredentials);
    narrate::step(&format!(
        "client-credentials grants at the provider: {grants} for {} s of 2 s tokens renewed at 80% \
         (two instances each renewing on their own would need about twice as many)",
        RUN_FOR.as_secs()
    ));
    Ok(())
}
