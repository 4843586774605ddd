//! Policies in source: `policies = {...}` on a generated client and
//! `#[wharf::policy]` on the caller's functions, through the real request
//! path on tokio's paused clock. The resolution order is per call > per
//! operation > per tag > per integration > defaults. The compile-time
//! rules have a failing case each in tests/ui (`policy_*.rs`); the
//! functions below are their passing cases.

use std::sync::Arc;
use std::time::Duration;
use wharf::call::{CallOptions, ErrorKind, Integration, IntegrationConfig};
use wharf::client::{ApiError, CallSettings};
use wharf::policy::breaker::BreakerConfig;
use wharf::policy::retry::RetryPolicy;
use wharf::testing::{Fault, FaultServer, FaultTransport, Seen};
use wharf::time::{Clock, Instant, TokioClock};

mod payments {
    wharf::generate!(
        "../../specs/policies.yaml",
        policies = {
            client = { timeout = "10s" },
            tag("money") = { retry(max = 2), idempotency = key },
            "getAccount" = { timeout = "3s", retry(max = 4, base = "50ms", cap = "1s") },
        },
    );
}

mod plain {
    wharf::generate!("../../specs/policies.yaml");
}

use payments::operations::{CREATE_REFUND, CREATE_TRANSFER, DELETE_CARD, GET_ACCOUNT};

fn json(status: u16, body: &'static str) -> Fault {
    Fault::Respond {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    }
}

fn ok_for(seen: &Seen) -> Fault {
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", _) => json(200, r#"{"id": "a", "balance": 10}"#),
        ("DELETE", _) => Fault::status(204),
        _ => json(201, r#"{"id": "t1"}"#),
    }
}

fn client_with(server: &Arc<FaultServer>, config: IntegrationConfig) -> payments::Client {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let integration = Integration::builder("payments")
        .config(config)
        .transport(Arc::new(FaultTransport::new(server.clone(), clock.clone())))
        .clock(clock)
        .build()
        .unwrap();
    payments::Client::new(integration, "https://payments.example.test/v1")
}

/// No retries unless a level asks for them, so each level shows.
fn quiet_config() -> IntegrationConfig {
    IntegrationConfig {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        breaker: None,
        ..IntegrationConfig::default()
    }
}

fn always(status: u16) -> Arc<FaultServer> {
    FaultServer::new(move |_| Fault::status(status))
}

fn transfer() -> payments::NewTransfer {
    payments::NewTransfer {
        from: "a".into(),
        to: "b".into(),
        amount: 5,
    }
}

fn retry(max: u32) -> CallOptions {
    CallOptions {
        retry: Some(RetryPolicy {
            max_attempts: max,
            ..RetryPolicy::default()
        }),
        ..CallOptions::default()
    }
}

#[test]
fn generated_levels_are_constants_in_the_metadata() {
    let p = GET_ACCOUNT.policies;
    assert_eq!(p.operation.timeout, Some(Duration::from_secs(3)));
    assert_eq!(p.operation.retry.map(|r| r.max_attempts), Some(4));
    assert_eq!(p.tag, wharf::policy::Policy::NONE);
    assert_eq!(p.client.timeout, Some(Duration::from_secs(10)));
    let money = CREATE_TRANSFER.policies.tag;
    assert_eq!(money.retry.map(|r| r.max_attempts), Some(2));
    assert_eq!(money.idempotency, Some(wharf::policy::Idempotency::Key));
    assert_eq!(CREATE_REFUND.policies.tag, money);
    assert_eq!(DELETE_CARD.policies.operation, wharf::policy::Policy::NONE);
}

