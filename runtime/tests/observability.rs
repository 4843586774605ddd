//! Metrics, health and correlation ids: what an operator sees of a call.

mod common;

use common::{first_attempts_fail, get, integration};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::time::Duration;
use wharf_runtime::call::{CallOptions, HealthCheck, IntegrationConfig};
use wharf_runtime::policy::breaker::{BreakerConfig, BreakerState};
use wharf_runtime::policy::budget::BudgetConfig;
use wharf_runtime::policy::retry::RetryPolicy;
use wharf_runtime::testing::{Fault, FaultServer, Seen};

#[tokio::test(start_paused = true)]
async fn correlation_id_is_constant_across_retries_and_unique_per_call() {
    let server = first_attempts_fail();
    let api = integration(&server, IntegrationConfig::default());
    api.call(get(), CallOptions::default()).await.unwrap();
    api.call(get(), CallOptions::default()).await.unwrap();
    let log = server.log();
    let ids: Vec<_> = log
        .requests
        .iter()
        .map(|s| s.correlation_id.clone().unwrap())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[2], ids[3]);
    assert_ne!(ids[0], ids[2]);
    assert!(
        log.requests.iter().all(|s| s.idempotency_key.is_none()),
        "no key on a GET"
    );
    // A caller-provided correlation id is propagated as is.
    let options = CallOptions {
        correlation_id: Some("trace-42".into()),
        ..Default::default()
    };
    api.call(get(), options).await.unwrap(); // request 4 is a 503, its retry (request 5) succeeds
    assert_eq!(
        server.log().requests[4].correlation_id.as_deref(),
        Some("trace-42")
    );
}

#[test]
fn metrics_count_calls_retries_breaker_changes_and_budget() {
    let ((), counters, histograms, _) = with_metrics(async {
        let server = FaultServer::new(|_| Fault::status(503));
        let api = integration(
            &server,
            IntegrationConfig {
                breaker: Some(BreakerConfig {
                    consecutive_failures: 3,
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        for _ in 0..3 {
            let _ = api.call(get(), CallOptions::default()).await;
        }
    });
    // Three call durations: the first call's two backoffs (seeded jitter,
    // paused clock), then two calls refused at once by the open breaker.
    let durations = &histograms["wharf_call_duration_seconds{integration=fault}"];
    assert_eq!(durations.len(), 3, "{durations:?}");
    let positive = durations.iter().filter(|d| **d > 0.0).count();
    assert_eq!(positive, 1, "{durations:?}");
    assert!(durations.iter().all(|d| *d < 0.3), "{durations:?}");
    assert_eq!(
        counters.get("wharf_attempts_total{integration=fault,outcome=transient}"),
        Some(&3),
        "{counters:?}"
    );
    assert_eq!(
        counters.get("wharf_retries_total{integration=fault,class=transient}"),
        Some(&2),
        "{counters:?}"
    );
    assert_eq!(
        counters.get("wharf_breaker_transitions_total{integration=fault,to=open}"),
        Some(&1),
        "{counters:?}"
    );
    assert_eq!(
        counters.get("wharf_calls_total{integration=fault,outcome=transient}"),
        Some(&3),
        "{counters:?}"
    );
    // By operation, and the responses by status (the refused calls sent
    // nothing).
    assert_eq!(
        counters.get(
            "wharf_operation_calls_total{integration=fault,operation=getThing,outcome=transient}"
        ),
        Some(&3),
        "{counters:?}"
    );
    assert_eq!(
        counters.get("wharf_responses_total{integration=fault,status=503}"),
        Some(&3),
        "{counters:?}"
    );
}

type Counters = std::collections::HashMap<String, u64>;
type Histograms = std::collections::HashMap<String, Vec<f64>>;
type Gauges = std::collections::HashMap<String, f64>;

/// Runs `test` on a paused runtime with a recorder of its own: its output,
/// and the counters, histograms and gauges recorded, by
/// `name{label=value,...}`.
fn with_metrics<T>(
    test: impl std::future::Future<Output = T>,
) -> (T, Counters, Histograms, Gauges) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let output = metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(test)
    });
    let (mut counters, mut histograms, mut gauges) =
        (Counters::new(), Histograms::new(), Gauges::new());
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
        match value {
            DebugValue::Counter(n) => {
                counters.insert(name, n);
            }
            DebugValue::Histogram(values) => {
                histograms.insert(name, values.into_iter().map(|v| v.0).collect());
            }
            DebugValue::Gauge(value) => {
                gauges.insert(name, value.0);
            }
        }
    }
    (output, counters, histograms, gauges)
}

