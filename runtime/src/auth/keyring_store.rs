//! The OS keyring, keyring v4's way: `keyring-core` plus one store crate per
//! backend, chosen with [`OsStore`]:
//!
//! | [`OsStore`] | crate | platform |
//! |---|---|---|
//! | [`KernelKeyutils`](OsStore::KernelKeyutils) | `linux-keyutils-keyring-store` | Linux (works headless; entries live until reboot) |
//! | [`SecretService`](OsStore::SecretService) | `zbus-secret-service-keyring-store` (cargo feature `secret-service`; pure Rust D-Bus, no libdbus) | Linux desktops: GNOME Keyring, KWallet, KeePassXC |
//! | [`MacosKeychain`](OsStore::MacosKeychain) | `apple-native-keyring-store` (legacy keychain) | macOS |
//! | [`WindowsCredentialManager`](OsStore::WindowsCredentialManager) | `windows-native-keyring-store` | Windows |
//!
//! [`os_credential_store`] (= [`OsStore::Default`]) picks the platform's
//! usual one: on Linux the Secret Service when the feature is on and a
//! session bus answers for `org.freedesktop.secrets`, the kernel keyutils
//! store otherwise.
//!
//! Two uses: [`KeyRing::from_os_keyring`] keeps the encrypted file store's
//! data key in the OS keyring (the embedded default's best key source), and
//! [`KeyringStore`] keeps the tokens themselves there: each credential's
//! encrypted envelope in its own entry, or, when the envelope is larger than
//! 2,048 bytes (`MAX_INLINE`), in an encrypted file whose key stays in the
//! keyring. The smallest entry of the four backends is a Windows
//! credential's blob: at most 2,560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`,
//! checked by `windows-native-keyring-store` before it writes), so every
//! envelope the keyring receives fits everywhere. (The data key, written
//! as a password, is 67 characters: 134 bytes in Windows' UTF-16.)
//!
//! Keyring calls may block (a D-Bus round trip to the Secret Service, a
//! keychain prompt), so [`KeyringStore`]'s async methods run them on
//! tokio's blocking threads; the kernel keyutils store's calls are plain
//! system calls and stay on the calling thread. The Secret Service store
//! runs zbus on zbus' own `async-io` executor, not on tokio: in its tokio
//! mode, zbus blocks on a tokio runtime of its own, which panics on a
//! thread that is running one, and the store blocks even in `Drop` (so
//! merely dropping it in an async function panicked). The synchronous
//! functions here ([`OsStore::open`], [`KeyRing::from_os_keyring`],
//! [`KeyringStore::open`]) block their caller: call them at start-up or in
//! `spawn_blocking`.

use super::file_store::{open, seal, DataKey, EncryptedFileStore, KeyRing};
use super::store::{StoreError, StoreFuture, TokenStore};
use super::token::TokenSet;
use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use secrecy::ExposeSecret;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Envelopes up to this size live in the keyring entry itself; larger ones
/// go to the overflow file. Below the smallest backend's limit (a Windows
/// credential's 2,560 bytes).
const MAX_INLINE: usize = 2_048;
/// The entry holding the data key.
const DATA_KEY_USER: &str = "wharf-data-key";
/// Marks an entry whose envelope is in the overflow file store.
const IN_FILE: &[u8] = b"wharf:in-file";
/// How long opening the Secret Service (connecting to the session bus and
/// opening a session with `org.freedesktop.secrets`, which may start it by
/// D-Bus activation) may take.
#[cfg(all(target_os = "linux", feature = "secret-service"))]
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn backend(e: KeyringError) -> StoreError {
    StoreError::Backend(format!("OS keyring: {e}"))
}

fn panicked() -> StoreError {
    StoreError::Backend("OS keyring: the keyring call panicked or was cancelled".into())
}

