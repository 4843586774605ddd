//! The error of [`crate::decode`]: malformed JSON, or a value that cannot be
//! decoded where the spec requires it (a required field missing or unusable).

use super::context::Misfit;
use std::fmt;

/// Why a payload could not be decoded.
///
/// Messages name types, fields and pointers, never the offending values, so a
/// `DecodeError` is safe to log even for payloads that carry secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not well-formed JSON (or have trailing data).
    Malformed {
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed JSON whose shape does not fit where the spec is strict.
    Mismatch {
        /// JSON pointer of the value that failed (empty when unknown).
        pointer: String,
        /// The field that failed, when it is an object field.
        field: Option<String>,
        /// What went wrong.
        reason: String,
    },
}

impl DecodeError {
    /// JSON pointer of the failure, when the input was well-formed.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            DecodeError::Mismatch { pointer, .. } => Some(pointer),
            DecodeError::Malformed { .. } => None,
        }
    }

    /// The object field that failed, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            DecodeError::Mismatch { field, .. } => field.as_deref(),
            DecodeError::Malformed { .. } => None,
        }
    }

    pub(crate) fn from_misfit(misfit: Option<Misfit>) -> Self {
        match misfit {
            Some(m) => DecodeError::Mismatch {
                pointer: m.pointer,
                field: m.field,
                reason: m.reason,
            },
            None => DecodeError::Mismatch {
                pointer: String::new(),
                field: None,
                reason: "value did not fit its type".to_owned(),
            },
        }
    }

    pub(crate) fn from_json(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Data => DecodeError::Mismatch {
                pointer: String::new(),
                field: None,
                reason: err.to_string(),
            },
            Category::Io | Category::Syntax | Category::Eof => DecodeError::Malformed {
                line: err.line(),
                column: err.column(),
                message: err.to_string(),
            },
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed { message, .. } => write!(f, "malformed JSON: {message}"),
            DecodeError::Mismatch {
                pointer, reason, ..
            } => {
                if pointer.is_empty() {
                    write!(f, "{reason}")
                } else {
                    write!(f, "{reason} at {pointer}")
                }
            }
        }
    }
}

impl std::error::Error for DecodeError {}
