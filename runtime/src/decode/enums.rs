//! String enums with an `Unknown(String)` variant: a value the spec does not
//! list is kept, not rejected, and reported as drift.

use super::scalars::{drain_map, drain_seq};
use super::{Cx, Decoding};
use crate::drift::{DriftKind, JsonType};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A generated string enum.
pub trait StringEnum: Sized {
    /// The variant for a wire value; unlisted values give `Unknown`.
    fn from_wire(value: &str) -> Self;
    /// The wire value.
    fn as_wire(&self) -> &str;
    /// True for the `Unknown` variant.
    fn is_unknown(&self) -> bool;
}

/// Decodes a string enum. Numbers and booleans are coerced to their text
/// (drift), since providers sometimes send `1` for `"1"`.
pub fn decode_enum<'de, T: StringEnum, D: Deserializer<'de>>(
    de: D,
    cx: &mut Cx,
) -> Decoding<T, D::Error> {
    de.deserialize_any(EnumVisitor::<T> {
        cx,
        marker: PhantomData,
    })
}

struct EnumVisitor<'a, T> {
    cx: &'a mut Cx,
    marker: PhantomData<fn() -> T>,
}

impl<T: StringEnum> EnumVisitor<'_, T> {
    fn variant_for(self, text: &str) -> Option<T> {
        let value = T::from_wire(text);
        if value.is_unknown() && self.cx.is_collecting() {
            let value: String = text.chars().take(64).collect();
            self.cx.drift(DriftKind::UnknownEnumValue { value });
        }
        Some(value)
    }

    fn coerced(self, text: &str, from: JsonType) -> Option<T> {
        self.cx.drift(DriftKind::Coerced { from, to: "enum" });
        self.variant_for(text)
    }
}

impl<'de, T: StringEnum> Visitor<'de> for EnumVisitor<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.variant_for(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.coerced(if v { "true" } else { "false" }, JsonType::Bool))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.coerced(&v.to_string(), JsonType::Integer))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.coerced(&v.to_string(), JsonType::Integer))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.coerced(&v.to_string(), JsonType::Float))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.cx.wrong_type("string", JsonType::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(self.cx.wrong_type("string", JsonType::Object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(self.cx.wrong_type("string", JsonType::Array))
    }
}
