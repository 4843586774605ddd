//! Correlation ids and idempotency keys: 128 bits each, read from the
//! operating system's random source for every id, so that no id says
//! anything about another (a counter or a seeded generator would let one
//! observed id predict the next keys).

use ring::rand::{SecureRandom, SystemRandom};

/// The OS random source failed (it does not on a working system; the call
/// is refused rather than sent with a guessable id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomSourceFailed;

impl std::fmt::Display for RandomSourceFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the operating system's random source failed")
    }
}

impl std::error::Error for RandomSourceFailed {}

/// 16 bytes from the OS random source.
fn random_bytes() -> Result<[u8; 16], RandomSourceFailed> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| RandomSourceFailed)?;
    Ok(bytes)
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

/// A new correlation id: 32 lowercase hex digits of OS randomness.
pub fn correlation_id() -> Result<IdBuf, RandomSourceFailed> {
    let id = u128::from_be_bytes(random_bytes()?);
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&hex_digits((id >> 64) as u64));
    out[16..].copy_from_slice(&hex_digits(id as u64));
    Ok(IdBuf(out))
}

/// A new idempotency key: a UUID v4 whose random bits come from the OS.
pub fn idempotency_key() -> Result<String, RandomSourceFailed> {
    Ok(uuid::Builder::from_random_bytes(random_bytes()?)
        .into_uuid()
        .to_string())
}

/// `x` as 16 lowercase hex digits, most significant first: each nibble
/// spread into a byte of its own and turned into ASCII, all at once in one
/// 128-bit word.
pub(crate) fn hex_digits(x: u64) -> [u8; 16] {
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let ids: HashSet<String> = (0..10_000)
            .map(|_| super::correlation_id().unwrap().as_str().to_owned())
            .collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|i| i.len() == 32 && i.bytes().all(|b| b.is_ascii_hexdigit())));
        let key = super::idempotency_key().unwrap();
        let parsed = uuid::Uuid::parse_str(&key).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        let buf = super::correlation_id().unwrap();
        assert_eq!(buf.header_value().to_str().unwrap(), buf.as_str());
    }

    /// Consecutive ids share no structure: with a counter through a mix
    /// (what ids were before), the XOR of neighbours repeats; with OS
    /// randomness each bit of it is a coin toss. Over 2,000 pairs, every
    /// one of the 128 bit positions differs in 35-65% of them.
    #[test]
    fn consecutive_ids_are_independent() {
        let ids: Vec<u128> = (0..2_001)
            .map(|_| u128::from_str_radix(super::correlation_id().unwrap().as_str(), 16).unwrap())
            .collect();
        let mut flips = [0u32; 128];
        let mut xors = HashSet::new();
        for pair in ids.windows(2) {
            let x = pair[0] ^ pair[1];
            xors.insert(x);
            for (bit, count) in flips.iter_mut().enumerate() {
                *count += ((x >> bit) & 1) as u32;
            }
        }
        assert_eq!(xors.len(), 2_000, "differences between neighbours repeat");
        for (bit, count) in flips.iter().enumerate() {
            assert!(
                (700..=1300).contains(count),
                "bit {bit} flipped {count}/2000 times"
            );
        }
        let keys: HashSet<String> = (0..1_000)
            .map(|_| super::idempotency_key().unwrap())
            .collect();
        assert_eq!(keys.len(), 1_000);
    }

    /// The attack the old generator fell to: each id was a counter mixed
    /// with a per-process seed by an invertible function, so undoing the
    /// mix on one id and adding one gave the next. No id is predicted so.
    #[test]
    fn one_id_does_not_predict_the_next() {
        fn inverse(odd: u64) -> u64 {
            let mut inv = odd;
            for _ in 0..6 {
                inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
            }
            inv
        }
        fn unshift(z: u64, s: u32) -> u64 {
            let mut x = z;
            for _ in 0..64 / s {
                x = z ^ (x >> s);
            }
            x
        }
        fn mix(mut z: u64) -> u64 {
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unmix(z: u64) -> u64 {
            let z = unshift(z, 31).wrapping_mul(inverse(0x94D0_49BB_1331_11EB));
            let z = unshift(z, 27).wrapping_mul(inverse(0xBF58_476D_1CE4_E5B9));
            unshift(z, 30)
        }
        for x in [0u64, 1, 42, u64::MAX, 0xdead_beef] {
            assert_eq!(unmix(mix(x)), x);
        }
        let low = |id: &super::IdBuf| u64::from_str_radix(&id.as_str()[16..], 16).unwrap();
        let mut predicted = 0;
        let mut previous = super::correlation_id().unwrap();
        for _ in 0..1_000 {
            let next = super::correlation_id().unwrap();
            if mix(unmix(low(&previous)).wrapping_add(1)) == low(&next) {
                predicted += 1;
            }
            previous = next;
        }
        assert_eq!(predicted, 0);
    }

    #[test]
    fn hex_digits_match_the_formatter() {
        let mut x = 0x0123_4567_89ab_cdef_u64;
        for _ in 0..10_000 {
            let digits = super::hex_digits(x);
            assert_eq!(std::str::from_utf8(&digits).unwrap(), format!("{x:016x}"));
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
        for x in [0, u64::MAX, 0xa, 0x9, 0xf0f0_f0f0_0f0f_0f0f] {
            assert_eq!(
                std::str::from_utf8(&super::hex_digits(x)).unwrap(),
                format!("{x:016x}")
            );
        }
    }
}
