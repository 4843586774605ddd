//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`, HMAC-SHA256 over
//! `t.body`. Schemes other than `v1` are ignored; as Stripe's own library
//! does, only timestamps older than the tolerance are refused.

use super::{hex, hmac_keys, hmac_sha256, unhex, Check};
use crate::webhooks::delivery::Verified;
use crate::webhooks::error::VerifyError;
use crate::webhooks::secret::WebhookSecret;

const SIGNATURE: &str = "stripe-signature";

pub(crate) fn verify(check: &Check<'_>) -> Result<Verified, VerifyError> {
    let header = check.header(SIGNATURE)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", value)) if timestamp.is_none() => timestamp = Some(value),
            Some(("v1", value)) => signatures.extend(unhex(value)),
            _ => {}
        }
    }
    let ts_text = timestamp.ok_or(VerifyError::MalformedHeader {
        header: SIGNATURE,
        why: "no t= timestamp",
    })?;
    let ts: i64 = ts_text.parse().map_err(|_| VerifyError::MalformedHeader {
        header: SIGNATURE,
        why: "t= is not a Unix timestamp",
    })?;
    if signatures.is_empty() {
        return Err(VerifyError::NoMatchingSignature);
    }
    check.within_tolerance(ts, true)?;
    let signed = [ts_text.as_bytes(), b".", check.delivery.body];
    if !check.any_hmac_matches(hmac_sha256, &signed, &signatures) {
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
    let mut header = format!("t={ts_text}");
    for key in hmac_keys(secrets).take(1) {
        header.push_str(",v1=");
        header.push_str(&hex(&hmac_sha256(key, &[ts_text.as_bytes(), b".", body])));
    }
    vec![(SIGNATURE, header)]
}
