//! The OS keyring store on Linux's kernel keyutils backend (works headless):
//! tokens encrypted in keyring entries, large bundles overflowing to an
//! encrypted file whose key stays in the keyring, nothing in plaintext.
#![cfg(target_os = "linux")]

use secrecy::ExposeSecret;
use wharf_runtime::auth::{KeyRing, KeyringStore, OsStore, TokenStore};

mod keyring_common;
use keyring_common::tokens;

#[tokio::test]
async fn tokens_round_trip_through_the_kernel_keyring_encrypted() {
    // Explicitly: with the `secret-service` feature on, the default would be
    // a Secret Service when the machine has one (tests/keyring_secret_service.rs).
    let store = OsStore::KernelKeyutils
        .open()
        .expect("the keyutils keyring (Linux kernel) is available");
    let service = format!("wharf-test-{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("{service}-overflow"));
    let keyring = KeyringStore::open(store.clone(), &service, &dir).unwrap();

    keyring.save("github:me", &tokens(0)).await.unwrap();
    let raw = store
        .build(&service, "token:github:me", None)
        .unwrap()
        .get_secret()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&raw).contains("CANARY"),
        "encrypted in the keyring"
    );
    let back = keyring.load("github:me").await.unwrap().unwrap();
    assert_eq!(back.access_token.expose_secret(), "CANARY-ACCESS");

    // A bundle too large for a Windows credential goes to a file, encrypted.
    keyring.save("big", &tokens(6_000)).await.unwrap();
    let raw = store
        .build(&service, "token:big", None)
        .unwrap()
        .get_secret()
        .unwrap();
    assert_eq!(raw, b"wharf:in-file");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one overflow file");
    for file in files {
        let text = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains("CANARY"));
    }
    let big = keyring.load("big").await.unwrap().unwrap();
    assert_eq!(big.id_token.unwrap().expose_secret().len(), 6_007);

    // The data key is made once and found again.
    // (Same id is not enough: every generated key is "k1". What a store on
    // the first ring writes, a store on the second must read.)
    let a = KeyRing::from_os_keyring(&store, &service).unwrap();
    let b = KeyRing::from_os_keyring(&store, &service).unwrap();
    let key_dir = dir.join("same-key");
    let with_a = wharf_runtime::auth::EncryptedFileStore::open(&key_dir, a).unwrap();
    let with_b = wharf_runtime::auth::EncryptedFileStore::open(&key_dir, b).unwrap();
    with_a.save("k", &tokens(10)).await.unwrap();
    assert!(with_b.load("k").await.unwrap().is_some());

    for key in ["github:me", "big"] {
        keyring.delete(key).await.unwrap();
        assert!(keyring.load(key).await.unwrap().is_none());
    }
    keyring.delete("never-there").await.unwrap();
    assert!(!format!("{keyring:?}").contains("CANARY"));

    // Forgetting the data key leaves nothing of the service in the keyring.
    let data_key = || store.build(&service, "wharf-data-key", None).unwrap();
    assert!(data_key().get_password().is_ok());
    keyring.forget_data_key().await.unwrap();
    assert!(matches!(
        data_key().get_password(),
        Err(keyring_core::Error::NoEntry)
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
