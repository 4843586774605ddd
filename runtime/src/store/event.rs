//! What goes into the store and what comes out of it.

use bytes::Bytes;

/// A verified delivery to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Which endpoint it came to (`github`, `billing`): with the event id,
    /// what makes it unique.
    pub source: String,
    /// The provider's event id (or, for providers without one, a digest of
    /// the body).
    pub event_id: String,
    /// Unix milliseconds.
    pub received_at: i64,
    /// The headers a handler may dispatch on, signatures left out.
    pub headers: Vec<(String, String)>,
    /// The raw body, as verified.
    pub body: Bytes,
    /// Events with the same key (per source) are processed one at a time,
    /// in arrival order.
    pub order_key: Option<String>,
}

/// What [`Store::insert`](super::Store::insert) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this sequence number.
    Stored(i64),
    /// Already there (a redelivery): nothing stored.
    Duplicate,
}

/// A worker's request for due events.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Unix milliseconds.
    pub now: i64,
    /// How long the lease lasts, in milliseconds.
    pub lease_ms: i64,
    pub limit: usize,
}

/// An event as stored, leased to the worker that claimed it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub source: String,
    pub event_id: String,
    pub received_at: i64,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub order_key: Option<String>,
    /// Attempts so far, this one included.
    pub attempts: u32,
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) lease_token: String,
}

impl StoredEvent {
    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A failed attempt.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Unix milliseconds.
    pub now: i64,
    /// Why (already redacted and bounded by the worker).
    pub error: String,
    /// When to try again; `None` sends the event to the dead-letter queue.
    pub retry_at: Option<i64>,
}

/// An event in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub seq: i64,
    pub source: String,
    pub event_id: String,
    pub received_at: i64,
    pub dead_at: i64,
    pub attempts: u32,
    pub last_error: String,
    pub body: Bytes,
    pub direction: Direction,
}

/// Which queue a dead letter is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// An inbound event (its source is the receiver's).
    Inbound,
    /// An outbound message (its source is the endpoint).
    Outbound,
}

impl Direction {
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Which dead letters to list or replay. Every field that is set must
/// match; the default matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayFilter {
    pub event_id: Option<String>,
    pub source: Option<String>,
    /// Dead at or after (Unix milliseconds).
    pub since: Option<i64>,
    /// Dead before (Unix milliseconds).
    pub until: Option<i64>,
}

/// One source's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    pub source: String,
    /// Pending or being processed.
    pub pending: u64,
    pub dead: u64,
    /// The oldest pending event's arrival (Unix milliseconds).
    pub oldest_pending: Option<i64>,
}

/// Headers as stored (a JSON array of pairs).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn headers_to_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}

/// Headers read back; a row that does not parse gives none rather than
/// failing the event (the body is what was verified).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn headers_from_json(text: &str) -> Vec<(String, String)> {
    serde_json::from_str(text).unwrap_or_default()
}

/// An error text bounded to [`super::MAX_ERROR_LEN`] bytes, cut at a
/// character boundary.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn bounded(text: &str) -> &str {
    if text.len() <= super::MAX_ERROR_LEN {
        return text;
    }
    let mut end = super::MAX_ERROR_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
