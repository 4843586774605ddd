//! What a generated method returns: [`Reply`] (the decoded value with the
//! status and headers) or [`ApiError`] (a documented error body, a response
//! that did not decode, or a failed call), with the raw body kept whenever
//! one arrived.

use crate::binary::Binary;
use crate::call::{Error, ErrorClass, ErrorKind, Integration, OperationMeta};
use crate::decode::{Decode, DecodeError};
use crate::redact;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::fmt;

/// What a generated method returns: a future of the typed reply, or of
/// the error (`E` types the error bodies the spec documents). `.await`
/// gives `Result<Reply<T>, ApiError<E>>`; every such future is one.
pub trait ReplyFuture<T, E>: std::future::Future<Output = Result<Reply<T>, ApiError<E>>> {}

impl<F, T, E> ReplyFuture<T, E> for F where
    F: std::future::Future<Output = Result<Reply<T>, ApiError<E>>> + ?Sized
{
}

/// A successful response: the decoded value, its status and headers.
#[derive(Clone)]
pub struct Reply<T> {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub value: T,
}

impl<T> Reply<T> {
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The same reply with its value transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply {
            status: self.status,
            headers: self.headers,
            value: f(self.value),
        }
    }

    /// The target of the RFC 8288 `Link` header with relation `rel`.
    pub fn link(&self, rel: &str) -> Option<String> {
        link(&self.headers, rel)
    }

    /// Rate-limit headers, when the provider sends them.
    pub fn rate_limit(&self) -> Option<Quota> {
        Quota::from_headers(&self.headers)
    }
}

impl<T> std::ops::Deref for Reply<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &redact::Headers(&self.headers))
            .field("value", &self.value)
            .finish()
    }
}

/// The provider's quota as its response headers state it (`X-RateLimit-*`,
/// `RateLimit-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// As sent: epoch seconds or seconds from now, depending on the provider.
    pub reset: Option<u64>,
}

impl Quota {
    pub fn from_headers(headers: &HeaderMap) -> Option<Quota> {
        let get = |names: &[&str]| {
            names.iter().find_map(|n| {
                headers
                    .get(*n)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
        };
        let r = Quota {
            limit: get(&["x-ratelimit-limit", "ratelimit-limit"]),
            remaining: get(&["x-ratelimit-remaining", "ratelimit-remaining"]),
            reset: get(&["x-ratelimit-reset", "ratelimit-reset"]),
        };
        (r.limit.is_some() || r.remaining.is_some() || r.reset.is_some()).then_some(r)
    }
}

/// The target of the first `Link` header entry whose `rel` includes `rel`.
pub fn link(headers: &HeaderMap, rel: &str) -> Option<String> {
    for value in headers.get_all(http::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for entry in split_links(value) {
            let Some((target, params)) = entry
                .trim()
                .strip_prefix('<')
                .and_then(|e| e.split_once('>'))
            else {
                continue;
            };
            let matches = params.split(';').any(|p| {
                let Some((k, v)) = p.split_once('=') else {
                    return false;
                };
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case(rel))
            });
            if matches {
                return Some(target.to_owned());
            }
        }
    }
    None
}

/// Entries of a `Link` header value: commas outside `<…>` and quotes.
fn split_links(value: &str) -> Vec<&str> {
    let (mut out, mut start, mut in_uri, mut in_quote) = (Vec::new(), 0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            '<' if !in_quote => in_uri = true,
            '>' if !in_quote => in_uri = false,
            '"' if !in_uri => in_quote = !in_quote,
            ',' if !in_uri && !in_quote => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

/// A response as received, before the generated code decides what its
/// status means.
pub struct RawReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The runtime's class for an error status (after its retries).
    pub class: Option<ErrorClass>,
    /// Attempts the call took.
    pub attempts: u32,
    integration: Integration,
    operation: &'static str,
}

/// Headers and body may carry secrets: names and sizes only.
impl fmt::Debug for RawReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawReply")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("class", &self.class)
            .field("attempts", &self.attempts)
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &redact::BodySize(&self.body))
            .finish()
    }
}

/// Why a generated method failed. Every variant that had a response keeps
/// its status, headers and raw body.
#[non_exhaustive]
pub enum ApiError<E> {
    /// The provider answered with a documented error status; its body
    /// decoded as documented.
    Response(Box<ErrorResponse<E>>),
    /// A response that did not decode as the spec says.
    Decode {
        response: Box<ErrorResponse<()>>,
        error: Box<DecodeError>,
    },
    /// A status the spec does not document (and no `default` covers).
    UnexpectedStatus(Box<ErrorResponse<()>>),
    /// The call failed without a usable response: the arguments cannot be
    /// put into a request (`ErrorKind::InvalidRequest`, e.g. a header value
    /// with a line break), or transport, deadline, breaker, bulkhead or
    /// rate limit (see [`Error::kind`]).
    Call(Box<Error>),
}

