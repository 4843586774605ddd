//! No token in the logs or the audit log: TRACE-level logs and audit
//! records captured across a PKCE login, a step-up for a missing scope, a
//! refresh and a logout against oidc-provider (a real server over TLS). In a binary of its own, because tracing caches
//! per-callsite interest process-wide: tests in other threads of the same
//! binary, logging before the capture is installed, would hide events from it.

mod log_capture;
mod peers;

use log_capture::Captured;
use peers::oidc::OidcServer;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use wharf_runtime::auth::{AuditLog, Credential, JsonLinesAudit, MemoryStore};
use wharf_runtime::call::AuthFailure;
use wharf_runtime::time::TokioClock;

/// Step-up for a missing scope, then a refresh and a logout, with every log
/// line captured at TRACE: no token issued along the way appears in them.
#[tokio::test(flavor = "current_thread")]
async fn step_up_asks_for_the_missing_scope_and_no_token_reaches_the_logs() {
    let captured = Captured::default();
    let _guard = captured.install();

    let server = OidcServer::start(r#"{"autoConsent":true}"#);
    let client = server.client("cli", None).await;
    let browser = server.transport();
    let first = client
        .login_loopback(
            &peers::oidc::scopes(&["openid", "offline_access", "read"]),
            move |url| {
                tokio::spawn(peers::oidc::browse(url.to_owned(), browser));
            },
            Duration::from_secs(30),
        )
        .await
        .expect("login");
    let mut secrets = vec![first.access_token.expose_secret().to_owned()];
    secrets.extend(
        first
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
    );
    let credential = Credential::new(
        "oidc:me",
        Arc::new(MemoryStore::new()),
        Arc::new(client.clone()),
        Arc::new(TokioClock),
    );
    let audit_path =
        std::env::temp_dir().join(format!("wharf-canary-audit-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&audit_path);
    AuditLog::new(JsonLinesAudit::open(&audit_path).unwrap()).watch(&credential);
    credential.set_tokens(first).await.unwrap();

    // An operation that needs `repo`: refused before sending, naming it.
    let mut op = wharf_runtime::call::OperationMeta::new(
        "repos/create",
        wharf_runtime::http::Method::POST,
        "/repos",
    );
    op.security = &[wharf_runtime::call::SecurityRequirement {
        schemes: &[wharf_runtime::call::SchemeScopes {
            scheme: "oauth",
            scopes: &["repo"],
            oauth: true,
        }],
    }];
    use wharf_runtime::call::Authenticator;
    let missing = match credential.authorize(&op).await {
        Err(AuthFailure::InsufficientScope { missing }) => missing,
        other => panic!("expected missing scopes, got {other:?}"),
    };
    assert_eq!(missing, ["repo"]);
    let browser = server.transport();
    credential
        .step_up(
            &client,
            &missing,
            move |url| {
                let scope: std::collections::BTreeSet<String> = url::Url::parse(url)
                    .unwrap()
                    .query_pairs()
                    .find(|(k, _)| k == "scope")
                    .map(|(_, v)| v.split(' ').map(str::to_owned).collect())
                    .unwrap_or_default();
                // What was granted (the server does not list offline_access
                // among granted scopes) plus the missing `repo`.
                let wanted = ["openid", "read", "repo"];
                assert_eq!(scope, wanted.map(str::to_owned).into(), "{url}");
                tokio::spawn(peers::oidc::browse(url.to_owned(), browser));
            },
            Duration::from_secs(30),
        )
        .await
        .expect("step-up");
    let authorized = credential.authorize(&op).await.expect("now authorized");
    assert!(authorized.is_some());
    let (stepped, generation) = credential.access_token().await.unwrap();
    assert!(stepped.scopes.contains("repo") && stepped.scopes.contains("read"));
    secrets.push(stepped.access_token.expose_secret().to_owned());
    secrets.extend(
        stepped
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
    );
    credential.refresh(generation).await.unwrap();
    let (refreshed, _) = credential.access_token().await.unwrap();
    secrets.push(refreshed.access_token.expose_secret().to_owned());
    secrets.extend(
        refreshed
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
    );
    credential.logout(&client).await.unwrap();

    // The audit log has each step, in order, and no token.
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let _ = std::fs::remove_file(&audit_path);
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["integration"], "oidc");
            assert_eq!(v["subject"], "me");
            assert_eq!(v["outcome"], "success", "{l}");
            v["action"].as_str().unwrap().to_owned()
        })
        .collect();
    let rotated = stepped
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned())
        != refreshed
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned());
    let mut want = vec!["login", "step_up", "refresh"];
    if rotated {
        want.push("refresh_token_rotation");
    }
    want.push("revocation");
    assert_eq!(actions, want);

    let logs = captured.text();
    // The capture works (the refresh was logged); how much the HTTP stack
    // adds at TRACE depends on its features, so no size is asserted.
    assert!(
        logs.contains("Refreshed"),
        "the refresh event was captured: {logs}"
    );
    for secret in &secrets {
        assert!(secret.len() > 10);
        assert!(!logs.contains(secret.as_str()), "a token reached the logs");
        assert!(
            !audit.contains(secret.as_str()),
            "a token reached the audit log"
        );
    }
}