/// An OS credential store to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OsStore {
    /// The platform's usual store: the Secret Service on Linux when the
    /// `secret-service` feature is on and a session bus answers for
    /// `org.freedesktop.secrets`, the kernel keyutils store otherwise; the
    /// keychain on macOS; the Credential Manager on Windows.
    Default,
    /// Linux's kernel keyutils keyrings (session keyring linked to the
    /// user's persistent keyring). Needs no daemon, so it works headless;
    /// entries do not survive a reboot.
    KernelKeyutils,
    /// The freedesktop Secret Service over D-Bus (GNOME Keyring, KWallet,
    /// KeePassXC), in its default collection. Linux with the
    /// `secret-service` cargo feature. A locked collection may prompt the
    /// user to unlock it.
    SecretService,
    /// The macOS login keychain.
    MacosKeychain,
    /// The Windows Credential Manager (generic credentials).
    WindowsCredentialManager,
}

impl OsStore {
    /// The store's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            OsStore::Default => "default OS",
            OsStore::KernelKeyutils => "Linux kernel keyutils",
            OsStore::SecretService => "Secret Service",
            OsStore::MacosKeychain => "macOS keychain",
            OsStore::WindowsCredentialManager => "Windows Credential Manager",
        }
    }

    /// Opens this store, or says why it is unavailable. Blocks while it
    /// connects (the Secret Service: at most 5 seconds).
    pub fn open(self) -> Result<Arc<CredentialStore>, OsStoreError> {
        match self {
            OsStore::Default => open_default(),
            OsStore::KernelKeyutils => open_keyutils(),
            OsStore::SecretService => open_secret_service(),
            OsStore::MacosKeychain => open_macos_keychain(),
            OsStore::WindowsCredentialManager => open_windows(),
        }
    }
}

impl fmt::Display for OsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an OS credential store could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OsStoreUnavailable {
    /// The store belongs to another operating system.
    OtherPlatform,
    /// wharf was built without the cargo feature the store needs.
    FeatureOff(&'static str),
    /// The store did not answer in time.
    TimedOut(Duration),
    /// The platform refused or could not reach the store (its message).
    Failed(String),
}

impl fmt::Display for OsStoreUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OsStoreUnavailable::OtherPlatform => {
                f.write_str("not available on this operating system")
            }
            OsStoreUnavailable::FeatureOff(feature) => {
                write!(f, "wharf was built without the `{feature}` feature")
            }
            OsStoreUnavailable::TimedOut(after) => write!(f, "no answer within {after:?}"),
            OsStoreUnavailable::Failed(why) => f.write_str(why),
        }
    }
}

/// An OS credential store that could not be opened: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsStoreError {
    /// The store that was tried (for [`OsStore::Default`], the last one).
    pub store: OsStore,
    /// Why it is unavailable.
    pub reason: OsStoreUnavailable,
}

impl fmt::Display for OsStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} credential store is unavailable: {}",
            self.store, self.reason
        )
    }
}

impl std::error::Error for OsStoreError {}

impl From<OsStoreError> for StoreError {
    fn from(e: OsStoreError) -> Self {
        StoreError::Backend(e.to_string())
    }
}

fn unavailable(store: OsStore, reason: OsStoreUnavailable) -> OsStoreError {
    OsStoreError { store, reason }
}

/// The platform's usual credential store ([`OsStore::Default`]).
pub fn os_credential_store() -> Result<Arc<CredentialStore>, OsStoreError> {
    OsStore::Default.open()
}

fn open_default() -> Result<Arc<CredentialStore>, OsStoreError> {
    #[cfg(target_os = "linux")]
    {
        #[cfg(feature = "secret-service")]
        match open_secret_service() {
            Ok(store) => return Ok(store),
            Err(e) => tracing::debug!(
                reason = %e.reason,
                "no Secret Service; the OS keyring is the kernel keyutils store"
            ),
        }
        open_keyutils()
    }
    #[cfg(target_os = "macos")]
    {
        open_macos_keychain()
    }
    #[cfg(target_os = "windows")]
    {
        open_windows()
    }
}