/// An error response: status, headers, raw body, and the decoded value.
#[derive(Clone)]
pub struct ErrorResponse<E> {
    pub operation: &'static str,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub value: E,
    /// The runtime's class (transient, rate-limited, permanent, ambiguous).
    pub class: ErrorClass,
    pub attempts: u32,
}

impl<E> ApiError<E> {
    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Response(r) => Some(r.status),
            ApiError::Decode { response, .. } | ApiError::UnexpectedStatus(response) => {
                Some(response.status)
            }
            ApiError::Call(e) => e.status(),
        }
    }

    /// The raw body, when a response arrived.
    pub fn body(&self) -> Option<&Bytes> {
        match self {
            ApiError::Response(r) => Some(&r.body),
            ApiError::Decode { response, .. } | ApiError::UnexpectedStatus(response) => {
                Some(&response.body)
            }
            ApiError::Call(e) => match &e.kind {
                ErrorKind::Status { body, .. } => Some(body),
                _ => None,
            },
        }
    }

    /// The documented error body, when that is what came back.
    pub fn value(&self) -> Option<&E> {
        match self {
            ApiError::Response(r) => Some(&r.value),
            _ => None,
        }
    }

    /// The failure's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            ApiError::Response(r) => r.class,
            ApiError::Decode { .. } => ErrorClass::Permanent,
            ApiError::UnexpectedStatus(r) => r.class,
            ApiError::Call(e) => e.class(),
        }
    }
}

impl<E> ErrorResponse<E> {
    /// How long the provider asked to wait (`Retry-After` in seconds or as
    /// an HTTP date, or a rate-limit reset header), from now.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after_at(std::time::SystemTime::now())
    }

    /// [`ErrorResponse::retry_after`] from `now`: pass your clock's
    /// [`crate::time::Clock::wall`] when the app runs on a clock of its own
    /// (a paused one in tests), since dates and epoch resets depend on it.
    pub fn retry_after_at(&self, now: std::time::SystemTime) -> Option<std::time::Duration> {
        crate::call::requested_delay(&self.headers, now)
    }

    /// Rate-limit headers, when the provider sends them.
    pub fn rate_limit(&self) -> Option<Quota> {
        Quota::from_headers(&self.headers)
    }
}

impl<E: fmt::Debug> fmt::Debug for ErrorResponse<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorResponse")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("class", &self.class)
            .field("attempts", &self.attempts)
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &redact::BodySize(&self.body))
            .field("value", &self.value)
            .finish()
    }
}

impl<E: fmt::Debug> fmt::Debug for ApiError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Response(r) => f.debug_tuple("Response").field(r).finish(),
            ApiError::Decode { response, error } => f
                .debug_struct("Decode")
                .field("response", response)
                .field("error", error)
                .finish(),
            ApiError::UnexpectedStatus(r) => f.debug_tuple("UnexpectedStatus").field(r).finish(),
            ApiError::Call(e) => f.debug_tuple("Call").field(e).finish(),
        }
    }
}

/// The largest error body searched for the provider's message.
const MAX_MESSAGE_BODY: usize = 64 * 1024;

/// The longest provider message kept (in characters).
const MAX_MESSAGE_CHARS: usize = 200;

/// The human message in a provider's JSON error body, where the common
/// shapes put it (`message`, `error_description`, `detail`, `title`, a
/// string `error`, `error.message`, `errors[0].message`), cut to 200
/// characters and with anything token-like redacted (providers echo
/// what they were sent).
pub fn provider_message(body: &[u8]) -> Option<String> {
    if body.len() > MAX_MESSAGE_BODY {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    fn text(v: &serde_json::Value) -> Option<&str> {
        v.as_str().map(str::trim).filter(|s| !s.is_empty())
    }
    let found = ["message", "error_description", "detail", "title", "error"]
        .iter()
        .find_map(|key| doc.get(key).and_then(text))
        .or_else(|| doc.pointer("/error/message").and_then(text))
        .or_else(|| doc.pointer("/errors/0/message").and_then(text))?;
    let cut: String = found.chars().take(MAX_MESSAGE_CHARS).collect();
    Some(redact::provider_text(&cut, &[]))
}

impl<E> fmt::Display for ApiError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = |f: &mut fmt::Formatter<'_>, body: &[u8]| match provider_message(body) {
            Some(m) => write!(f, ": {m}"),
            None => Ok(()),
        };
        match self {
            ApiError::Response(r) => {
                write!(
                    f,
                    "{}: HTTP {} ({}) after {} attempt(s)",
                    r.operation,
                    r.status,
                    r.class.as_str(),
                    r.attempts
                )?;
                message(f, &r.body)
            }
            ApiError::Decode { response, error } => write!(
                f,
                "{}: HTTP {} response does not decode as documented: {error}",
                response.operation, response.status
            ),
            ApiError::UnexpectedStatus(r) => {
                write!(
                    f,
                    "{}: HTTP {} is not documented by the spec ({} bytes kept)",
                    r.operation,
                    r.status,
                    r.body.len()
                )?;
                message(f, &r.body)
            }
            ApiError::Call(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for ApiError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Decode { error, .. } => Some(&**error),
            ApiError::Call(e) => Some(&**e),
            _ => None,
        }
    }
}

