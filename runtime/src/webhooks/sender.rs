//! [`Sender`]: outbound webhooks, an app's events delivered to its
//! customers' endpoints. Messages wait in the store's outbox; the sender
//! claims them with a lease, signs each attempt (Standard Webhooks, every
//! secret of the endpoint during a rotation, the same `webhook-id` on every
//! attempt) and sends it through the request path (deadline, breaker, rate
//! limit), on a transport that refuses internal addresses. It follows a
//! [`RetrySchedule`] (Svix's by default), honours `Retry-After`, lets an
//! open breaker delay the queue without using attempts, dead-letters
//! permanent failures at once, disables an endpoint on `410 Gone` or after
//! failing for too long, and logs every attempt.

use super::retry_schedule::RetrySchedule;
use super::scheme::Scheme;
use super::verifier::Verifier;
use crate::call::{
    AddressGuard, CallOptions, Integration, IntegrationConfig, OperationMeta, Request,
    ReqwestTransport, Verdict,
};
use crate::outbox_loop;
use crate::policy::breaker::BreakerConfig;
use crate::policy::rate_limit::RateLimit;
use crate::policy::retry::RetryPolicy;
use crate::store::{
    AttemptOutcome, AttemptRecord, EndpointState, Inserted, NewMessage, Next, OutboundMessage,
    OutboxStore, StoreError, KIND_WEBHOOK,
};
use crate::time::ms;
use crate::time::{unix_ms, Clock, TokioClock};
use http::{HeaderValue, Method};
use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, UNIX_EPOCH};

/// How the sender delivers.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// When attempts happen (default [`RetrySchedule::svix`]).
    pub schedule: RetrySchedule,
    /// The most one attempt may take, connecting included.
    pub attempt_timeout: Duration,
    /// How long a claimed message is the sender's (longer than an attempt).
    pub lease: Duration,
    /// An endpoint failing without a success for this long is disabled
    /// (default 5 days).
    pub disable_after: Duration,
    /// Which addresses endpoints may resolve to (default public only).
    pub guard: AddressGuard,
    /// Plain `http://` to loopback (tests and local development); HTTPS
    /// otherwise.
    pub allow_plain_http_loopback: bool,
    /// Per endpoint: the breaker (default wharf's) and a rate limit.
    pub breaker: Option<BreakerConfig>,
    pub rate_limit: Option<RateLimit>,
    /// Messages claimed at once, and sent at once.
    pub batch: usize,
    pub concurrency: usize,
    /// The longest an idle sender waits before looking again.
    pub poll_interval: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            schedule: RetrySchedule::svix(),
            attempt_timeout: Duration::from_secs(15),
            lease: Duration::from_secs(60),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            guard: AddressGuard::public_only(),
            allow_plain_http_loopback: false,
            breaker: Some(BreakerConfig::default()),
            rate_limit: None,
            batch: 32,
            concurrency: 16,
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// Why an endpoint was not registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterError {
    /// Not a URL, not HTTPS (or loopback HTTP where allowed), or no host.
    Url(String),
    /// The host resolves to an address the guard refuses (or to none).
    Address(String),
    /// A secret that is not a `whsec_`/`whsk_` key.
    Secret(String),
    /// The transport or the request path refused the configuration.
    Config(String),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::Url(why) => write!(f, "endpoint URL: {why}"),
            RegisterError::Address(why) => write!(f, "endpoint address: {why}"),
            RegisterError::Secret(why) => write!(f, "endpoint secret: {why}"),
            RegisterError::Config(why) => write!(f, "endpoint configuration: {why}"),
        }
    }
}

impl std::error::Error for RegisterError {}

struct Endpoint {
    url: String,
    verifier: Verifier,
    integration: Integration,
}

/// What one pass over the due messages did.
pub type SendPass = crate::outbox_loop::Pass;

/// Delivers a store's outbound messages to registered endpoints.
pub struct Sender<S: OutboxStore> {
    store: Arc<S>,
    endpoints: RwLock<HashMap<String, Arc<Endpoint>>>,
    config: SenderConfig,
    clock: Arc<dyn Clock>,
}

