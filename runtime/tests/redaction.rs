//! Canary values in every place a secret can travel: none may surface in a
//! captured log (at TRACE), an error's `Display` or `Debug`, or a request's
//! or response's `Debug`.

mod log_capture;

use http::{HeaderValue, Method};
use log_capture::Captured;
use std::sync::Arc;
use wharf_runtime::call::{CallOptions, Integration, IntegrationConfig, OperationMeta, Request};
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport};
use wharf_runtime::time::{Clock, TokioClock};

const CANARY: &str = "CANARY-5f0c1d";

#[tokio::test(start_paused = true)]
async fn secrets_never_reach_logs_errors_or_debug() {
    let captured = Captured::default();
    let _guard = captured.install();

    let server = FaultServer::new(|seen| {
        let status = if seen.index < 2 { 503 } else { 401 };
        Fault::Respond {
            status,
            headers: vec![
                ("set-cookie".into(), format!("session={CANARY}")),
                (
                    "www-authenticate".into(),
                    format!("Bearer error=\"invalid_token\", token=\"{CANARY}\""),
                ),
            ],
            body: format!("{{\"access_token\": \"{CANARY}\"}}").into(),
        }
    });
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let api = Integration::builder("canary")
        .config(IntegrationConfig {
            jitter_seed: Some(1),
            ..Default::default()
        })
        .transport(Arc::new(FaultTransport::new(server, clock.clone())))
        .clock(clock)
        .build()
        .unwrap();
    let mut request = Request::new(
        OperationMeta::new("token", Method::POST, "/token").with_idempotency_key(),
        format!("https://api.test/token?access_token={CANARY}&client_secret={CANARY}&page=2"),
    )
    .with_body(format!("{{\"refresh_token\": \"{CANARY}\"}}"));
    request.headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {CANARY}")).unwrap(),
    );
    request.headers.insert(
        "cookie",
        HeaderValue::from_str(&format!("sid={CANARY}")).unwrap(),
    );
    request
        .headers
        .insert("x-api-key", HeaderValue::from_str(CANARY).unwrap());

    let request_debug = format!("{request:?}");
    let err = api.call(request, CallOptions::default()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
    let outputs = [
        ("request Debug", request_debug),
        ("error Display", err.to_string()),
        ("error Debug", format!("{err:?}")),
        ("error Debug (pretty)", format!("{err:#?}")),
        ("logs", captured.text()),
    ];
    for (what, text) in &outputs {
        assert!(!text.contains(CANARY), "{what} leaks the canary:\n{text}");
    }
    // The logs did record the call (the test would pass vacuously otherwise).
    let logs = &outputs[4].1;
    assert!(
        logs.contains("retrying") && logs.contains("wharf.call"),
        "{logs}"
    );
    assert!(outputs[0].1.contains("[redacted]") && outputs[0].1.contains("page=2"));
}