impl<E> From<Error> for ApiError<E> {
    fn from(e: Error) -> Self {
        ApiError::Call(Box::new(e))
    }
}

impl RawReply {
    pub(crate) fn new(
        integration: Integration,
        operation: &'static OperationMeta,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        class: Option<ErrorClass>,
        attempts: u32,
    ) -> Self {
        RawReply {
            status,
            headers,
            body,
            class,
            attempts,
            integration,
            operation: super::static_name(operation),
        }
    }

    /// The status as a number, for matching.
    pub fn code(&self) -> u16 {
        self.status.as_u16()
    }

    fn response<V>(self, value: V) -> Box<ErrorResponse<V>> {
        Box::new(ErrorResponse {
            operation: self.operation,
            status: self.status,
            class: self.class.unwrap_or(ErrorClass::Permanent),
            attempts: self.attempts,
            headers: self.headers,
            body: self.body,
            value,
        })
    }

    fn decode_value<T: Decode>(&self) -> Result<T, DecodeError> {
        self.integration.decode(self.operation, &self.body)
    }

    /// A success with a JSON body of type `T`.
    pub fn json<T: Decode, E>(self) -> Result<Reply<T>, ApiError<E>> {
        match self.decode_value::<T>() {
            Ok(value) => Ok(Reply {
                status: self.status,
                headers: self.headers,
                value,
            }),
            Err(error) => Err(ApiError::Decode {
                response: self.response(()),
                error: Box::new(error),
            }),
        }
    }

    /// A success whose body is text.
    pub fn text<E>(self) -> Result<Reply<String>, ApiError<E>> {
        match String::from_utf8(self.body.to_vec()) {
            Ok(value) => Ok(Reply {
                status: self.status,
                headers: self.headers,
                value,
            }),
            Err(e) => Err(ApiError::Decode {
                error: Box::new(DecodeError::Malformed {
                    line: 0,
                    column: e.utf8_error().valid_up_to(),
                    message: "body is not UTF-8 text".into(),
                }),
                response: self.response(()),
            }),
        }
    }

