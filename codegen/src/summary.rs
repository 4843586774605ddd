//! [`OperationSummary`]: what `wharf inspect` and other tools read of a
//! generated client, a small view that stays stable while the generator's
//! IR changes.

use crate::ir::{Operation, PageKind};

/// One generated operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSummary {
    /// The `operationId`, or `METHOD /path` without one.
    pub name: String,
    /// Upper case (`GET`).
    pub method: String,
    pub path: String,
    /// The client method.
    pub function: String,
    pub tags: Vec<String>,
    /// Security alternatives; each lists the schemes it needs together.
    /// Empty: no authentication.
    pub security: Vec<Vec<SchemeNeed>>,
    /// It takes an idempotency key.
    pub idempotency_key: bool,
    pub pagination: Option<PaginationSummary>,
}

/// A security scheme an operation needs, with the scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeNeed {
    pub scheme: String,
    pub scopes: Vec<String>,
}

/// How a paginated operation's stream follows its pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaginationSummary {
    pub style: PagingStyle,
    /// The `…_stream` method.
    pub stream_function: String,
}

/// The pagination style, with the parameter it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagingStyle {
    /// `Link: <…>; rel="next"`.
    Link,
    /// `has_more` and the last item's id in `param`.
    Cursor { param: String },
    /// A token from the page in `param`.
    Token { param: String },
    /// `param` advanced by the items received.
    Offset { param: String },
}

impl From<&Operation> for OperationSummary {
    fn from(op: &Operation) -> Self {
        OperationSummary {
            name: op.name.clone(),
            method: op.method.as_str().to_owned(),
            path: op.path.clone(),
            function: op.fn_name.clone(),
            tags: op.tags.clone(),
            security: op
                .security
                .iter()
                .map(|alternative| {
                    alternative
                        .iter()
                        .map(|used| SchemeNeed {
                            scheme: used.scheme.clone(),
                            scopes: used.scopes.clone(),
                        })
                        .collect()
                })
                .collect(),
            idempotency_key: op.accepts_idempotency_key,
            pagination: op.pagination.as_ref().map(|p| PaginationSummary {
                style: match &p.kind {
                    PageKind::Link => PagingStyle::Link,
                    PageKind::Cursor { param, .. } => PagingStyle::Cursor {
                        param: param.clone(),
                    },
                    PageKind::Token { param, .. } => PagingStyle::Token {
                        param: param.clone(),
                    },
                    PageKind::Offset { param } => PagingStyle::Offset {
                        param: param.clone(),
                    },
                },
                stream_function: p.stream_fn.clone(),
            }),
        }
    }
}
