//! [`Credential`]: one grant, lived with. It hands out the `Authorization`
//! for each attempt, refreshes at 80% of the token's lifetime in the
//! background, lets exactly one refresh run at a time (in this process by a
//! lock, across processes by the store's lease plus a re-read), and turns a
//! dead grant into [`AuthFailure::ReauthorizationRequired`] and an event
//! instead of a retry loop.

use super::credential_metrics;
use super::profile::TokenError;
use super::store::TokenStore;
use super::token::TokenSet;
pub use super::token_endpoint::TokenEndpoint;
use crate::call::{AuthFailure, AuthFuture, Authenticator, Authorization, OperationMeta};
use crate::policy::retry::Jitter;
use crate::time::Clock;
use http::{HeaderMap, HeaderValue, StatusCode};
use secrecy::ExposeSecret;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// What happened to a credential, for the app to hook (metrics, prompting
/// the user to log in again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    /// Tokens from a login were stored and made current.
    LoggedIn {
        credential: String,
    },
    Refreshed {
        credential: String,
        generation: u64,
        /// The server issued a new refresh token (the old one is spent).
        refresh_token_rotated: bool,
    },
    /// Another process had refreshed already; its tokens were adopted.
    Adopted {
        credential: String,
        generation: u64,
    },
    RefreshFailed {
        credential: String,
        error: String,
    },
    ReauthorizationRequired {
        credential: String,
    },
    /// A step-up login for more scopes; `error` when it failed.
    SteppedUp {
        credential: String,
        error: Option<String>,
    },
    /// Logged out: the tokens revoked at the server and deleted here;
    /// `error` says what was not revoked or deleted.
    LoggedOut {
        credential: String,
        error: Option<String>,
    },
}

type Listener = Arc<dyn Fn(&AuthEvent) + Send + Sync>;

/// How a credential lives with its tokens.
#[derive(Debug, Clone, Copy)]
pub struct CredentialConfig {
    /// Refresh when this fraction of the lifetime has passed.
    pub refresh_at: f64,
    /// ± this fraction of the lifetime, so many clients do not refresh in
    /// the same second.
    pub jitter: f64,
    /// A token this close to expiry is refreshed before use.
    pub expiry_margin: Duration,
    /// Wait after a failed background refresh before trying again.
    pub retry_after_failure: Duration,
    pub jitter_seed: Option<u64>,
    /// Serve only operations secured by this scheme (its name in the spec,
    /// e.g. `security_schemes::OAUTH.name`); `None`: any scheme.
    pub scheme: Option<&'static str>,
    /// The longest one refresh may wait for the token endpoint (and for the
    /// store's lease): a hung endpoint fails the refresh, which the next
    /// caller starts again. Calls waiting for it are bounded by their own
    /// deadlines, whatever this is.
    pub refresh_timeout: Duration,
}

impl Default for CredentialConfig {
    fn default() -> Self {
        CredentialConfig {
            refresh_at: 0.8,
            jitter: 0.02,
            expiry_margin: Duration::from_secs(5),
            retry_after_failure: Duration::from_secs(5),
            jitter_seed: None,
            scheme: None,
            refresh_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Default)]
struct State {
    tokens: Option<TokenSet>,
    generation: u64,
    needs_reauthorization: bool,
}

struct Inner {
    key: String,
    store: Arc<dyn TokenStore>,
    endpoint: Arc<dyn TokenEndpoint>,
    clock: Arc<dyn Clock>,
    config: CredentialConfig,
    jitter: Jitter,
    state: RwLock<State>,
    /// One refresh at a time in this process.
    refreshing: tokio::sync::Mutex<()>,
    /// The refresh under way, which callers that saw the same generation
    /// join instead of starting their own.
    in_flight: Mutex<Option<InFlight>>,
    listeners: Mutex<Vec<Listener>>,
}

/// The outcome of a refresh, once it is in.
type RefreshOutcome = Option<Result<u64, AuthFailure>>;

/// A refresh running on a task of its own, so that a caller giving up (its
/// deadline passed) never cancels it halfway: a rotated refresh token that
/// the endpoint issued is always stored.
struct InFlight {
    seen: u64,
    done: tokio::sync::watch::Receiver<RefreshOutcome>,
}

/// One grant (e.g. one user's GitHub authorization). Cheap to clone.
#[derive(Clone)]
pub struct Credential {
    inner: Arc<Inner>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.read();
        let (generation, reauth, tokens) = match &state {
            Ok(s) => (s.generation, s.needs_reauthorization, s.tokens.clone()),
            Err(_) => (0, false, None),
        };
        f.debug_struct("Credential")
            .field("key", &self.inner.key)
            .field("scheme", &self.inner.config.scheme)
            .field("generation", &generation)
            .field("needs_reauthorization", &reauth)
            .field("tokens", &tokens)
            .finish()
    }
}

