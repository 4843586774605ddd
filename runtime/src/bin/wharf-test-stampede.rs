//! One "process" of the cross-process refresh stampede test
//! (runtime/tests/oauth_postgres.rs): a credential over the shared
//! PostgreSQL store, N tasks asking for a token at the same instant.
//! Built only for tests (features `testing` + `postgres`).
//!
//! usage: wharf-test-stampede ISSUER CA.der PG_CONFIG DATA_KEY START_EPOCH_MS TASKS

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_runtime::auth::{
    ClientAuth, ClientCredentials, Credential, DataKey, KeyRing, OAuthClient, PostgresStore,
    ProviderProfile,
};
use wharf_runtime::call::{ReqwestTransport, Transport};
use wharf_runtime::time::TokioClock;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(n) => {
            println!("OK {n}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            println!("ERROR {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<usize, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [issuer, ca, pg, key, start, tasks] = args.as_slice() else {
        return Err("usage: ISSUER CA.der PG_CONFIG DATA_KEY START_EPOCH_MS TASKS".into());
    };
    let ca = std::fs::read(ca).map_err(|e| e.to_string())?;
    let transport: Arc<dyn Transport> = Arc::new(
        ReqwestTransport::builder()
            .add_root_certificate_der(ca)
            .build()
            .map_err(|e| e.to_string())?,
    );
    let metadata = OAuthClient::discover(issuer, &transport)
        .await
        .map_err(|e| e.to_string())?;
    let client = OAuthClient::new(
        metadata,
        ProviderProfile {
            client_auth: ClientAuth::Basic,
            ..ProviderProfile::default()
        },
        ClientCredentials {
            client_id: "cli".into(),
            client_secret: None,
        },
        transport,
    );
    let keys = KeyRing::new(DataKey::parse(key).map_err(|e| e.to_string())?);
    let store = PostgresStore::connect(pg, keys)
        .await
        .map_err(|e| e.to_string())?;
    let credential = Credential::new(
        "oidc:shared",
        Arc::new(store),
        Arc::new(client),
        Arc::new(TokioClock),
    );
    let start: u64 = start.parse().map_err(|_| "START_EPOCH_MS")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    let wait = Duration::from_millis(start).saturating_sub(now);
    tokio::time::sleep(wait).await;
    let tasks: usize = tasks.parse().map_err(|_| "TASKS")?;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let c = credential.clone();
        handles.push(tokio::spawn(async move { c.access_token().await }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await {
            Ok(Ok((t, _))) if !t.is_expired(SystemTime::now()) => ok += 1,
            Ok(Ok(_)) => return Err("an expired token was handed out".into()),
            Ok(Err(e)) => return Err(e.to_string()),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(ok)
}