    /// A success whose body is kept as bytes (with its media type).
    pub fn binary<E>(self) -> Result<Reply<Binary>, ApiError<E>> {
        let content_type = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Reply {
            value: Binary {
                bytes: self.body,
                file_name: None,
                content_type,
            },
            status: self.status,
            headers: self.headers,
        })
    }

    /// A success without a body (anything sent is ignored).
    pub fn empty<E>(self) -> Result<Reply<()>, ApiError<E>> {
        Ok(Reply {
            value: (),
            status: self.status,
            headers: self.headers,
        })
    }

    /// A success with a JSON body of type `T`, wrapped into the operation's
    /// success enum by `wrap`.
    pub fn json_into<T: Decode, O, E>(
        self,
        wrap: impl FnOnce(T) -> O,
    ) -> Result<Reply<O>, ApiError<E>> {
        self.json::<T, E>().map(|r| r.map(wrap))
    }

    /// A text success, wrapped into the operation's success enum.
    pub fn text_into<O, E>(self, wrap: impl FnOnce(String) -> O) -> Result<Reply<O>, ApiError<E>> {
        self.text::<E>().map(|r| r.map(wrap))
    }

    /// A binary success, wrapped into the operation's success enum.
    pub fn binary_into<O, E>(
        self,
        wrap: impl FnOnce(Binary) -> O,
    ) -> Result<Reply<O>, ApiError<E>> {
        self.binary::<E>().map(|r| r.map(wrap))
    }

    /// A success without a body, as `value` of the operation's success enum.
    pub fn empty_as<O, E>(self, value: O) -> Result<Reply<O>, ApiError<E>> {
        self.empty::<E>().map(|r| r.map(|()| value))
    }

    /// A documented error status with a JSON body of type `T`, turned into
    /// the operation's error type by `wrap`.
    pub fn error_json<T: Decode, E, R>(self, wrap: impl FnOnce(T) -> E) -> Result<R, ApiError<E>> {
        match self.decode_value::<T>() {
            Ok(value) => Err(ApiError::Response(self.response(wrap(value)))),
            Err(error) => Err(ApiError::Decode {
                response: self.response(()),
                error: Box::new(error),
            }),
        }
    }

    /// A documented error status whose body is not JSON (kept raw).
    pub fn error_raw<E, R>(self, value: E) -> Result<R, ApiError<E>> {
        Err(ApiError::Response(self.response(value)))
    }

    /// A status the spec does not document.
    pub fn unexpected<E, R>(self) -> Result<R, ApiError<E>> {
        Err(ApiError::UnexpectedStatus(self.response(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_providers_message_is_shown_redacted() {
        let m = |body: &str| provider_message(body.as_bytes());
        assert_eq!(
            m(r#"{"message":"Not Found","documentation_url":"x"}"#).as_deref(),
            Some("Not Found")
        );
        assert_eq!(
            m(r#"{"error":{"message":"No such customer: cus_1","type":"invalid_request_error"}}"#)
                .as_deref(),
            Some("No such customer: cus_1")
        );
        assert_eq!(
            m(r#"{"errors":[{"message":"Validation failed"}]}"#).as_deref(),
            Some("Validation failed")
        );
        assert_eq!(
            m(r#"{"error":"invalid_grant","error_description":"expired"}"#).as_deref(),
            Some("expired")
        );
        assert_eq!(
            m(r#"{"message":"Invalid API key sk_live_4eC39HqLyjWDarjtT1zdp7dc"}"#).as_deref(),
            Some("Invalid API key [redacted]")
        );
        assert_eq!(m("<html>502</html>"), None);
        assert_eq!(m(r#"{"message":""}"#), None);
        assert_eq!(
            m(&format!(r#"{{"message":"{}"}}"#, "word ".repeat(100))).map(|s| s.len()),
            Some(200)
        );
        let response: ApiError<()> = ApiError::UnexpectedStatus(Box::new(ErrorResponse {
            operation: "customers/get",
            status: http::StatusCode::NOT_FOUND,
            headers: HeaderMap::new(),
            body: Bytes::from_static(br#"{"error":{"message":"No such customer"}}"#),
            value: (),
            class: ErrorClass::Permanent,
            attempts: 1,
        }));
        assert_eq!(
            response.to_string(),
            "customers/get: HTTP 404 Not Found is not documented by the spec (40 bytes kept): No such customer"
        );
    }

    #[test]
    fn link_headers_per_rfc_8288() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::LINK,
            http::HeaderValue::from_static(
                r#"<https://api.github.com/x?page=2&a=1,2>; rel="next", <https://api.github.com/x?page=9>; rel="last prev""#,
            ),
        );
        assert_eq!(
            link(&h, "next").as_deref(),
            Some("https://api.github.com/x?page=2&a=1,2")
        );
        assert_eq!(
            link(&h, "prev").as_deref(),
            Some("https://api.github.com/x?page=9")
        );
        assert_eq!(link(&h, "first"), None);
    }

    #[test]
    fn rate_limit_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(Quota::from_headers(&h), None);
        h.insert("x-ratelimit-remaining", http::HeaderValue::from_static("7"));
        h.insert("ratelimit-limit", http::HeaderValue::from_static("60"));
        let r = Quota::from_headers(&h).unwrap();
        assert_eq!((r.limit, r.remaining, r.reset), (Some(60), Some(7), None));
    }

    #[test]
    fn retry_after_is_read_from_the_given_time() {
        use std::time::{Duration, UNIX_EPOCH};
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        let response = ErrorResponse {
            operation: "getPet",
            status: StatusCode::SERVICE_UNAVAILABLE,
            headers,
            body: Bytes::new(),
            value: (),
            class: ErrorClass::Transient,
            attempts: 1,
        };
        // 2015-10-21 07:26:40 UTC: 80 s before the date.
        let then = UNIX_EPOCH + Duration::from_secs(1_445_412_400);
        assert_eq!(response.retry_after_at(then), Some(Duration::from_secs(80)));
        // Read from today's clock, that date is long past.
        assert_eq!(response.retry_after(), Some(Duration::ZERO));
    }
}
