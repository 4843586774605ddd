//! What generated clients are made of: [`ClientCore`] (an integration and a
//! base URL), [`RequestParts`] (parameters and bodies serialized the way
//! OpenAPI defines), [`Reply`]/[`ApiError`] (typed outcomes that keep the
//! raw response), and pagination streams.

mod body;
mod capture;
mod paginate;
mod params;
mod reply;
mod request;

pub use body::{form as form_body, FieldEncoding, Multipart};
pub use capture::{capture, CaptureError, GeneratedClient, QueuedCall};
pub use futures_util::stream::Stream;
pub use paginate::{next_link, next_offset, paginate};
pub use params::Style;
pub use reply::{
    link, provider_message, ApiError, ErrorResponse, Quota, RawReply, Reply, ReplyFuture,
};
pub use request::RequestParts;

use crate::call::{ByteStream, CallOptions, ErrorKind, Integration, OperationMeta, Request};
use bytes::Bytes;
use futures_util::future::Either;
use futures_util::FutureExt;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE};
use http::HeaderMap;
use std::sync::Arc;

/// Largest non-success body read whole from a streaming call.
const MAX_NON_SUCCESS_BODY: usize = 1024 * 1024;

/// What a streaming call gave: a successful body as a stream, or any other
/// response whole.
#[derive(Debug)]
pub enum Streamed {
    Body(Reply<ByteStream>),
    Raw(RawReply),
}

/// Per-call settings every generated method's options carry: the runtime's
/// [`CallOptions`] (deadline, retry, idempotency key...), extra headers, and
/// a raw body for media types the typed method does not pick.
#[derive(Clone, Default)]
pub struct CallSettings {
    pub options: CallOptions,
    /// Added to (and replacing) the generated headers.
    pub headers: HeaderMap,
    /// Sends these bytes with this media type instead of the typed body (for
    /// an operation that also accepts e.g. XML when wharf picked JSON).
    pub raw_body: Option<(String, Bytes)>,
    /// An absolute URL to call instead of the one built from the
    /// parameters (used to follow `Link: rel="next"`); it must be on the
    /// client's origin, so credentials never go elsewhere.
    pub url: Option<String>,
}

/// The options of an operation without optional parameters: the per-call
/// settings alone. A generated `…Options` of such an operation is an alias
/// of it (`GetReviewOptions { call }` and `::default()` work the same).
#[derive(Debug, Clone, Default)]
pub struct CallOnlyOptions {
    /// Deadline, retry, idempotency key, extra headers, a raw body.
    pub call: CallSettings,
}

/// Extra headers may carry credentials and raw bodies anything: `Debug`
/// shows header names and body sizes only.
impl std::fmt::Debug for CallSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallSettings")
            .field("options", &self.options)
            .field("headers", &crate::redact::Headers(&self.headers))
            .field(
                "raw_body",
                &self
                    .raw_body
                    .as_ref()
                    .map(|(media, body)| (media, crate::redact::BodySize(body))),
            )
            .field("url", &self.url.as_deref().map(crate::redact::url))
            .finish()
    }
}

/// An integration plus the base URL its operations are relative to. Every
/// generated client wraps one.
#[derive(Debug, Clone)]
pub struct ClientCore {
    integration: Integration,
    base_url: Arc<str>,
    /// Set on a capturing copy: requests are recorded here, not sent.
    capture: Option<capture::Slot>,
}

impl ClientCore {
    pub fn new(integration: Integration, base_url: impl AsRef<str>) -> Self {
        ClientCore {
            integration,
            base_url: Arc::from(base_url.as_ref().trim_end_matches('/')),
            capture: None,
        }
    }

    /// A copy that records the requests it would send in `slot` instead
    /// of sending them (see [`capture()`]).
    pub(crate) fn capturing(&self, slot: capture::Slot) -> Self {
        ClientCore {
            capture: Some(slot),
            ..self.clone()
        }
    }