#[tokio::test(start_paused = true)]
async fn levels_resolve_call_then_operation_then_tag_then_integration() {
    // Generated operation policy: 4 attempts.
    let server = always(503);
    let client = client_with(&server, quiet_config());
    let _ = client.get_account("a", Default::default()).await;
    assert_eq!(server.log().requests.len(), 4);

    // Runtime per-tag configuration loses to the generated operation policy
    // but applies to the tag's other operations.
    let server = always(503);
    let mut config = quiet_config();
    config.tags.insert("accounts".into(), retry(5));
    let client = client_with(&server, config);
    let _ = client.get_account("a", Default::default()).await;
    assert_eq!(server.log().requests.len(), 4);
    let _ = client.delete_card("c", Default::default()).await;
    assert_eq!(server.log().requests.len(), 4 + 5);

    // Runtime per-operation configuration beats the generated operation policy.
    let server = always(503);
    let mut config = quiet_config();
    config.operations.insert("getAccount".into(), retry(2));
    let client = client_with(&server, config);
    let _ = client.get_account("a", Default::default()).await;
    assert_eq!(server.log().requests.len(), 2);

    // Per call beats everything.
    let server = always(503);
    let client = client_with(&server, quiet_config());
    let options = payments::GetAccountOptions {
        call: CallSettings {
            options: retry(1),
            ..CallSettings::default()
        },
    };
    let _ = client.get_account("a", options).await;
    assert_eq!(server.log().requests.len(), 1);

    // The generated tag policy: 2 attempts, one generated key for both.
    let server = always(503);
    let client = client_with(&server, quiet_config());
    let _ = client
        .create_transfer(&transfer(), Default::default())
        .await;
    let log = server.log();
    assert_eq!(log.requests.len(), 2);
    let key = log.requests[0].idempotency_key.clone();
    assert!(key.is_some(), "idempotency = key sends a key");
    assert_eq!(log.requests[1].idempotency_key, key);

    // No level sets a retry for deleteCard: the integration's (1 attempt).
    let server = always(503);
    let client = client_with(&server, quiet_config());
    let _ = client.delete_card("c", Default::default()).await;
    assert_eq!(server.log().requests.len(), 1);
}

// Passing case of "every call path has a timeout": the function's own.
#[wharf::policy(timeout = "2s", retry = none, calls = [GET_ACCOUNT])]
async fn two_reads(client: &payments::Client) -> (bool, Result<(), ErrorKind>) {
    let first = client.get_account("a", Default::default()).await.is_ok();
    let second = client
        .get_account("b", Default::default())
        .await
        .map(|_| ())
        .map_err(|e| match e {
            ApiError::Call(e) => e.kind,
            other => panic!("expected a call error, got {other:?}"),
        });
    (first, second)
}

#[tokio::test(start_paused = true)]
async fn a_function_timeout_is_one_deadline_for_every_call_inside() {
    let server = FaultServer::new(|seen| ok_for(seen).after(Duration::from_millis(1500)));
    let client = client_with(&server, quiet_config());
    let start = Instant::now();
    let (first, second) = two_reads(&client).await;
    assert!(first);
    // The second call had 500 ms of the 2 s left, not a fresh budget: its
    // attempt was cut at the function's deadline.
    assert!(matches!(
        second,
        Err(ErrorKind::Transport { ref error, .. }) if error.kind == wharf::call::TransportErrorKind::Timeout
    ));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

// Passing case of "a retried mutating endpoint needs a plan": a natural key.
#[wharf::policy(
    timeout = "5s",
    retry(max = 3, base = "10ms"),
    idempotency = natural_key(order),
    scopes = ["transfers:write"],
    calls = [CREATE_TRANSFER],
)]
async fn pay(client: &payments::Client, order: &str) -> bool {
    client
        .create_transfer(&transfer(), Default::default())
        .await
        .is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_natural_key_is_sent_on_every_retry() {
    let server = FaultServer::new(|seen| {
        if seen.index < 2 {
            Fault::status(503)
        } else {
            ok_for(seen)
        }
    });
    let client = client_with(&server, quiet_config());
    assert!(pay(&client, "order-7").await);
    let keys: Vec<Option<String>> = server
        .log()
        .requests
        .iter()
        .map(|s| s.idempotency_key.clone())
        .collect();
    let expected = Some("order-7:createTransfer".to_owned());
    assert_eq!(keys, [expected.clone(), expected.clone(), expected]);
}

// Passing case of the plan rule with an explicit, reasoned opt-out.
#[wharf::policy(
    timeout = "5s",
    retry(max = 3, base = "10ms"),
    idempotency = unsafe_allow("the test ledger dedupes transfers itself"),
    calls = [CREATE_TRANSFER],
)]
async fn pay_accepting_duplicates(client: &payments::Client) -> bool {
    client
        .create_transfer(&transfer(), Default::default())
        .await
        .is_ok()
}

