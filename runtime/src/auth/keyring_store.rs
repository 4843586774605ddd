//! The OS keyring, keyring v4's way (`keyring-core` plus a platform store:
//! the kernel keyutils store on Linux, which works headless).
//!
//! Two uses: [`KeyRing::from_os_keyring`] keeps the encrypted file store's
//! data key in the OS keyring (the embedded default's best key source), and
//! [`KeyringStore`] keeps the tokens themselves there: each credential's
//! encrypted envelope in its own entry, or, when the envelope is larger than
//! the smallest platform limit (Windows: 2,560 bytes), in an encrypted file
//! whose key stays in the keyring.

use super::file_store::{open, seal, DataKey, EncryptedFileStore, KeyRing};
use super::store::{StoreError, StoreFuture, TokenStore};
use super::token::TokenSet;
use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use secrecy::ExposeSecret;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Envelopes up to this size live in the keyring entry itself.
const MAX_INLINE: usize = 2_048;
/// The entry holding the data key.
const DATA_KEY_USER: &str = "wharf-data-key";
/// Marks an entry whose envelope is in the overflow file store.
const IN_FILE: &[u8] = b"wharf:in-file";

fn backend(e: KeyringError) -> StoreError {
    StoreError::Backend(format!("OS keyring: {e}"))
}

/// The platform's credential store.
pub fn os_credential_store() -> Result<Arc<CredentialStore>, StoreError> {
    #[cfg(target_os = "linux")]
    {
        let store: Arc<CredentialStore> =
            linux_keyutils_keyring_store::Store::new().map_err(backend)?;
        // The first entry a process builds makes the kernel attach a session
        // keyring, and that first entry holds a handle from before: it is
        // refused every access. Build (and drop) one so real entries work.
        let _ = store.build("wharf", "session-warm-up", None);
        Ok(store)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(StoreError::Backend(
            "no OS keyring store is built for this platform yet".into(),
        ))
    }
}

fn entry(store: &Arc<CredentialStore>, service: &str, user: &str) -> Result<Entry, StoreError> {
    store.build(service, user, None).map_err(backend)
}

/// The data key's text (`id:hex`) kept in the OS keyring under `service`,
/// created there (randomly) on first use.
fn data_key_text(
    store: &Arc<CredentialStore>,
    service: &str,
) -> Result<secrecy::SecretString, StoreError> {
    let e = entry(store, service, DATA_KEY_USER)?;
    match e.get_password() {
        Ok(text) => Ok(secrecy::SecretString::from(text)),
        Err(KeyringError::NoEntry) => {
            let text = DataKey::generate("k1")?.to_text();
            e.set_password(text.expose_secret()).map_err(backend)?;
            Ok(text)
        }
        Err(other) => Err(backend(other)),
    }
}

impl KeyRing {
    /// The data key kept in the OS keyring under `service`, created there
    /// (randomly) on first use.
    pub fn from_os_keyring(
        store: &Arc<CredentialStore>,
        service: &str,
    ) -> Result<KeyRing, StoreError> {
        Ok(KeyRing::new(DataKey::parse(
            data_key_text(store, service)?.expose_secret(),
        )?))
    }
}

/// Tokens in the OS keyring (encrypted; large bundles overflow to files).
pub struct KeyringStore {
    store: Arc<CredentialStore>,
    service: String,
    keys: KeyRing,
    overflow: EncryptedFileStore,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl KeyringStore {
    /// A store under `service`, with `overflow_dir` for bundles too large
    /// for a keyring entry.
    pub fn open(
        store: Arc<CredentialStore>,
        service: &str,
        overflow_dir: impl Into<PathBuf>,
    ) -> Result<Self, StoreError> {
        // One keyring read; the overflow file store gets its own copy.
        let text = data_key_text(&store, service)?;
        let keys = KeyRing::new(DataKey::parse(text.expose_secret())?);
        let overflow_keys = KeyRing::new(DataKey::parse(text.expose_secret())?);
        Ok(KeyringStore {
            overflow: EncryptedFileStore::open(overflow_dir, overflow_keys)?,
            store,
            service: service.to_owned(),
            keys,
        })
    }

    fn entry(&self, key: &str) -> Result<Entry, StoreError> {
        entry(&self.store, &self.service, &format!("token:{key}"))
    }
}

impl TokenStore for KeyringStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<TokenSet>> {
        Box::pin(async move {
            match self.entry(key)?.get_secret() {
                Ok(bytes) if bytes == IN_FILE => self.overflow.load(key).await,
                Ok(bytes) => open(&self.keys, key, &bytes).map(Some),
                Err(KeyringError::NoEntry) => Ok(None),
                Err(e) => Err(backend(e)),
            }
        })
    }

    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let envelope = seal(&self.keys, key, tokens)?;
            let entry = self.entry(key)?;
            if envelope.len() <= MAX_INLINE {
                entry.set_secret(&envelope).map_err(backend)?;
                self.overflow.delete(key).await
            } else {
                // The overflow store has the same data key: the envelope
                // goes to the file as it is.
                self.overflow.save_sealed(key, &envelope)?;
                entry.set_secret(IN_FILE).map_err(backend)
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match self.entry(key)?.delete_credential() {
                Ok(()) | Err(KeyringError::NoEntry) => {}
                Err(e) => return Err(backend(e)),
            }
            self.overflow.delete(key).await
        })
    }
}
