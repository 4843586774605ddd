//! The embedded default store: one encrypted file per credential.
//!
//! Each file is a small JSON envelope `{v, kid, nonce, ct}`: the tokens
//! encrypted with XChaCha20-Poly1305 (RustCrypto) under the key `kid`, the
//! credential key and key id bound in as associated data so a file cannot
//! be swapped for another credential's. Files are written atomically (temp
//! file, fsync, rename) with mode 0600. Keys come from the environment, a
//! key file or the OS keyring ([`KeyRing`]); rotation re-encrypts every
//! file under the new key.

use super::store::{from_plaintext, to_plaintext, StoreError, StoreFuture, TokenStore};
use super::token::TokenSet;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A 256-bit data key with its id.
pub struct DataKey {
    pub id: String,
    key: SecretBox<[u8; 32]>,
}

impl DataKey {
    pub fn new(id: impl Into<String>, key: [u8; 32]) -> Self {
        DataKey {
            id: id.into(),
            key: SecretBox::new(Box::new(key)),
        }
    }

    /// A fresh random key.
    pub fn generate(id: impl Into<String>) -> Result<Self, StoreError> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| StoreError::Backend("no system randomness".into()))?;
        Ok(DataKey::new(id, key))
    }

    /// `id:hex64` (the form of `WHARF_TOKEN_KEY` and key files).
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let (id, hex) = text.split_once(':').unwrap_or(("default", text));
        let bytes = hex_decode(hex).filter(|b| b.len() == 32).ok_or_else(|| {
            StoreError::Backend("a token key is `id:` followed by 64 hex digits".into())
        })?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(DataKey::new(id, key))
    }

    /// `id:hex64`, for writing a key file or a keyring entry.
    pub fn to_text(&self) -> secrecy::SecretString {
        secrecy::SecretString::from(format!(
            "{}:{}",
            self.id,
            hex_encode(self.key.expose_secret())
        ))
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305, StoreError> {
        XChaCha20Poly1305::new_from_slice(self.key.expose_secret())
            .map_err(|_| StoreError::Backend("bad key length".into()))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The current key (for writing) and older ones (for reading until a
/// rotation has re-encrypted everything).
#[derive(Debug)]
pub struct KeyRing {
    current: DataKey,
    older: Vec<DataKey>,
}

impl KeyRing {
    pub fn new(current: DataKey) -> Self {
        KeyRing {
            current,
            older: Vec::new(),
        }
    }

    /// Keeps `older` readable.
    pub fn with_older(mut self, older: DataKey) -> Self {
        self.older.push(older);
        self
    }

    /// The key from the environment variable `var` (`id:hex64`).
    pub fn from_env(var: &str) -> Result<Self, StoreError> {
        let text =
            std::env::var(var).map_err(|_| StoreError::Backend(format!("{var} is not set")))?;
        Ok(KeyRing::new(DataKey::parse(&text)?))
    }

    /// The key from a file readable by its owner only; created (0600) with
    /// a random key when missing.
    pub fn from_key_file(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                Ok(KeyRing::new(DataKey::parse(&text)?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = DataKey::generate("k1")?;
                write_atomic(path, key.to_text().expose_secret().as_bytes())?;
                Ok(KeyRing::new(key))
            }
            Err(e) => Err(StoreError::Io(format!("{}: {e}", path.display()))),
        }
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    fn find(&self, id: &str) -> Option<&DataKey> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u32,
    kid: String,
    nonce: String,
    ct: String,
}

/// Encrypted files in one directory, one per credential.
#[derive(Debug)]
pub struct EncryptedFileStore {
    dir: PathBuf,
    keys: std::sync::RwLock<KeyRing>,
    audit: std::sync::Mutex<Option<super::audit::AuditLog>>,
}

impl EncryptedFileStore {
    /// A store in `dir` (created 0700 when missing).
    pub fn open(dir: impl Into<PathBuf>, keys: KeyRing) -> Result<Self, StoreError> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        Ok(EncryptedFileStore {
            dir,
            keys: std::sync::RwLock::new(keys),
            audit: std::sync::Mutex::new(None),
        })
    }

    /// Records key rotations in `log` (`key_rotation` records of the
    /// integration `token_store`).
    pub fn audit_to(&self, log: super::audit::AuditLog) {
        if let Ok(mut audit) = self.audit.lock() {
            *audit = Some(log);
        }
    }

    /// The file of a credential: its key, hex-encoded, so any key is a safe
    /// file name.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.dir
            .join(format!("{}.token", hex_encode(key.as_bytes())))
    }

    fn seal(&self, key: &str, tokens: &TokenSet) -> Result<Vec<u8>, StoreError> {
        let keys = self
            .keys
            .read()
            .map_err(|_| StoreError::Backend("poisoned".into()))?;
        seal(&keys, key, tokens)
    }

    fn open_envelope(&self, key: &str, bytes: &[u8]) -> Result<TokenSet, StoreError> {
        let keys = self
            .keys
            .read()
            .map_err(|_| StoreError::Backend("poisoned".into()))?;
        open(&keys, key, bytes)
    }

    /// Makes `new` the current key and re-encrypts every file under it;
    /// the old key stays readable. Returns how many files were rewritten.
    pub fn rotate(&self, new: DataKey) -> Result<usize, StoreError> {
        use super::audit::{AuditAction, AuditOutcome, AuditRecord};
        let new_id = new.id.clone();
        let outcome = self.rotate_to(new);
        let audit = self.audit.lock().ok().and_then(|a| a.clone());
        if let Some(log) = audit {
            let (result, detail) = match &outcome {
                Ok(n) => (
                    AuditOutcome::Success,
                    format!("key {new_id} current; {n} files re-encrypted"),
                ),
                Err(e) => (AuditOutcome::Failure, format!("key {new_id}: {e}")),
            };
            log.record(
                &AuditRecord::new("token_store", AuditAction::KeyRotation, result).detail(&detail),
            );
        }
        outcome
    }

    fn rotate_to(&self, new: DataKey) -> Result<usize, StoreError> {
        {
            let mut keys = self
                .keys
                .write()
                .map_err(|_| StoreError::Backend("poisoned".into()))?;
            let old = std::mem::replace(&mut keys.current, new);
            keys.older.push(old);
        }
        let mut rewritten = 0;
        let entries = std::fs::read_dir(&self.dir).map_err(|e| StoreError::Io(e.to_string()))?;
        for entry in entries {
            let path = entry.map_err(|e| StoreError::Io(e.to_string()))?.path();
            let Some(key) = credential_of(&path) else {
                continue;
            };
            let bytes = std::fs::read(&path).map_err(|e| StoreError::Io(e.to_string()))?;
            let tokens = self.open_envelope(&key, &bytes)?;
            write_atomic(&path, &self.seal(&key, &tokens)?)?;
            rewritten += 1;
        }
        Ok(rewritten)
    }
}

fn aad(kid: &str, key: &str) -> Vec<u8> {
    format!("wharf-token-store/v1\n{kid}\n{key}").into_bytes()
}

/// Seals `tokens` for credential `key` under the ring's current key.
pub(crate) fn seal(keys: &KeyRing, key: &str, tokens: &TokenSet) -> Result<Vec<u8>, StoreError> {
    let data_key = &keys.current;
    let mut nonce = [0u8; 24];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| StoreError::Backend("no system randomness".into()))?;
    let plaintext = to_plaintext(tokens)?;
    let aad = aad(&data_key.id, key);
    let ct = data_key
        .cipher()?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext.expose_secret(),
                aad: &aad,
            },
        )
        .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
    serde_json::to_vec(&Envelope {
        v: 1,
        kid: data_key.id.clone(),
        nonce: hex_encode(&nonce),
        ct: hex_encode(&ct),
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Opens an envelope sealed for credential `key`.
pub(crate) fn open(keys: &KeyRing, key: &str, bytes: &[u8]) -> Result<TokenSet, StoreError> {
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|_| StoreError::Corrupt("not a wharf token envelope".into()))?;
    if env.v != 1 {
        return Err(StoreError::Corrupt(format!("envelope version {}", env.v)));
    }
    let data_key = keys
        .find(&env.kid)
        .ok_or_else(|| StoreError::UnknownKey(env.kid.clone()))?;
    let nonce: [u8; 24] = hex_decode(&env.nonce)
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("bad nonce".into()))?;
    let ct = hex_decode(&env.ct).ok_or_else(|| StoreError::Corrupt("bad ciphertext".into()))?;
    let aad = aad(&env.kid, key);
    let plain = data_key
        .cipher()?
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ct,
                aad: &aad,
            },
        )
        .map_err(|_| {
            StoreError::Corrupt(
                "authentication failed (wrong key, wrong credential, or tampered)".into(),
            )
        })?;
    let plain = SecretBox::new(plain.into_boxed_slice());
    from_plaintext(plain.expose_secret())
}

