//! Canary values in every place a secret can travel: none may surface in a
//! captured log (at TRACE), an error's `Display` or `Debug`, or a request's
//! or response's `Debug`.

use http::{HeaderValue, Method};
use std::io::Write;
use std::sync::{Arc, Mutex};
use wharf_runtime::call::{CallOptions, Integration, IntegrationConfig, OperationMeta, Request};
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport};
use wharf_runtime::time::{Clock, TokioClock};

const CANARY: &str = "CANARY-5f0c1d";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn secrets_never_reach_logs_errors_or_debug() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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
        (
            "logs",
            String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned(),
        ),
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
