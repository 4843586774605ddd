//! Where tokens rest: the [`TokenStore`] trait, an in-memory store for
//! tests, and the stored form of a [`TokenSet`] (which only ever exists
//! inside an encrypted envelope or a secret box).

use super::token::TokenSet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A store's future (stores may do I/O: files, keyrings, databases).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Why a store operation failed. Never carries token material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// Reading or writing failed.
    Io(String),
    /// The stored data is damaged or was tampered with.
    Corrupt(String),
    /// The data was encrypted with a key this store does not have.
    UnknownKey(String),
    /// The backing service (keyring, database) refused or is missing.
    Backend(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(e) => write!(f, "token store I/O: {e}"),
            StoreError::Corrupt(e) => write!(f, "token store data is damaged: {e}"),
            StoreError::UnknownKey(k) => {
                write!(f, "token store data is encrypted with unknown key {k:?}")
            }
            StoreError::Backend(e) => write!(f, "token store backend: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Held while a credential refreshes: other holders of the same store
/// (other processes) wait, then re-read. Released on drop.
pub struct Lease(#[allow(dead_code)] Option<Box<dyn Send + Sync>>);

impl Lease {
    /// A lease that guards nothing (stores used by one process only).
    pub fn none() -> Lease {
        Lease(None)
    }

    pub fn holding(guard: impl Send + Sync + 'static) -> Lease {
        Lease(Some(Box::new(guard)))
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Lease(held)"
        } else {
            "Lease(none)"
        })
    }
}

/// Tokens at rest, by credential key (e.g. `github:octocat`).
pub trait TokenStore: Send + Sync + fmt::Debug {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<TokenSet>>;
    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> StoreFuture<'a, ()>;
    /// Deleting what is not there is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;
    /// Exclusive right to refresh `key` among everyone sharing this store.
    fn lease<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Lease> {
        let _ = key;
        Box::pin(async { Ok(Lease::none()) })
    }
}

/// The serialized form, only ever inside an encrypted envelope.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredTokens {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    token_type: String,
    issued_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifetime_ms: Option<u64>,
    scopes: Vec<String>,
}

impl StoredTokens {
    pub(crate) fn from_tokens(t: &TokenSet) -> StoredTokens {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        StoredTokens {
            access_token: t.access_token.expose_secret().to_owned(),
            refresh_token: t
                .refresh_token
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            id_token: t.id_token.as_ref().map(|s| s.expose_secret().to_owned()),
            token_type: t.token_type.clone(),
            issued_at_ms: ms(t
                .issued_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()),
            lifetime_ms: t.lifetime.map(ms),
            scopes: t.scopes.iter().cloned().collect(),
        }
    }

    pub(crate) fn into_tokens(self) -> TokenSet {
        TokenSet {
            access_token: SecretString::from(self.access_token),
            refresh_token: self.refresh_token.map(SecretString::from),
            id_token: self.id_token.map(SecretString::from),
            token_type: self.token_type,
            issued_at: SystemTime::UNIX_EPOCH + Duration::from_millis(self.issued_at_ms),
            lifetime: self.lifetime_ms.map(Duration::from_millis),
            scopes: self.scopes.into_iter().collect(),
        }
    }
}

/// Serialized tokens as a secret (the plaintext of an envelope).
pub(crate) fn to_plaintext(t: &TokenSet) -> Result<secrecy::SecretBox<[u8]>, StoreError> {
    serde_json::to_vec(&StoredTokens::from_tokens(t))
        .map(|v| secrecy::SecretBox::new(v.into_boxed_slice()))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn from_plaintext(bytes: &[u8]) -> Result<TokenSet, StoreError> {
    serde_json::from_slice::<StoredTokens>(bytes)
        .map(StoredTokens::into_tokens)
        .map_err(|e| {
            StoreError::Corrupt(format!("stored tokens do not parse ({:?})", e.classify()))
        })
}

/// Tokens in memory only (tests, short-lived tools).
/// Its leases are real, so several credentials sharing one `MemoryStore`
/// behave like several processes sharing a database.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, TokenSet>>,
    leases: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl TokenStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<TokenSet>> {
        let found = self
            .tokens
            .lock()
            .map(|m| m.get(key).cloned())
            .map_err(|_| StoreError::Backend("poisoned".into()));
        Box::pin(async move { found })
    }

    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> StoreFuture<'a, ()> {
        let done = self
            .tokens
            .lock()
            .map(|mut m| {
                m.insert(key.to_owned(), tokens.clone());
            })
            .map_err(|_| StoreError::Backend("poisoned".into()));
        Box::pin(async move { done })
    }

    fn lease<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Lease> {
        let lock = self
            .leases
            .lock()
            .map(|mut m| m.entry(key.to_owned()).or_default().clone())
            .map_err(|_| StoreError::Backend("poisoned".into()));
        Box::pin(async move { Ok(Lease::holding(lock?.lock_owned().await)) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        let done = self
            .tokens
            .lock()
            .map(|mut m| {
                m.remove(key);
            })
            .map_err(|_| StoreError::Backend("poisoned".into()));
        Box::pin(async move { done })
    }
}
