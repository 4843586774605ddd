//! [`KeySource`]: a secret that can be replaced while calls are in flight
//! (an API key rotated without a restart). Each attempt reads the current
//! one; a call already sent keeps the one it was sent with.

use super::store::{StoreError, TokenStore};
use super::token::TokenSet;
use secrecy::SecretString;
use std::fmt;
use std::sync::{Arc, RwLock};

/// The `token_type` a saved key is stored with, telling it from OAuth tokens.
pub const KEY_TOKEN_TYPE: &str = "key";

/// A rotatable secret: an API key, a password, a static bearer token.
pub struct KeySource {
    current: RwLock<(Arc<SecretString>, u64)>,
}

/// The environment variable holding a secret is not set (or not UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSecret {
    pub variable: String,
}

impl fmt::Display for MissingSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "environment variable {} is not set", self.variable)
    }
}

impl std::error::Error for MissingSecret {}

impl KeySource {
    pub fn new(secret: SecretString) -> Arc<Self> {
        Arc::new(KeySource {
            current: RwLock::new((Arc::new(secret), 1)),
        })
    }

    /// The secret in environment variable `variable`.
    pub fn from_env(variable: &str) -> Result<Arc<Self>, MissingSecret> {
        std::env::var(variable)
            .map(|s| KeySource::new(SecretString::from(s)))
            .map_err(|_| MissingSecret {
                variable: variable.to_owned(),
            })
    }

    /// The key saved in `store` under `name` (by [`KeySource::save_to`]):
    /// API keys kept where the tokens are, encrypted at rest in the
    /// encrypted-file, OS-keyring and PostgreSQL stores. An absent one is
    /// an error naming it (never its value).
    pub async fn from_store(store: &dyn TokenStore, name: &str) -> Result<Arc<Self>, StoreError> {
        Ok(KeySource::new(saved_key(store, name).await?))
    }

    /// Saves `secret` in `store` under `name`, for
    /// [`KeySource::from_store`] (a key never expires and has no scopes).
    pub async fn save_to(
        store: &dyn TokenStore,
        name: &str,
        secret: SecretString,
    ) -> Result<(), StoreError> {
        let saved = TokenSet {
            access_token: secret,
            refresh_token: None,
            id_token: None,
            token_type: KEY_TOKEN_TYPE.into(),
            issued_at: std::time::SystemTime::now(),
            lifetime: None,
            scopes: Default::default(),
        };
        store.save(name, &saved).await
    }

    /// Reads the key saved under `name` again (after `wharf`, an operator
    /// or another instance replaced it) and rotates to it if it changed;
    /// returns whether it did.
    pub async fn reload_from(
        &self,
        store: &dyn TokenStore,
        name: &str,
    ) -> Result<bool, StoreError> {
        use secrecy::ExposeSecret;
        let saved = saved_key(store, name).await?;
        let (current, _) = self.current();
        if current.expose_secret() == saved.expose_secret() {
            return Ok(false);
        }
        self.rotate(saved);
        Ok(true)
    }

    /// Replaces the secret: attempts from now on send the new one.
    pub fn rotate(&self, secret: SecretString) {
        let mut current = match self.current.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let generation = current.1 + 1;
        *current = (Arc::new(secret), generation);
    }

    /// The current secret and its generation (1 for the first, +1 per
    /// rotation).
    pub fn current(&self) -> (Arc<SecretString>, u64) {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The key [`KeySource::save_to`] saved under `name`: an error names what
/// is missing, or that OAuth tokens are stored there instead.
async fn saved_key(store: &dyn TokenStore, name: &str) -> Result<SecretString, StoreError> {
    match store.load(name).await? {
        Some(saved) if saved.token_type == KEY_TOKEN_TYPE => Ok(saved.access_token),
        Some(_) => Err(StoreError::Backend(format!(
            "{name:?} in {store:?} holds OAuth tokens, not a key"
        ))),
        None => Err(StoreError::Backend(format!(
            "no key is saved under {name:?} in {store:?}"
        ))),
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeySource(generation {}, [redacted])", self.current().1)
    }
}
