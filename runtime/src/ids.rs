//! Correlation ids and idempotency keys: 128 bits each, read from the
//! operating system's random source for every id, so that no id says
//! anything about another (a counter or a seeded generator would let one
//! observed id predict the next keys).
//!
//! On Linux the bytes are read 4 KiB at a time into a pool (one system
//! call per 252 ids instead of one per id) and each byte is handed out
//! once. The pool's page is marked `MADV_WIPEONFORK`: a forked child finds
//! it zeroed and refills it, so parent and child never share an id. Where
//! that cannot be had, every id is read from the OS on its own.

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
pub(crate) fn random_bytes() -> Result<[u8; 16], RandomSourceFailed> {
    let mut bytes = [0u8; 16];
    #[cfg(target_os = "linux")]
    if pool::take(&mut bytes)? {
        return Ok(bytes);
    }
    os_random(&mut bytes)?;
    Ok(bytes)
}

fn os_random(bytes: &mut [u8]) -> Result<(), RandomSourceFailed> {
    SystemRandom::new()
        .fill(bytes)
        .map_err(|_| RandomSourceFailed)
}

#[cfg(target_os = "linux")]
mod pool {
    use super::{os_random, RandomSourceFailed};
    use std::sync::Mutex;

    const PAGE: usize = 4096;
    /// The first 16 bytes hold the count of unused ids; the rest, ids.
    const IDS: usize = PAGE / 16 - 1;

    /// One page of OS randomness that a fork wipes (count included, so a
    /// child starts with an empty pool).
    struct Pool(*mut u8);

    // SAFETY: the page is only touched through the mutex below.
    unsafe impl Send for Pool {}

    /// `None` inside: no page could be had (ids then come one by one).
    static POOL: Mutex<Option<Option<Pool>>> = Mutex::new(None);

    fn map_page() -> Option<Pool> {
        // SAFETY: an anonymous private mapping of one page; checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: `ptr` is the page just mapped.
        if unsafe { libc::madvise(ptr, PAGE, libc::MADV_WIPEONFORK) } != 0 {
            // A kernel older than 4.14: a pool a fork would copy is unsafe.
            // SAFETY: unmapping the page just mapped, used by nothing.
            unsafe { libc::munmap(ptr, PAGE) };
            return None;
        }
        Some(Pool(ptr.cast()))
    }

    /// Fills `out` from the pool; `false` when there is no pool.
    pub(super) fn take(out: &mut [u8; 16]) -> Result<bool, RandomSourceFailed> {
        let mut guard = match POOL.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(pool) = guard.get_or_insert_with(map_page) else {
            return Ok(false);
        };
        // SAFETY: the page is PAGE bytes, mapped read-write for the life of
        // the process, and only accessed under the lock.
        let page = unsafe { std::slice::from_raw_parts_mut(pool.0, PAGE) };
        let (head, ids) = page.split_at_mut(16);
        let mut count = [0u8; 8];
        count.copy_from_slice(&head[..8]);
        let mut left = u64::from_le_bytes(count) as usize;
        if left == 0 || left > IDS {
            os_random(ids)?;
            left = IDS;
        }
        let slot = &mut ids[(left - 1) * 16..left * 16];
        out.copy_from_slice(slot);
        // Handed out once: never again, not even to a later reader of the page.
        slot.fill(0);
        head[..8].copy_from_slice(&((left - 1) as u64).to_le_bytes());
        Ok(true)
    }
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

    /// A forked child refills the pool instead of reusing the parent's
    /// bytes: the next id in each differs.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_forked_child_does_not_repeat_the_parents_ids() {
        let _warm = super::correlation_id().unwrap();
        let mut pipe = [0i32; 2];
        // SAFETY: a pipe for the child's id; checked.
        assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
        // SAFETY: the child only makes an id, writes it and exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // Another test thread holding the pool's lock at the fork would
            // leave it locked here: end in any case.
            // SAFETY: arms a signal that ends this child process.
            unsafe { libc::alarm(10) };
            let id = super::correlation_id().map(|id| id.0).unwrap_or([0; 32]);
            // SAFETY: writing a stack buffer to the pipe, then leaving at once.
            unsafe {
                libc::write(pipe[1], id.as_ptr().cast(), id.len());
                libc::_exit(0);
            }
        }
        let parent = super::correlation_id().unwrap();
        let mut child = [0u8; 32];
        // SAFETY: reading into a stack buffer of the size asked for.
        let read = unsafe { libc::read(pipe[0], child.as_mut_ptr().cast(), child.len()) };
        let mut status = 0;
        // SAFETY: waiting for the child started above.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(read, 32);
        assert_ne!(&child, &parent.0, "the child repeated the parent's next id");
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
