//! Helpers shared by the runtime's integration tests.

use http::Method;
use std::sync::Arc;
use wharf_runtime::call::{Integration, IntegrationConfig, OperationMeta, Request};
use wharf_runtime::testing::{FaultServer, FaultTransport};
use wharf_runtime::time::{Clock, TokioClock};

/// An integration served by `server` in memory, on tokio's clock, with
/// seeded jitter.
pub fn integration(server: &Arc<FaultServer>, config: IntegrationConfig) -> Integration {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    Integration::builder("fault")
        .config(IntegrationConfig {
            jitter_seed: Some(7),
            ..config
        })
        .transport(Arc::new(FaultTransport::new(server.clone(), clock.clone())))
        .clock(clock)
        .build()
        .unwrap()
}

/// A GET of `/thing`.
pub fn get() -> Request {
    Request::new(
        OperationMeta::new("getThing", Method::GET, "/thing"),
        "https://fault.test/thing",
    )
}
