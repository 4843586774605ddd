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
    let id = next();
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&hex_digits((id >> 64) as u64));
    out[16..].copy_from_slice(&hex_digits(id as u64));
    IdBuf(out)
}

/// `x` as 16 lowercase hex digits, most significant first: each nibble
/// spread into a byte of its own and turned into ASCII, all at once in one
/// 128-bit word (a few instructions where a loop over digits unrolls into
/// a screenful of code, run on every call).
fn hex_digits(x: u64) -> [u8; 16] {
    let mut v = u128::from(x);
    // Halve each group of digits into the low half of a group twice its
    // width: 8 digits per 64 bits, then 4 per 32, 2 per 16, 1 per byte.
    v = (v & 0xFFFF_FFFF_0000_0000) << 32 | (v & 0xFFFF_FFFF);
    v = (v & 0x0000_0000_FFFF_0000_0000_0000_FFFF_0000) << 16
        | (v & 0x0000_0000_0000_FFFF_0000_0000_0000_FFFF);
    v = (v & 0x0000_FF00_0000_FF00_0000_FF00_0000_FF00) << 8
        | (v & 0x0000_00FF_0000_00FF_0000_00FF_0000_00FF);
    v = (v & 0x00F0_00F0_00F0_00F0_00F0_00F0_00F0_00F0) << 4
        | (v & 0x000F_000F_000F_000F_000F_000F_000F_000F);
    // Each byte is now a digit's value, 0 to 15: 1 in every byte whose
    // digit is 10 or more, then '0' + value, plus the gap to 'a' for those.
    const ONES: u128 = u128::MAX / 255;
    let letters = ((v + ONES * 6) >> 4) & ONES;
    (v + ONES * u128::from(b'0') + letters * u128::from(b'a' - b'0' - 10)).to_be_bytes()
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

    #[test]
    fn hex_digits_match_the_formatter() {
        let mut x = 0x0123_4567_89ab_cdef_u64;
        for _ in 0..10_000 {
            let digits = super::hex_digits(x);
            assert_eq!(std::str::from_utf8(&digits).unwrap(), format!("{x:016x}"));
            x = super::mix(x.wrapping_add(1));
        }
        for x in [0, u64::MAX, 0xa, 0x9, 0xf0f0_f0f0_0f0f_0f0f] {
            assert_eq!(
                std::str::from_utf8(&super::hex_digits(x)).unwrap(),
                format!("{x:016x}")
            );
        }
    }
}
