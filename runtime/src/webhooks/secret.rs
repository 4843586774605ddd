//! [`WebhookSecret`]: one endpoint secret, read as its scheme reads it.
//! Standard Webhooks secrets are prefixed base64 (`whsec_` for HMAC,
//! `whpk_` for an ed25519 public key, `whsk_` for an ed25519 signing seed);
//! every other scheme uses the secret's bytes as the HMAC key.

use super::scheme::Scheme;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use std::fmt;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One secret of an endpoint (redacted in `Debug`, never displayed).
pub struct WebhookSecret {
    pub(super) key: Key,
}

pub(super) enum Key {
    Hmac(SecretSlice<u8>),
    /// Verifies `v1a` signatures only.
    Ed25519Public(ed25519_dalek::VerifyingKey),
    /// Signs `v1a`, and verifies with its public half.
    Ed25519Signing(Box<ed25519_dalek::SigningKey>),
}

/// Why a secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    Empty,
    /// The part after the prefix is not base64.
    NotBase64 {
        prefix: &'static str,
    },
    /// An ed25519 key that is not 32 bytes (or not a valid point).
    BadEd25519Key {
        prefix: &'static str,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::Empty => f.write_str("the webhook secret is empty"),
            SecretError::NotBase64 { prefix } => {
                write!(f, "the {prefix} secret is not base64 after its prefix")
            }
            SecretError::BadEd25519Key { prefix } => {
                write!(f, "the {prefix} key is not a 32-byte ed25519 key")
            }
        }
    }
}

impl std::error::Error for SecretError {}

impl WebhookSecret {
    /// Reads `secret` as `scheme` does.
    pub fn parse(scheme: Scheme, secret: &SecretString) -> Result<Self, SecretError> {
        let text = secret.expose_secret().trim();
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        if scheme != Scheme::Standard {
            return Ok(WebhookSecret {
                key: Key::Hmac(SecretSlice::from(text.as_bytes().to_vec())),
            });
        }
        let decode = |body: &str, prefix: &'static str| {
            B64.decode(body)
                .map_err(|_| SecretError::NotBase64 { prefix })
        };
        let ed25519 = |bytes: Vec<u8>, prefix: &'static str| {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| SecretError::BadEd25519Key { prefix })
        };
        let key = if let Some(body) = text.strip_prefix("whpk_") {
            let bytes = ed25519(decode(body, "whpk_")?, "whpk_")?;
            let public = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| SecretError::BadEd25519Key { prefix: "whpk_" })?;
            Key::Ed25519Public(public)
        } else if let Some(body) = text.strip_prefix("whsk_") {
            let seed = ed25519(decode(body, "whsk_")?, "whsk_")?;
            Key::Ed25519Signing(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
        } else {
            // `whsec_` or bare base64, as the reference libraries accept.
            let body = text.strip_prefix("whsec_").unwrap_or(text);
            Key::Hmac(SecretSlice::from(decode(body, "whsec_")?))
        };
        Ok(WebhookSecret { key })
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.key {
            Key::Hmac(_) => "hmac",
            Key::Ed25519Public(_) => "ed25519-public",
            Key::Ed25519Signing(_) => "ed25519-signing",
        };
        write!(f, "WebhookSecret({kind}, [redacted])")
    }
}
