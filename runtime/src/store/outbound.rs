//! The outbox: messages an app sends (outbound webhooks to its customers'
//! endpoints), enqueued durably, in the app's own transaction when it
//! wants, and delivered by a sender with retries on a schedule, a log of
//! every attempt, and the same dead-letter queue as inbound events.

use super::error::StoreError;
use super::event::{Claim, DeadLetter, Inserted, ReplayFilter};
use bytes::Bytes;
use std::future::Future;

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The message's id: sent as `webhook-id` on every attempt, and unique
    /// (enqueuing the same id twice stores it once).
    pub message_id: String,
    /// The endpoint (the sender's name for it) to deliver to.
    pub endpoint: String,
    /// What happened (`invoice.paid`), for logs and filtering.
    pub event_type: String,
    pub body: Bytes,
    /// Unix milliseconds: when it was enqueued, and when it is first due.
    pub created_at: i64,
    pub due_at: i64,
    /// Who sends it: [`KIND_WEBHOOK`] (a sender) or [`KIND_CALL`] (a relay).
    pub kind: &'static str,
}

/// An outbound webhook message.
pub const KIND_WEBHOOK: &str = "webhook";
/// A queued call of a generated operation.
pub const KIND_CALL: &str = "call";

impl NewMessage {
    /// A message with a new id (`msg_` and 32 hex digits of OS
    /// randomness), due at `now`.
    pub fn new(
        endpoint: impl Into<String>,
        event_type: impl Into<String>,
        body: impl Into<Bytes>,
        now: i64,
    ) -> Result<Self, crate::RandomSourceFailed> {
        Ok(NewMessage {
            message_id: format!("msg_{}", crate::ids::correlation_id()?),
            endpoint: endpoint.into(),
            event_type: event_type.into(),
            body: body.into(),
            created_at: now,
            due_at: now,
            kind: KIND_WEBHOOK,
        })
    }

    /// A queued call (see `wharf::client::capture`), due at `now`. Its id
    /// is the call's idempotency key when the relay sends it.
    pub fn call(
        call: &crate::client::QueuedCall,
        now: i64,
    ) -> Result<Self, crate::RandomSourceFailed> {
        Ok(NewMessage {
            message_id: crate::ids::idempotency_key()?,
            endpoint: call.integration.clone(),
            event_type: call.operation.clone(),
            body: call.to_bytes().into(),
            created_at: now,
            due_at: now,
            kind: KIND_CALL,
        })
    }
}

/// A message leased to the sender that claimed it.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub seq: i64,
    pub message_id: String,
    pub endpoint: String,
    pub event_type: String,
    pub body: Bytes,
    pub created_at: i64,
    /// Attempts so far, this one included.
    pub attempts: u32,
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) lease_token: String,
}

/// One delivery attempt, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub message_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Unix milliseconds.
    pub at: i64,
    /// The endpoint's status, when it answered.
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed (redacted), when it did.
    pub error: Option<String>,
}

/// What becomes of a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered.
    Done,
    /// Another attempt at this time (Unix milliseconds).
    RetryAt(i64),
    /// Given up on: to the dead-letter queue.
    Dead,
    /// Not sent (an open breaker, a local rate limit): due again at this
    /// time, without counting the attempt.
    Release(i64),
}

/// An attempt's result, to record: the message (with its lease), the log
/// row (none when nothing was sent), what comes next and why.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub message: OutboundMessage,
    pub log: Option<AttemptRecord>,
    pub next: Next,
    pub error: Option<String>,
}

/// What the sender remembers of an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointState {
    /// When it was disabled (Unix milliseconds), and why.
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
    /// The start of its current run of failures.
    pub failing_since: Option<i64>,
}

/// One endpoint's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStatus {
    /// [`KIND_WEBHOOK`] or [`KIND_CALL`].
    pub kind: String,
    pub endpoint: String,
    pub pending: u64,
    pub in_flight: u64,
    pub dead: u64,
    /// The oldest pending or in-flight message's creation (Unix ms).
    pub oldest_pending: Option<i64>,
}

/// Where outbound messages wait. Times are Unix milliseconds from the
/// caller's clock.
pub trait OutboxStore: Send + Sync + 'static {
    /// Stores `message` unless its id is already there. Durable when it
    /// returns.
    fn enqueue(
        &self,
        message: NewMessage,
    ) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    /// Leases up to `claim.limit` due messages of `kind` (pending and due,
    /// or in flight under a lease that ran out), counting an attempt on each.
    fn claim_messages(
        &self,
        claim: Claim,
        kind: &'static str,
    ) -> impl Future<Output = Result<Vec<OutboundMessage>, StoreError>> + Send;

    /// Logs each outcome's attempt and moves its message on, all in one
    /// transaction; each only if its lease is still the message's (`false`
    /// at its place in the result otherwise: nothing changes for it).
    fn record_attempts(
        &self,
        outcomes: &[AttemptOutcome],
        now: i64,
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;

    fn endpoint_state(
        &self,
        endpoint: &str,
    ) -> impl Future<Output = Result<EndpointState, StoreError>> + Send;

    fn set_endpoint_state(
        &self,
        endpoint: &str,
        state: &EndpointState,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every attempt at `message_id`, first to last.
    fn delivery_log(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<Vec<AttemptRecord>, StoreError>> + Send;

    /// Per kind and endpoint: pending, in flight, dead, and the oldest
    /// waiting.
    fn outbox_status(&self) -> impl Future<Output = Result<Vec<OutboxStatus>, StoreError>> + Send;

    /// Dead messages matching `filter` (`source` is the endpoint), oldest
    /// first; `DeadLetter::event_id` is the message id.
    fn dead_messages(
        &self,
        filter: &ReplayFilter,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    /// Puts the dead messages matching `filter` back, due at `now`, their
    /// attempts reset; returns how many.
    fn replay_messages(
        &self,
        filter: &ReplayFilter,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
