//! `wharf status --url`: a status page an app serves, in the terminal,
//! with an exit code scripts can act on.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use wharf::call::{CallOptions, Integration, IntegrationConfig, OperationMeta, Request};
use wharf::http::Method;
use wharf::observe::StatusPage;
use wharf::policy::breaker::BreakerConfig;
use wharf::policy::retry::RetryPolicy;
use wharf::testing::{Fault, FaultServer, FaultTransport, Seen};
use wharf::time::TokioClock;

fn integration(name: &str, server: &Arc<FaultServer>) -> Integration {
    Integration::builder(name)
        .config(IntegrationConfig {
            breaker: Some(BreakerConfig {
                consecutive_failures: 2,
                open_for: Duration::from_secs(600),
                ..Default::default()
            }),
            retry: RetryPolicy {
                max_attempts: 1,
                ..Default::default()
            },
            ..Default::default()
        })
        .transport(Arc::new(FaultTransport::new(
            server.clone(),
            Arc::new(TokioClock),
        )))
        .build()
        .unwrap()
}

fn get() -> Request {
    Request::new(
        OperationMeta::new("repos/get", Method::GET, "/repo"),
        "https://api.example.test/repo",
    )
}

async fn status(url: String) -> (Option<i32>, String, String) {
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_wharf"))
            .args(["status", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_shows_what_the_page_shows_and_exits_by_health() {
    let up = FaultServer::new(|_: &Seen| Fault::ok());
    let stripe = integration("stripe", &up);
    for _ in 0..4 {
        stripe.call(get(), CallOptions::default()).await.unwrap();
    }
    let page = StatusPage::new();
    page.integration(&stripe);
    let listener = page.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();

    // All healthy: 0.
    let (code, out, err) = status(listener.url("/status")).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("stripe  breaker=closed  calls=4"), "{out}");

    // A breaker opens: the same page now says so, and the exit code is 3.
    let down = FaultServer::new(|_: &Seen| Fault::status(503));
    let github = integration("github", &down);
    for _ in 0..3 {
        let _ = github.call(get(), CallOptions::default()).await;
    }
    page.integration(&github);
    let (code, out, _) = status(listener.url("/status.json")).await;
    assert_eq!(code, Some(3), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("github "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("breaker=open"), "{line}");
    assert!(line.contains("calls=3 (transient 3)"), "{line}");
    assert!(out.contains("  breaker closed -> open at "), "{out}");

    // Nothing there: 1, with the reason.
    let url = listener.url("/status");
    drop(listener);
    let (code, out, err) = status(url).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.starts_with("error: "), "{err}");

    // Not a wharf page: 1, saying so.
    let other = FaultServer::new(|_: &Seen| Fault::ok());
    let http = wharf::testing::FaultHttpServer::start(other).await.unwrap();
    let (code, _, err) = status(http.url("/status")).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("not a wharf status page"), "{err}");
}
