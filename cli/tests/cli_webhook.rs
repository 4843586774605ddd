//! `wharf webhook sign` and `wharf webhook verify`, run as a script runs
//! them: the body on stdin, the secret from the environment, the exit code
//! saying valid (0), invalid (1) or a usage error (2).

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn wharf(args: &[&str], secret: Option<&str>, body: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wharf"));
    command
        .args(args)
        .env_remove("WHARF_TEST_WEBHOOK_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(secret) = secret {
        command.env("WHARF_TEST_WEBHOOK_SECRET", secret);
    }
    let mut child = command.spawn().unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        // A usage error exits before reading stdin: the pipe may be closed.
        let _ = stdin.write_all(body.as_bytes());
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn what_sign_prints_verify_accepts_and_a_changed_body_is_invalid() {
    let body = r#"{"type":"invoice.paid"}"#;
    let cases = [
        ("standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", None),
        ("stripe", "whsec_stripe", None),
        ("github", "gh-secret", None),
        ("slack", "slack-secret", None),
        ("shopify", "shop-secret", None),
        ("twilio", "auth-token", Some("https://example.test/sms")),
    ];
    for (scheme, secret, url) in cases {
        let mut sign = vec![
            "webhook",
            "sign",
            "--scheme",
            scheme,
            "--secret-env",
            "WHARF_TEST_WEBHOOK_SECRET",
            "--timestamp",
            "1700000000",
            "--id",
            "evt_1",
        ];
        if let Some(url) = url {
            sign.extend(["--url", url]);
        }
        let signed = wharf(&sign, Some(secret), body);
        assert!(
            signed.status.success(),
            "{scheme}: {}",
            text(&signed.stderr)
        );
        let headers = text(&signed.stdout);
        assert!(
            !headers.contains(secret),
            "{scheme}: the secret was printed"
        );
        let mut verify = vec![
            "webhook",
            "verify",
            "--scheme",
            scheme,
            "--secret-env",
            "WHARF_TEST_WEBHOOK_SECRET",
            "--now",
            "1700000060",
        ];
        if let Some(url) = url {
            verify.extend(["--url", url]);
        }
        for line in headers.lines() {
            verify.extend(["--header", line]);
        }
        let valid = wharf(&verify, Some(secret), body);
        assert_eq!(
            text(&valid.stdout),
            "valid\n",
            "{scheme}: {}",
            text(&valid.stderr)
        );
        assert_eq!(valid.status.code(), Some(0));
        let tampered = wharf(&verify, Some(secret), &body.replace("paid", "void"));
        assert_eq!(tampered.status.code(), Some(1), "{scheme}");
        assert_eq!(
            text(&tampered.stdout),
            "invalid: no signature matches\n",
            "{scheme}"
        );
    }
}

#[test]
fn stale_missing_and_usage_errors_say_so() {
    let args = [
        "webhook",
        "verify",
        "--scheme",
        "standard",
        "--secret-env",
        "WHARF_TEST_WEBHOOK_SECRET",
        "--now",
        "1614269330",
        "--header",
        "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek",
        "--header",
        "webhook-timestamp: 1614265330",
        "--header",
        "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ];
    let secret = Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let stale = wharf(&args, secret, r#"{"test": 2432232314}"#);
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(
        text(&stale.stdout),
        "invalid: timestamp 4000 s in the past, outside the tolerance of 300 s\n"
    );
    let missing = wharf(&args[..8], secret, "{}");
    assert_eq!(
        text(&missing.stdout),
        "invalid: missing header webhook-id\n"
    );
    // No secret in the environment, an unknown scheme, a bad header: usage errors.
    assert_eq!(wharf(&args, None, "{}").status.code(), Some(2));
    let mut unknown = args.to_vec();
    unknown[3] = "paypal";
    assert_eq!(wharf(&unknown, secret, "{}").status.code(), Some(2));
    let mut bad_header = args[..8].to_vec();
    bad_header.extend(["--header", "no colon here"]);
    assert_eq!(wharf(&bad_header, secret, "{}").status.code(), Some(2));
}

#[path = "../../runtime/tests/peers/postgres.rs"]
#[allow(dead_code)] // shared with the runtime's tests, which use all of it
mod postgres;

mod dlq {
    use super::{text, wharf};
    use bytes::Bytes;
    use wharf::store::{AnyStore, Claim, Failure, NewEvent, Store};

    /// Two events stored and dead-lettered through the store's own API.
    async fn two_dead_letters<S: Store>(store: &S) {
        for (id, body) in [("evt_dead_1", "{\"n\":1}"), ("evt_dead_2", "{\"n\":2}")] {
            store
                .insert(NewEvent {
                    source: "billing".into(),
                    event_id: id.into(),
                    received_at: 1_700_000_000_000,
                    headers: vec![],
                    body: Bytes::from(body),
                    order_key: None,
                })
                .await
                .unwrap();
        }
        let claimed = store
            .claim(Claim {
                now: 1_700_000_000_000,
                lease_ms: 1000,
                limit: 10,
            })
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2);
        for (event, at) in claimed.iter().zip([1_700_000_001_000, 1_700_000_100_000]) {
            let failure = Failure {
                now: at,
                error: "downstream said no\nat all".into(),
                retry_at: None,
            };
            assert!(store.fail(event, failure).await.unwrap());
        }
    }

    fn run(args: &[&str]) -> (i32, String, String) {
        let out = wharf(args, None, "");
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn list_replay_inspect(url: &str) {
        let (code, out, err) = run(&["webhook", "dlq", "list", "--store", url]);
        assert_eq!(code, 0, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("evt_dead_1 source=billing dead_at=2023-11-14T22:13:21.000Z attempts=1 direction=inbound error=downstream said no at all"), "{out}");
        assert!(lines[1].starts_with("evt_dead_2 "), "{out}");

        let (code, out, _) = run(&[
            "webhook",
            "dlq",
            "inspect",
            "--store",
            url,
            "--id",
            "evt_dead_2",
        ]);
        assert_eq!(code, 0);
        assert!(out.contains("body: {\"n\":2}"), "{out}");
        let (code, _, err) = run(&["webhook", "dlq", "inspect", "--store", url, "--id", "nope"]);
        assert_eq!(code, 1);
        assert!(err.contains("no dead letter with id nope"), "{err}");

        // Replay needs to be told which.
        let (code, _, err) = run(&["webhook", "dlq", "replay", "--store", url]);
        assert_eq!(code, 2, "{err}");
        // Died after the first, before now: only the second.
        let (code, out, err) = run(&[
            "webhook",
            "dlq",
            "replay",
            "--store",
            url,
            "--since",
            "2023-11-14T22:14:00Z",
        ]);
        assert_eq!((code, out.trim()), (0, "replayed 1"), "{err}");
        let (_, out, _) = run(&["webhook", "dlq", "list", "--store", url]);
        assert_eq!(out.lines().count(), 1);
        let (code, out, _) = run(&[
            "webhook",
            "dlq",
            "replay",
            "--store",
            url,
            "--id",
            "evt_dead_1",
        ]);
        assert_eq!((code, out.trim()), (0, "replayed 1"));
        let (_, out, _) = run(&["webhook", "dlq", "list", "--store", url]);
        assert_eq!(out, "");
        let (code, out, _) = run(&["webhook", "dlq", "replay", "--store", url, "--all"]);
        assert_eq!((code, out.trim()), (0, "replayed 0"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_inspect_and_replay_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("wharf-cli-dlq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite:{}", dir.join("store.db").display());
        let store = AnyStore::open(&url).await.unwrap();
        let AnyStore::Sqlite(sqlite) = &store else {
            panic!("sqlite: opens SQLite")
        };
        two_dead_letters(sqlite).await;
        tokio::task::spawn_blocking(move || list_replay_inspect(&url))
            .await
            .unwrap();
        let depth = store.depth().await.unwrap();
        assert_eq!((depth[0].pending, depth[0].dead), (2, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_inspect_and_replay_on_postgres() {
        let pg = tokio::task::spawn_blocking(super::postgres::Postgres::start)
            .await
            .unwrap();
        let url = format!("postgres://wharf@127.0.0.1:{}/postgres", pg.port);
        let store = AnyStore::open(&url).await.unwrap();
        let AnyStore::Postgres(postgres) = &store else {
            panic!("postgres:// opens PostgreSQL")
        };
        two_dead_letters(postgres).await;
        tokio::task::spawn_blocking(move || list_replay_inspect(&url))
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outbound_dead_letters_and_the_outbox_status() {
        use wharf::store::{AttemptOutcome, NewMessage, Next, OutboxStore, KIND_WEBHOOK};
        let dir = std::env::temp_dir().join(format!("wharf-cli-outbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite:{}", dir.join("store.db").display());
        let AnyStore::Sqlite(store) = AnyStore::open(&url).await.unwrap() else {
            panic!("sqlite: opens SQLite")
        };
        let now = 1_700_000_000_000;
        for n in 0..3 {
            let mut message =
                NewMessage::new("acme", "invoice.paid", format!("{{\"n\":{n}}}"), now).unwrap();
            message.message_id = format!("msg_{n}");
            store.enqueue(message).await.unwrap();
        }
        let claimed = store
            .claim_messages(
                Claim {
                    now,
                    lease_ms: 60_000,
                    limit: 1,
                },
                KIND_WEBHOOK,
            )
            .await
            .unwrap();
        let outcome = AttemptOutcome {
            message: claimed[0].clone(),
            log: None,
            next: Next::Dead,
            error: Some("HTTP 400 Bad Request: no".to_owned()),
        };
        let recorded = store.record_attempts(&[outcome], now + 5).await.unwrap();
        assert_eq!(recorded, [true]);
        store
            .claim_messages(
                Claim {
                    now,
                    lease_ms: 60_000,
                    limit: 1,
                },
                KIND_WEBHOOK,
            )
            .await
            .unwrap();
        let url2 = url.clone();
        tokio::task::spawn_blocking(move || {
            let (code, out, err) = run(&["outbox", "status", "--store", &url2]);
            assert_eq!(code, 0, "{err}");
            assert!(
                out.starts_with("acme pending=1 in_flight=1 dead=1 oldest_age="),
                "{out}"
            );
            let (_, out, _) = run(&["webhook", "dlq", "list", "--store", &url2]);
            assert!(out.starts_with("msg_0 source=acme "), "{out}");
            assert!(
                out.contains(" direction=outbound error=HTTP 400 Bad Request: no"),
                "{out}"
            );
            let (code, out, _) = run(&[
                "webhook", "dlq", "replay", "--store", &url2, "--id", "msg_0",
            ]);
            assert_eq!((code, out.trim()), (0, "replayed 1"));
            let (_, out, _) = run(&["outbox", "status", "--store", &url2]);
            assert!(
                out.starts_with("acme pending=2 in_flight=1 dead=0"),
                "{out}"
            );
        })
        .await
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_store_url_is_a_clear_error() {
        let (code, _, err) = run(&["webhook", "dlq", "list", "--store", "mysql://x"]);
        assert_eq!(code, 1);
        assert!(
            err.contains("expected sqlite:PATH or a postgres:// URL"),
            "{err}"
        );
    }
}
