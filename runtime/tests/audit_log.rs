//! The credential audit log: a credential's login, refreshes (one failing
//! with a token in its error, one rotating the refresh token), a dead
//! grant, and the token store's key rotation, recorded to a JSON-lines
//! file and to PostgreSQL; no secret in any record (canaries).

#[path = "peers/postgres.rs"]
mod postgres;

use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wharf_runtime::auth::{
    AuditAction, AuditLog, AuditOutcome, AuditRecord, Credential, DataKey, EncryptedFileStore,
    JsonLinesAudit, KeyRing, PostgresAudit, TokenEndpoint, TokenError, TokenSet,
};
use wharf_runtime::call::AuthFuture;
use wharf_runtime::time::TokioClock;

/// Token values no record may contain.
const CANARY_ACCESS: &str = "gho_CANARYaccess0000000000000000000000";
const CANARY_REFRESH: &str = "ghr_CANARYrefresh000000000000000000000";
const CANARY_ECHOED: &str = "ghp_CANARYechoed00000000000000000000000";

fn tokens(access: &str, refresh: &str) -> TokenSet {
    TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: Some(SecretString::from(refresh.to_owned())),
        id_token: None,
        token_type: "Bearer".into(),
        issued_at: SystemTime::now(),
        lifetime: Some(Duration::from_secs(3600)),
        scopes: ["read".to_owned()].into(),
    }
}

/// First refresh: fails, echoing the refresh token and another token in
/// its error; second: succeeds with a new refresh token; then the grant is
/// dead.
#[derive(Debug, Default)]
struct Endpoint {
    calls: AtomicUsize,
}

impl TokenEndpoint for Endpoint {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a SecretString,
        _scopes: &'a [String],
        _now: SystemTime,
    ) -> AuthFuture<'a, Result<TokenSet, TokenError>> {
        Box::pin(async move {
            match self.calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(TokenError::Transport(format!(
                    "proxy said: bad token {} (also saw {CANARY_ECHOED})",
                    refresh_token.expose_secret()
                ))),
                1 => Ok(tokens(
                    &format!("{CANARY_ACCESS}-2"),
                    &format!("{CANARY_REFRESH}-2"),
                )),
                _ => Err(TokenError::InvalidGrant {
                    description: Some(format!("token {CANARY_ECHOED} revoked")),
                }),
            }
        })
    }
}

/// Drives a credential audited by `log` through login, a failed refresh,
/// a rotating refresh and a dead grant.
async fn drive(log: &AuditLog, name: &str) {
    let dir = std::env::temp_dir().join(format!("wharf-audit-store-{}-{name}", std::process::id()));
    let store = Arc::new(
        EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k1").unwrap())).unwrap(),
    );
    store.audit_to(log.clone());
    let credential = Credential::new(
        "github:alice",
        store.clone(),
        Arc::new(Endpoint::default()),
        Arc::new(TokioClock),
    );
    log.watch(&credential);
    credential
        .set_tokens(tokens(CANARY_ACCESS, CANARY_REFRESH))
        .await
        .unwrap();
    let generation = |c: &Credential| {
        let c = c.clone();
        async move { c.access_token().await.unwrap().1 }
    };
    assert!(credential
        .refresh(generation(&credential).await)
        .await
        .is_err());
    credential
        .refresh(generation(&credential).await)
        .await
        .unwrap();
    assert!(credential
        .refresh(generation(&credential).await)
        .await
        .is_err());
    assert!(credential.needs_reauthorization());
    assert_eq!(store.rotate(DataKey::generate("k2").unwrap()).unwrap(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

fn expected() -> Vec<(
    &'static str,
    Option<&'static str>,
    AuditAction,
    AuditOutcome,
)> {
    use AuditAction as A;
    use AuditOutcome::{Failure, Success};
    vec![
        ("github", Some("alice"), A::Login, Success),
        ("github", Some("alice"), A::Refresh, Failure),
        ("github", Some("alice"), A::Refresh, Success),
        ("github", Some("alice"), A::RefreshTokenRotation, Success),
        ("github", Some("alice"), A::ReauthorizationRequired, Success),
        ("token_store", None, A::KeyRotation, Success),
    ]
}

fn summary(records: &[AuditRecord]) -> Vec<(&str, Option<&str>, AuditAction, AuditOutcome)> {
    records
        .iter()
        .map(|r| {
            (
                r.integration.as_str(),
                r.subject.as_deref(),
                r.action,
                r.outcome,
            )
        })
        .collect()
}

fn assert_no_canary(text: &str) {
    for canary in [CANARY_ACCESS, CANARY_REFRESH, CANARY_ECHOED, "CANARY"] {
        assert!(
            !text.contains(canary),
            "a secret reached the audit log: {text}"
        );
    }
}

#[tokio::test]
async fn a_json_lines_file_records_every_credential_event_and_no_secret() {
    let dir = std::env::temp_dir().join(format!("wharf-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    let log = AuditLog::new(JsonLinesAudit::open(&path).unwrap());
    drive(&log, "file").await;

    let text = std::fs::read_to_string(&path).unwrap();
    assert_no_canary(&text);
    #[derive(serde::Deserialize)]
    struct Line {
        at_ms: i64,
        integration: String,
        subject: Option<String>,
        action: String,
        outcome: String,
        detail: Option<String>,
    }
    let lines: Vec<Line> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, Option<String>, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l.integration.clone(),
                l.subject.clone(),
                l.action.clone(),
                l.outcome.clone(),
            )
        })
        .collect();
    let want: Vec<(String, Option<String>, String, String)> = expected()
        .into_iter()
        .map(|(i, s, a, o)| {
            (
                i.to_owned(),
                s.map(str::to_owned),
                a.as_str().to_owned(),
                o.as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(lines.iter().all(|l| l.at_ms > 1_700_000_000_000));
    // The failure says what went wrong, with the tokens taken out.
    let failed = lines[1].detail.as_deref().unwrap();
    assert!(failed.contains("proxy said: bad token"), "{failed}");
    assert!(lines[5]
        .detail
        .as_deref()
        .unwrap()
        .contains("key k2 current"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the audit file is private");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_every_credential_event_and_no_secret() {
    let pg = tokio::task::spawn_blocking(postgres::Postgres::start)
        .await
        .unwrap();
    let sink = Arc::new(PostgresAudit::connect(&pg.config()).await.unwrap());
    let log = AuditLog::from_shared(sink.clone());
    drive(&log, "postgres").await;
    sink.flush().await.unwrap();

    let mut records = sink.records("github", 100).await.unwrap();
    records.extend(sink.records("token_store", 100).await.unwrap());
    assert_eq!(summary(&records), expected());
    assert_no_canary(&format!("{records:?}"));
    // A second instance sees the same log.
    let other = PostgresAudit::connect(&pg.config()).await.unwrap();
    assert_eq!(other.records("github", 2).await.unwrap(), records[3..5]);
}
