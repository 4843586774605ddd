//! The resilience figures, against the scripted fault server on tokio's
//! paused clock with seeded jitter: deterministic and instant.

mod common;

use common::{get, integration};
use http::Method;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wharf_runtime::call::{
    CallOptions, ErrorClass, ErrorKind, Integration, IntegrationConfig, OperationMeta, Request,
    Response,
};
use wharf_runtime::policy::breaker::{BreakerConfig, BreakerState};
use wharf_runtime::policy::budget::BudgetConfig;
use wharf_runtime::policy::bulkhead::BulkheadConfig;
use wharf_runtime::policy::deadline::Deadline;
use wharf_runtime::policy::rate_limit::RateLimit;
use wharf_runtime::policy::retry::RetryPolicy;
use wharf_runtime::testing::{Fault, FaultServer, Seen};
use wharf_runtime::time::Instant;

fn post_with_key() -> Request {
    Request::new(
        OperationMeta::new("createThing", Method::POST, "/things").with_idempotency_key(),
        "https://fault.test/things",
    )
    .with_body("{\"amount\": 5}")
}

/// For tests where half the attempts fail by design: no breaker, and a
/// budget that earns a retry per success, so neither (rightly) stops the
/// retries the test is about.
fn unguarded() -> IntegrationConfig {
    IntegrationConfig {
        breaker: None,
        budget: BudgetConfig {
            per_success: 1.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The default configuration with a bulkhead of one and no queue.
fn one_at_a_time() -> IntegrationConfig {
    IntegrationConfig {
        bulkhead: Some(BulkheadConfig {
            max_concurrent: 1,
            max_queued: 0,
        }),
        ..Default::default()
    }
}

/// The default configuration with up to `max_attempts` attempts a call.
fn attempts(max_attempts: u32) -> IntegrationConfig {
    IntegrationConfig {
        retry: RetryPolicy {
            max_attempts,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A GET made by a task of its own, `after` from now.
fn spawn_get(
    api: &Integration,
    after: Duration,
) -> tokio::task::JoinHandle<Result<Response, wharf_runtime::call::Error>> {
    let api = api.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        api.call(get(), CallOptions::default()).await
    })
}

/// The default configuration with a client-side token bucket.
fn rate_limited(per_second: f64, burst: u32) -> IntegrationConfig {
    IntegrationConfig {
        rate_limit: Some(RateLimit { per_second, burst }),
        ..Default::default()
    }
}

/// Asserts `at` is within `[from_ms, to_ms]` milliseconds.
#[track_caller]
fn assert_between(at: Duration, from_ms: u64, to_ms: u64) {
    let (from, to) = (Duration::from_millis(from_ms), Duration::from_millis(to_ms));
    assert!(
        at >= from && at <= to,
        "{at:?} is not within {from:?}..={to:?}"
    );
}

/// A seeded coin for scripts: true with probability `p`.
fn coin(seed: &AtomicU64, p: f64) -> bool {
    let mut z = seed
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < p
}

#[tokio::test(start_paused = true)]
async fn total_outage_is_held_near_one_attempt_per_call_by_the_budget() {
    let server = FaultServer::new(|_| Fault::status(503));
    // The breaker is off so the budget alone is measured.
    let api = integration(
        &server,
        IntegrationConfig {
            breaker: None,
            ..Default::default()
        },
    );
    let calls = 1_000;
    let mut exhausted = 0;
    for _ in 0..calls {
        let err = api.call(get(), CallOptions::default()).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
        exhausted += usize::from(err.budget_exhausted);
    }
    // Calls after the reserve is spent say why they were not retried.
    assert!(exhausted >= calls - 10, "{exhausted}");
    let attempts = server.log().requests.len();
    let ratio = attempts as f64 / calls as f64;
    println!("total outage: {calls} calls, {attempts} upstream attempts ({ratio:.3}x)");
    assert!(ratio <= 1.05, "{ratio}");
    assert!(api.health().budget < 1.0);
}

/// A failed first attempt is counted once (by the breaker and the
/// server), the retry carries the same correlation id, and the bulkhead
/// slot the call holds is held until it ends.
#[tokio::test(start_paused = true)]
async fn a_failed_first_attempt_is_counted_once_and_the_retry_keeps_the_call() {
    // The retry is answered 200 ms after it is sent: 200 ms in, the call
    // is backing off (at most 100 ms) or making it, whatever the jitter.
    let server = FaultServer::new(|seen: &Seen| match seen.index {
        0 => Fault::status(503),
        _ => Fault::ok().after(Duration::from_millis(200)),
    });
    let api = integration(&server, one_at_a_time());
    let call = api.call(get(), CallOptions::default());
    let (response, in_flight) = tokio::join!(call, async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        api.health().in_flight
    });
    assert_eq!(response.unwrap().status.as_u16(), 200);
    assert_eq!(in_flight, 1, "the slot is held across the retry");
    let log = server.log();
    assert_eq!(log.requests.len(), 2);
    assert!(log.requests[0].correlation_id.is_some());
    assert_eq!(
        log.requests[0].correlation_id,
        log.requests[1].correlation_id
    );
    // One failure and one success, not the failure twice.
    assert_eq!(api.health().error_rate, 0.5);
    assert_eq!(api.health().in_flight, 0);

    // A call that keeps failing makes exactly its allowed attempts.
    let down = FaultServer::new(|_: &Seen| Fault::status(503));
    let api = integration(&down, attempts(2));
    let error = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert_eq!((error.attempts, down.log().requests.len()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn five_percent_random_503s_are_absorbed() {
    let seed = Arc::new(AtomicU64::new(11));
    let s = seed.clone();
    let server = FaultServer::new(move |_| {
        if coin(&s, 0.05) {
            Fault::status(503)
        } else {
            Fault::ok()
        }
    });
    let api = integration(&server, IntegrationConfig::default());
    let calls = 10_000;
    let mut ok = 0;
    for _ in 0..calls {
        if api.call(get(), CallOptions::default()).await.is_ok() {
            ok += 1;
        }
    }
    let attempts = server.log().requests.len();
    let (success, ratio) = (ok as f64 / calls as f64, attempts as f64 / calls as f64);
    println!(
        "5% 503s: {:.2}% succeeded, {ratio:.3}x attempts",
        success * 100.0
    );
    assert!(success >= 0.999, "{success}");
    assert!(ratio <= 1.1, "{ratio}");
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_fast_stays_silent_and_probes_once() {
    let healthy = Arc::new(AtomicBool::new(false));
    let h = healthy.clone();
    // Answers take 100 ms, so callers arrive while a probe is in flight.
    let server = FaultServer::new(move |_| {
        let answer = if h.load(Ordering::SeqCst) {
            Fault::ok()
        } else {
            Fault::status(503)
        };
        answer.after(Duration::from_millis(100))
    });
    let open_for = Duration::from_secs(30);
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
    // Opens within 10 calls of the outage.
    let mut calls_until_open = 0;
    loop {
        calls_until_open += 1;
        let err = api.call(get(), CallOptions::default()).await.unwrap_err();
        if matches!(err.kind, ErrorKind::BreakerOpen { .. }) {
            break;
        }
        assert!(calls_until_open <= 10, "still closed after 10 calls");
    }
    println!("breaker open after {calls_until_open} calls");
    assert_eq!(api.health().breaker, BreakerState::Open);
    // While open: zero requests reach the server.
    let before = server.log().requests.len();
    for _ in 0..500 {
        let err = api.call(get(), CallOptions::default()).await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::BreakerOpen { .. }));
        assert_eq!(err.attempts, 0);
    }
    assert_eq!(
        server.log().requests.len(),
        before,
        "requests sent while open"
    );
    // Half-open with 1,000 callers at once, still failing: exactly one probe.
    tokio::time::advance(open_for).await;
    let mut waiting = Vec::new();
    for _ in 0..1_000 {
        let api = api.clone();
        waiting.push(tokio::spawn(async move {
            api.call(get(), CallOptions::default()).await
        }));
    }
    for w in waiting {
        let _ = w.await;
    }
    assert_eq!(
        server.log().requests.len(),
        before + 1,
        "one probe per half-open interval"
    );
    assert_eq!(
        api.health().breaker,
        BreakerState::Open,
        "failed probe reopens"
    );
    // Next interval, provider healthy: one probe, then closed.
    healthy.store(true, Ordering::SeqCst);
    tokio::time::advance(open_for).await;
    let mut waiting = Vec::new();
    for _ in 0..1_000 {
        let api = api.clone();
        waiting.push(tokio::spawn(async move {
            api.call(get(), CallOptions::default()).await
        }));
    }
    let mut succeeded = 0;
    for w in waiting {
        if matches!(w.await, Ok(Ok(_))) {
            succeeded += 1;
        }
    }
    assert_eq!(succeeded, 1, "only the probe got through this interval");
    assert_eq!(server.log().requests.len(), before + 2);
    assert_eq!(api.health().breaker, BreakerState::Closed);
    assert!(api.call(get(), CallOptions::default()).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn black_holed_upstream_returns_by_the_deadline() {
    let server = FaultServer::new(|_| Fault::BlackHole);
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let mut calls = Vec::new();
    for _ in 0..100 {
        let api = api.clone();
        calls.push(tokio::spawn(async move {
            let options = CallOptions {
                timeout: Some(Duration::from_secs(2)),
                ..Default::default()
            };
            let result = api.call(get(), options).await;
            (result.is_err(), Instant::now() - start)
        }));
    }
    for c in calls {
        let (failed, took) = c.await.unwrap();
        assert!(failed);
        assert!(took <= Duration::from_secs(2), "{took:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_attempt_ends_at_the_attempt_timeout_and_is_retried() {
    // The first request is never answered; its retry is.
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index == 0 {
            Fault::BlackHole
        } else {
            Fault::ok()
        }
    });
    let api = integration(
        &server,
        IntegrationConfig {
            attempt_timeout: Duration::from_secs(1),
            ..Default::default()
        },
    );
    let start = Instant::now();
    let response = api.call(get(), CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    let log = server.log();
    assert_eq!(log.requests.len(), 2);
    // Retried after the 1 s attempt timeout and a backoff of at most
    // 100 ms, far inside the 30 s budget.
    assert_between(log.requests[1].at - start, 1000, 1100);
}

#[tokio::test(start_paused = true)]
async fn no_attempt_starts_with_less_budget_left_than_one_needs() {
    let server = FaultServer::new(|_| Fault::ok());
    let api = integration(&server, IntegrationConfig::default());
    // 10 ms left, 20 ms needed (`min_attempt_budget`).
    let options = CallOptions {
        timeout: Some(Duration::from_millis(10)),
        ..Default::default()
    };
    let err = api.call(get(), options).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::DeadlineExceeded), "{err}");
    assert_eq!(err.attempts, 0);
    assert!(server.log().requests.is_empty());
    // The same inside a deadline set further out that has nearly run down.
    let deadline = Deadline::after(Instant::now(), Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(40)).await;
    let options = CallOptions {
        deadline: Some(deadline),
        ..Default::default()
    };
    let err = api.call(get(), options).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::DeadlineExceeded), "{err}");
    assert!(server.log().requests.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_retry_that_cannot_finish_in_the_time_left_is_not_started() {
    // The provider takes 300 ms to answer; its first two answers are 503s.
    let server = FaultServer::new(|seen: &Seen| {
        let fault = if seen.index < 2 {
            Fault::status(503)
        } else {
            Fault::ok()
        };
        fault.after(Duration::from_millis(300))
    });
    let api = integration(&server, IntegrationConfig::default());
    let within = |ms| CallOptions {
        timeout: Some(Duration::from_millis(ms)),
        ..Default::default()
    };
    // 500 ms: the 503 comes at 300, and 200 ms are too few for a retry
    // answered in 300. The call ends with the 503, nothing more is sent.
    let start = Instant::now();
    let err = api.call(get(), within(500)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.attempts, 1);
    assert_eq!(Instant::now() - start, Duration::from_millis(300));
    assert_eq!(server.log().requests.len(), 1);
    // 1 s: a 503 at 300 ms leaves room for the retry, which succeeds.
    let response = api.call(get(), within(1000)).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(server.log().requests.len(), 3);

    // A gateway's slow 504 says nothing of how fast the retry may be: it
    // is started, and answered in 10 ms.
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index == 0 {
            Fault::status(504).after(Duration::from_millis(300))
        } else {
            Fault::ok().after(Duration::from_millis(10))
        }
    });
    let api = integration(&server, IntegrationConfig::default());
    let response = api.call(get(), within(500)).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(server.log().requests.len(), 2);
}

/// The deadline counts from when the call is made; a future first polled
/// later still ends by it (its first attempt is bounded by what is left,
/// read when it starts, not when the call was made).
#[tokio::test(start_paused = true)]
async fn a_call_first_polled_late_still_ends_at_its_deadline() {
    let server = FaultServer::new(|_| Fault::BlackHole);
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let options = CallOptions {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let call = api.call(get(), options);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(call.await.is_err());
    assert!(
        Instant::now() - start <= Duration::from_secs(2),
        "ended {:?} after the call was made",
        Instant::now() - start
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_silences_the_integration() {
    let server = FaultServer::failing_first(1, Fault::status(429).with_header("retry-after", "3"));
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let first = spawn_get(&api, Duration::ZERO);
    tokio::task::yield_now().await;
    // Other callers arrive while the integration is paused.
    let mut others = Vec::new();
    for i in 0..20 {
        others.push(spawn_get(&api, Duration::from_millis(100 * i)));
    }
    assert!(first.await.unwrap().is_ok());
    for o in others {
        assert!(o.await.unwrap().is_ok());
    }
    let log = server.log();
    let t429 = log.requests[0].at;
    assert_eq!(t429, start);
    assert_eq!(
        log.arrivals_between(
            t429 + Duration::from_nanos(1),
            t429 + Duration::from_secs(3)
        ),
        0
    );
    assert_eq!(log.requests.len(), 22);
    // The 20 callers held by the pause go within 100 ms after it ends, not
    // all at the same instant.
    let held: Vec<Instant> = log.requests.iter().skip(2).map(|s| s.at).collect();
    for at in &held {
        assert_between(*at - t429, 3000, 3100);
    }
    let distinct: std::collections::HashSet<_> = held.iter().collect();
    assert!(distinct.len() >= 10, "{} distinct instants", distinct.len());
}

#[tokio::test(start_paused = true)]
async fn a_429_without_a_delay_holds_the_integration_for_the_backoff() {
    let server = FaultServer::failing_first(1, Fault::status(429));
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let first = spawn_get(&api, Duration::ZERO);
    tokio::task::yield_now().await;
    // A second caller 10 ms later waits out one base backoff of the
    // integration's (100 ms by default), as does the first call's retry.
    let second = spawn_get(&api, Duration::from_millis(10));
    assert!(first.await.unwrap().is_ok());
    assert!(second.await.unwrap().is_ok());
    let log = server.log();
    assert_eq!(log.requests.len(), 3);
    assert_eq!(log.requests[0].at, start);
    // Both wait out the pause; the caller held by it goes within one base
    // backoff after it ends (jittered, so held callers do not go at once).
    for later in &log.requests[1..] {
        assert_between(later.at - start, 100, 200);
    }
}

#[tokio::test(start_paused = true)]
async fn a_403_for_a_spent_quota_is_rate_limited_and_holds_the_integration() {
    // GitHub's answer to a spent quota: 403, remaining 0, reset in 2 s.
    let server = FaultServer::failing_first(
        1,
        Fault::status(403)
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", "2"),
    );
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let response = api.call(get(), CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    let log = server.log();
    assert_eq!(log.requests.len(), 2);
    assert_eq!(log.requests[1].at - start, Duration::from_secs(2));
    // Spent until a reset beyond the deadline: refused at once, and the
    // error still says the provider answered 403.
    let server = FaultServer::new(|_| {
        Fault::status(403)
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", "3600")
    });
    let api = integration(&server, IntegrationConfig::default());
    let err = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::RetryAfterBeyondDeadline { .. }),
        "{err}"
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert!(err.to_string().contains("403"), "{err}");
    assert_eq!(server.log().requests.len(), 1);
    // A plain 403 is still a permanent refusal, not retried.
    let server = FaultServer::new(|_| Fault::status(403));
    let api = integration(&server, IntegrationConfig::default());
    let err = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(server.log().requests.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn backoff_is_full_jitter_under_its_ceiling() {
    let server = common::first_attempts_fail();
    // Half the attempts fail by design here.
    let api = integration(&server, unguarded());
    for _ in 0..100 {
        api.call(get(), CallOptions::default()).await.unwrap();
    }
    let log = server.log();
    assert_eq!(log.requests.len(), 200);
    let waits: Vec<Duration> = log.requests.chunks(2).map(|p| p[1].at - p[0].at).collect();
    // Uniform over [0, 100 ms] (the first retry's ceiling): within it,
    // spread out (not the ceiling every time), averaging about half of it.
    let ceiling = Duration::from_millis(100);
    assert!(waits.iter().all(|w| *w <= ceiling), "{waits:?}");
    // tokio's timer counts whole milliseconds: 100 draws from 101 values
    // give about 64 distinct ones.
    let distinct: std::collections::HashSet<_> = waits.iter().collect();
    assert!(distinct.len() >= 50, "{} distinct waits", distinct.len());
    let mean = waits.iter().sum::<Duration>() / 100;
    assert!(
        mean >= Duration::from_millis(35) && mean <= Duration::from_millis(65),
        "{mean:?}"
    );
    assert!(waits.iter().any(|w| *w < Duration::from_millis(10)));
    assert!(waits.iter().any(|w| *w > Duration::from_millis(90)));
}

/// tokio's paused clock for time and waits, and a fixed wall-clock date
/// moving with it (for HTTP dates).
#[derive(Debug)]
struct DatedClock {
    start: Instant,
    wall_at_start: std::time::SystemTime,
}

impl wharf_runtime::time::Clock for DatedClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> wharf_runtime::time::Sleep {
        wharf_runtime::time::Sleep::tokio(duration)
    }

    fn wall(&self) -> std::time::SystemTime {
        self.wall_at_start + (Instant::now() - self.start)
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_read_on_the_integrations_clock() {
    // 2015-10-21 07:28:00 UTC, and a 429 asking to wait until 07:28:03.
    let wall = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
    let server = FaultServer::failing_first(
        1,
        Fault::status(429).with_header("retry-after", "Wed, 21 Oct 2015 07:28:03 GMT"),
    );
    let start = Instant::now();
    let clock: Arc<dyn wharf_runtime::time::Clock> = Arc::new(DatedClock {
        start,
        wall_at_start: wall,
    });
    let api = common::builder_on(&server, IntegrationConfig::default(), clock)
        .build()
        .unwrap();
    let response = api.call(get(), CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    let log = server.log();
    assert_eq!(log.requests.len(), 2);
    assert_eq!(log.requests[1].at - start, Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_deadline_fails_at_once() {
    let server = FaultServer::new(|_| Fault::status(429).with_header("retry-after", "60"));
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let options = CallOptions {
        timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    let err = api.call(get(), options).await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::RetryAfterBeyondDeadline { retry_after, status } if retry_after == Duration::from_secs(60) && status == 429)
    );
    assert_eq!(Instant::now() - start, Duration::ZERO);
    assert_eq!(err.attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn token_bucket_holds_the_rate() {
    let server = FaultServer::new(|_| Fault::ok());
    let api = integration(&server, rate_limited(50.0, 10));
    let start = Instant::now();
    let end = start + Duration::from_secs(10);
    let mut workers = Vec::new();
    for _ in 0..40 {
        let api = api.clone();
        workers.push(tokio::spawn(async move {
            while Instant::now() < end {
                let options = CallOptions {
                    deadline: Some(Deadline::at(end)),
                    ..Default::default()
                };
                if api.call(get(), options).await.is_err() {
                    break;
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let sent = server.log().arrivals_between(start, end);
    println!("token bucket 50/s burst 10 over 10 s: {sent} requests");
    assert!((490..=510).contains(&sent), "{sent}");
}

#[tokio::test(start_paused = true)]
async fn bulkhead_caps_in_flight_exactly() {
    let server = FaultServer::new(|_| Fault::ok().after(Duration::from_millis(100)));
    let api = integration(
        &server,
        IntegrationConfig {
            bulkhead: Some(BulkheadConfig {
                max_concurrent: 8,
                max_queued: 1_000,
            }),
            ..Default::default()
        },
    );
    let mut callers = Vec::new();
    for _ in 0..80 {
        let api = api.clone();
        callers.push(tokio::spawn(async move {
            api.call(get(), CallOptions::default()).await.is_ok()
        }));
    }
    for c in callers {
        assert!(c.await.unwrap());
    }
    assert_eq!(server.log().peak_in_flight, 8);
    // A full queue rejects at once.
    let tight = integration(&server, one_at_a_time());
    let busy = {
        let tight = tight.clone();
        tokio::spawn(async move { tight.call(get(), CallOptions::default()).await })
    };
    tokio::task::yield_now().await;
    let err = tight.call(get(), CallOptions::default()).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::BulkheadFull));
    assert!(busy.await.unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn commit_then_drop_never_duplicates_a_side_effect() {
    // Every first attempt of a key is processed, then the response is lost.
    let server = FaultServer::new(|seen: &Seen| {
        if seen.earlier_with_key == 0 {
            Fault::Reset { processed: true }
        } else {
            Fault::status(200)
        }
    });
    // Half the attempts fail by design here; this test is about keys.
    let api = integration(&server, unguarded());
    let calls = 200;
    for _ in 0..calls {
        api.call(post_with_key(), CallOptions::default())
            .await
            .unwrap();
    }
    let log = server.log();
    assert_eq!(log.requests.len(), 2 * calls, "each call retried once");
    assert_eq!(log.effects(), calls, "zero duplicate side effects");
    assert_eq!(log.effects_by_key.len(), calls, "one key per logical call");
    for pair in log.requests.chunks(2) {
        assert!(pair[0].idempotency_key.is_some());
        assert_eq!(pair[0].idempotency_key, pair[1].idempotency_key);
    }
}

#[tokio::test(start_paused = true)]
async fn ambiguous_failures_of_unkeyed_mutations_are_not_retried() {
    let server = FaultServer::new(|_| Fault::Reset { processed: true });
    let api = integration(&server, IntegrationConfig::default());
    let plain_post = Request::new(
        OperationMeta::new("send", Method::POST, "/send"),
        "https://fault.test/send",
    );
    let err = api
        .call(plain_post, CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous);
    assert_eq!(err.attempts, 1);
    assert_eq!(server.log().unkeyed_effects, 1);
}

#[tokio::test(start_paused = true)]
async fn keys_on_every_mutation_when_configured_in_the_configured_header() {
    // Every first attempt is processed, then its connection drops.
    let server = FaultServer::new(|seen: &Seen| {
        if seen.earlier_with_key == 0 {
            Fault::Reset { processed: true }
        } else {
            Fault::ok()
        }
    });
    let clock: Arc<dyn wharf_runtime::time::Clock> = Arc::new(wharf_runtime::time::TokioClock);
    let transport = wharf_runtime::testing::FaultTransport::new(server.clone(), clock.clone())
        .with_idempotency_header("X-Request-Key");
    let config = IntegrationConfig {
        idempotency_header: http::HeaderName::from_static("x-request-key"),
        idempotency_on_all_mutations: true,
        ..Default::default()
    };
    let api = common::builder_on(&server, config, clock)
        .transport(Arc::new(transport))
        .build()
        .unwrap();
    // A plain POST: the operation does not declare a key parameter.
    let plain_post = || {
        Request::new(
            OperationMeta::new("send", Method::POST, "/send"),
            "https://fault.test/send",
        )
        .with_body("{}")
    };
    for _ in 0..3 {
        let response = api
            .call(plain_post(), CallOptions::default())
            .await
            .unwrap();
        assert_eq!(response.status, 200);
    }
    let log = server.log();
    assert_eq!(log.requests.len(), 6);
    let keys: Vec<&str> = log
        .requests
        .iter()
        .map(|s| s.idempotency_key.as_deref().unwrap_or_default())
        .collect();
    for pair in keys.chunks(2) {
        assert!(!pair[0].is_empty());
        assert_eq!(pair[0], pair[1], "a retry carries its call's key");
    }
    assert!(keys[0] != keys[2] && keys[2] != keys[4], "{keys:?}");
    assert_eq!(log.effects(), 3, "one side effect per call");
    assert_eq!(log.unkeyed_effects, 0);
}

#[tokio::test(start_paused = true)]
async fn ambiguous_failures_of_idempotent_methods_are_retried_without_a_key() {
    // A GET answered 500, then a PUT whose connection dropped after the
    // server processed it: both are safe to repeat by method.
    let server = FaultServer::new(|seen: &Seen| match seen.index {
        0 => Fault::status(500),
        2 => Fault::Reset { processed: true },
        _ => Fault::ok(),
    });
    let api = integration(&server, IntegrationConfig::default());
    let response = api.call(get(), CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    let put = Request::new(
        OperationMeta::new("replaceThing", Method::PUT, "/thing"),
        "https://fault.test/thing",
    )
    .with_body("{}");
    let response = api.call(put, CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    let log = server.log();
    assert_eq!(log.requests.len(), 4);
    assert!(log.requests.iter().all(|s| s.idempotency_key.is_none()));
}

#[tokio::test(start_paused = true)]
async fn an_integrations_classifier_overrides_the_default() {
    use wharf_runtime::call::ShouldRetryHeader;
    // A 400 the provider says to retry, and a 503 it says not to.
    let server = FaultServer::new(|seen: &Seen| match seen.index {
        0 => Fault::status(400).with_header("stripe-should-retry", "true"),
        2 => Fault::status(503).with_header("stripe-should-retry", "false"),
        _ => Fault::ok(),
    });
    let clock = Arc::new(wharf_runtime::time::TokioClock);
    let api = common::builder_on(&server, IntegrationConfig::default(), clock)
        .classifier(Arc::new(ShouldRetryHeader(http::HeaderName::from_static(
            "stripe-should-retry",
        ))))
        .build()
        .unwrap();
    let response = api.call(get(), CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(server.log().requests.len(), 2);
    let err = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(err.attempts, 1);
    assert_eq!(server.log().requests.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_wait_beyond_the_deadline_is_refused_at_once() {
    let server = FaultServer::new(|_| Fault::ok());
    let api = integration(&server, rate_limited(1.0, 1));
    api.call(get(), CallOptions::default()).await.unwrap();
    let start = Instant::now();
    let options = CallOptions {
        timeout: Some(Duration::from_millis(500)),
        ..Default::default()
    };
    let err = api.call(get(), options).await.unwrap_err();
    let ErrorKind::RateLimitedLocally { wait } = err.kind else {
        panic!("{err}");
    };
    assert_eq!(wait, Duration::from_secs(1));
    assert_eq!(err.attempts, 0);
    assert_eq!(Instant::now(), start, "refused without waiting");
    assert_eq!(server.log().requests.len(), 1);
    // With room in its deadline, a call waits its turn instead.
    api.call(get(), CallOptions::default()).await.unwrap();
    assert_eq!(Instant::now() - start, Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried_and_bodies_are_kept() {
    let server = FaultServer::new(|_| Fault::Respond {
        status: 422,
        headers: vec![("content-type".into(), "application/json".into())],
        body: "{\"error\": \"bad\"}".into(),
    });
    let api = integration(&server, attempts(5));
    let err = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert_eq!(err.attempts, 1);
    let ErrorKind::Status { body, .. } = &err.kind else {
        panic!("{err}")
    };
    assert_eq!(&body[..], b"{\"error\": \"bad\"}");
}

#[tokio::test(start_paused = true)]
async fn per_operation_and_per_call_overrides_win_in_order() {
    let server = FaultServer::new(|_| Fault::status(503));
    let mut config = IntegrationConfig {
        breaker: None,
        ..Default::default()
    };
    config.operations.insert(
        "getThing".into(),
        CallOptions {
            retry: Some(RetryPolicy {
                max_attempts: 5,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let api = integration(&server, config);
    let err = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert_eq!(err.attempts, 5, "per operation");
    let one = CallOptions {
        retry: Some(RetryPolicy::none()),
        ..Default::default()
    };
    assert_eq!(
        api.call(get(), one).await.unwrap_err().attempts,
        1,
        "per call"
    );
}

#[tokio::test(start_paused = true)]
async fn ambient_deadline_bounds_nested_calls() {
    let server = FaultServer::new(|_| Fault::BlackHole);
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    let outer = Deadline::after(start, Duration::from_millis(500));
    let result = outer
        .scope(async { api.call(get(), CallOptions::default()).await })
        .await;
    assert!(result.is_err());
    assert!(Instant::now() - start <= Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn exhausted_quota_on_a_success_holds_later_calls_until_reset() {
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index == 0 {
            Fault::ok()
                .with_header("x-ratelimit-remaining", "0")
                .with_header("x-ratelimit-reset", "5")
        } else {
            Fault::ok()
        }
    });
    let api = integration(&server, IntegrationConfig::default());
    let start = Instant::now();
    api.call(get(), CallOptions::default()).await.unwrap();
    api.call(get(), CallOptions::default()).await.unwrap();
    let log = server.log();
    assert_between(log.requests[1].at - start, 5000, 5100);
}

#[tokio::test(start_paused = true)]
async fn per_operation_breakers_keep_healthy_operations_open() {
    let server = common::unavailable_when(|seen| seen.path == "/thing");
    let api = integration(
        &server,
        IntegrationConfig {
            breaker_per_operation: true,
            ..Default::default()
        },
    );
    for _ in 0..10 {
        let _ = api.call(get(), CallOptions::default()).await;
    }
    assert_eq!(
        api.health().breaker,
        BreakerState::Open,
        "worst breaker reported"
    );
    let other = Request::new(
        OperationMeta::new("listOthers", Method::GET, "/others"),
        "https://fault.test/others",
    );
    assert!(
        api.call(other, CallOptions::default()).await.is_ok(),
        "other operation unaffected"
    );
    let err = api.call(get(), CallOptions::default()).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::BreakerOpen { .. }));
}
