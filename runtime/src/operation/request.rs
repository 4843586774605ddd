//! What generated code (or a hand-written call) hands the runtime, and what
//! comes back.

use super::body::{Body, ByteStream};
use crate::redact;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use std::borrow::Cow;
use std::fmt;

/// Facts about an operation the runtime needs: generated once per
/// operation from the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationMeta {
    /// The operation's name (its `operationId`).
    pub name: Cow<'static, str>,
    pub method: Method,
    /// The path template, e.g. `/repos/{owner}/{repo}`.
    pub path: Cow<'static, str>,
    /// The operation takes an idempotency key (e.g. an `Idempotency-Key`
    /// header parameter), so a retry cannot repeat its side effect.
    pub accepts_idempotency_key: bool,
    /// The `Accept` header generated clients send: the documented success
    /// media types, JSON first. Empty: none is sent.
    pub accept: &'static str,
    /// Security requirements, as alternatives: any one of them satisfies the
    /// operation. Empty: no authentication.
    pub security: &'static [SecurityRequirement],
    /// The spec's tags.
    pub tags: &'static [&'static str],
    /// Idempotent by method (RFC 9110); set from the method by
    /// [`OperationMeta::new`] and by the generator. One field, so the
    /// runtime and compile-time policy checks read the same answer.
    pub idempotent_by_method: bool,
    /// Policies the generator attached (operation, tag, client).
    pub policies: &'static crate::policy::declared::OperationPolicies,
}

/// One way to satisfy an operation's security: every listed scheme, with
/// its scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityRequirement {
    pub schemes: &'static [SchemeScopes],
}

/// A security scheme (by its name in the spec) and the scopes it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeScopes {
    pub scheme: &'static str,
    pub scopes: &'static [&'static str],
    /// An OAuth scheme (`oauth2`, `openIdConnect`): its scopes are what a
    /// token must carry. Other schemes (API keys, basic) have no OAuth
    /// scopes, whatever they list.
    pub oauth: bool,
}

impl SchemeScopes {
    /// An OAuth scheme (`oauth2`, `openIdConnect`) and the scopes it needs.
    pub const fn oauth(scheme: &'static str, scopes: &'static [&'static str]) -> Self {
        SchemeScopes {
            scheme,
            scopes,
            oauth: true,
        }
    }

    /// Another scheme (API key, HTTP), with the scopes the spec lists.
    pub const fn other(scheme: &'static str, scopes: &'static [&'static str]) -> Self {
        SchemeScopes {
            scheme,
            scopes,
            oauth: false,
        }
    }
}

impl SecurityRequirement {
    /// Every one of `schemes` (generated code's spelling).
    pub const fn of(schemes: &'static [SchemeScopes]) -> Self {
        SecurityRequirement { schemes }
    }

    /// Whether this alternative can be met with an OAuth token.
    fn uses_oauth(&self) -> bool {
        self.schemes.iter().any(|s| s.oauth)
    }

    fn oauth_scopes(&self) -> impl Iterator<Item = &'static str> {
        self.schemes
            .iter()
            .filter(|s| s.oauth)
            .flat_map(|s| s.scopes.iter().copied())
    }
}

/// The OAuth scopes a set of operations needs, least privilege: per
/// operation the OAuth alternative with the fewest scopes, then the union
/// over operations. Operations without security, with optional security
/// (an empty alternative, `{}`), or that take only API keys or basic
/// credentials need none; an API-key alternative beside an OAuth one does
/// not lower what the OAuth token needs.
pub fn scopes_for<'a>(
    operations: impl IntoIterator<Item = &'a OperationMeta>,
) -> std::collections::BTreeSet<&'static str> {
    let mut out = std::collections::BTreeSet::new();
    for op in operations {
        if op.security.iter().any(|r| r.schemes.is_empty()) {
            continue;
        }
        let cheapest = op
            .security
            .iter()
            .filter(|r| r.uses_oauth())
            .min_by_key(|r| r.oauth_scopes().count());
        if let Some(requirement) = cheapest {
            out.extend(requirement.oauth_scopes());
        }
    }
    out
}

