//! Calls through injected faults. The sandbox's fault script decides what
//! the next requests meet; wharf's own log lines (indented, `INFO`/`WARN`)
//! say what the runtime decided.

use crate::harbor;
use crate::login::{Session, TOKEN_LIFETIME};
use crate::narrate::{secs, section, since, step};
use crate::summary::Summary;
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use wharf::call::{CallOptions, ErrorKind};
use wharf::client::{ApiError, CallSettings};
use wharf::policy::breaker::BreakerState;
use wharf::policy::retry::RetryPolicy;
use wharf::testing::sandbox::{rate_limited, unavailable, Target};
use wharf::testing::Fault;

type Failure = Box<dyn std::error::Error>;

/// Creates an issue once, whatever happens to the connection: three
/// attempts at most, one deadline, the ticket id as the idempotency key.
/// (Remove `idempotency` and this does not compile: the endpoint mutates.)
#[wharf::policy(
    calls = [harbor::operations::CREATE_ISSUE],
    timeout = "5s",
    retry(max = 3, base = "100ms"),
    idempotency = natural_key(ticket),
    scopes = ["repo:write"],
)]
async fn file_issue(
    client: &harbor::Client,
    ticket: &str,
    title: &str,
) -> Result<harbor::Issue, ApiError<harbor::Error>> {
    let issue = harbor::NewIssue {
        title: title.to_owned(),
        body: None,
    };
    Ok(client
        .create_issue("ada", "analytical-engine", &issue, Default::default())
        .await?
        .value)
}

fn no_retry() -> harbor::GetRepoOptions {
    harbor::GetRepoOptions {
        call: CallSettings {
            options: CallOptions {
                retry: Some(RetryPolicy::none()),
                ..CallOptions::default()
            },
            ..CallSettings::default()
        },
    }
}

fn breaker(session: &Session) -> BreakerState {
    session.client.core().integration().health().breaker
}

pub async fn tour(session: &Session) -> Result<Summary, Failure> {
    let client = &session.client;
    let faults = session.sandbox.faults();
    let mut summary = Summary::default();

    section("typed calls");
    let me = client.get_user(Default::default()).await?.value;
    step(&format!(
        "get_user → {} ({}, plan {})",
        me.login, me.name, me.plan
    ));
    summary.calls += 1;
    let repos: Vec<harbor::Repo> = client
        .list_repos_stream(harbor::ListReposOptions::default().limit(3))
        .map(|r| r.map_err(|e| e.to_string()))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let pages = session.sandbox.log().requests_to("listRepos").count();
    step(&format!(
        "list_repos_stream (3 per page, cursor pagination) → {} repositories in {pages} pages",
        repos.len()
    ));
    summary.calls += pages;

    section("retries: the next 2 requests for the repository get 503");
    faults.push_times(2, Target::operation("getRepo"), unavailable());
    let t = Instant::now();
    let repo = client
        .get_repo("ada", "analytical-engine", Default::default())
        .await?
        .value;
    step(&format!(
        "get_repo → {} ★{} after 3 attempts in {} (full-jitter backoff, transient errors only)",
        repo.name,
        repo.stars,
        since(t)
    ));
    summary.calls += 1;
    summary.faults += 2;

    section("rate limit: the provider answers 429 with Retry-After: 1");
    faults.push(
        Target::operation("getUser"),
        rate_limited(Duration::from_secs(1)),
    );
    let t = Instant::now();
    client.get_user(Default::default()).await?;
    step(&format!(
        "get_user → 200 after waiting {} as the provider asked (the whole integration held back)",
        since(t)
    ));
    summary.rate_limit_wait = t.elapsed();
    summary.calls += 1;
    summary.faults += 1;

    section("circuit breaker: the repository endpoint fails 3 times in a row");
    faults.push_times(3, Target::operation("getRepo"), unavailable());
    for _ in 0..3 {
        let outcome = match client
            .get_repo("ada", "analytical-engine", no_retry())
            .await
        {
            Ok(_) => "succeeded",
            Err(_) => "failed",
        };
        step(&format!(
            "get_repo (no retry) {outcome}; breaker {}",
            breaker(session).as_str()
        ));
        summary.calls += 1;
    }
    summary.faults += 3;
    let sent_before = session.sandbox.log().api_requests.len();
    match client
        .get_repo("ada", "analytical-engine", Default::default())
        .await
    {
        Err(ApiError::Call(e)) if matches!(e.kind, ErrorKind::BreakerOpen { .. }) => {
            let sent = session.sandbox.log().api_requests.len() - sent_before;
            step(&format!(
                "get_repo → failed fast: {e}; requests sent: {sent}"
            ));
            summary.fail_fast += 1;
        }
        other => {
            return Err(format!(
                "expected the breaker to be open, got {:?}",
                other.map(|r| r.status)
            )
            .into())
        }
    }
    summary.calls += 1;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let repo = client
        .get_repo("ada", "analytical-engine", Default::default())
        .await?
        .value;
    step(&format!(
        "after 1 s: one probe let through → {}; breaker {}",
        repo.name,
        breaker(session).as_str()
    ));
    summary.breaker_recovered = breaker(session) == BreakerState::Closed;
    summary.calls += 1;

    section("idempotent create: the connection drops after the provider committed");
    faults.push(
        Target::operation("createIssue"),
        Fault::Reset { processed: true },
    );
    let issue = file_issue(client, "ticket-42", "Document the quickstart").await?;
    let log = session.sandbox.log();
    let attempts: Vec<_> = log.requests_to("createIssue").collect();
    let keys: Vec<&str> = attempts
        .iter()
        .filter_map(|r| r.idempotency_key.as_deref())
        .collect();
    step(&format!(
        "file_issue → issue #{} after {} attempts, each with key {:?}; the provider replayed {} answer(s) instead of creating twice",
        issue.number,
        attempts.len(),
        keys.first().copied().unwrap_or("-"),
        log.replays()
    ));
    summary.calls += 1;
    summary.faults += 1;
    summary.create_attempts = attempts.len();
    // Every attempt that reached the API and was not answered from the
    // provider's idempotency record created an issue.
    summary.issues_created = attempts.iter().filter(|r| !r.replayed).count();

    section("drift: the provider changes the repository's shape");
    faults.set_drift(true);
    let repo = client
        .get_repo("ada", "analytical-engine", Default::default())
        .await?
        .value;
    faults.set_drift(false);
    step(&format!(
        "get_repo still decodes: {} ★{} visibility={}",
        repo.name, repo.stars, repo.visibility
    ));
    summary.calls += 1;

    section("token refresh at 80% of the lifetime");
    let mut refreshed = session.refreshed.clone();
    let due = TOKEN_LIFETIME.mul_f64(0.8);
    step(&format!(
        "{} since login; the refresh is due at {}",
        since(session.logged_in),
        secs(due)
    ));
    let at = tokio::time::timeout(TOKEN_LIFETIME * 2, refreshed.wait_for(Option::is_some))
        .await??
        .unwrap_or_default();
    let me = client.get_user(Default::default()).await?.value;
    step(&format!(
        "get_user with the new token → {}; no call ever carried an expired token",
        me.login
    ));
    summary.calls += 1;
    summary.refreshed_after = Some(at);
    Ok(summary)
}
