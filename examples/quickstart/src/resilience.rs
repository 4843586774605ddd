//! The second half of the quickstart: calls through wharf's runtime against
//! the embedded fault server (in memory, no network), showing what the
//! resilience stack does and why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wharf::call::{CallOptions, ErrorKind, Integration, IntegrationConfig, OperationMeta, Request};
use wharf::policy::breaker::BreakerConfig;
use wharf::testing::{Fault, FaultServer, FaultTransport};
use wharf::time::{Clock, Instant, TokioClock};

fn integration(server: &Arc<FaultServer>, config: IntegrationConfig) -> Integration {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let built = Integration::builder("sandbox")
        .config(config)
        .transport(Arc::new(FaultTransport::new(server.clone(), clock.clone())))
        .clock(clock)
        .build();
    match built {
        Ok(i) => i,
        Err(e) => {
            eprintln!("configuration refused: {e}");
            std::process::exit(1);
        }
    }
}

fn get_repo() -> Request {
    Request::new(
        OperationMeta::new(
            "repos/get",
            wharf::http::Method::GET,
            "/repos/{owner}/{repo}",
        ),
        "https://sandbox.test/repos/acme/wharf",
    )
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

pub async fn run() {
    println!("\n== retries: the provider fails twice with 503, then answers");
    let server = FaultServer::failing_first(2, Fault::status(503));
    let api = integration(&server, IntegrationConfig::default());
    let started = Instant::now();
    let result = api.call(get_repo(), CallOptions::default()).await;
    let log = server.log();
    for (i, seen) in log.requests.iter().enumerate() {
        let at = seen.at.saturating_duration_since(started);
        let what = if i < 2 {
            "503 (transient: retry with full-jitter backoff)"
        } else {
            "200"
        };
        println!("  attempt {} at +{:<7} -> {what}", i + 1, ms(at));
    }
    println!(
        "  result: {}; every attempt carried correlation id {}",
        if result.is_ok() { "success" } else { "failure" },
        log.requests[0].correlation_id.as_deref().unwrap_or("-")
    );

    println!("\n== circuit breaker: a total outage, then recovery");
    let healthy = Arc::new(AtomicBool::new(false));
    let h = healthy.clone();
    let server = FaultServer::new(move |_| {
        if h.load(Ordering::SeqCst) {
            Fault::ok()
        } else {
            Fault::status(503)
        }
    });
    let open_for = Duration::from_millis(800);
    let api = integration(
        &server,
        IntegrationConfig {
            breaker: Some(BreakerConfig {
                open_for,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    for call in 1..=4 {
        let outcome = match api.call(get_repo(), CallOptions::default()).await {
            Ok(_) => "success".to_owned(),
            Err(e) if matches!(e.kind, ErrorKind::BreakerOpen { .. }) => match e.attempts {
                0 => "refused at once: breaker open, no request sent".to_owned(),
                n => {
                    format!("{n} attempts failed, then the breaker opened and stopped the retries")
                }
            },
            Err(e) => format!(
                "failed after {} attempts ({})",
                e.attempts,
                e.class().as_str()
            ),
        };
        println!(
            "  call {call}: {outcome}; breaker {}",
            api.health().breaker.as_str()
        );
    }
    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(open_for).await;
    let probe = api.call(get_repo(), CallOptions::default()).await;
    println!(
        "  after {}: one probe -> {}; breaker {}",
        ms(open_for),
        if probe.is_ok() { "success" } else { "failure" },
        api.health().breaker.as_str()
    );
    println!(
        "  requests the provider saw in all: {}",
        server.log().requests.len()
    );

    println!("\n== rate limited: 429 with Retry-After: 1");
    let server = FaultServer::failing_first(1, Fault::status(429).with_header("retry-after", "1"));
    let api = integration(&server, IntegrationConfig::default());
    let started = Instant::now();
    let result = api.call(get_repo(), CallOptions::default()).await;
    let log = server.log();
    let waited = log
        .requests
        .get(1)
        .map(|s| s.at.saturating_duration_since(log.requests[0].at));
    println!(
        "  {}: waited {} before the retry, as the provider asked; total {}",
        if result.is_ok() { "success" } else { "failure" },
        waited.map_or("-".to_owned(), ms),
        ms(started.elapsed())
    );

    println!("\n== health of the integration");
    let h = api.health();
    println!(
        "  breaker {}, error rate {:.0}%, p95 {}, retry budget {:.1} tokens",
        h.breaker.as_str(),
        h.error_rate * 100.0,
        h.p95.map_or("-".to_owned(), ms),
        h.budget
    );
}