#[test]
fn a_health_check_probes_on_its_interval_outside_the_breaker_and_the_call_metrics() {
    let (health, counters, histograms, gauges) = with_metrics(async {
        // Down for the first 7 requests (the probes), then up.
        let server = FaultServer::new(|seen: &Seen| {
            if seen.index < 7 {
                Fault::status(503)
            } else {
                Fault::ok()
            }
        });
        let api = integration(
            &server,
            IntegrationConfig {
                breaker: Some(BreakerConfig {
                    consecutive_failures: 3,
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        let probe_api = api.clone();
        let check = HealthCheck::new(&api, "getThing", move |options| {
            let api = probe_api.clone();
            async move { api.call(get(), options).await.map(drop) }
        })
        .interval(Duration::from_secs(10))
        .timeout(Duration::from_secs(2));
        // 65 s: probes at 0, 10, ..., 60 s, one attempt each, all failing.
        let _ =
            tokio::time::timeout(Duration::from_secs(65), check.run(std::future::pending())).await;
        assert_eq!(server.log().requests.len(), 7, "one attempt per probe");
        let failing = api.health();
        assert_eq!(
            failing.breaker,
            BreakerState::Closed,
            "probes are not counted"
        );
        assert_eq!(failing.error_rate, 0.0);
        assert_eq!(failing.p99, None, "probes are not in the latencies");
        let last = failing.check.clone().expect("a result");
        assert_eq!(last.operation, "getThing");
        assert!(!last.passed());
        assert!(last.error.as_deref().unwrap().contains("503"), "{last:?}");
        // The provider is back; the app's own calls go through the breaker
        // the failing probes left closed.
        for _ in 0..5 {
            api.call(get(), CallOptions::default()).await.unwrap();
        }
        // The next probe passes.
        let passed = check.check_once().await;
        assert!(passed.passed(), "{passed:?}");
        api.health()
    });
    assert!(health.check.as_ref().is_some_and(|c| c.passed()));
    assert_eq!(
        gauges.get("wharf_health_check_up{integration=fault}"),
        Some(&1.0),
        "{gauges:?}"
    );
    assert_eq!(
        counters.get("wharf_health_checks_total{integration=fault,outcome=failed}"),
        Some(&7),
        "{counters:?}"
    );
    assert_eq!(
        counters.get("wharf_health_checks_total{integration=fault,outcome=passed}"),
        Some(&1),
        "{counters:?}"
    );
    assert_eq!(
        histograms["wharf_health_check_duration_seconds{integration=fault}"].len(),
        8
    );
    // Only the app's five calls are in the call metrics.
    let calls: u64 = counters
        .iter()
        .filter(|(k, _)| k.starts_with("wharf_calls_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(calls, 5, "{counters:?}");
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_does_not_answer_fails_within_its_timeout() {
    let server = FaultServer::new(|_: &Seen| Fault::ok().after(Duration::from_secs(30)));
    let api = integration(&server, IntegrationConfig::default());
    let probe_api = api.clone();
    // A probe that ignores its options still ends at the check's timeout.
    let check = HealthCheck::new(&api, "getThing", move |_options| {
        let api = probe_api.clone();
        async move { api.call(get(), CallOptions::default()).await.map(drop) }
    })
    .timeout(Duration::from_secs(2));
    let started = tokio::time::Instant::now();
    let result = check.check_once().await;
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(result.latency, Duration::from_secs(2));
    assert!(
        result.error.as_deref().unwrap().contains("2000 ms"),
        "{result:?}"
    );
}

#[test]
fn an_empty_retry_budget_is_counted_and_said_in_the_error() {
    let (err, counters, _, _) = with_metrics(async {
        let server = FaultServer::new(|_| Fault::status(503));
        let api = integration(
            &server,
            IntegrationConfig {
                budget: BudgetConfig {
                    initial: 0.0,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        let err = api.call(get(), CallOptions::default()).await.unwrap_err();
        assert_eq!(server.log().requests.len(), 1);
        err
    });
    assert!(err.budget_exhausted);
    assert_eq!(err.attempts, 1);
    assert_eq!(
        counters.get("wharf_retry_budget_exhausted_total{integration=fault}"),
        Some(&1),
        "{counters:?}"
    );
    assert_eq!(
        counters.get("wharf_retries_total{integration=fault,class=transient}"),
        None,
        "{counters:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn health_reports_the_failure_rate_of_the_window() {
    // One attempt in four fails; no retries, so each call is one attempt.
    let server = common::unavailable_when(|seen| seen.index.is_multiple_of(4));
    let api = integration(
        &server,
        IntegrationConfig {
            retry: RetryPolicy::none(),
            ..Default::default()
        },
    );
    for _ in 0..20 {
        let _ = api.call(get(), CallOptions::default()).await;
    }
    let h = api.health();
    assert_eq!(h.breaker, BreakerState::Closed);
    assert!((h.error_rate - 0.25).abs() < 1e-9, "{}", h.error_rate);
}

#[tokio::test(start_paused = true)]
async fn health_snapshot_reports_state_rate_latency_and_budget() {
    let server = FaultServer::new(|seen: &Seen| {
        let latency = Duration::from_millis(if seen.index < 95 { 10 } else { 500 });
        Fault::ok().after(latency)
    });
    let api = integration(&server, IntegrationConfig::default());
    for _ in 0..100 {
        api.call(get(), CallOptions::default()).await.unwrap();
    }
    let h = api.health();
    assert_eq!(h.breaker, BreakerState::Closed);
    assert_eq!(h.error_rate, 0.0);
    assert_eq!(h.p95, Some(Duration::from_millis(10)));
    assert_eq!(h.p99, Some(Duration::from_millis(500)));
    assert!(
        (h.budget - 20.0).abs() < 1e-9,
        "10 initial + 100 successes x 0.1: {}",
        h.budget
    );
    assert_eq!(h.in_flight, 0);
}

#[derive(Debug, Default)]
struct Collect(std::sync::Mutex<Vec<(String, String, String)>>);

impl wharf_runtime::call::DriftSink for Collect {
    fn report(&self, integration: &str, operation: &str, drift: &[wharf_runtime::Drift]) {
        let mut seen = self.0.lock().unwrap();
        for d in drift {
            seen.push((
                integration.to_owned(),
                operation.to_owned(),
                d.pointer.clone(),
            ));
        }
    }
}

#[tokio::test]
async fn decoded_responses_report_drift_to_the_sink() {
    let sink = std::sync::Arc::new(Collect::default());
    let server = FaultServer::new(|_| Fault::ok());
    let clock: std::sync::Arc<dyn wharf_runtime::time::Clock> =
        std::sync::Arc::new(wharf_runtime::time::TokioClock);
    let api = wharf_runtime::call::Integration::builder("drifty")
        .transport(std::sync::Arc::new(
            wharf_runtime::testing::FaultTransport::new(server, clock),
        ))
        .drift_sink(sink.clone())
        .build()
        .unwrap();
    let values: Vec<i64> = api.decode("listNumbers", br#"[1, "2", 3.0]"#).unwrap();
    assert_eq!(values, [1, 2, 3]);
    let seen = sink.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("drifty".into(), "listNumbers".into(), "/1".into()),
            ("drifty".into(), "listNumbers".into(), "/2".into())
        ]
    );
    assert!(api.decode::<Vec<i64>>("listNumbers", b"[\"x\"]").is_err());
}
