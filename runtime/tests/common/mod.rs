//! Helpers shared by the runtime's integration tests.

use http::Method;
use std::sync::Arc;
use wharf_runtime::call::{
    Integration, IntegrationBuilder, IntegrationConfig, OperationMeta, Request, SchemeScopes,
    SecurityRequirement,
};
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport, Seen};
use wharf_runtime::time::{Clock, TokioClock};

/// An integration served by `server` in memory, on tokio's clock, with
/// seeded jitter.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn integration(server: &Arc<FaultServer>, config: IntegrationConfig) -> Integration {
    builder_on(server, config, Arc::new(TokioClock))
        .build()
        .unwrap()
}

/// What [`integration`] builds, on `clock`, for tests that add to it.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn builder_on(
    server: &Arc<FaultServer>,
    config: IntegrationConfig,
    clock: Arc<dyn Clock>,
) -> IntegrationBuilder {
    Integration::builder("fault")
        .config(IntegrationConfig {
            jitter_seed: Some(7),
            ..config
        })
        .transport(Arc::new(FaultTransport::new(server.clone(), clock.clone())))
        .clock(clock)
}

/// A GET of `/thing`.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn get() -> Request {
    Request::new(
        OperationMeta::new("getThing", Method::GET, "/thing"),
        "https://fault.test/thing",
    )
}

/// A GET of `/repos` secured by the `oauth` scheme with scope `read`.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn secured_get() -> OperationMeta {
    let mut op = OperationMeta::new("repos/get", Method::GET, "/repos");
    op.security = &[SecurityRequirement {
        schemes: &[SchemeScopes {
            scheme: "oauth",
            scopes: &["read"],
            oauth: true,
        }],
    }];
    op
}

/// A server that answers 503 to the requests `unavailable` picks, and
/// 200 to the rest.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn unavailable_when(
    unavailable: impl Fn(&Seen) -> bool + Send + Sync + 'static,
) -> Arc<FaultServer> {
    FaultServer::new(move |seen: &Seen| {
        if unavailable(seen) {
            Fault::status(503)
        } else {
            Fault::ok()
        }
    })
}

/// A server that fails every call's first attempt with a 503 and answers
/// its retry: requests alternate 503, 200.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn first_attempts_fail() -> Arc<FaultServer> {
    unavailable_when(|seen| seen.index.is_multiple_of(2))
}

/// Real time for sleeps; a wall clock that moves only when a test moves it
/// (for due times kept in a store as Unix milliseconds).
#[allow(dead_code)] // not every test binary that shares this module uses it
#[derive(Debug)]
pub struct ManualWall {
    unix_ms: std::sync::atomic::AtomicI64,
}

#[allow(dead_code)] // not every test binary that shares this module uses it
impl ManualWall {
    pub fn new() -> Arc<Self> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Arc::new(ManualWall {
            unix_ms: std::sync::atomic::AtomicI64::new(now),
        })
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.unix_ms
            .fetch_add(by.as_millis() as i64, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn ms(&self) -> i64 {
        self.unix_ms.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Clock for ManualWall {
    fn now(&self) -> wharf_runtime::time::Instant {
        wharf_runtime::time::Instant::now()
    }

    fn sleep(&self, duration: std::time::Duration) -> wharf_runtime::time::Sleep {
        wharf_runtime::time::Sleep::tokio(duration)
    }

    fn wall(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(self.ms() as u64)
    }
}
