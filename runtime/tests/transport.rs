//! The real transport (reqwest + rustls) against the fault server over TCP on
//! 127.0.0.1, on real time with short bounds. Counts and outcomes are
//! asserted, not durations.

use http::Method;
use std::sync::Arc;
use std::time::Duration;
use wharf_runtime::call::{
    CallOptions, Error, ErrorClass, ErrorKind, Integration, IntegrationConfig, OperationMeta,
    Request, ReqwestTransport, ReqwestTransportBuilder, TransportErrorKind,
};
use wharf_runtime::policy::budget::BudgetConfig;
use wharf_runtime::policy::retry::RetryPolicy;
use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, Seen};

/// The transport the tests use: plain HTTP to loopback, a short stall bound.
fn loopback() -> ReqwestTransportBuilder {
    ReqwestTransport::builder()
        .allow_plain_http_loopback(true)
        .stall_timeout(Duration::from_millis(300))
}

/// The tests' configuration: seeded jitter, a short attempt bound and
/// quick retries. Tests change fields with `..config()`.
fn config() -> IntegrationConfig {
    IntegrationConfig {
        jitter_seed: Some(3),
        attempt_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(20),
        },
        ..Default::default()
    }
}

fn api(config: IntegrationConfig) -> Integration {
    api_over(loopback(), config)
}

fn api_over(transport: ReqwestTransportBuilder, config: IntegrationConfig) -> Integration {
    Integration::builder("loopback")
        .config(config)
        .transport(Arc::new(transport.build().unwrap()))
        .build()
        .unwrap()
}

fn get(url: String) -> Request {
    Request::new(OperationMeta::new("getThing", Method::GET, "/thing"), url)
}

fn transport_kind(kind: &ErrorKind) -> Option<TransportErrorKind> {
    match kind {
        ErrorKind::Transport { error, .. } => Some(error.kind),
        _ => None,
    }
}

/// The error of a GET of `url` that must fail in the transport with `kind`.
async fn fails_with(
    api: &Integration,
    url: String,
    options: CallOptions,
    kind: TransportErrorKind,
) -> Error {
    let error = api.call(get(url), options).await.unwrap_err();
    assert_eq!(transport_kind(&error.kind), Some(kind), "{error}");
    if kind == TransportErrorKind::Connect {
        // The chain is kept, not flattened: call error → transport error
        // → the HTTP client's own error (and its causes).
        let transport = std::error::Error::source(&error).expect("a transport error as source");
        assert!(
            transport.source().is_some(),
            "no HTTP client error kept: {error}"
        );
    }
    error
}

