//! Shopify: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 over the body.
//! `X-Shopify-Webhook-Id` is the event id.

use super::{hmac_keys, hmac_sha256, Check, B64};
use crate::webhooks::delivery::Verified;
use crate::webhooks::error::VerifyError;
use crate::webhooks::secret::WebhookSecret;
use base64::Engine as _;

const SIGNATURE: &str = "x-shopify-hmac-sha256";
const WEBHOOK_ID: &str = "x-shopify-webhook-id";

pub(crate) fn verify(check: &Check<'_>) -> Result<Verified, VerifyError> {
    let signature = check.base64_header(SIGNATURE)?;
    if !check.any_hmac_matches(hmac_sha256, &[check.delivery.body], &[signature]) {
        return Err(VerifyError::NoMatchingSignature);
    }
    Ok(Verified {
        event_id: check.optional_header(WEBHOOK_ID),
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
        headers.push((SIGNATURE, B64.encode(hmac_sha256(key, &[body]))));
    }
    headers.push((WEBHOOK_ID, id.to_owned()));
    headers
}
