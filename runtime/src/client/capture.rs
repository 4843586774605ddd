//! Calls of generated operations queued instead of sent: [`capture`] runs
//! a generated method on a client that records the request it would send
//! (a [`QueuedCall`]) instead of sending it, so an app can put the call in
//! its outbox in the same transaction as its own write; a relay sends it
//! later through the request path with the outbox row's id as the
//! idempotency key.

use super::ClientCore;
use crate::call::{OperationMeta, Request};
use base64::Engine as _;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A generated client: its core, and one made from a core (what
/// [`capture`] needs to run its methods in capture mode).
pub trait GeneratedClient: Sized {
    fn client_core(&self) -> &ClientCore;
    fn from_core(core: ClientCore) -> Self;
}

/// A call as the relay will make it: which integration and operation, the
/// URL, the headers (no credentials: the relay's integration adds them)
/// and the body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueuedCall {
    pub integration: String,
    pub operation: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The body, base64.
    pub body: String,
    /// The call's timeout, when one was set.
    pub timeout_ms: Option<u64>,
}

/// Why a call could not be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// The method built no request (it failed before, e.g. a parameter
    /// that cannot be sent; the method's own error says why).
    NothingCaptured(String),
    /// A header that carries a credential would have been stored.
    SecretHeader(String),
    /// A streamed body cannot be stored.
    StreamedBody,
    /// A stored call that does not read back.
    Corrupt(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NothingCaptured(why) => write!(f, "the call built no request: {why}"),
            CaptureError::SecretHeader(name) => write!(
                f,
                "header {name} carries a credential and would be stored; the relay's integration adds credentials"
            ),
            CaptureError::StreamedBody => f.write_str("a streamed body cannot be queued"),
            CaptureError::Corrupt(why) => write!(f, "queued call: {why}"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// Where a capturing core puts what it would have sent.
pub(crate) type Slot = Arc<Mutex<Option<Result<QueuedCall, CaptureError>>>>;

impl QueuedCall {
    pub(crate) fn from_request(
        integration: &str,
        request: &Request,
        timeout: Option<Duration>,
    ) -> Result<Self, CaptureError> {
        let body = match request.body.as_bytes() {
            Some(bytes) => base64::engine::general_purpose::STANDARD.encode(bytes),
            None if request.body.is_empty() => String::new(),
            None => return Err(CaptureError::StreamedBody),
        };
        let mut headers = Vec::with_capacity(request.headers.len());
        for (name, value) in &request.headers {
            let name = name.as_str();
            // The relay sets the idempotency key: the outbox row's id.
            if name.eq_ignore_ascii_case("idempotency-key") {
                continue;
            }
            if crate::redact::is_sensitive(name) {
                return Err(CaptureError::SecretHeader(name.to_owned()));
            }
            let value = value
                .to_str()
                .map_err(|_| CaptureError::Corrupt(format!("header {name} is not text")))?;
            headers.push((name.to_owned(), value.to_owned()));
        }
        Ok(QueuedCall {
            integration: integration.to_owned(),
            operation: request.operation.name.to_string(),
            url: request.url.clone(),
            headers,
            body,
            timeout_ms: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        })
    }

    /// The request again, for `operation` (the generated metadata the
    /// relay looks up by name, so the call keeps its security schemes).
    pub fn to_request(&self, operation: &OperationMeta) -> Result<Request, CaptureError> {
        let body = base64::engine::general_purpose::STANDARD
            .decode(&self.body)
            .map_err(|e| CaptureError::Corrupt(format!("body: {e}")))?;
        let mut request = Request::new(operation.clone(), self.url.clone()).with_body(body);
        for (name, value) in &self.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CaptureError::Corrupt(format!("header name {name:?}")))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| CaptureError::Corrupt(format!("header {name}")))?;
            request.headers.append(name, value);
        }
        Ok(request)
    }

    /// The stored form (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CaptureError> {
        serde_json::from_slice(bytes).map_err(|e| CaptureError::Corrupt(e.to_string()))
    }
}

/// Runs `call` (a generated method) on a capturing copy of `client` and
/// returns the request it would have sent, unsent:
/// `capture(&client, |c| async move { c.create_issue("o", "r", &issue, Default::default()).await }).await?`.
/// The method's own result (an error saying the call was captured) is
/// dropped.
pub async fn capture<C, F, Fut, T>(client: &C, call: F) -> Result<QueuedCall, CaptureError>
where
    C: GeneratedClient,
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = T>,
{
    let slot: Slot = Arc::default();
    let capturing = C::from_core(client.client_core().capturing(Arc::clone(&slot)));
    let outcome = call(capturing).await;
    drop(outcome);
    let captured = slot.lock().ok().and_then(|mut s| s.take());
    captured.unwrap_or_else(|| {
        Err(CaptureError::NothingCaptured(
            "the method sent nothing".into(),
        ))
    })
}