    pub fn integration(&self) -> &Integration {
        &self.integration
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Starts a request for `operation`.
    pub fn request(&self, operation: &'static OperationMeta) -> RequestParts {
        RequestParts::new(operation)
    }

    /// Sends a request through the integration's request path. Responses of
    /// any status come back as [`RawReply`] for the generated code to
    /// interpret; failures without a response are [`ApiError::Call`].
    ///
    /// Not an `async fn`: the request is built at once, so the future
    /// holds only the running call, not the parts and settings it was
    /// built from.
    pub fn send<'a, E: 'a>(
        &'a self,
        parts: RequestParts,
        settings: CallSettings,
    ) -> impl std::future::Future<Output = Result<RawReply, ApiError<E>>> + 'a {
        let operation = parts.operation;
        let request = match self.build(parts, settings.headers, settings.raw_body, settings.url) {
            Ok(request) => request,
            Err(e) => return Either::Left(std::future::ready(Err(e))),
        };
        if let Some(slot) = &self.capture {
            let timeout = settings.options.timeout;
            let captured = QueuedCall::from_request(self.integration.name(), &request, timeout);
            if let Ok(mut slot) = slot.lock() {
                slot.get_or_insert(captured);
            }
            let error = ApiError::Call(Box::new(crate::call::Error {
                kind: ErrorKind::InvalidRequest {
                    reason: "captured for the outbox, not sent".into(),
                },
                integration: self.integration.name().to_owned(),
                operation: static_name(operation).to_owned(),
                attempts: 0,
                budget_exhausted: false,
            }));
            return Either::Left(std::future::ready(Err(error)));
        }
        let call = self.integration.call_counted(request, settings.options);
        Either::Right(call.map(move |result| match result {
            Ok((r, attempts)) => Ok(self.raw(operation, r.status, r.headers, r.body, attempts)),
            Err(e) => self.error_reply(operation, e),
        }))
    }

    /// Sends a request and hands the response to `read`, a generated
    /// method's `match` from status to outcome. Built at once, as by
    /// [`send`](Self::send): the future holds the running call and `read`.
    pub fn call<'a, T, E: 'a, F>(
        &'a self,
        parts: RequestParts,
        settings: CallSettings,
        read: F,
    ) -> impl ReplyFuture<T, E> + 'a
    where
        F: FnOnce(RawReply) -> Result<Reply<T>, ApiError<E>> + 'a,
    {
        self.send(parts, settings).map(|raw| raw.and_then(read))
    }

    /// Sends a request whose successful (2xx) response body is handed over
    /// as a stream ([`Streamed::Body`]); any other response is read whole
    /// and comes back as [`Streamed::Raw`] for the generated code to
    /// interpret, as from [`ClientCore::send`].
    pub async fn send_streaming<E>(
        &self,
        parts: RequestParts,
        settings: CallSettings,
    ) -> Result<Streamed, ApiError<E>> {
        let operation = parts.operation;
        let request = self.build(parts, settings.headers, settings.raw_body, settings.url)?;
        let r = match self
            .integration
            .call_streaming(request, settings.options)
            .await
        {
            Ok(r) => r,
            Err(e) => return self.error_reply(operation, e).map(Streamed::Raw),
        };
        if r.status.is_success() {
            return Ok(Streamed::Body(Reply {
                status: r.status,
                headers: r.headers,
                value: r.body,
            }));
        }
        // A non-2xx status the request path let through (3xx, or one a
        // classifier accepted): read it whole for the generated dispatch.
        let body = r
            .body
            .collect(MAX_NON_SUCCESS_BODY)
            .await
            .map_err(|error| {
                ApiError::Call(Box::new(crate::call::Error {
                    kind: ErrorKind::Transport {
                        error,
                        class: crate::call::ErrorClass::Permanent,
                    },
                    integration: self.integration.name().to_owned(),
                    operation: static_name(operation).to_owned(),
                    attempts: r.attempts,
                    budget_exhausted: false,
                }))
            })?;
        Ok(Streamed::Raw(
            self.raw(operation, r.status, r.headers, body, r.attempts),
        ))
    }

    fn raw(
        &self,
        operation: &'static OperationMeta,
        status: http::StatusCode,
        headers: HeaderMap,
        body: Bytes,
        attempts: u32,
    ) -> RawReply {
        RawReply::new(
            self.integration.clone(),
            operation,
            status,
            headers,
            body,
            None,
            attempts,
        )
    }

