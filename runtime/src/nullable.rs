//! [`Nullable`]: a field that can be absent, explicitly `null`, or a value.
//!
//! Generated types use it for optional fields the spec marks nullable, so a
//! decoded payload serializes back exactly as it came and a PATCH can send an
//! explicit `null` ("clear this") as distinct from leaving a field out.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Absent, `null`, or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Nullable<T> {
    /// The field was not in the payload (and will not be serialized).
    #[default]
    Absent,
    /// The field was `null` (and serializes as `null`).
    Null,
    /// The field had a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// True when the field is absent; used by `skip_serializing_if`.
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }

    /// The value, if there is one (absent and `null` both give `None`).
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, if there is one.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Nullable<&T> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Value(v) => Nullable::Value(v),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Nullable<U> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Value(v) => Nullable::Value(f(v)),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// `None` becomes an explicit `null`.
    fn from(value: Option<T>) -> Self {
        value.map_or(Nullable::Null, Nullable::Value)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // Only reached when a container does not skip absent fields.
            Nullable::Absent | Nullable::Null => s.serialize_none(),
            Nullable::Value(v) => s.serialize_some(v),
        }
    }
}

/// For use with `#[serde(default)]` in hand-written types; generated types
/// decode `Nullable` through the tolerant decoder instead.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(de)?.into())
    }
}