#[tokio::test(start_paused = true)]
async fn unsafe_allow_retries_ambiguous_failures_without_a_key() {
    // Without a plan, an ambiguous 500 on a mutating call is not retried
    // (a client generated without policies).
    let server = always(500);
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let integration = Integration::builder("plain")
        .config(quiet_config())
        .transport(Arc::new(FaultTransport::new(server.clone(), clock.clone())))
        .clock(clock)
        .build()
        .unwrap();
    let client = plain::Client::new(integration, "https://payments.example.test/v1");
    let options = plain::CreateTransferOptions {
        call: CallSettings {
            options: retry(3),
            ..CallSettings::default()
        },
    };
    let body = plain::NewTransfer {
        from: "a".into(),
        to: "b".into(),
        amount: 5,
    };
    let _ = client.create_transfer(&body, options).await;
    assert_eq!(server.log().requests.len(), 1);

    let server = always(500);
    let client = client_with(&server, quiet_config());
    assert!(!pay_accepting_duplicates(&client).await);
    let log = server.log();
    assert_eq!(log.requests.len(), 3);
    assert!(log.requests.iter().all(|s| s.idempotency_key.is_none()));
}

// The retry-safety check passes for operations idempotent by method or
// taking a key, without a declared plan.
#[wharf::policy(timeout = "5s", retry(max = 2), breaker = "ledger", calls = [GET_ACCOUNT, DELETE_CARD, CREATE_REFUND])]
async fn ledger_read(client: &payments::Client) -> bool {
    client.get_account("a", Default::default()).await.is_ok()
}