    /// A failed call as a reply when a response arrived (an error status),
    /// else as [`ApiError::Call`].
    fn error_reply<E>(
        &self,
        operation: &'static OperationMeta,
        e: crate::call::Error,
    ) -> Result<RawReply, ApiError<E>> {
        match e.kind {
            ErrorKind::Status {
                status,
                class,
                headers,
                body,
            } => Ok(RawReply::new(
                self.integration.clone(),
                operation,
                status,
                headers,
                body,
                Some(class),
                e.attempts,
            )),
            _ => Err(ApiError::Call(Box::new(e))),
        }
    }

    /// The request for `parts` and the call's settings, or why there is
    /// none (as [`ApiError::Call`] with `ErrorKind::InvalidRequest`:
    /// nothing was sent).
    fn build<E>(
        &self,
        parts: RequestParts,
        extra_headers: HeaderMap,
        raw_body: Option<(String, Bytes)>,
        url: Option<String>,
    ) -> Result<Request, ApiError<E>> {
        let operation = parts.operation;
        self.build_request(parts, extra_headers, raw_body, url)
            .map_err(|reason| {
                ApiError::Call(Box::new(crate::call::Error {
                    kind: ErrorKind::InvalidRequest { reason },
                    integration: self.integration.name().to_owned(),
                    operation: static_name(operation).to_owned(),
                    attempts: 0,
                    budget_exhausted: false,
                }))
            })
    }

    fn build_request(
        &self,
        parts: RequestParts,
        extra_headers: HeaderMap,
        raw_body: Option<(String, Bytes)>,
        url: Option<String>,
    ) -> Result<Request, String> {
        if let Some(e) = parts.error {
            return Err(e);
        }
        let url = match url {
            Some(url) => {
                if !same_origin(&self.base_url, &url) {
                    return Err("a next-page URL points to another origin; not followed".into());
                }
                url
            }
            None => {
                let mut url = String::with_capacity(
                    self.base_url.len() + parts.path.len() + parts.query.len() * 16 + 1,
                );
                url.push_str(&self.base_url);
                url.push_str(&parts.path);
                for (i, pair) in parts.query.iter().enumerate() {
                    url.push(if i == 0 { '?' } else { '&' });
                    url.push_str(pair);
                }
                url
            }
        };
        let mut headers = parts.headers;
        // Before the caller's extra headers, which may replace it.
        if !parts.operation.accept.is_empty() {
            let accept = HeaderValue::from_str(parts.operation.accept).map_err(|_| {
                format!(
                    "the operation's Accept value {:?} cannot be sent",
                    parts.operation.accept
                )
            })?;
            headers.insert(ACCEPT, accept);
        }
        if !parts.cookies.is_empty() {
            let cookie = HeaderValue::from_str(&parts.cookies.join("; "))
                .map_err(|_| "a cookie value cannot be sent".to_owned())?;
            headers.insert(COOKIE, cookie);
        }
        let mut body = parts.body;
        if let Some((content_type, bytes)) = raw_body {
            let v = HeaderValue::from_str(&content_type)
                .map_err(|_| format!("invalid content type {content_type:?}"))?;
            headers.insert(CONTENT_TYPE, v);
            body = bytes.into();
        }
        let mut previous = None;
        for (name, value) in extra_headers {
            // `HeaderMap::into_iter` gives a name only for a name's first value.
            let name = match name {
                Some(n) => {
                    headers.remove(&n);
                    previous = Some(n.clone());
                    n
                }
                None => match &previous {
                    Some(n) => n.clone(),
                    None => continue,
                },
            };
            headers.append(name, value);
        }
        Ok(Request {
            operation: parts.operation.clone(),
            url,
            headers,
            body,
        })
    }
}

fn static_name(op: &'static OperationMeta) -> &'static str {
    match &op.name {
        std::borrow::Cow::Borrowed(s) => s,
        std::borrow::Cow::Owned(s) => s.as_str(),
    }
}

/// Same scheme, host and port.
fn same_origin(base: &str, other: &str) -> bool {
    match (url::Url::parse(base), url::Url::parse(other)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins() {
        assert!(super::same_origin(
            "https://api.x.com/v1",
            "https://api.x.com/v1/a?page=2"
        ));
        assert!(!super::same_origin(
            "https://api.x.com",
            "https://evil.com/a"
        ));
        assert!(!super::same_origin(
            "https://api.x.com",
            "http://api.x.com/a"
        ));
        assert!(!super::same_origin("https://api.x.com", "/relative"));
    }
}