fn open_keyutils() -> Result<Arc<CredentialStore>, OsStoreError> {
    #[cfg(target_os = "linux")]
    {
        let store: Arc<CredentialStore> =
            linux_keyutils_keyring_store::Store::new().map_err(|e| {
                unavailable(
                    OsStore::KernelKeyutils,
                    OsStoreUnavailable::Failed(e.to_string()),
                )
            })?;
        // The first entry a process builds makes the kernel attach a session
        // keyring, and that first entry holds a handle from before: it is
        // refused every access. Build (and drop) one so real entries work.
        let _ = store.build("wharf", "session-warm-up", None);
        Ok(store)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(unavailable(
            OsStore::KernelKeyutils,
            OsStoreUnavailable::OtherPlatform,
        ))
    }
}

fn open_secret_service() -> Result<Arc<CredentialStore>, OsStoreError> {
    #[cfg(all(target_os = "linux", feature = "secret-service"))]
    {
        use std::sync::mpsc::{sync_channel, RecvTimeoutError};
        let failed =
            |why: String| unavailable(OsStore::SecretService, OsStoreUnavailable::Failed(why));
        // Connecting may wait for D-Bus activation of the service (or for
        // a bus that never answers): connect on a thread of its own and
        // wait for it at most CONNECT_TIMEOUT (a thread that answers later
        // ends by itself, dropping what it made).
        let (tx, rx) = sync_channel(1);
        std::thread::Builder::new()
            .name("wharf-secret-service".into())
            .spawn(move || {
                let _ = tx.send(zbus_secret_service_keyring_store::Store::new());
            })
            .map_err(|e| failed(format!("cannot start a thread: {e}")))?;
        match rx.recv_timeout(CONNECT_TIMEOUT) {
            Ok(Ok(store)) => Ok(store),
            Ok(Err(e)) => Err(failed(e.to_string())),
            Err(RecvTimeoutError::Timeout) => Err(unavailable(
                OsStore::SecretService,
                OsStoreUnavailable::TimedOut(CONNECT_TIMEOUT),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                Err(failed("the connection attempt panicked".into()))
            }
        }
    }
    #[cfg(all(target_os = "linux", not(feature = "secret-service")))]
    {
        Err(unavailable(
            OsStore::SecretService,
            OsStoreUnavailable::FeatureOff("secret-service"),
        ))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(unavailable(
            OsStore::SecretService,
            OsStoreUnavailable::OtherPlatform,
        ))
    }
}

fn open_macos_keychain() -> Result<Arc<CredentialStore>, OsStoreError> {
    #[cfg(target_os = "macos")]
    {
        let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()
            .map_err(|e| {
                unavailable(
                    OsStore::MacosKeychain,
                    OsStoreUnavailable::Failed(e.to_string()),
                )
            })?;
        Ok(store)
    }
    #[cfg(not(target_os = "macos"))]
    {
        Err(unavailable(
            OsStore::MacosKeychain,
            OsStoreUnavailable::OtherPlatform,
        ))
    }
}

fn open_windows() -> Result<Arc<CredentialStore>, OsStoreError> {
    #[cfg(target_os = "windows")]
    {
        let store: Arc<CredentialStore> =
            windows_native_keyring_store::Store::new().map_err(|e| {
                unavailable(
                    OsStore::WindowsCredentialManager,
                    OsStoreUnavailable::Failed(e.to_string()),
                )
            })?;
        Ok(store)
    }
    #[cfg(not(target_os = "windows"))]
    {
        Err(unavailable(
            OsStore::WindowsCredentialManager,
            OsStoreUnavailable::OtherPlatform,
        ))
    }
}

/// Whether `store`'s calls may stay on the calling thread: the kernel
/// keyutils store's are system calls that do not block.
fn runs_inline(store: &CredentialStore) -> bool {
    #[cfg(target_os = "linux")]
    {
        store.as_any().is::<linux_keyutils_keyring_store::Store>()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = store;
        false
    }
}

/// `op` on the entry (`service`, `user`), blocking the caller.
fn with_entry_now<T>(
    store: &Arc<CredentialStore>,
    service: &str,
    user: &str,
    op: impl FnOnce(&Entry) -> Result<T, KeyringError>,
) -> Result<T, KeyringError> {
    store.build(service, user, None).and_then(|e| op(&e))
}

/// `op` on the entry (`service`, `user`), from async code: on tokio's
/// blocking threads.
async fn with_entry<T, F>(
    store: &Arc<CredentialStore>,
    service: &str,
    user: String,
    op: F,
) -> Result<Result<T, KeyringError>, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Entry) -> Result<T, KeyringError> + Send + 'static,
{
    if runs_inline(store.as_ref()) {
        return Ok(store.build(service, &user, None).and_then(|e| op(&e)));
    }
    let (store, service) = (store.clone(), service.to_owned());
    let call = move || store.build(&service, &user, None).and_then(|e| op(&e));
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.spawn_blocking(call).await.map_err(|_| panicked()),
        // Polled outside tokio: nothing to block but the caller.
        Err(_) => Ok(call()),
    }
}