#[tokio::test]
async fn responses_and_retries_over_real_tcp() {
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index == 0 {
            Fault::status(503)
        } else {
            Fault::Respond {
                status: 200,
                headers: vec![("x-seen".into(), seen.index.to_string())],
                body: "{\"ok\":true}".into(),
            }
        }
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let response = api(config())
        .call(get(http.url("/thing")), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(&response.body[..], b"{\"ok\":true}");
    let log = server.log();
    assert_eq!(log.requests.len(), 2);
    assert_eq!(log.requests[1].path, "/thing");
    // Each attempt is sent with the call's correlation id, the same one.
    assert!(log.requests[0].correlation_id.is_some());
    assert_eq!(
        log.requests[0].correlation_id,
        log.requests[1].correlation_id
    );
}

#[tokio::test]
async fn resets_are_transient_for_reads_and_retried() {
    let server = FaultServer::failing_first(2, Fault::Reset { processed: false });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let result = api(config())
        .call(get(http.url("/r")), CallOptions::default())
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(server.log().requests.len(), 3);
}

#[tokio::test]
async fn truncated_and_stalled_bodies_fail_as_body_errors() {
    let server = FaultServer::new(|seen: &Seen| {
        if seen.index.is_multiple_of(2) {
            Fault::Truncated { status: 200 }
        } else {
            Fault::StallBody
        }
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let a = api(IntegrationConfig {
        retry: RetryPolicy::none(),
        breaker: None,
        ..config()
    });
    let body = TransportErrorKind::Body;
    fails_with(&a, http.url("/t"), CallOptions::default(), body).await;
    let stalled = fails_with(&a, http.url("/s"), CallOptions::default(), body).await;
    assert!(stalled.to_string().contains("stalled"), "{stalled}");
}

#[tokio::test]
async fn bodies_over_the_size_cap_fail_whatever_their_size() {
    // One body under the 64 KiB read-at-once size, one above it.
    let server = FaultServer::new(|seen: &Seen| Fault::Respond {
        status: 200,
        headers: vec![],
        body: "x"
            .repeat(if seen.index == 0 { 2_000 } else { 100_000 })
            .into(),
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let a = api_over(
        loopback().max_body_bytes(1_000),
        IntegrationConfig {
            retry: RetryPolicy::none(),
            ..config()
        },
    );
    for path in ["/small", "/large"] {
        let error = fails_with(
            &a,
            http.url(path),
            CallOptions::default(),
            TransportErrorKind::Body,
        )
        .await;
        assert!(
            error.to_string().contains("larger than 1000 bytes"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn black_hole_times_out_per_attempt() {
    let server = FaultServer::new(|_| Fault::BlackHole);
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let a = api(IntegrationConfig {
        retry: RetryPolicy::none(),
        ..config()
    });
    let options = CallOptions {
        attempt_timeout: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let err = fails_with(&a, http.url("/bh"), options, TransportErrorKind::Timeout).await;
    assert_eq!(
        err.class(),
        ErrorClass::Transient,
        "a timed-out GET is safe to retry"
    );
}

#[tokio::test]
async fn commit_then_drop_over_tcp_keeps_one_effect_per_call() {
    let server = FaultServer::new(|seen: &Seen| {
        if seen.earlier_with_key == 0 {
            Fault::Reset { processed: true }
        } else {
            Fault::status(201)
        }
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    // Every call needs one retry by design: open up breaker and budget.
    let a = api(IntegrationConfig {
        breaker: None,
        budget: BudgetConfig {
            per_success: 1.0,
            ..Default::default()
        },
        ..config()
    });
    for _ in 0..20 {
        let request = Request::new(
            OperationMeta::new("create", Method::POST, "/things").with_idempotency_key(),
            http.url("/things"),
        )
        .with_body("{}");
        a.call(request, CallOptions::default()).await.unwrap();
    }
    let log = server.log();
    assert_eq!(log.requests.len(), 40);
    assert_eq!(log.effects(), 20);
}

#[tokio::test]
async fn plain_http_is_refused_unless_loopback_and_allowed() {
    let strict = ReqwestTransport::builder().build().unwrap();
    let a = Integration::builder("strict")
        .transport(Arc::new(strict))
        .build()
        .unwrap();
    // Without a transport given, an integration makes its own, as strict.
    let by_default = Integration::builder("default").build().unwrap();
    let insecure = TransportErrorKind::Insecure;
    let server = FaultServer::new(|_| Fault::ok());
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    for api in [&a, &by_default] {
        let err = fails_with(api, http.url("/x"), CallOptions::default(), insecure).await;
        assert_eq!((err.class(), err.attempts), (ErrorClass::Permanent, 1));
    }
    assert!(server.log().requests.is_empty());
    let lax = api(config());
    // Allowed to loopback only: another host is refused.
    let remote = "http://192.0.2.1/x".to_owned();
    fails_with(&lax, remote, CallOptions::default(), insecure).await;
}

#[cfg(target_os = "linux")]
/// A listener whose accept queue is full: the kernel drops further SYNs,
/// so a connection to it hangs in its handshake (as to a black-holed
/// host) rather than being refused. Returns the listener and the
/// connections that filled its queue (both kept open).
fn listener_with_a_full_queue() -> (tokio::net::TcpListener, Vec<std::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut filling = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => filling.push(stream),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return (listener, filling),
            Err(e) => panic!("filling the accept queue: {e}"),
        }
    }
    panic!(
        "the accept queue never filled ({} connections)",
        filling.len()
    );
}

// Linux drops SYNs to a full accept queue; other systems may refuse them.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_handshake_that_hangs_ends_at_the_connect_timeout() {
    let (listener, _filling) = listener_with_a_full_queue();
    let url = format!("http://{}/thing", listener.local_addr().unwrap());
    let a = api_over(
        loopback().connect_timeout(Duration::from_millis(300)),
        IntegrationConfig {
            retry: RetryPolicy::none(),
            // Far beyond the connect timeout: if it did not apply, the
            // attempt timeout would end the call, as a `Timeout`.
            attempt_timeout: Duration::from_secs(20),
            ..config()
        },
    );
    let err = fails_with(&a, url, CallOptions::default(), TransportErrorKind::Connect).await;
    assert_eq!((err.class(), err.attempts), (ErrorClass::Transient, 1));
    // A timeout (hyper's words: "deadline has elapsed"), not a refusal.
    let message = err.to_string();
    assert!(
        message.contains("elapsed") || message.contains("timed out"),
        "{message}"
    );
    assert!(!message.contains("refused"), "{message}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = FaultServer::new(|_| {
        Fault::status(302).with_header("location", "https://elsewhere.test/steal")
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let response = api(config())
        .call(get(http.url("/moved")), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 302);
    assert_eq!(server.log().requests.len(), 1);
}

#[tokio::test]
async fn connection_refused_is_transient_and_has_no_url_in_the_error() {
    // Bind then drop to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let a = api(IntegrationConfig {
        retry: RetryPolicy::none(),
        ..config()
    });
    let url = format!("http://127.0.0.1:{port}/x?access_token=CANARY");
    let err = fails_with(&a, url, CallOptions::default(), TransportErrorKind::Connect).await;
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(!format!("{err} {err:?}").contains("CANARY"));
}
