//! Webhook verification, scheme by scheme: the providers' own published
//! examples (Standard Webhooks, GitHub, Twilio) and values computed by
//! Python's `hmac` (an implementation not ours), then round trips with
//! tampering, wrong and rotated secrets, stale and future timestamps, and
//! refusals that say why without a secret or a signature.

use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use std::time::{Duration, SystemTime};
use wharf_runtime::webhooks::{Delivery, Scheme, Verifier, VerifyError};

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn at(unix: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn verify(
    verifier: &Verifier,
    pairs: &[(&str, &str)],
    body: &str,
    url: Option<&str>,
    now: u64,
) -> Result<wharf_runtime::webhooks::Verified, VerifyError> {
    let map = headers(pairs);
    verifier.verify(
        &Delivery {
            headers: &map,
            body: body.as_bytes(),
            url,
        },
        at(now),
    )
}

#[test]
fn published_examples_verify() {
    // Standard Webhooks' example (the spec's libraries test it).
    let standard = Verifier::new(
        Scheme::Standard,
        &[secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
    )
    .unwrap();
    let ok = verify(
        &standard,
        &[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            (
                "Webhook-Signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ),
        ],
        r#"{"test": 2432232314}"#,
        None,
        1614265330 + 10,
    )
    .unwrap();
    assert_eq!(ok.event_id.as_deref(), Some("msg_p5jXN8AQM9LWM0D4loKWxJek"));
    assert_eq!(ok.timestamp, Some(1614265330));

    // GitHub's documentation example.
    let github = Verifier::new(Scheme::GitHub, &[secret("It's a Secret to Everybody")]).unwrap();
    verify(
        &github,
        &[(
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )],
        "Hello, World!",
        None,
        0,
    )
    .unwrap();

    // Twilio's documentation example (auth token 12345).
    let twilio = Verifier::new(Scheme::Twilio, &[secret("12345")]).unwrap();
    let body = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    verify(
        &twilio,
        &[("X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")],
        body,
        Some(url),
        0,
    )
    .unwrap();
    // The same URL with its default port written out (a proxy's rewrite).
    verify(
        &twilio,
        &[("X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")],
        body,
        Some("https://mycompany.com:443/myapp.php?foo=1&bar=2"),
        0,
    )
    .unwrap();
    assert_eq!(
        verify(
            &twilio,
            &[("X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")],
            body,
            None,
            0
        ),
        Err(VerifyError::MissingContext {
            what: "the full URL Twilio sent the request to"
        })
    );
}

#[test]
fn values_computed_by_python_hmac_verify() {
    let stripe = Verifier::new(Scheme::Stripe, &[secret("whsec_test_secret")]).unwrap();
    let header = "t=1700000000,v0=ignored,v1=248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a";
    verify(
        &stripe,
        &[("Stripe-Signature", header)],
        r#"{"id":"evt_1"}"#,
        None,
        1700000100,
    )
    .unwrap();

    let slack =
        Verifier::new(Scheme::Slack, &[secret("8f742231b10e8888abcd99yyyzzz85a5")]).unwrap();
    verify(
        &slack,
        &[
            ("X-Slack-Request-Timestamp", "1531420618"),
            (
                "X-Slack-Signature",
                "v0=bca5eef5dd737ed259b428b18cd24f679baa18c3fc5f1cb2a6ac9f03e717969a",
            ),
        ],
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J",
        None,
        1531420618,
    )
    .unwrap();

    let shopify = Verifier::new(Scheme::Shopify, &[secret("shpss_secret")]).unwrap();
    let ok = verify(
        &shopify,
        &[
            (
                "X-Shopify-Hmac-Sha256",
                "xocA3LkeJ/RvNrkxep1EUtFHuj7rIoIqZYaLU26LyPQ=",
            ),
            (
                "X-Shopify-Webhook-Id",
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            ),
        ],
        r#"{"id":1}"#,
        None,
        0,
    )
    .unwrap();
    assert_eq!(
        ok.event_id.as_deref(),
        Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    );
}

/// Every scheme: what it signs verifies; a changed byte, another secret,
/// or a timestamp outside the window does not; a rotated pair verifies
/// deliveries signed by either.
#[test]
fn round_trips_tampering_rotation_and_windows() {
    let now = 1_700_000_000i64;
    let url = Some("https://example.test/hooks?x=1");
    for scheme in Scheme::ALL {
        let (old, new) = match scheme {
            Scheme::Standard => (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "whsec_dGhpcyBpcyBhIG5ldyBzZWNyZXQgb2YgMzIgYnl0ZXM=",
            ),
            _ => ("old-secret-1", "new-secret-2"),
        };
        let body = if scheme == Scheme::Twilio {
            "To=%2B1555&From=%2B1666&Body=hi&Body=there"
        } else {
            r#"{"type":"invoice.paid","amount":5}"#
        };
        let signer = |s: &str| Verifier::new(scheme, &[secret(s)]).unwrap();
        let signed = |s: &str, ts: i64| {
            signer(s)
                .sign(body.as_bytes(), "evt_1", ts, url)
                .unwrap()
                .headers
        };
        let check =
            |verifier: &Verifier, headers: &[(&'static str, String)], body: &str, at_ts: i64| {
                let pairs: Vec<(&str, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                verify(verifier, &pairs, body, url, at_ts as u64)
            };
        let by_old = signed(old, now);
        let by_new = signed(new, now);
        let rotating = Verifier::new(scheme, &[secret(new), secret(old)]).unwrap();
        assert!(
            check(&rotating, &by_old, body, now).is_ok(),
            "{scheme}: old secret during rotation"
        );
        assert!(
            check(&rotating, &by_new, body, now).is_ok(),
            "{scheme}: new secret"
        );
        assert_eq!(
            check(&signer(new), &by_old, body, now),
            Err(VerifyError::NoMatchingSignature),
            "{scheme}: a secret not on the list"
        );
        let tampered = body.replace('5', "6").replace("hi", "ho");
        assert_eq!(
            check(&rotating, &by_new, &tampered, now),
            Err(VerifyError::NoMatchingSignature),
            "{scheme}: a changed body"
        );
        if matches!(scheme, Scheme::Standard | Scheme::Stripe | Scheme::Slack) {
            let stale = signed(new, now - 301);
            assert!(
                matches!(
                    check(&rotating, &stale, body, now),
                    Err(VerifyError::OutsideTolerance {
                        skew: -301,
                        tolerance: 300
                    })
                ),
                "{scheme}: stale"
            );
            assert!(check(&rotating, &signed(new, now - 299), body, now).is_ok());
            let future = check(&rotating, &signed(new, now + 301), body, now);
            if scheme == Scheme::Stripe {
                assert!(
                    future.is_ok(),
                    "Stripe's rule: only old timestamps are refused"
                );
            } else {
                assert!(
                    matches!(future, Err(VerifyError::OutsideTolerance { skew: 301, .. })),
                    "{scheme}"
                );
            }
        }
    }
}

#[test]
fn standard_webhooks_signs_with_every_secret_and_verifies_ed25519() {
    let seed = "whsk_".to_owned() + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let signer = Verifier::new(
        Scheme::Standard,
        &[
            secret(&seed),
            secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ],
    )
    .unwrap();
    let signed = signer.sign(b"{}", "msg_1", 1_700_000_000, None).unwrap();
    let signature = &signed.headers[2].1;
    assert!(
        signature.starts_with("v1a,") && signature.contains(" v1,"),
        "{signature}"
    );
    // The public half alone verifies the v1a signature.
    let public = ed25519_public_of(&seed);
    let verifier = Verifier::new(Scheme::Standard, &[secret(&public)]).unwrap();
    let pairs: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    verify(&verifier, &pairs, "{}", None, 1_700_000_000).unwrap();
    assert_eq!(
        verify(&verifier, &pairs, "{ }", None, 1_700_000_000),
        Err(VerifyError::NoMatchingSignature)
    );
    // A public key cannot sign.
    assert!(verifier.sign(b"{}", "msg_1", 1, None).is_err());
}

/// The `whpk_` key of a `whsk_` seed, through the signature it makes.
fn ed25519_public_of(seed: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(seed.trim_start_matches("whsk_"))
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&bytes.try_into().unwrap());
    format!(
        "whpk_{}",
        base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes())
    )
}

#[test]
fn refusals_say_why_and_never_hold_a_secret_or_signature() {
    let secret_text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let verifier = Verifier::new(Scheme::Standard, &[secret(secret_text)]).unwrap();
    let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let cases: Vec<(Vec<(&str, &str)>, VerifyError)> = vec![
        (
            vec![
                ("webhook-timestamp", "1614265330"),
                ("webhook-signature", signature),
            ],
            VerifyError::MissingHeader {
                header: "webhook-id",
            },
        ),
        (
            vec![
                ("webhook-id", "msg"),
                ("webhook-timestamp", "soon"),
                ("webhook-signature", signature),
            ],
            VerifyError::MalformedHeader {
                header: "webhook-timestamp",
                why: "not a Unix timestamp in seconds",
            },
        ),
        (
            vec![
                ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                ("webhook-timestamp", "1614265330"),
                ("webhook-signature", signature),
            ],
            VerifyError::OutsideTolerance {
                skew: -3600,
                tolerance: 300,
            },
        ),
    ];
    for (pairs, expected) in cases {
        let refused = verify(
            &verifier,
            &pairs,
            r#"{"test": 2432232314}"#,
            None,
            1614265330 + 3600,
        )
        .unwrap_err();
        assert_eq!(refused, expected);
        let text = format!("{refused} {refused:?} {verifier:?}");
        for secret_part in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "g0hM9SsE"] {
            assert!(!text.contains(secret_part), "{text}");
        }
    }
    assert_eq!(
        VerifyError::OutsideTolerance {
            skew: -3600,
            tolerance: 300
        }
        .to_string(),
        "timestamp 3600 s in the past, outside the tolerance of 300 s"
    );
    // Secrets that cannot be used are refused when the verifier is made.
    assert!(Verifier::new(Scheme::Standard, &[secret("whsec_not base64!")]).is_err());
    assert!(Verifier::new(Scheme::Standard, &[secret("whpk_AAAA")]).is_err());
    assert!(Verifier::new(Scheme::GitHub, &[]).is_err());
    assert!(Verifier::new(Scheme::GitHub, &[secret("  ")]).is_err());
    // GitHub's SHA-1 header alone is not enough.
    let github = Verifier::new(Scheme::GitHub, &[secret("s")]).unwrap();
    assert_eq!(
        verify(&github, &[("X-Hub-Signature", "sha1=0000")], "{}", None, 0),
        Err(VerifyError::MissingHeader {
            header: "x-hub-signature-256"
        })
    );
    assert!("STRIPE".parse::<Scheme>().is_ok() && "paypal".parse::<Scheme>().is_err());
}
