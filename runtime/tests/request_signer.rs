//! A provider that signs every request (shaped like Coinbase's exchange
//! API: `CB-ACCESS-KEY`, `CB-ACCESS-TIMESTAMP` and `CB-ACCESS-SIGN`, the
//! base64 HMAC-SHA256 of timestamp + method + path + body under the
//! base64-decoded secret). The signer sees the request as it is sent and
//! the integration's clock; its headers reach the wire on every attempt;
//! a refusal ends the call before anything is sent.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use wharf_runtime::call::{
    AuthFailure, CallOptions, ErrorKind, HttpRequest, Integration, OperationMeta, Request,
    RequestSigner, Response, SendFuture, SigningInput, Transport,
};
use wharf_runtime::time::FollowingWallClock;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The exchange's signing scheme.
#[derive(Debug)]
struct ExchangeSigner {
    key_id: String,
    secret: SecretString,
}

impl RequestSigner for ExchangeSigner {
    fn sign(
        &self,
        input: &SigningInput<'_>,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, AuthFailure> {
        let body = input
            .body
            .ok_or_else(|| AuthFailure::Unavailable("a streamed body cannot be signed".into()))?;
        let timestamp = input
            .now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| AuthFailure::Unavailable("clock before 1970".into()))?
            .as_secs()
            .to_string();
        let url = url::Url::parse(&input.request.url)
            .map_err(|_| AuthFailure::Unavailable("unparsable URL".into()))?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let key = B64
            .decode(self.secret.expose_secret())
            .map_err(|_| AuthFailure::Unavailable("the secret is not base64".into()))?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
            .map_err(|_| AuthFailure::Unavailable("bad key".into()))?;
        mac.update(timestamp.as_bytes());
        mac.update(input.request.method.as_str().as_bytes());
        mac.update(path.as_bytes());
        mac.update(body);
        let signature = B64.encode(mac.finalize().into_bytes());
        let header = |v: &str| {
            HeaderValue::from_str(v).map_err(|_| AuthFailure::Unavailable("not header-safe".into()))
        };
        let mut sign = header(&signature)?;
        sign.set_sensitive(true);
        Ok(vec![
            (
                HeaderName::from_static("cb-access-key"),
                header(&self.key_id)?,
            ),
            (
                HeaderName::from_static("cb-access-timestamp"),
                header(&timestamp)?,
            ),
            (HeaderName::from_static("cb-access-sign"), sign),
        ])
    }
}

/// Keeps every request; answers 503 to the first, 200 after.
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<HttpRequest>>,
}

impl Transport for Recorder {
    fn send(&self, request: HttpRequest) -> SendFuture {
        let n = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(request);
            seen.len()
        };
        Box::pin(async move {
            Ok(Response {
                status: if n == 1 {
                    http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    http::StatusCode::OK
                },
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::from_static(b"{}"),
            })
        })
    }
}

/// The signature as the exchange computes it, with another HMAC
/// implementation (ring's).
fn expected(secret_b64: &str, timestamp: &str, method: &str, path: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &B64.decode(secret_b64).unwrap());
    let tag = ring::hmac::sign(&key, format!("{timestamp}{method}{path}{body}").as_bytes());
    B64.encode(tag.as_ref())
}

#[tokio::test(start_paused = true)]
async fn every_attempt_is_signed_from_what_it_sends() {
    let secret = "c2VjcmV0LWtleS1vZi10aGUtZXhjaGFuZ2U=";
    let recorder = Arc::new(Recorder::default());
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let api = Integration::builder("exchange")
        .transport(recorder.clone())
        .clock(Arc::new(FollowingWallClock::starting_at(t0)))
        .signer(Arc::new(ExchangeSigner {
            key_id: "key-1".into(),
            secret: SecretString::from(secret.to_owned()),
        }))
        .build()
        .unwrap();
    let body = r#"{"size":"0.01","side":"buy"}"#;
    let op = OperationMeta::new("orders/create", Method::POST, "/orders").with_idempotency_key();
    let request = Request::new(op, "https://exchange.test/orders?type=limit").with_body(body);
    let response = api.call(request, CallOptions::default()).await.unwrap();
    assert_eq!(response.status, 200);
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "a 503, then the retry");
    for (n, sent) in seen.iter().enumerate() {
        let timestamp = sent.headers["cb-access-timestamp"].to_str().unwrap();
        let ts: u64 = timestamp.parse().unwrap();
        assert!(
            (1_700_000_000..1_700_000_001 + 60).contains(&ts),
            "attempt {n}: {ts}"
        );
        assert_eq!(sent.headers["cb-access-key"], "key-1");
        let sign = &sent.headers["cb-access-sign"];
        assert!(sign.is_sensitive());
        assert_eq!(
            sign.to_str().unwrap(),
            expected(secret, timestamp, "POST", "/orders?type=limit", body),
            "attempt {n}"
        );
    }
    // The retry was signed afresh, at its own time.
    let times: Vec<&str> = seen
        .iter()
        .map(|s| s.headers["cb-access-timestamp"].to_str().unwrap())
        .collect();
    assert!(times[1] >= times[0]);
}

#[tokio::test]
async fn a_request_the_signer_refuses_is_not_sent() {
    let recorder = Arc::new(Recorder::default());
    let api = Integration::builder("exchange")
        .transport(recorder.clone())
        .signer(Arc::new(ExchangeSigner {
            key_id: "key-1".into(),
            secret: SecretString::from("CANARY not base64".to_owned()),
        }))
        .build()
        .unwrap();
    let op = OperationMeta::new("orders/list", Method::GET, "/orders");
    let err = api
        .call(
            Request::new(op, "https://exchange.test/orders"),
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Auth(AuthFailure::Unavailable(_))),
        "{err:?}"
    );
    assert_eq!(err.attempts, 0);
    assert!(recorder.seen.lock().unwrap().is_empty());
    assert!(!format!("{err} {err:?} {api:?}").contains("CANARY"));
}