/// The credential key of a `<hex>.token` file.
fn credential_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let hex = name.strip_suffix(".token")?;
    String::from_utf8(hex_decode(hex)?).ok()
}

impl TokenStore for EncryptedFileStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<TokenSet>> {
        Box::pin(async move {
            let path = self.path_of(key);
            match std::fs::read(&path) {
                Ok(bytes) => self.open_envelope(key, &bytes).map(Some),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StoreError::Io(format!("{}: {e}", path.display()))),
            }
        })
    }

    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> StoreFuture<'a, ()> {
        Box::pin(async move { write_atomic(&self.path_of(key), &self.seal(key, tokens)?) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match std::fs::remove_file(self.path_of(key)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(StoreError::Io(e.to_string())),
            }
        })
    }
}

impl EncryptedFileStore {
    /// Writes an envelope already sealed with this store's keys (the
    /// keyring store's overflow), without encrypting twice.
    pub(crate) fn save_sealed(&self, key: &str, envelope: &[u8]) -> Result<(), StoreError> {
        write_atomic(&self.path_of(key), envelope)
    }
}

/// Writes `bytes` to `path` atomically, readable by the owner only.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("token"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `dir` (and its parents) readable by the owner only (0700 on
/// Unix), for token stores and their key files.
pub fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))
}

