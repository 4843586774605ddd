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