fn poisoned<T>(_: T) -> AuthFailure {
    AuthFailure::Unavailable("credential state lock poisoned".into())
}

impl Credential {
    pub fn new(
        key: impl Into<String>,
        store: Arc<dyn TokenStore>,
        endpoint: Arc<dyn TokenEndpoint>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Credential::with_config(key, store, endpoint, clock, CredentialConfig::default())
    }

    pub fn with_config(
        key: impl Into<String>,
        store: Arc<dyn TokenStore>,
        endpoint: Arc<dyn TokenEndpoint>,
        clock: Arc<dyn Clock>,
        config: CredentialConfig,
    ) -> Self {
        Credential {
            inner: Arc::new(Inner {
                key: key.into(),
                store,
                endpoint,
                clock,
                jitter: config
                    .jitter_seed
                    .map_or_else(Jitter::from_entropy, Jitter::seeded),
                config,
                state: RwLock::new(State::default()),
                refreshing: tokio::sync::Mutex::new(()),
                in_flight: Mutex::new(None),
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// Calls `listener` on every [`AuthEvent`].
    pub fn on_event(&self, listener: impl Fn(&AuthEvent) + Send + Sync + 'static) {
        if let Ok(mut l) = self.inner.listeners.lock() {
            l.push(Arc::new(listener));
        }
    }

    fn emit(&self, event: AuthEvent) {
        let listeners: Vec<Listener> = match self.inner.listeners.lock() {
            Ok(l) => l.clone(),
            Err(_) => return,
        };
        match &event {
            AuthEvent::RefreshFailed { credential, error } => {
                credential_metrics::refresh_failed(credential);
                tracing::warn!(credential = %credential, error = %error, "token refresh failed")
            }
            AuthEvent::ReauthorizationRequired { credential } => {
                tracing::warn!(credential = %credential, "re-authorization required")
            }
            other => tracing::info!(event = ?other, "credential"),
        }
        for l in listeners {
            l(&event);
        }
    }

    /// Tokens from a login: stored, then used.
    pub async fn set_tokens(&self, tokens: TokenSet) -> Result<(), AuthFailure> {
        self.install(tokens).await?;
        self.emit(AuthEvent::LoggedIn {
            credential: self.inner.key.clone(),
        });
        Ok(())
    }

    /// Stores `tokens` and makes them current; the grant is alive again.
    async fn install(&self, tokens: TokenSet) -> Result<(), AuthFailure> {
        self.inner
            .store
            .save(&self.inner.key, &tokens)
            .await
            .map_err(|e| AuthFailure::Unavailable(e.to_string()))?;
        credential_metrics::current(&self.inner.key, &tokens);
        let was_dead = {
            let mut s = self.inner.state.write().map_err(poisoned)?;
            s.tokens = Some(tokens);
            s.generation += 1;
            std::mem::replace(&mut s.needs_reauthorization, false)
        };
        if was_dead {
            credential_metrics::reauthorization_required(&self.inner.key, false);
        }
        Ok(())
    }

    /// Logs out: revokes the refresh token (which ends the grant) and the
    /// access token at the server, and deletes the local tokens even when
    /// the server cannot be reached. The error says what was not revoked.
    pub async fn logout(
        &self,
        client: &super::flows::OAuthClient,
    ) -> Result<(), super::flows::FlowError> {
        let tokens = self.current().await.ok().map(|(t, _)| t);
        let mut outcome = Ok(());
        if let Some(t) = &tokens {
            if let Some(rt) = &t.refresh_token {
                outcome = client.revoke(rt, "refresh_token").await;
            }
            let access = client.revoke(&t.access_token, "access_token").await;
            if outcome.is_ok() {
                outcome = access;
            }
        }
        let deleted = self.inner.store.delete(&self.inner.key).await;
        let newly_dead = match self.inner.state.write() {
            Ok(mut s) => {
                s.tokens = None;
                s.generation += 1;
                !std::mem::replace(&mut s.needs_reauthorization, true)
            }
            Err(_) => false,
        };
        if newly_dead {
            credential_metrics::reauthorization_required(&self.inner.key, true);
        }
        let outcome = deleted
            .map_err(|e| {
                super::flows::FlowError::Listener(format!("local tokens not deleted: {e}"))
            })
            .and(outcome);
        self.emit(AuthEvent::LoggedOut {
            credential: self.inner.key.clone(),
            error: outcome.as_ref().err().map(ToString::to_string),
        });
        outcome
    }

    /// Step-up after `InsufficientScope`: a new login that asks for the
    /// scopes already granted plus `missing`, so the server's consent asks
    /// only for what is missing (servers keep the existing grant), and the
    /// new token replaces the old one.
    pub async fn step_up(
        &self,
        client: &super::flows::OAuthClient,
        missing: &[String],
        open: impl FnOnce(&str),
        timeout: Duration,
    ) -> Result<(), super::flows::FlowError> {
        let mut scopes = self.granted_scopes();
        for s in missing {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let outcome = match client.login_loopback(&scopes, open, timeout).await {
            Ok(tokens) => self
                .install(tokens)
                .await
                .map_err(|e| super::flows::FlowError::Listener(e.to_string())),
            Err(e) => Err(e),
        };
        self.emit(AuthEvent::SteppedUp {
            credential: self.inner.key.clone(),
            error: outcome.as_ref().err().map(ToString::to_string),
        });
        outcome
    }

    /// The granted scopes, as last known.
    pub fn granted_scopes(&self) -> Vec<String> {
        self.inner
            .state
            .read()
            .ok()
            .and_then(|s| {
                s.tokens
                    .as_ref()
                    .map(|t| t.scopes.iter().cloned().collect())
            })
            .unwrap_or_default()
    }

    /// When the current access token expires, as last known (`None`: no
    /// token yet, or one without a lifetime).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.inner
            .state
            .read()
            .ok()
            .and_then(|s| s.tokens.as_ref().and_then(TokenSet::expires_at))
    }

    /// Whether the grant is known to be dead.
    pub fn needs_reauthorization(&self) -> bool {
        self.inner
            .state
            .read()
            .is_ok_and(|s| s.needs_reauthorization)
    }

    fn reauthorization(&self) -> AuthFailure {
        AuthFailure::ReauthorizationRequired {
            credential: self.inner.key.clone(),
        }
    }

    /// Current tokens and their generation, loading from the store on
    /// first use.
    async fn current(&self) -> Result<(TokenSet, u64), AuthFailure> {
        {
            let s = self.inner.state.read().map_err(poisoned)?;
            if s.needs_reauthorization {
                return Err(self.reauthorization());
            }
            if let Some(t) = &s.tokens {
                return Ok((t.clone(), s.generation));
            }
        }
        let stored = self
            .inner
            .store
            .load(&self.inner.key)
            .await
            .map_err(|e| AuthFailure::Unavailable(e.to_string()))?;
        let mut s = self.inner.state.write().map_err(poisoned)?;
        match (stored, &s.tokens) {
            (_, Some(t)) => Ok((t.clone(), s.generation)),
            (Some(t), None) => {
                s.tokens = Some(t.clone());
                s.generation += 1;
                Ok((t, s.generation))
            }
            (None, None) => Err(self.reauthorization()),
        }
    }

    /// A valid access token: the current one, or a fresh one when it is
    /// expired or about to be (never an expired token).
    pub async fn access_token(&self) -> Result<(TokenSet, u64), AuthFailure> {
        let (tokens, generation) = self.current().await?;
        let now = self.inner.clock.wall();
        // The margin is at most a tenth of the lifetime: with a margin longer
        // than a short-lived token, every fresh token would look expired
        // and each caller arriving after a refresh would refresh again.
        let near_expiry = match (tokens.expires_at(), tokens.lifetime) {
            (Some(at), Some(lifetime)) => {
                let margin = self.inner.config.expiry_margin.min(lifetime / 10);
                now + margin >= at
            }
            _ => false,
        };
        if !near_expiry {
            return Ok((tokens, generation));
        }
        self.refresh(generation).await?;
        self.current().await
    }

    /// Refreshes the tokens of `seen` generation, unless someone already
    /// did: callers that all saw the same expired token cause one refresh.
    /// The refresh runs on a task of its own; dropping this future stops
    /// the wait, not the refresh.
    pub async fn refresh(&self, seen: u64) -> Result<u64, AuthFailure> {
        let mut done = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => self.join_refresh(seen, &runtime),
            // Not on a tokio runtime: nowhere to run it but here.
            Err(_) => return self.refresh_now(seen).await,
        };
        let outcome = match done.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| {
            Err(AuthFailure::Unavailable(
                "the refresh task ended without an outcome".into(),
            ))
        })
    }

    /// The refresh of `seen` under way, or a new one started on `runtime`.
    fn join_refresh(
        &self,
        seen: u64,
        runtime: &tokio::runtime::Handle,
    ) -> tokio::sync::watch::Receiver<RefreshOutcome> {
        let mut slot = match self.inner.in_flight.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(running) = slot.as_ref() {
            if running.seen == seen && running.done.borrow().is_none() {
                return running.done.clone();
            }
        }
        let (tx, rx) = tokio::sync::watch::channel(None);
        *slot = Some(InFlight {
            seen,
            done: rx.clone(),
        });
        let me = self.clone();
        runtime.spawn(async move {
            let outcome = me.refresh_now(seen).await;
            let _ = tx.send(Some(outcome));
        });
        rx
    }

    /// The refresh itself: one at a time, the endpoint's answer bounded by
    /// `refresh_timeout`.
    async fn refresh_now(&self, seen: u64) -> Result<u64, AuthFailure> {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let (current, generation) = {
            let s = self.inner.state.read().map_err(poisoned)?;
            if s.needs_reauthorization {
                return Err(self.reauthorization());
            }
            (s.tokens.clone(), s.generation)
        };
        if generation != seen {
            return Ok(generation);
        }
        // Across processes: hold the store's lease, then re-read; another
        // instance may have refreshed while this one waited.
        let cap = self.inner.config.refresh_timeout;
        let clock = &*self.inner.clock;
        let _lease = crate::time::timeout(clock, cap, self.inner.store.lease(&self.inner.key))
            .await
            .map_err(|elapsed| {
                AuthFailure::Unavailable(format!("the token store's lease: {elapsed}"))
            })?
            .map_err(|e| AuthFailure::Unavailable(e.to_string()))?;
        if let Some(newer) = self.newer_in_store(current.as_ref()).await? {
            return self.adopt(newer, true);
        }
        let Some(current) = current else {
            return Err(self.reauthorization());
        };
        let scopes: Vec<String> = current.scopes.iter().cloned().collect();
        let now = self.inner.clock.wall();
        let endpoint = &self.inner.endpoint;
        let request = match current.refresh_token.clone() {
            Some(refresh_token) => {
                crate::time::timeout(clock, cap, endpoint.refresh(&refresh_token, &scopes, now))
                    .await
            }
            // Client credentials: ask again, no user involved.
            None => match endpoint.reissue(&scopes) {
                Some(reissue) => crate::time::timeout(clock, cap, reissue).await,
                None => {
                    self.mark_dead();
                    return Err(self.reauthorization());
                }
            },
        };
        let sent: Vec<&str> = current
            .refresh_token
            .iter()
            .map(|rt| rt.expose_secret())
            .collect();
        let renewed = request
            .unwrap_or_else(|elapsed| {
                Err(TokenError::Transport(format!(
                    "the token endpoint did not answer: {elapsed}"
                )))
            })
            .map_err(|e| e.redacted(&sent));
        match renewed {
            Ok(fresh) => {
                self.inner
                    .store
                    .save(&self.inner.key, &fresh)
                    .await
                    .map_err(|e| AuthFailure::Unavailable(e.to_string()))?;
                self.adopt(fresh, false)
            }
            Err(TokenError::InvalidGrant { .. }) => {
                // A lost race with another instance looks like this too:
                // the store tells which it was.
                if let Some(newer) = self.newer_in_store(Some(&current)).await? {
                    return self.adopt(newer, true);
                }
                self.mark_dead();
                Err(self.reauthorization())
            }
            Err(e) => {
                self.emit(AuthEvent::RefreshFailed {
                    credential: self.inner.key.clone(),
                    error: e.to_string(),
                });
                Err(AuthFailure::Unavailable(e.to_string()))
            }
        }
    }

    /// Tokens in the store issued after `current`.
    async fn newer_in_store(
        &self,
        current: Option<&TokenSet>,
    ) -> Result<Option<TokenSet>, AuthFailure> {
        let stored = self
            .inner
            .store
            .load(&self.inner.key)
            .await
            .map_err(|e| AuthFailure::Unavailable(e.to_string()))?;
        Ok(stored.filter(|s| match current {
            None => true,
            Some(c) => {
                s.issued_at > c.issued_at
                    && s.access_token.expose_secret() != c.access_token.expose_secret()
            }
        }))
    }

    /// Makes `tokens` current; `from_store`: another process refreshed them.
    fn adopt(&self, tokens: TokenSet, from_store: bool) -> Result<u64, AuthFailure> {
        credential_metrics::current(&self.inner.key, &tokens);
        let (generation, refresh_token_rotated) = {
            let mut s = self.inner.state.write().map_err(poisoned)?;
            let rotated = match (&tokens.refresh_token, s.tokens.as_ref()) {
                (Some(new), Some(old)) => old
                    .refresh_token
                    .as_ref()
                    .is_none_or(|old| old.expose_secret() != new.expose_secret()),
                _ => false,
            };
            s.tokens = Some(tokens);
            s.generation += 1;
            (s.generation, rotated)
        };
        let credential = self.inner.key.clone();
        self.emit(if from_store {
            AuthEvent::Adopted {
                credential,
                generation,
            }
        } else {
            AuthEvent::Refreshed {
                credential,
                generation,
                refresh_token_rotated,
            }
        });
        Ok(generation)
    }

    fn mark_dead(&self) {
        if let Ok(mut s) = self.inner.state.write() {
            if s.needs_reauthorization {
                return;
            }
            s.needs_reauthorization = true;
        }
        credential_metrics::reauthorization_required(&self.inner.key, true);
        self.emit(AuthEvent::ReauthorizationRequired {
            credential: self.inner.key.clone(),
        });
    }

    /// When the background refresher should next refresh: `refresh_at` of
    /// the lifetime ± jitter.
    fn next_refresh(&self, tokens: &TokenSet) -> Option<SystemTime> {
        let lifetime = tokens.lifetime?;
        let c = &self.inner.config;
        let spread = (self.inner.jitter.unit() * 2.0 - 1.0) * c.jitter;
        let fraction = (c.refresh_at + spread).clamp(0.05, 0.95);
        Some(tokens.issued_at + lifetime.mul_f64(fraction))
    }

    /// Refreshes in the background at 80% of each token's lifetime, so
    /// calls never wait for a refresh in the normal case. Ends when the
    /// grant is dead, when tokens never expire, when every handle of the
    /// credential is dropped (it holds none between refreshes), or when
    /// the handle is aborted.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        let clock = self.inner.clock.clone();
        let after_failure = self.inner.config.retry_after_failure;
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let me = Credential { inner };
                let (tokens, generation) = match me.current().await {
                    Ok(t) => t,
                    Err(AuthFailure::ReauthorizationRequired { .. }) => return,
                    Err(_) => {
                        drop(me);
                        clock.sleep(after_failure).await;
                        continue;
                    }
                };
                let Some(due) = me.next_refresh(&tokens) else {
                    return;
                };
                let wait = due.duration_since(clock.wall()).unwrap_or(Duration::ZERO);
                drop((me, tokens));
                clock.sleep(wait).await;
                let Some(inner) = weak.upgrade() else { return };
                let me = Credential { inner };
                let refreshed = me.refresh(generation).await;
                drop(me);
                match refreshed {
                    Ok(_) => {}
                    Err(AuthFailure::ReauthorizationRequired { .. }) => return,
                    Err(_) => clock.sleep(after_failure).await,
                }
            }
        })
    }

    /// The scopes `operation` needs from this credential (the cheapest
    /// alternative that uses its scheme, or any OAuth scheme when it names
    /// none), or `None` if it does not use it.
    fn needed_scopes<'o>(&self, operation: &'o OperationMeta) -> Option<Vec<&'o str>> {
        let mut best: Option<Vec<&str>> = None;
        for alternative in operation.security {
            let mine = alternative
                .schemes
                .iter()
                .find(|s| match self.inner.config.scheme {
                    Some(name) => s.scheme == name,
                    None => s.oauth,
                });
            if let Some(s) = mine {
                if best.as_ref().is_none_or(|b| s.scopes.len() < b.len()) {
                    best = Some(s.scopes.to_vec());
                }
            }
        }
        best
    }
}