/// Refuses a key file others can read.
fn check_private(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| StoreError::Io(e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::Backend(format!(
                "{} is readable by others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    let _ = path;
    Ok(())
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::time::{Duration, SystemTime};

    fn tokens(access: &str) -> TokenSet {
        TokenSet {
            access_token: SecretString::from(access.to_owned()),
            refresh_token: Some(SecretString::from("CANARY-REFRESH".to_owned())),
            id_token: None,
            token_type: "Bearer".into(),
            issued_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            lifetime: Some(Duration::from_secs(3600)),
            scopes: ["repo".to_owned()].into(),
        }
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wharf-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn round_trip_without_plaintext_on_disk_and_mode_0600() {
        let dir = temp_dir("rt");
        let store =
            EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k1").unwrap())).unwrap();
        run(store.save("github:me", &tokens("CANARY-ACCESS"))).unwrap();
        let bytes = std::fs::read(store.path_of("github:me")).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("CANARY"), "no plaintext token in the file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path_of("github:me"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = run(store.load("github:me")).unwrap().unwrap();
        assert_eq!(back.access_token.expose_secret(), "CANARY-ACCESS");
        assert_eq!(back.lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(run(store.load("other")).unwrap().map(|_| ()), None);
        run(store.delete("github:me")).unwrap();
        run(store.delete("github:me")).unwrap();
        assert!(run(store.load("github:me")).unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tampering_swapping_and_wrong_keys_are_refused() {
        let dir = temp_dir("tamper");
        let store =
            EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k1").unwrap())).unwrap();
        run(store.save("a", &tokens("A"))).unwrap();
        run(store.save("b", &tokens("B"))).unwrap();
        // A file moved to another credential's name does not decrypt.
        std::fs::copy(store.path_of("a"), store.path_of("b")).unwrap();
        assert!(matches!(run(store.load("b")), Err(StoreError::Corrupt(_))));
        // A flipped byte does not decrypt.
        let mut bytes = std::fs::read(store.path_of("a")).unwrap();
        let n = bytes.len();
        bytes[n - 4] = if bytes[n - 4] == b'0' { b'1' } else { b'0' };
        std::fs::write(store.path_of("a"), &bytes).unwrap();
        assert!(matches!(run(store.load("a")), Err(StoreError::Corrupt(_))));
        // Another store's key cannot read.
        run(store.save("c", &tokens("C"))).unwrap();
        let other =
            EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k1").unwrap())).unwrap();
        assert!(run(other.load("c")).is_err());
        let stranger =
            EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k9").unwrap())).unwrap();
        assert_eq!(
            run(stranger.load("c")).map(|_| ()),
            Err(StoreError::UnknownKey("k1".into()))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotation_re_encrypts_every_file_under_the_new_key() {
        let dir = temp_dir("rotate");
        let k1 = DataKey::generate("k1").unwrap();
        let k1_text = k1.to_text();
        let store = EncryptedFileStore::open(&dir, KeyRing::new(k1)).unwrap();
        run(store.save("a", &tokens("A"))).unwrap();
        run(store.save("b", &tokens("B"))).unwrap();
        let k2 = DataKey::generate("k2").unwrap();
        let k2_text = k2.to_text();
        assert_eq!(store.rotate(k2).unwrap(), 2);
        let text = std::fs::read_to_string(store.path_of("a")).unwrap();
        assert!(text.contains("\"kid\":\"k2\""));
        // Only the new key is needed now.
        let fresh = EncryptedFileStore::open(
            &dir,
            KeyRing::new(DataKey::parse(k2_text.expose_secret()).unwrap()),
        )
        .unwrap();
        assert_eq!(
            run(fresh.load("b"))
                .unwrap()
                .unwrap()
                .access_token
                .expose_secret(),
            "B"
        );
        let old_only = EncryptedFileStore::open(
            &dir,
            KeyRing::new(DataKey::parse(k1_text.expose_secret()).unwrap()),
        )
        .unwrap();
        assert_eq!(
            run(old_only.load("b")).map(|_| ()),
            Err(StoreError::UnknownKey("k2".into()))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn key_files_are_created_private_and_refused_when_readable_by_others() {
        let dir = temp_dir("keyfile");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token.key");
        let ring = KeyRing::from_key_file(&path).unwrap();
        let again = KeyRing::from_key_file(&path).unwrap();
        // The same key, not a new one with the same id: what one seals,
        // the other opens.
        let sealed = seal(&ring, "c", &tokens("AT")).unwrap();
        assert!(open(&again, "c", &sealed).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = KeyRing::from_key_file(&path).unwrap_err();
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
        assert!(DataKey::parse("k:zz").is_err());
        assert!(!format!("{:?}", DataKey::generate("k").unwrap()).contains("key:"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
