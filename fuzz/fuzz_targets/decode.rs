//! Any bytes as a provider response: tolerant decoding returns a value or an
//! error, never panics; a decoded value always re-encodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_generated_tests::tolerant::{Pet, Repo, Shape};

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = wharf::decode::<Vec<Repo>>(data) {
        assert!(wharf::__private::serde_json::to_vec(&decoded.value).is_ok());
    }
    let _ = wharf::decode::<Pet>(data);
    let _ = wharf::decode::<Shape>(data);
    let _ = wharf::__private::serde_json::from_slice::<Repo>(data);
});