/// `scope="a b"` from a `WWW-Authenticate: Bearer error="insufficient_scope"`.
fn insufficient_scope(headers: &HeaderMap) -> Option<Vec<String>> {
    let value = headers.get(http::header::WWW_AUTHENTICATE)?.to_str().ok()?;
    if !value.contains("insufficient_scope") {
        return None;
    }
    let scope = value.split("scope=\"").nth(1)?.split('"').next()?;
    Some(scope.split_whitespace().map(str::to_owned).collect())
}

impl Authenticator for Credential {
    fn authorize<'a>(
        &'a self,
        operation: &'a OperationMeta,
    ) -> AuthFuture<'a, Result<Option<Authorization>, AuthFailure>> {
        Box::pin(async move {
            let Some(needed) = self.needed_scopes(operation) else {
                return Ok(None);
            };
            let (tokens, generation) = self.access_token().await?;
            let missing: Vec<String> = needed
                .iter()
                .filter(|s| !tokens.scopes.contains(**s))
                .map(|s| (*s).to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(AuthFailure::InsufficientScope { missing });
            }
            let mut value =
                HeaderValue::from_str(tokens.authorization().expose_secret()).map_err(|_| {
                    AuthFailure::Unavailable("the token cannot be sent in a header".into())
                })?;
            value.set_sensitive(true);
            Ok(Some(Authorization::header(value, generation)))
        })
    }

    fn rejected<'a>(
        &'a self,
        generation: u64,
        status: StatusCode,
        headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<bool, AuthFailure>> {
        Box::pin(async move {
            if status == StatusCode::FORBIDDEN {
                return match insufficient_scope(headers) {
                    Some(wanted) => {
                        let granted = self.granted_scopes();
                        let missing: Vec<String> = wanted
                            .into_iter()
                            .filter(|s| !granted.contains(s))
                            .collect();
                        Err(AuthFailure::InsufficientScope { missing })
                    }
                    None => Ok(false),
                };
            }
            // 401: the token was refused; one refresh, then one replay.
            self.refresh(generation).await.map(|_| true)
        })
    }
}
