//! Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 over
//! `v0:timestamp:body`, `X-Slack-Request-Timestamp` within the window on
//! either side.

use super::{hex, hmac_keys, hmac_sha256, unhex, Check};
use crate::webhooks::delivery::Verified;
use crate::webhooks::error::VerifyError;
use crate::webhooks::secret::WebhookSecret;

const SIGNATURE: &str = "x-slack-signature";
const TIMESTAMP: &str = "x-slack-request-timestamp";

pub(crate) fn verify(check: &Check<'_>) -> Result<Verified, VerifyError> {
    let ts = check.timestamp(TIMESTAMP, false)?;
    let header = check.header(SIGNATURE)?;
    let signature =
        header
            .strip_prefix("v0=")
            .and_then(unhex)
            .ok_or(VerifyError::MalformedHeader {
                header: SIGNATURE,
                why: "not v0= and hex",
            })?;
    let ts_text = ts.to_string();
    let signed = [
        b"v0:".as_slice(),
        ts_text.as_bytes(),
        b":",
        check.delivery.body,
    ];
    if !check.any_hmac_matches(hmac_sha256, &signed, &[signature]) {
        return Err(VerifyError::NoMatchingSignature);
    }
    Ok(Verified {
        event_id: None,
        timestamp: Some(ts),
    })
}

pub(crate) fn sign(
    secrets: &[WebhookSecret],
    body: &[u8],
    timestamp: i64,
) -> Vec<(&'static str, String)> {
    let ts_text = timestamp.to_string();
    let mut headers = vec![(TIMESTAMP, ts_text.clone())];
    if let Some(key) = hmac_keys(secrets).next() {
        let mac = hmac_sha256(key, &[b"v0:", ts_text.as_bytes(), b":", body]);
        headers.push((SIGNATURE, format!("v0={}", hex(&mac))));
    }
    headers
}