/// A getAccount call's outcome: the runtime's error kind when it failed.
async fn account_outcome(client: &payments::Client) -> Result<(), ErrorKind> {
    match client.get_account("a", Default::default()).await {
        Ok(_) => Ok(()),
        Err(ApiError::Call(e)) => Err(e.kind),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[wharf::policy(timeout = "5s", retry = none, breaker = "ledger", calls = [GET_ACCOUNT])]
async fn ledger_read_once(client: &payments::Client) -> Result<(), ErrorKind> {
    account_outcome(client).await
}

#[tokio::test(start_paused = true)]
async fn a_named_breaker_is_shared_by_its_functions_only() {
    let server = always(503);
    let config = IntegrationConfig {
        breaker: Some(BreakerConfig {
            consecutive_failures: 2,
            open_for: Duration::from_secs(30),
            ..BreakerConfig::default()
        }),
        ..quiet_config()
    };
    let client = client_with(&server, config);
    // The generated operation policy allows 4 attempts; the function's 2 win.
    assert!(!ledger_read(&client).await);
    assert_eq!(server.log().requests.len(), 2);
    // "ledger" is open: another function using it fails fast, unsent.
    let fast = ledger_read_once(&client).await;
    assert!(matches!(fast, Err(ErrorKind::BreakerOpen { .. })));
    assert_eq!(server.log().requests.len(), 2);
    // The integration's own breaker saw none of it.
    let _ = client.delete_card("c", Default::default()).await;
    assert_eq!(server.log().requests.len(), 3);
}

#[wharf::policy(timeout = "5s", bulkhead = 1, calls = [GET_ACCOUNT])]
async fn single_file(client: &payments::Client) -> Result<(), ErrorKind> {
    account_outcome(client).await
}

#[wharf::policy(timeout = "10s", rate = "2/s", burst = 1, calls = [GET_ACCOUNT])]
async fn paced(client: &payments::Client) -> bool {
    client.get_account("a", Default::default()).await.is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_rejects_at_once_and_a_rate_spaces_calls() {
    let server = FaultServer::new(|seen| ok_for(seen).after(Duration::from_secs(1)));
    let client = client_with(&server, quiet_config());
    let (a, b) = tokio::join!(single_file(&client), single_file(&client));
    let mut results = [a, b];
    results.sort_by_key(|r| r.is_err());
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(ErrorKind::BulkheadFull)));
    assert_eq!(server.log().requests.len(), 1);

    let server = FaultServer::new(ok_for);
    let client = client_with(&server, quiet_config());
    let start = Instant::now();
    for _ in 0..4 {
        assert!(paced(&client).await);
    }
    let arrivals: Vec<Duration> = server
        .log()
        .requests
        .iter()
        .map(|s| s.at.duration_since(start))
        .collect();
    let ms = |m| Duration::from_millis(m);
    assert_eq!(arrivals, [ms(0), ms(500), ms(1000), ms(1500)]);
}

#[tokio::test(start_paused = true)]
async fn nested_functions_keep_the_outer_deadline() {
    #[wharf::policy(timeout = "1s", calls = [GET_ACCOUNT])]
    async fn outer(client: &payments::Client) -> Option<wharf::policy::deadline::Deadline> {
        inner(client).await
    }
    #[wharf::policy(timeout = "60s", calls = [GET_ACCOUNT])]
    async fn inner(_client: &payments::Client) -> Option<wharf::policy::deadline::Deadline> {
        wharf::policy::deadline::Deadline::ambient()
    }
    let server = FaultServer::new(ok_for);
    let client = client_with(&server, quiet_config());
    let start = Instant::now();
    let deadline = outer(&client).await.unwrap();
    assert_eq!(deadline.instant(), start + Duration::from_secs(1));
}

#[wharf::policy(timeout = "30s", retry = none, calls = [GET_ACCOUNT])]
async fn patient_read(client: &payments::Client) -> bool {
    client.get_account("a", Default::default()).await.is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_function_budget_does_not_lengthen_an_operation_timeout() {
    // getAccount's generated policy says 3 s; the function allows 30 s in
    // all; a 10 s answer is cut at the operation's 3 s.
    let server = FaultServer::new(|seen| ok_for(seen).after(Duration::from_secs(10)));
    let client = client_with(&server, quiet_config());
    let start = Instant::now();
    assert!(!patient_read(&client).await);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[wharf::policy(timeout = "500ms", rate = "1/s", burst = 1, calls = [GET_ACCOUNT])]
async fn strictly_paced(client: &payments::Client) -> Result<(), ErrorKind> {
    account_outcome(client).await
}

#[tokio::test(start_paused = true)]
async fn a_call_refused_by_a_declared_rate_gives_back_the_integration_slot() {
    let server = FaultServer::new(ok_for);
    let config = wharf::call::IntegrationConfig {
        rate_limit: Some(wharf::policy::rate_limit::RateLimit {
            per_second: 0.001,
            burst: 2,
        }),
        ..quiet_config()
    };
    let client = client_with(&server, config);
    assert!(strictly_paced(&client).await.is_ok());
    // The function's own rate refuses the next ones at once; each had
    // already taken a slot of the integration's limit before that.
    for _ in 0..5 {
        assert!(matches!(
            strictly_paced(&client).await,
            Err(ErrorKind::RateLimitedLocally { .. })
        ));
    }
    // The integration's second slot is still there for another caller.
    assert!(client.get_account("b", Default::default()).await.is_ok());
    assert_eq!(server.log().requests.len(), 2);
}

// Lists only `getAccount`, then deletes a card: the listed operations are
// what the policy's checks covered.
#[wharf::policy(timeout = "2s", retry = none, calls = [GET_ACCOUNT])]
async fn read_then_delete(client: &payments::Client) -> (bool, Result<(), ErrorKind>) {
    let read = client.get_account("a", Default::default()).await.is_ok();
    let deleted = client
        .delete_card("c", Default::default())
        .await
        .map(|_| ())
        .map_err(|e| match e {
            ApiError::Call(e) => e.kind,
            other => panic!("expected a call error, got {other:?}"),
        });
    (read, deleted)
}

#[tokio::test(start_paused = true)]
async fn a_call_not_listed_in_calls_is_refused_in_debug_builds() {
    let server = FaultServer::new(ok_for);
    let client = client_with(&server, quiet_config());
    let (read, deleted) = read_then_delete(&client).await;
    assert!(read);
    if cfg!(debug_assertions) {
        let Err(ErrorKind::InvalidRequest { reason }) = deleted else {
            panic!("expected the call refused as an invalid request");
        };
        assert!(
            reason.contains("`deleteCard` is not in `calls = [...]`")
                && reason.contains("read_then_delete"),
            "{reason}"
        );
        assert_eq!(
            server.log().requests.len(),
            1,
            "the refused call sent nothing"
        );
    } else {
        assert!(deleted.is_ok(), "release builds warn and call");
    }
}
