//! Contract drift: every place where a response did not match the provider's
//! own spec and the tolerant decoder fixed it up instead of failing.
//!
//! Drift records carry the JSON pointer and the *kind* of the fix-up, never the
//! offending value itself (a drifted field may hold a token or personal data).
//! The one exception is an unknown enum value, which is kept (truncated) because
//! it is what an operator needs to update the spec, and enum values are labels.

use std::fmt;

/// One fix-up the tolerant decoder applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// RFC 6901 JSON pointer into the decoded document, e.g. `/items/3/state`.
    pub pointer: String,
    /// What was fixed up.
    pub kind: DriftKind,
}

/// The kind of a fix-up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriftKind {
    /// A field the spec does not declare; it was ignored.
    UnknownField,
    /// A string enum value the spec does not list; it was kept as `Unknown(..)`.
    UnknownEnumValue {
        /// The value as received (at most 64 characters).
        value: String,
    },
    /// A scalar arrived as another JSON type and was converted without loss,
    /// e.g. `"123"` for an integer.
    Coerced {
        /// The JSON type that arrived.
        from: JsonType,
        /// The Rust type it was converted to.
        to: &'static str,
    },
    /// `null` arrived in a field the spec does not mark nullable; the field
    /// was treated as absent.
    NullInNonNullable,
    /// A value that could not be made to fit an optional field; the field was
    /// treated as absent.
    Discarded {
        /// Why the value did not fit (types and field names only, no values).
        reason: String,
    },
    /// A `oneOf`/`anyOf` value matched no variant, or named an unknown
    /// discriminator; it was kept as raw JSON in the `Other` variant.
    UnmatchedVariant {
        /// Why no variant was chosen.
        reason: String,
    },
    /// A required field the spec marks nullable was absent (payloads from
    /// before the field existed); it was taken as `null`.
    MissingNullable,
    /// More drift than is kept per document: this many records were
    /// dropped (counted, not kept). Always the last record.
    Truncated { dropped: usize },
}

/// The type of a JSON value, for drift and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Integer,
    Float,
    String,
    Array,
    Object,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "boolean",
            JsonType::Integer => "integer",
            JsonType::Float => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        })
    }
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriftKind::UnknownField => f.write_str("field not in the spec (ignored)"),
            DriftKind::UnknownEnumValue { value } => {
                write!(f, "enum value {value:?} not in the spec (kept as Unknown)")
            }
            DriftKind::Coerced { from, to } => write!(f, "{from} coerced to {to}"),
            DriftKind::NullInNonNullable => {
                f.write_str("null in a non-nullable field (treated as absent)")
            }
            DriftKind::Discarded { reason } => write!(f, "value discarded: {reason}"),
            DriftKind::UnmatchedVariant { reason } => {
                write!(f, "no variant matched (kept as raw JSON): {reason}")
            }
            DriftKind::MissingNullable => {
                f.write_str("required nullable field absent (taken as null)")
            }
            DriftKind::Truncated { dropped } => {
                write!(
                    f,
                    "{dropped} more drift record(s) dropped (cap per document)"
                )
            }
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.kind)
    }
}
