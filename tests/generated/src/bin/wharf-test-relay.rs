//! One relay as its own process, for the test that SIGKILLs one of three
//! (tests/relay.rs): `wharf-test-relay POSTGRES_CONFIG`. It sends the
//! queued calls of `specs/bodies.yaml` over plain HTTP to loopback (where
//! the test's fault server listens) and exits 0 when nothing is pending or
//! in flight.

use std::process::ExitCode;
use std::sync::Arc;
use wharf::call::{Integration, ReqwestTransport};
use wharf::relay::Relay;
use wharf::store::PostgresStore;
use wharf_generated_tests::{bodies, relay_settings};

async fn relay(pg: &str) -> Result<(), String> {
    let store = PostgresStore::connect(pg)
        .await
        .map_err(|e| format!("store: {e}"))?;
    let transport = ReqwestTransport::builder()
        .allow_plain_http_loopback(true)
        .build()
        .map_err(|e| format!("transport: {e}"))?;
    let integration = Integration::builder("widgets")
        .config(relay_settings::integration_config())
        .transport(Arc::new(transport))
        .build()
        .map_err(|e| format!("integration: {e}"))?;
    let relay = Relay::new(Arc::new(store), relay_settings::relay_config());
    relay.register(integration, bodies::operations::ALL);
    relay
        .run_until_idle()
        .await
        .map_err(|e| format!("relay: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(pg) = std::env::args().nth(1) else {
        eprintln!("usage: wharf-test-relay POSTGRES_CONFIG");
        return ExitCode::from(2);
    };
    match relay(&pg).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
