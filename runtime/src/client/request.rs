//! [`RequestParts`]: what a generated method fills in (path, query, headers,
//! cookies, body) before [`ClientCore::send`](super::ClientCore::send) hands
//! it to the request path.

use super::body::{self, FieldEncoding, Multipart};
use super::params::{self, Style};
use crate::call::{Body, OperationMeta};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

/// A request being built by a generated method. Problems (a value that
/// does not serialize, a header with a line break) are collected and
/// reported when the request is sent, so the generated code stays linear.
#[derive(Debug)]
pub struct RequestParts {
    pub(crate) operation: &'static OperationMeta,
    pub(crate) path: String,
    pub(crate) query: Vec<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) cookies: Vec<String>,
    pub(crate) body: Body,
    pub(crate) error: Option<String>,
}

impl RequestParts {
    pub(crate) fn new(operation: &'static OperationMeta) -> Self {
        RequestParts {
            operation,
            path: String::with_capacity(operation.path.len() + 16),
            query: Vec::new(),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            body: Body::empty(),
            error: None,
        }
    }

    fn fail(&mut self, reason: String) {
        self.error.get_or_insert(reason);
    }

    fn value<T: Serialize + ?Sized>(&mut self, what: &str, value: &T) -> Option<Value> {
        match serde_json::to_value(value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(format!("{what} cannot be serialized: {e}"));
                None
            }
        }
    }

    /// Literal text of the path template.
    pub fn path(&mut self, literal: &str) -> &mut Self {
        self.path.push_str(literal);
        self
    }

    /// A path parameter in the default style (`simple`, not exploded).
    pub fn path_param<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> &mut Self {
        self.path_param_with(name, value, Style::Simple, false)
    }

    /// A path parameter. An empty value would change which resource the path
    /// names, so it is refused.
    pub fn path_param_with<T: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
        style: Style,
        explode: bool,
    ) -> &mut Self {
        let Some(v) = self.value(&format!("path parameter `{name}`"), value) else {
            return self;
        };
        let text = params::path(name, &v, style, explode);
        if text.is_empty() {
            self.fail(format!("path parameter `{name}` is empty"));
        }
        self.path.push_str(&text);
        self
    }

    /// A query parameter in the default style (`form`, exploded);
    /// `None`/null values are left out.
    pub fn query<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> &mut Self {
        self.query_with(name, value, Style::Form, true, false)
    }

    /// A query parameter; `None`/null values are left out.
    pub fn query_with<T: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
        style: Style,
        explode: bool,
        allow_reserved: bool,
    ) -> &mut Self {
        match self.value(&format!("query parameter `{name}`"), value) {
            None | Some(Value::Null) => {}
            Some(v) => params::query(&mut self.query, name, &v, style, explode, allow_reserved),
        }
        self
    }

    /// A header parameter (`simple` style, not exploded); `None` values are
    /// left out.
    pub fn header<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> &mut Self {
        self.header_with(name, value, false)
    }

    /// A header parameter (`simple` style); `None` values are left out.
    pub fn header_with<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
        explode: bool,
    ) -> &mut Self {
        let v = match self.value(&format!("header `{name}`"), value) {
            None | Some(Value::Null) => return self,
            Some(v) => v,
        };
        let text = params::header(&v, explode);
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            (Err(_), _) => self.fail(format!("`{name}` is not a valid header name")),
            // The value is not printed: headers often carry secrets.
            (_, Err(_)) => self.fail(format!(
                "the value of header `{name}` has characters a header cannot carry"
            )),
        }
        self
    }

    /// A cookie parameter (`form` style, exploded); `None` values are left out.
    pub fn cookie<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> &mut Self {
        self.cookie_with(name, value, true)
    }

    /// A cookie parameter (`form` style); `None` values are left out.
    pub fn cookie_with<T: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
        explode: bool,
    ) -> &mut Self {
        match self.value(&format!("cookie `{name}`"), value) {
            None | Some(Value::Null) => {}
            Some(v) => params::cookie(&mut self.cookies, name, &v, explode),
        }
        self
    }

    fn content(&mut self, content_type: &str, body: Body) {
        match HeaderValue::from_str(content_type) {
            Ok(v) => {
                self.headers.insert(CONTENT_TYPE, v);
                self.body = body;
            }
            Err(_) => self.fail(format!("invalid content type {content_type:?}")),
        }
    }

    /// A JSON body (`application/json` or a `+json` media type).
    pub fn json<T: Serialize + ?Sized>(&mut self, body: &T, content_type: &str) {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.content(content_type, bytes.into()),
            Err(e) => self.fail(format!("the body cannot be serialized as JSON: {e}")),
        }
    }

    /// An `application/x-www-form-urlencoded` body.
    pub fn form<T: Serialize + ?Sized>(&mut self, body: &T, encodings: &[FieldEncoding]) {
        if let Some(v) = self.value("the form body", body) {
            let text = body::form(&v, encodings);
            self.content("application/x-www-form-urlencoded", text.into());
        }
    }

    /// A `multipart/form-data` body.
    pub fn multipart(&mut self, parts: Multipart) {
        let content_type = parts.content_type();
        self.content(&content_type, parts.finish().into());
    }

    /// A raw body with its media type (`application/octet-stream`,
    /// images…): bytes, or a stream for uploads.
    pub fn body(&mut self, body: impl Into<Body>, content_type: &str) {
        self.content(content_type, body.into());
    }

    /// A text body.
    pub fn text(&mut self, body: impl Into<String>, content_type: &str) {
        self.content(content_type, Bytes::from(body.into()).into());
    }

    /// The value of a field as JSON, for multipart parts.
    pub fn to_json<T: Serialize + ?Sized>(&mut self, what: &str, value: &T) -> Value {
        self.value(what, value).unwrap_or(Value::Null)
    }
}
