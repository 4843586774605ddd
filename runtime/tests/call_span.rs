//! The call span an operator sees: it names the integration and operation,
//! carries the correlation id the requests carried (generated or given), and
//! records the attempts and the outcome; and each attempt's span, with its
//! status, class and duration. A binary of its own, as every test
//! that reads captured logs (see `log_capture`).

mod common;
mod log_capture;

use common::{first_attempts_fail, get, integration};
use log_capture::Captured;
use wharf_runtime::call::{CallOptions, IntegrationConfig};

/// The closing line of the `wharf.call` span whose fields include `needle`
/// (not one of its attempts', which show the call span as their context).
fn call_span<'a>(logs: &'a str, needle: &str) -> Option<&'a str> {
    logs.lines().find(|l| {
        l.contains("wharf.call{")
            && !l.contains("wharf.attempt{")
            && l.contains(needle)
            && l.contains(": close ")
    })
}

#[tokio::test(start_paused = true)]
async fn the_call_span_carries_the_correlation_id_and_the_outcome() {
    let captured = Captured::default();
    let _guard = captured.install();
    // Every first attempt of a call fails with a 503, its retry succeeds.
    let server = first_attempts_fail();
    let api = integration(&server, IntegrationConfig::default());
    api.call(get(), CallOptions::default()).await.unwrap();
    let given = CallOptions {
        correlation_id: Some("trace-42".into()),
        ..Default::default()
    };
    api.call(get(), given).await.unwrap();

    let logs = captured.text();
    let requests = server.log().requests;
    let generated = requests[0].correlation_id.clone().unwrap();
    assert_eq!(generated.len(), 32, "{generated}");
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    for id in [generated.as_str(), "trace-42"] {
        let span = call_span(&logs, &format!("correlation_id={id}"))
            .unwrap_or_else(|| panic!("no call span with {id} in:\n{logs}"));
        for field in [
            "integration=fault",
            "operation=getThing",
            "attempts=2",
            "outcome=\"success\"",
        ] {
            assert!(span.contains(field), "{field} missing from {span}");
        }
    }
    assert_eq!(requests[2].correlation_id.as_deref(), Some("trace-42"));

    // Each attempt's span closes with its number, status, class and
    // duration, inside its call's span.
    let attempt = |number: &str| {
        logs.lines()
            .find(|l| {
                l.contains(&format!("correlation_id={generated}"))
                    && l.contains(&format!("wharf.attempt{{attempt={number} "))
                    && l.contains(": close ")
            })
            .unwrap_or_else(|| panic!("no closing span of attempt {number} in:\n{logs}"))
    };
    for (number, fields) in [
        ("1", ["status=503", "class=\"transient\"", "duration_ms=0"]),
        ("2", ["status=200", "class=\"success\"", "duration_ms=0"]),
    ] {
        let span = attempt(number);
        for field in fields {
            assert!(span.contains(field), "{field} missing from {span}");
        }
    }
}