impl<S: OutboxStore> fmt::Debug for Sender<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: OutboxStore> Sender<S> {
    pub fn new(store: Arc<S>, config: SenderConfig) -> Self {
        Sender {
            store,
            endpoints: RwLock::new(HashMap::new()),
            config,
            clock: Arc::new(TokioClock),
        }
    }

    /// The clock for due times and the failing-time limit.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Registers (or replaces) endpoint `id` at `url`, signing with
    /// `secrets` (Standard Webhooks `whsec_` or `whsk_`; several during a
    /// rotation, each attempt carrying one signature per secret). The URL
    /// is checked now (HTTPS, a host that resolves to allowed addresses
    /// only) and again at every delivery.
    pub async fn register(
        &self,
        id: impl Into<String>,
        url: &str,
        secrets: &[SecretString],
    ) -> Result<(), RegisterError> {
        let id = id.into();
        let parsed = url::Url::parse(url).map_err(|e| RegisterError::Url(e.to_string()))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| RegisterError::Url("no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        match parsed.scheme() {
            "https" => {}
            "http" if self.config.allow_plain_http_loopback => {}
            other => {
                return Err(RegisterError::Url(format!(
                    "{other}:// is not allowed (HTTPS only, plain HTTP to loopback where enabled)"
                )))
            }
        }
        // Bounded like an attempt: a resolver that never answers must not
        // hang registration.
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        let limit = self.config.attempt_timeout;
        let addrs: Vec<std::net::SocketAddr> = crate::time::timeout(&*self.clock, limit, lookup)
            .await
            .map_err(|_| RegisterError::Address(format!("{host}: no answer within {limit:?}")))?
            .map_err(|e| RegisterError::Address(format!("{host}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(RegisterError::Address(format!(
                "{host} resolves to no address"
            )));
        }
        if let Some((addr, why)) = addrs
            .iter()
            .find_map(|a| self.config.guard.refusal(a.ip()).map(|why| (a, why)))
        {
            return Err(RegisterError::Address(format!(
                "{host} resolves to {} ({why})",
                addr.ip()
            )));
        }
        if parsed.scheme() == "http" && !addrs.iter().all(|a| a.ip().is_loopback()) {
            return Err(RegisterError::Url(
                "plain HTTP is only allowed to loopback".into(),
            ));
        }
        let verifier = Verifier::new(Scheme::Standard, secrets)
            .map_err(|e| RegisterError::Secret(e.to_string()))?;
        let transport = ReqwestTransport::builder()
            .connect_timeout(self.config.attempt_timeout)
            .allow_plain_http_loopback(self.config.allow_plain_http_loopback)
            .address_guard(self.config.guard)
            .build()
            .map_err(|e| RegisterError::Config(e.to_string()))?;
        let integration = Integration::builder(format!("webhook:{id}"))
            .config(IntegrationConfig {
                total_timeout: self.config.attempt_timeout,
                attempt_timeout: self.config.attempt_timeout,
                // The schedule retries, durably; one attempt per delivery.
                retry: RetryPolicy {
                    max_attempts: 1,
                    ..RetryPolicy::default()
                },
                breaker: self.config.breaker,
                rate_limit: self.config.rate_limit,
                ..IntegrationConfig::default()
            })
            .transport(Arc::new(transport))
            .clock(Arc::clone(&self.clock))
            .build()
            .map_err(|e| RegisterError::Config(e.to_string()))?;
        let endpoint = Arc::new(Endpoint {
            url: url.to_owned(),
            verifier,
            integration,
        });
        if let Ok(mut endpoints) = self.endpoints.write() {
            endpoints.insert(id, endpoint);
        }
        Ok(())
    }

    /// Enqueues `body` for endpoint `endpoint` (outside any transaction of
    /// the app's; for that, the store's `enqueue_in_*` functions).
    pub async fn enqueue(
        &self,
        endpoint: &str,
        event_type: &str,
        body: impl Into<bytes::Bytes>,
    ) -> Result<String, StoreError> {
        let now = unix_ms(&*self.clock);
        let mut message = NewMessage::new(endpoint, event_type, body, now)
            .map_err(|e| StoreError::Backend(format!("message id: {e}")))?;
        message.due_at = now.saturating_add(ms(self.config.schedule.initial_delay()));
        let id = message.message_id.clone();
        match self.store.enqueue(message).await? {
            Inserted::Stored(_) | Inserted::Duplicate => Ok(id),
        }
    }

    /// Every attempt at `message_id`: what to show a customer.
    pub async fn delivery_log(&self, message_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        self.store.delivery_log(message_id).await
    }

    /// Claims the due messages once and delivers them.
    pub async fn send_once(&self) -> Result<SendPass, StoreError> {
        let clock = &*self.clock;
        let (lease, batch) = (self.config.lease, self.config.batch);
        let messages = outbox_loop::claim(&*self.store, clock, KIND_WEBHOOK, lease, batch).await?;
        // Each endpoint's state read once per pass, not once per message.
        let mut states: HashMap<String, EndpointState> = HashMap::new();
        for message in &messages {
            if !states.contains_key(&message.endpoint) {
                let state = self.store.endpoint_state(&message.endpoint).await?;
                states.insert(message.endpoint.clone(), state);
            }
        }
        let mut outcomes = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(self.config.concurrency.max(1)) {
            let sends = chunk.iter().map(|m| {
                let state = states.get(&m.endpoint).cloned().unwrap_or_default();
                self.deliver(m, state)
            });
            for outcome in futures_util::future::join_all(sends).await {
                outcomes.push(outcome?);
            }
        }
        outbox_loop::record(&*self.store, clock, messages.len(), &outcomes, |dead| {
            let m = &dead.message;
            let error = dead.error.as_deref().unwrap_or_default();
            super::metrics::dead_message(&m.endpoint, &m.message_id, m.attempts, error);
        })
        .await
    }

    /// Delivers until nothing is pending or in flight (messages of a run
    /// that was killed are taken up once their lease runs out), sleeping
    /// until the next is due, at most `poll_interval` at a time.
    pub async fn run_until_idle(&self) -> Result<(), StoreError> {
        let poll = self.config.poll_interval;
        outbox_loop::run_until_idle(&*self.store, &*self.clock, KIND_WEBHOOK, poll, || {
            self.send_once()
        })
        .await
    }

    /// Delivers until `shutdown` completes.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        let poll = self.config.poll_interval;
        outbox_loop::run(
            &*self.store,
            &*self.clock,
            KIND_WEBHOOK,
            poll,
            "webhook sender",
            || self.send_once(),
            shutdown,
        )
        .await
    }

    fn endpoint(&self, id: &str) -> Option<Arc<Endpoint>> {
        self.endpoints.read().ok()?.get(id).cloned()
    }

    /// One attempt at `message` (whose endpoint was in `state` when the
    /// pass began): what to record.
    async fn deliver(
        &self,
        message: &OutboundMessage,
        mut state: EndpointState,
    ) -> Result<AttemptOutcome, StoreError> {
        let now = unix_ms(&*self.clock);
        let outcome =
            |log: Option<AttemptRecord>, next: Next, error: Option<String>| AttemptOutcome {
                message: message.clone(),
                log,
                next,
                error,
            };
        let max = self.config.schedule.max_attempts();
        if message.attempts > max {
            let error = format!("no outcome after {max} attempts (leases ran out)");
            return Ok(outcome(None, Next::Dead, Some(error)));
        }
        let Some(endpoint) = self.endpoint(&message.endpoint) else {
            let error = format!("endpoint {:?} is not registered", message.endpoint);
            return Ok(outcome(None, Next::Dead, Some(error)));
        };
        if state.disabled_at.is_some() {
            let why = state.disabled_reason.clone().unwrap_or_default();
            let error = format!("endpoint disabled: {why}");
            return Ok(outcome(None, Next::Dead, Some(error)));
        }
        let signed = endpoint
            .verifier
            .sign(&message.body, &message.message_id, now / 1000, None)
            .map_err(|e| StoreError::Backend(format!("signing: {e}")))?;
        let mut request = Request::new(
            OperationMeta::new("webhook", Method::POST, "/"),
            endpoint.url.clone(),
        )
        .with_body(message.body.clone());
        request.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in signed.headers {
            // Signatures and ids are ASCII; one that is not is a bug to
            // report, not a header to leave out.
            let value = HeaderValue::from_str(&value).map_err(|_| {
                StoreError::Backend(format!("signing: {name} is not a header value"))
            })?;
            request.headers.insert(name, value);
        }
        let started = self.clock.now();
        let result = endpoint
            .integration
            .call(request, CallOptions::default())
            .await;
        let latency_ms = ms(self.clock.now().saturating_duration_since(started));
        let attempt = |status: Option<u16>, error: Option<String>| AttemptRecord {
            message_id: message.message_id.clone(),
            attempt: message.attempts,
            at: now,
            status,
            latency_ms,
            error,
        };
        let retry = |after: Option<Duration>| {
            self.config
                .schedule
                .next_attempt_after(message.attempts, now, after)
                .map_or(Next::Dead, Next::RetryAt)
        };
        let wall = UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0));
        let (log, next, error) = match Verdict::of(&result, wall) {
            Verdict::Delivered { status } => {
                if state.failing_since.take().is_some() {
                    self.store
                        .set_endpoint_state(&message.endpoint, &state)
                        .await?;
                }
                return Ok(outcome(Some(attempt(Some(status), None)), Next::Done, None));
            }
            Verdict::NotSent { after, why } => {
                let at = now.saturating_add(ms(after));
                return Ok(outcome(None, Next::Release(at), Some(why)));
            }
            Verdict::Gone { error } => {
                let why = "the endpoint answered 410 Gone";
                self.disable(&message.endpoint, &mut state, now, why)
                    .await?;
                (attempt(Some(410), Some(error.clone())), Next::Dead, error)
            }
            Verdict::Permanent { status, error } => {
                (attempt(status, Some(error.clone())), Next::Dead, error)
            }
            Verdict::Retry {
                status,
                error,
                after,
            } => (attempt(status, Some(error.clone())), retry(after), error),
        };
        let next = self
            .failing(&message.endpoint, &mut state, now, next)
            .await?;
        Ok(outcome(Some(log), next, Some(error)))
    }

    /// Notes a failure; past `disable_after` of failing, disables the
    /// endpoint and gives the message up.
    async fn failing(
        &self,
        endpoint: &str,
        state: &mut EndpointState,
        now: i64,
        next: Next,
    ) -> Result<Next, StoreError> {
        if state.disabled_at.is_some() {
            return Ok(Next::Dead);
        }
        match state.failing_since {
            None => {
                state.failing_since = Some(now);
                self.store.set_endpoint_state(endpoint, state).await?;
                Ok(next)
            }
            Some(since) if now.saturating_sub(since) >= ms(self.config.disable_after) => {
                let why = format!(
                    "failing for {} s without a success",
                    now.saturating_sub(since) / 1000
                );
                self.disable(endpoint, state, now, &why).await?;
                Ok(Next::Dead)
            }
            Some(_) => Ok(next),
        }
    }

    async fn disable(
        &self,
        endpoint: &str,
        state: &mut EndpointState,
        now: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        state.disabled_at = Some(now);
        state.disabled_reason = Some(why.to_owned());
        self.store.set_endpoint_state(endpoint, state).await?;
        super::metrics::endpoint_disabled(endpoint, why);
        Ok(())
    }

    /// Re-enables a disabled endpoint (its failing time starts again).
    pub async fn enable(&self, endpoint: &str) -> Result<(), StoreError> {
        self.store
            .set_endpoint_state(endpoint, &EndpointState::default())
            .await
    }
}
