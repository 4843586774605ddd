//! GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 over the body
//! (the SHA-1 header is not accepted). The delivery id is the event id.

use super::{hex, hmac_keys, hmac_sha256, unhex, Check};
use crate::webhooks::delivery::Verified;
use crate::webhooks::error::VerifyError;
use crate::webhooks::secret::WebhookSecret;

const SIGNATURE: &str = "x-hub-signature-256";
const DELIVERY: &str = "x-github-delivery";

pub(crate) fn verify(check: &Check<'_>) -> Result<Verified, VerifyError> {
    let header = check.header(SIGNATURE)?;
    let digits = header
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedHeader {
            header: SIGNATURE,
            why: "does not start with sha256=",
        })?;
    let signature = unhex(digits).ok_or(VerifyError::MalformedHeader {
        header: SIGNATURE,
        why: "not hex after sha256=",
    })?;
    if !check.any_hmac_matches(hmac_sha256, &[check.delivery.body], &[signature]) {
        return Err(VerifyError::NoMatchingSignature);
    }
    Ok(Verified {
        event_id: check.optional_header(DELIVERY),
        timestamp: None,
    })
}

pub(crate) fn sign(
    secrets: &[WebhookSecret],
    body: &[u8],
    id: &str,
) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    if let Some(key) = hmac_keys(secrets).next() {
        headers.push((
            SIGNATURE,
            format!("sha256={}", hex(&hmac_sha256(key, &[body]))),
        ));
    }
    headers.push((DELIVERY, id.to_owned()));
    headers
}
