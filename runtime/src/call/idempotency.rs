//! [`IdempotencyKey`]: the value a mutating call sends in its
//! idempotency header, identical on every attempt. Checked when made, so a
//! key that cannot be sent as asked never reaches the transport: a key
//! given by the caller is refused with a typed error, a natural key (made
//! from the call's own data) is hashed into a header-safe one, and a
//! generated key is 128 bits from the OS random source.

use http::HeaderValue;
use std::fmt;

/// The longest key sent as given (providers cap theirs at 255: Stripe).
pub const MAX_KEY_LEN: usize = 255;

/// An idempotency key that is safe to send in a header.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(HeaderValue);

/// Why a key cannot be sent as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidKey {
    Empty,
    /// Longer than [`MAX_KEY_LEN`] bytes.
    TooLong {
        len: usize,
    },
    /// A byte that is not visible ASCII (a control character, a space at
    /// either end, or non-ASCII text, which headers carry only as raw bytes
    /// that providers read differently).
    NotHeaderSafe {
        at: usize,
    },
    /// The OS random source failed while making a key.
    NoRandomness,
}

impl fmt::Display for InvalidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidKey::Empty => f.write_str("the idempotency key is empty"),
            InvalidKey::TooLong { len } => write!(
                f,
                "the idempotency key is {len} bytes long (at most {MAX_KEY_LEN})"
            ),
            InvalidKey::NotHeaderSafe { at } => write!(
                f,
                "the idempotency key cannot be sent in a header: byte {at} is not visible ASCII"
            ),
            InvalidKey::NoRandomness => {
                f.write_str("no idempotency key could be generated: the OS random source failed")
            }
        }
    }
}

impl std::error::Error for InvalidKey {}

impl IdempotencyKey {
    /// `key` as given, or why it cannot be sent unchanged.
    pub fn new(key: &str) -> Result<Self, InvalidKey> {
        let bytes = key.as_bytes();
        if bytes.is_empty() {
            return Err(InvalidKey::Empty);
        }
        if bytes.len() > MAX_KEY_LEN {
            return Err(InvalidKey::TooLong { len: bytes.len() });
        }
        let last = bytes.len() - 1;
        let unsafe_byte = bytes
            .iter()
            .enumerate()
            .position(|(i, &b)| !(b.is_ascii_graphic() || (b == b' ' && i != 0 && i != last)));
        if let Some(at) = unsafe_byte {
            return Err(InvalidKey::NotHeaderSafe { at });
        }
        HeaderValue::from_str(key)
            .map(IdempotencyKey)
            .map_err(|_| InvalidKey::NotHeaderSafe { at: 0 })
    }

    /// A fresh key: a UUID v4 from the OS random source.
    pub fn generate() -> Result<Self, InvalidKey> {
        let key = crate::ids::idempotency_key().map_err(|_| InvalidKey::NoRandomness)?;
        IdempotencyKey::new(&key)
    }

    /// The key of a logical call identified by its own data (`natural`,
    /// e.g. an order number) for `operation`: `natural:operation` when that
    /// can be sent as it is, else its SHA-256 in hex (`nk-sha256-…`). The
    /// same data always gives the same key, so a rerun of the same logical
    /// call is deduplicated too.
    pub fn natural(natural: &str, operation: &str) -> Self {
        let plain = format!("{natural}:{operation}");
        if let Ok(key) = IdempotencyKey::new(&plain) {
            return key;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, plain.as_bytes());
        let mut hex = String::with_capacity(10 + 64);
        hex.push_str("nk-sha256-");
        for chunk in digest.as_ref().chunks(8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let digits = crate::ids::hex_digits(u64::from_be_bytes(word));
            hex.extend(digits.iter().map(|&d| char::from(d)));
        }
        // Hex digits only: always a valid header value.
        IdempotencyKey(HeaderValue::from_str(&hex).unwrap_or(HeaderValue::from_static("nk-sha256")))
    }

    pub fn as_str(&self) -> &str {
        // Only visible ASCII is ever stored.
        self.0.to_str().unwrap_or_default()
    }

    pub(crate) fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdempotencyKey")
            .field(&self.as_str())
            .finish()
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_cannot_be_sent_as_given_are_refused_with_the_reason() {
        assert_eq!(
            IdempotencyKey::new("order-17").unwrap().as_str(),
            "order-17"
        );
        assert_eq!(IdempotencyKey::new("a b").unwrap().as_str(), "a b");
        assert_eq!(IdempotencyKey::new(""), Err(InvalidKey::Empty));
        assert_eq!(
            IdempotencyKey::new("line\nbreak"),
            Err(InvalidKey::NotHeaderSafe { at: 4 })
        );
        assert_eq!(
            IdempotencyKey::new("café"),
            Err(InvalidKey::NotHeaderSafe { at: 3 })
        );
        assert_eq!(
            IdempotencyKey::new(" padded"),
            Err(InvalidKey::NotHeaderSafe { at: 0 })
        );
        assert_eq!(
            IdempotencyKey::new(&"k".repeat(256)),
            Err(InvalidKey::TooLong { len: 256 })
        );
        let refused = IdempotencyKey::new("café").unwrap_err().to_string();
        assert!(refused.contains("byte 3"), "{refused}");
    }

    #[test]
    fn natural_keys_are_sent_as_they_are_or_hashed_stably() {
        assert_eq!(
            IdempotencyKey::natural("order-17", "createThing").as_str(),
            "order-17:createThing"
        );
        let hashed = IdempotencyKey::natural("Buy milk\nand eggs", "createThing");
        assert!(hashed.as_str().starts_with("nk-sha256-"), "{hashed}");
        assert_eq!(hashed.as_str().len(), 10 + 64);
        assert_eq!(
            hashed,
            IdempotencyKey::natural("Buy milk\nand eggs", "createThing")
        );
        assert_ne!(
            hashed,
            IdempotencyKey::natural("Buy milk\nand eggs", "other")
        );
        let accented = IdempotencyKey::natural("café", "createThing");
        assert!(accented.as_str().is_ascii() && accented.as_str().starts_with("nk-sha256-"));
        assert!(
            IdempotencyKey::natural(&"x".repeat(400), "op")
                .as_str()
                .len()
                <= MAX_KEY_LEN
        );
    }

    #[test]
    fn generated_keys_are_uuid_v4() {
        let key = IdempotencyKey::generate().unwrap();
        assert_eq!(
            uuid::Uuid::parse_str(key.as_str())
                .unwrap()
                .get_version_num(),
            4
        );
    }
}
