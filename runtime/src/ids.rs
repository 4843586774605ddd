//! Correlation ids and idempotency keys: 128 random-looking bits per id,
//! from a generator seeded once per process (one `getrandom` in all, not one
//! per call). Ids are unique within a process by construction (a counter
//! through a bijective mix) and across processes by the random seed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Generator {
    seed: [u64; 2],
    counter: AtomicU64,
}

fn generator() -> &'static Generator {
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    GENERATOR.get_or_init(|| {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        let (a, b) = bytes.split_at(8);
        Generator {
            seed: [
                u64::from_le_bytes(a.try_into().unwrap_or([0; 8])),
                u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
            ],
            counter: AtomicU64::new(0),
        }
    })
}

/// A bijection on u64 (splitmix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn next() -> u128 {
    let g = generator();
    let n = g.counter.fetch_add(1, Ordering::Relaxed);
    let high = mix(n ^ g.seed[0]);
    let low = mix(n.wrapping_add(g.seed[1]));
    (u128::from(high) << 64) | u128::from(low)
}

/// A correlation id in a stack buffer (no allocation).
pub struct IdBuf([u8; 32]);

impl IdBuf {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or("00000000000000000000000000000000")
    }

    /// The id as a header value, in one allocation that copies of the
    /// header share (a value copied from a `&str` would take two).
    pub fn header_value(&self) -> http::HeaderValue {
        http::HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(self.0))
            .unwrap_or_else(|_| http::HeaderValue::from_static("0"))
    }
}

impl std::fmt::Display for IdBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new correlation id (32 lowercase hex digits), formatted without `fmt`
/// or the heap.
pub fn correlation_id_bytes() -> IdBuf {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    // Two digits per byte, most significant first.
    for (pair, byte) in out.chunks_exact_mut(2).zip(next().to_be_bytes()) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
    IdBuf(out)
}

/// A new idempotency key, formatted as a UUID (version 4 layout).
pub fn idempotency_key() -> String {
    uuid::Builder::from_random_bytes(next().to_be_bytes())
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let ids: HashSet<String> = (0..10_000)
            .map(|_| super::correlation_id_bytes().as_str().to_owned())
            .collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|i| i.len() == 32 && i.bytes().all(|b| b.is_ascii_hexdigit())));
        let key = super::idempotency_key();
        let parsed = uuid::Uuid::parse_str(&key).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        let buf = super::correlation_id_bytes();
        assert_eq!(buf.as_str().len(), 32);
        assert!(buf.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(buf.header_value().to_str().unwrap(), buf.as_str());
    }
}
