//! One file per scheme, and what they share: reading headers, the
//! tolerance window, the MACs and constant-time comparison.

pub(super) mod github;
pub(super) mod shopify;
pub(super) mod slack;
pub(super) mod standard;
pub(super) mod stripe;
pub(super) mod twilio;

use super::delivery::Delivery;
use super::error::VerifyError;
use super::secret::{Key, WebhookSecret};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use std::time::{Duration, SystemTime};

/// A delivery and what it is checked against.
pub(super) struct Check<'a> {
    pub(super) delivery: &'a Delivery<'a>,
    pub(super) secrets: &'a [WebhookSecret],
    pub(super) now: SystemTime,
    pub(super) tolerance: Duration,
}

impl Check<'_> {
    /// A header's value as text; `Missing` or `Malformed` (not visible ASCII).
    pub(super) fn header(&self, name: &'static str) -> Result<&str, VerifyError> {
        let value = self
            .delivery
            .headers
            .get(name)
            .ok_or(VerifyError::MissingHeader { header: name })?;
        value.to_str().map_err(|_| VerifyError::MalformedHeader {
            header: name,
            why: "not visible ASCII",
        })
    }

    /// A header that may be absent (an event id, say).
    pub(super) fn optional_header(&self, name: &'static str) -> Option<String> {
        self.header(name).ok().map(str::to_owned)
    }

    /// A Unix timestamp header, checked against the window: `past_only`
    /// accepts any future time (Stripe's rule).
    pub(super) fn timestamp(
        &self,
        name: &'static str,
        past_only: bool,
    ) -> Result<i64, VerifyError> {
        let ts: i64 =
            self.header(name)?
                .trim()
                .parse()
                .map_err(|_| VerifyError::MalformedHeader {
                    header: name,
                    why: "not a Unix timestamp in seconds",
                })?;
        self.within_tolerance(ts, past_only)?;
        Ok(ts)
    }

    pub(super) fn within_tolerance(&self, ts: i64, past_only: bool) -> Result<(), VerifyError> {
        let now = unix_seconds(self.now);
        let skew = ts.saturating_sub(now);
        let tolerance = self.tolerance.as_secs();
        let too_old = skew < 0 && skew.unsigned_abs() > tolerance;
        let too_new = !past_only && skew > 0 && skew.unsigned_abs() > tolerance;
        if too_old || too_new {
            return Err(VerifyError::OutsideTolerance { skew, tolerance });
        }
        Ok(())
    }

    /// Whether `mac` of `signed` under any of the HMAC secrets is one of
    /// `signatures` (each comparison constant-time).
    pub(super) fn any_hmac_matches<const N: usize>(
        &self,
        mac: fn(&[u8], &[&[u8]]) -> [u8; N],
        signed: &[&[u8]],
        signatures: &[Vec<u8>],
    ) -> bool {
        hmac_keys(self.secrets).any(|key| {
            let expected = mac(key, signed);
            signatures.iter().any(|s| same(&expected, s))
        })
    }

    /// A header holding one base64 signature.
    pub(super) fn base64_header(&self, name: &'static str) -> Result<Vec<u8>, VerifyError> {
        use base64::Engine as _;
        B64.decode(self.header(name)?.trim())
            .map_err(|_| VerifyError::MalformedHeader {
                header: name,
                why: "not base64",
            })
    }
}

pub(super) fn hmac_keys(secrets: &[WebhookSecret]) -> impl Iterator<Item = &[u8]> {
    secrets.iter().filter_map(|s| match &s.key {
        Key::Hmac(key) => Some(key.expose_secret()),
        _ => None,
    })
}

/// Seconds since the Unix epoch (negative before it).
pub(super) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return [0; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of the concatenated `parts` under `key` (Twilio's scheme).
pub(super) fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 20],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality (the lengths are not secret).
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Lowercase hex digits of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Bytes from hex digits (either case); `None` if it is not hex.
pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let value = |d: u8| char::from(d).to_digit(16).map(|v| v as u8);
    digits
        .chunks(2)
        .map(|pair| Some(value(pair[0])? << 4 | value(pair[1])?))
        .collect()
}

pub(super) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
