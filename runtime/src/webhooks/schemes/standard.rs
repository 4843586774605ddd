//! Standard Webhooks: `v1` (HMAC-SHA256) and `v1a` (ed25519) over
//! `id.timestamp.body`, several space-separated signatures per delivery.

use super::{hmac_sha256, same, Check, B64};
use crate::webhooks::delivery::Verified;
use crate::webhooks::error::VerifyError;
use crate::webhooks::secret::{Key, WebhookSecret};
use base64::Engine as _;
use ed25519_dalek::{Signer, Verifier as _};
use secrecy::ExposeSecret;

const ID: &str = "webhook-id";
const TIMESTAMP: &str = "webhook-timestamp";
const SIGNATURE: &str = "webhook-signature";

pub(crate) fn verify(check: &Check<'_>) -> Result<Verified, VerifyError> {
    let id = check.header(ID)?.to_owned();
    let ts = check.timestamp(TIMESTAMP, false)?;
    let signatures = check.header(SIGNATURE)?;
    let body = check.delivery.body;
    let ts_text = ts.to_string();
    let signed = [id.as_bytes(), b".", ts_text.as_bytes(), b".", body];
    let message: Vec<u8> = signed.concat();
    for entry in signatures.split(' ').filter(|e| !e.is_empty()) {
        let Some((version, encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(signature) = B64.decode(encoded) else {
            continue;
        };
        for secret in check.secrets {
            let matched = match (version, &secret.key) {
                ("v1", Key::Hmac(key)) => {
                    same(&hmac_sha256(key.expose_secret(), &signed), &signature)
                }
                ("v1a", Key::Ed25519Public(public)) => ed25519(public, &message, &signature),
                ("v1a", Key::Ed25519Signing(signing)) => {
                    ed25519(&signing.verifying_key(), &message, &signature)
                }
                _ => false,
            };
            if matched {
                return Ok(Verified {
                    event_id: Some(id),
                    timestamp: Some(ts),
                });
            }
        }
    }
    Err(VerifyError::NoMatchingSignature)
}

fn ed25519(public: &ed25519_dalek::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    match ed25519_dalek::Signature::from_slice(signature) {
        Ok(signature) => public.verify(message, &signature).is_ok(),
        Err(_) => false,
    }
}

pub(crate) fn sign(
    secrets: &[WebhookSecret],
    body: &[u8],
    id: &str,
    timestamp: i64,
) -> Result<Vec<(&'static str, String)>, VerifyError> {
    let ts_text = timestamp.to_string();
    let signed = [id.as_bytes(), b".", ts_text.as_bytes(), b".", body];
    let mut signatures = Vec::new();
    for secret in secrets {
        match &secret.key {
            Key::Hmac(key) => signatures.push(format!(
                "v1,{}",
                B64.encode(hmac_sha256(key.expose_secret(), &signed))
            )),
            Key::Ed25519Signing(signing) => signatures.push(format!(
                "v1a,{}",
                B64.encode(signing.sign(&signed.concat()).to_bytes())
            )),
            Key::Ed25519Public(_) => {}
        }
    }
    if signatures.is_empty() {
        return Err(VerifyError::MissingContext {
            what: "a secret that can sign (a whpk_ public key only verifies)",
        });
    }
    Ok(vec![
        (ID, id.to_owned()),
        (TIMESTAMP, ts_text),
        (SIGNATURE, signatures.join(" ")),
    ])
}