impl OperationMeta {
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        method: Method,
        path: impl Into<Cow<'static, str>>,
    ) -> Self {
        OperationMeta {
            name: name.into(),
            path: path.into(),
            ..Self::spec("", method, "")
        }
    }

    /// An operation as generated code declares it: the builders below add
    /// what the spec says beyond name, method and path.
    pub const fn spec(name: &'static str, method: Method, path: &'static str) -> Self {
        let idempotent_by_method = method_is_idempotent(&method);
        OperationMeta {
            name: Cow::Borrowed(name),
            method,
            path: Cow::Borrowed(path),
            accepts_idempotency_key: false,
            accept: "",
            security: &[],
            tags: &[],
            idempotent_by_method,
            policies: &crate::policy::declared::OperationPolicies::NONE,
        }
    }

    pub const fn tags(mut self, tags: &'static [&'static str]) -> Self {
        self.tags = tags;
        self
    }

    pub const fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    pub const fn security(mut self, security: &'static [SecurityRequirement]) -> Self {
        self.security = security;
        self
    }

    pub const fn policies(
        mut self,
        policies: &'static crate::policy::declared::OperationPolicies,
    ) -> Self {
        self.policies = policies;
        self
    }

    pub const fn with_idempotency_key(mut self) -> Self {
        self.accepts_idempotency_key = true;
        self
    }

    /// Safe by method (RFC 9110): no side effects.
    pub fn is_safe(&self) -> bool {
        method_is_safe(&self.method)
    }

    /// Idempotent by method (RFC 9110): repeating it has the effect of once.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent_by_method
    }
}

const fn method_is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

const fn method_is_idempotent(method: &Method) -> bool {
    method_is_safe(method) || matches!(*method, Method::PUT | Method::DELETE)
}

/// A request for one logical call (retries resend it).
#[derive(Clone)]
pub struct Request {
    pub operation: OperationMeta,
    /// Absolute URL, query included.
    pub url: String,
    pub headers: HeaderMap,
    /// Bytes, or a stream ([`Body::stream`] is sent once: such a call is
    /// never retried).
    pub body: Body,
}

impl Request {
    /// The operation, and the request as every attempt sends it.
    pub(crate) fn into_parts(self) -> (OperationMeta, HttpRequest) {
        let Request {
            operation,
            url,
            headers,
            body,
        } = self;
        let http = HttpRequest {
            method: operation.method.clone(),
            url,
            headers,
            body,
        };
        (operation, http)
    }

    pub fn new(operation: OperationMeta, url: impl Into<String>) -> Self {
        Request {
            operation,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Body::empty(),
        }
    }

    pub fn with_body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation.name)
            .field("method", &self.operation.method)
            .field("url", &redact::url(&self.url))
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &self.body)
            .finish()
    }
}

/// One HTTP exchange's request, as the transport sends it.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Body,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact::url(&self.url))
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &self.body)
            .finish()
    }
}

/// A response: status, headers and the whole body.
#[derive(Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &redact::Headers(&self.headers))
            .field("body", &redact::BodySize(&self.body))
            .finish()
    }
}

/// A response whose body arrives as a stream (downloads).
#[derive(Debug)]
pub struct StreamingResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ByteStream,
    /// Attempts made to get this response: a transport's exchange is one;
    /// [`crate::call::Integration::call_streaming`] counts its retries, so
    /// an error met later while reading the body can say how many there
    /// were.
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &[SecurityRequirement] = &[
        SecurityRequirement {
            schemes: &[SchemeScopes {
                scheme: "oauth",
                scopes: &["repo", "admin"],
                oauth: true,
            }],
        },
        SecurityRequirement {
            schemes: &[SchemeScopes {
                scheme: "oauth",
                scopes: &["public_repo"],
                oauth: true,
            }],
        },
    ];

    #[test]
    fn scope_union_takes_the_cheapest_alternative_per_operation() {
        let mut a = OperationMeta::new("a", Method::GET, "/a");
        a.security = READ;
        let mut b = OperationMeta::new("b", Method::POST, "/b");
        b.security = &[SecurityRequirement {
            schemes: &[SchemeScopes {
                scheme: "oauth",
                scopes: &["write:org"],
                oauth: true,
            }],
        }];
        let open = OperationMeta::new("c", Method::GET, "/c");
        let scopes: Vec<_> = scopes_for([&a, &b, &open]).into_iter().collect();
        assert_eq!(scopes, ["public_repo", "write:org"]);
    }

    #[test]
    fn api_key_alternatives_do_not_lower_the_oauth_scopes() {
        let mut op = OperationMeta::new("d", Method::GET, "/d");
        op.security = &[
            SecurityRequirement {
                schemes: &[SchemeScopes {
                    scheme: "api_key",
                    scopes: &[],
                    oauth: false,
                }],
            },
            SecurityRequirement {
                schemes: &[SchemeScopes {
                    scheme: "oauth",
                    scopes: &["repo"],
                    oauth: true,
                }],
            },
        ];
        let keys_only = {
            let mut k = OperationMeta::new("e", Method::GET, "/e");
            k.security = &op.security[..1];
            k
        };
        let scopes: Vec<_> = scopes_for([&op, &keys_only]).into_iter().collect();
        assert_eq!(scopes, ["repo"]);
    }
}