/// The data key's text (`id:hex`) kept in the OS keyring under `service`,
/// created there (randomly) on first use.
fn data_key_text(
    store: &Arc<CredentialStore>,
    service: &str,
) -> Result<secrecy::SecretString, StoreError> {
    let found = with_entry_now(store, service, DATA_KEY_USER, |e| {
        e.get_password().map(secrecy::SecretString::from)
    });
    match found {
        Ok(text) => Ok(text),
        Err(KeyringError::NoEntry) => {
            let text = DataKey::generate("k1")?.to_text();
            with_entry_now(store, service, DATA_KEY_USER, |e| {
                e.set_password(text.expose_secret())
            })
            .map_err(backend)?;
            Ok(text)
        }
        Err(other) => Err(backend(other)),
    }
}

impl KeyRing {
    /// The data key kept in the OS keyring under `service`, created there
    /// (randomly) on first use. Blocks while the keyring answers.
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
    /// for a keyring entry. Reads (or creates) the data key in the keyring,
    /// so it blocks like [`KeyRing::from_os_keyring`].
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

    /// Removes this store's data key from the OS keyring, for an app that
    /// is uninstalled or signs out for good: the keyring then holds nothing
    /// of it. Tokens still saved under the service can no longer be opened,
    /// so delete them first; the store keeps its copy of the key until
    /// dropped. A key already gone is not an error.
    pub async fn forget_data_key(&self) -> Result<(), StoreError> {
        match with_entry(&self.store, &self.service, DATA_KEY_USER.to_owned(), |e| {
            e.delete_credential()
        })
        .await?
        {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn with_entry<T, F>(
        &self,
        key: &str,
        op: F,
    ) -> Result<Result<T, KeyringError>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Entry) -> Result<T, KeyringError> + Send + 'static,
    {
        with_entry(&self.store, &self.service, format!("token:{key}"), op).await
    }
}

impl TokenStore for KeyringStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<TokenSet>> {
        Box::pin(async move {
            match self.with_entry(key, |e| e.get_secret()).await? {
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
            if envelope.len() <= MAX_INLINE {
                self.with_entry(key, move |e| e.set_secret(&envelope))
                    .await?
                    .map_err(backend)?;
                self.overflow.delete(key).await
            } else {
                // The overflow store has the same data key: the envelope
                // goes to the file as it is.
                self.overflow.save_sealed(key, &envelope)?;
                self.with_entry(key, |e| e.set_secret(IN_FILE))
                    .await?
                    .map_err(backend)
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match self.with_entry(key, |e| e.delete_credential()).await? {
                Ok(()) | Err(KeyringError::NoEntry) => {}
                Err(e) => return Err(backend(e)),
            }
            self.overflow.delete(key).await
        })
    }
}
