//! The CLI's token store: [`EncryptedFileStore`] in the config's store
//! directory, one file per integration (the integration's name is the
//! credential key, so an app opening the same store finds the tokens).
//!
//! The key comes from `WHARF_TOKEN_KEY` or from `token.key` beside the
//! token files (mode 0600, made on the first login). A key file next to the
//! data keeps tokens out of backups and pastes of single files; it does not
//! protect against someone who can read the whole directory, which is what
//! `WHARF_TOKEN_KEY` (or a keyring) is for.

use crate::auth_config::AuthConfig;
use std::path::PathBuf;
use wharf::auth::{DataKey, EncryptedFileStore, KeyRing, StoreError, TokenSet, TokenStore};

/// The environment variable holding the store key (`id:` + 64 hex digits).
pub(crate) const KEY_ENV: &str = "WHARF_TOKEN_KEY";
const KEY_FILE: &str = "token.key";

/// The store, opened for one integration.
#[derive(Debug)]
pub(crate) struct CliStore {
    store: EncryptedFileStore,
    key: String,
}

impl CliStore {
    /// For writing: creates the directory (0700) and the key file when
    /// missing.
    pub(crate) fn create(config: &AuthConfig, integration: &str) -> Result<CliStore, String> {
        let dir = &config.store_dir;
        let keys = match env_key()? {
            Some(keys) => keys,
            None => {
                create_dir(dir)?;
                KeyRing::from_key_file(&dir.join(KEY_FILE)).map_err(|e| describe(e, config))?
            }
        };
        let store = EncryptedFileStore::open(dir, keys).map_err(|e| describe(e, config))?;
        Ok(CliStore {
            store,
            key: integration.to_owned(),
        })
    }

    /// For reading: `None` when nothing is stored for `integration`. Never
    /// creates a directory or a key.
    pub(crate) fn existing(
        config: &AuthConfig,
        integration: &str,
    ) -> Result<Option<CliStore>, String> {
        let dir = &config.store_dir;
        if !dir.is_dir() {
            return Ok(None);
        }
        let key_file = dir.join(KEY_FILE);
        let keys = match env_key()? {
            Some(keys) => Some(keys),
            None if key_file.exists() => {
                Some(KeyRing::from_key_file(&key_file).map_err(|e| describe(e, config))?)
            }
            None => None,
        };
        let Some(keys) = keys else {
            // Without a key, only say whether a token file is there.
            let probe = EncryptedFileStore::open(dir, KeyRing::new(DataKey::new("probe", [0; 32])))
                .map_err(|e| describe(e, config))?;
            if probe.path_of(integration).exists() {
                return Err(format!(
                    "tokens for {integration:?} are stored in {} but there is no key to read them: set {KEY_ENV} or restore {}",
                    dir.display(),
                    key_file.display()
                ));
            }
            return Ok(None);
        };
        let store = EncryptedFileStore::open(dir, keys).map_err(|e| describe(e, config))?;
        if !store.path_of(integration).exists() {
            return Ok(None);
        }
        Ok(Some(CliStore {
            store,
            key: integration.to_owned(),
        }))
    }

    /// The integration's token file.
    pub(crate) fn path(&self) -> PathBuf {
        self.store.path_of(&self.key)
    }

    pub(crate) async fn load(&self, config: &AuthConfig) -> Result<Option<TokenSet>, String> {
        self.store
            .load(&self.key)
            .await
            .map_err(|e| describe(e, config))
    }

    pub(crate) async fn save(&self, config: &AuthConfig, tokens: &TokenSet) -> Result<(), String> {
        self.store
            .save(&self.key, tokens)
            .await
            .map_err(|e| describe(e, config))
    }

    /// A provider's key (as `KeySource::save_to` writes it).
    pub(crate) async fn save_key(
        &self,
        config: &AuthConfig,
        secret: secrecy::SecretString,
    ) -> Result<(), String> {
        wharf::auth::KeySource::save_to(&self.store, &self.key, secret)
            .await
            .map_err(|e| describe(e, config))
    }

    pub(crate) async fn delete(&self, config: &AuthConfig) -> Result<(), String> {
        self.store
            .delete(&self.key)
            .await
            .map_err(|e| describe(e, config))
    }
}

/// The key from `WHARF_TOKEN_KEY`, when set.
fn env_key() -> Result<Option<KeyRing>, String> {
    if std::env::var_os(KEY_ENV).is_none() {
        return Ok(None);
    }
    KeyRing::from_env(KEY_ENV)
        .map(Some)
        .map_err(|e| format!("{KEY_ENV}: {e}"))
}

fn create_dir(dir: &std::path::Path) -> Result<(), String> {
    wharf::auth::create_private_dir(dir)
        .map_err(|e| format!("cannot create the token store {}: {e}", dir.display()))
}

/// A store error with where the store is and what to do.
fn describe(e: StoreError, config: &AuthConfig) -> String {
    let dir = config.store_dir.display();
    match e {
        StoreError::UnknownKey(_) | StoreError::Corrupt(_) => format!(
            "{e} (store {dir}; is {KEY_ENV} or {dir}/{KEY_FILE} the key it was written with? `wharf login` again to replace it)"
        ),
        other => format!("{other} (store {dir})"),
    }
}
