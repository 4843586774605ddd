//! Scalars (integers, floats, booleans, strings) with lossless coercion from
//! the wrong JSON type: `"123"` → integer, `123` → string, `"true"` → bool,
//! `1.0` → integer. Every coercion is drift; anything else is a misfit.

use super::{Cx, Decode, Decoding};
use crate::drift::{DriftKind, JsonType};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// How a JSON scalar converts into a Rust scalar.
pub(crate) enum Conv<T> {
    /// The JSON type is the natural one.
    Exact(T),
    /// Converted without loss from another JSON type (drift).
    Coerced(T),
    /// The value is of a usable JSON type but out of range or unparsable.
    Invalid(&'static str),
    /// The JSON type cannot be converted.
    No,
}

/// A Rust scalar type that JSON scalars convert into.
pub(crate) trait Scalar: Sized {
    /// What the spec asked for, for messages ("integer", "string").
    const EXPECTED: &'static str;
    /// The Rust type, for drift reports.
    const RUST: &'static str;
    fn from_i64(_: i64) -> Conv<Self> {
        Conv::No
    }
    fn from_u64(_: u64) -> Conv<Self> {
        Conv::No
    }
    fn from_f64(_: f64) -> Conv<Self> {
        Conv::No
    }
    fn from_bool(_: bool) -> Conv<Self> {
        Conv::No
    }
    fn from_str(_: &str) -> Conv<Self> {
        Conv::No
    }
    fn from_string(v: String) -> Conv<Self> {
        Self::from_str(&v)
    }
}

/// Visits any JSON value and converts it into the scalar `T`.
pub(crate) struct ScalarVisitor<'a, T> {
    pub(crate) cx: &'a mut Cx,
    pub(crate) marker: PhantomData<fn() -> T>,
}

impl<T: Scalar> ScalarVisitor<'_, T> {
    #[inline]
    fn finish(self, conv: Conv<T>, from: JsonType) -> Option<T> {
        match conv {
            Conv::Exact(v) => Some(v),
            Conv::Coerced(v) => {
                self.cx.drift(DriftKind::Coerced { from, to: T::RUST });
                Some(v)
            }
            Conv::Invalid(why) => self.cx.misfit(format!("{from} {why} ({})", T::RUST)),
            Conv::No => self.cx.wrong_type(T::EXPECTED, from),
        }
    }
}

pub(crate) fn scalar<'de, T: Scalar, D: Deserializer<'de>>(
    de: D,
    cx: &mut Cx,
) -> Decoding<T, D::Error> {
    de.deserialize_any(ScalarVisitor::<T> {
        cx,
        marker: PhantomData,
    })
}

/// Consumes the rest of a map the decoder does not want.
pub(crate) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Consumes the rest of a sequence the decoder does not want.
pub(crate) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

impl<'de, T: Scalar> Visitor<'de> for ScalarVisitor<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.finish(T::from_bool(v), JsonType::Bool))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.finish(T::from_i64(v), JsonType::Integer))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.finish(T::from_u64(v), JsonType::Integer))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.finish(T::from_f64(v), JsonType::Float))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.finish(T::from_str(v), JsonType::String))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(self.finish(T::from_string(v), JsonType::String))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.cx.wrong_type(T::EXPECTED, JsonType::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(self.cx.wrong_type(T::EXPECTED, JsonType::Object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(self.cx.wrong_type(T::EXPECTED, JsonType::Array))
    }
}

/// Integers: exact from JSON integers in range, coerced from integral floats
/// and from strings holding an integer.
macro_rules! integer_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const EXPECTED: &'static str = "integer";
            const RUST: &'static str = stringify!($t);
            fn from_i64(v: i64) -> Conv<Self> {
                <$t>::try_from(v).map_or(Conv::Invalid("out of range"), Conv::Exact)
            }
            fn from_u64(v: u64) -> Conv<Self> {
                <$t>::try_from(v).map_or(Conv::Invalid("out of range"), Conv::Exact)
            }
            fn from_f64(v: f64) -> Conv<Self> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
                    // Exactly representable integer: the cast is lossless.
                    <$t>::try_from(v as i64).map_or(Conv::Invalid("out of range"), Conv::Coerced)
                } else {
                    Conv::Invalid("is not a whole number")
                }
            }
            fn from_str(v: &str) -> Conv<Self> {
                match v.parse::<$t>() {
                    Ok(n) => Conv::Coerced(n),
                    Err(_) => Conv::Invalid("does not hold an integer"),
                }
            }
        }

        impl Decode for $t {
            #[inline]
            fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
                scalar(de, cx)
            }
        }
    )*};
}

integer_scalar!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! float_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const EXPECTED: &'static str = "number";
            const RUST: &'static str = stringify!($t);
            fn from_i64(v: i64) -> Conv<Self> {
                Conv::Exact(v as $t)
            }
            fn from_u64(v: u64) -> Conv<Self> {
                Conv::Exact(v as $t)
            }
            fn from_f64(v: f64) -> Conv<Self> {
                Conv::Exact(v as $t)
            }
            fn from_str(v: &str) -> Conv<Self> {
                match v.parse::<$t>() {
                    Ok(n) if n.is_finite() => Conv::Coerced(n),
                    _ => Conv::Invalid("does not hold a finite number"),
                }
            }
        }

        impl Decode for $t {
            #[inline]
            fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
                scalar(de, cx)
            }
        }
    )*};
}

float_scalar!(f32, f64);

impl Scalar for bool {
    const EXPECTED: &'static str = "boolean";
    const RUST: &'static str = "bool";
    fn from_bool(v: bool) -> Conv<Self> {
        Conv::Exact(v)
    }
    fn from_i64(v: i64) -> Conv<Self> {
        match v {
            0 => Conv::Coerced(false),
            1 => Conv::Coerced(true),
            _ => Conv::Invalid("is not 0 or 1"),
        }
    }
    fn from_u64(v: u64) -> Conv<Self> {
        Self::from_i64(i64::try_from(v).unwrap_or(i64::MAX))
    }
    fn from_str(v: &str) -> Conv<Self> {
        if v.eq_ignore_ascii_case("true") {
            Conv::Coerced(true)
        } else if v.eq_ignore_ascii_case("false") {
            Conv::Coerced(false)
        } else {
            Conv::Invalid("is not \"true\" or \"false\"")
        }
    }
}

impl Decode for bool {
    #[inline]
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        scalar(de, cx)
    }
}

impl Scalar for String {
    const EXPECTED: &'static str = "string";
    const RUST: &'static str = "String";
    fn from_str(v: &str) -> Conv<Self> {
        Conv::Exact(v.to_owned())
    }
    fn from_string(v: String) -> Conv<Self> {
        Conv::Exact(v)
    }
    fn from_i64(v: i64) -> Conv<Self> {
        Conv::Coerced(v.to_string())
    }
    fn from_u64(v: u64) -> Conv<Self> {
        Conv::Coerced(v.to_string())
    }
    fn from_f64(v: f64) -> Conv<Self> {
        Conv::Coerced(v.to_string())
    }
    fn from_bool(v: bool) -> Conv<Self> {
        Conv::Coerced(v.to_string())
    }
}

impl Decode for String {
    #[inline]
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        scalar(de, cx)
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::decode;
    use crate::drift::{DriftKind, JsonType};

    #[test]
    fn integer_from_string_is_coerced_with_drift() {
        let d = decode::<i64>(br#""123""#).unwrap();
        assert_eq!(d.value, 123);
        assert_eq!(
            d.drift[0].kind,
            DriftKind::Coerced {
                from: JsonType::String,
                to: "i64"
            }
        );
    }

    #[test]
    fn integer_from_fractional_float_fails() {
        let err = decode::<i64>(b"1.5").unwrap_err();
        assert!(err.to_string().contains("whole number"), "{err}");
    }

    #[test]
    fn integer_out_of_range_fails() {
        assert!(decode::<i32>(b"4294967296").is_err());
        assert!(decode::<u8>(b"-1").is_err());
    }

    #[test]
    fn integral_float_becomes_integer() {
        let d = decode::<i32>(b"7.0").unwrap();
        assert_eq!((d.value, d.drift.len()), (7, 1));
    }

    #[test]
    fn string_from_number_and_bool() {
        assert_eq!(decode::<String>(b"42").unwrap().value, "42");
        assert_eq!(decode::<String>(b"true").unwrap().value, "true");
        assert_eq!(decode::<String>(b"\"x\"").unwrap().drift, vec![]);
    }

    #[test]
    fn bool_from_strings_and_bits() {
        assert!(decode::<bool>(br#""true""#).unwrap().value);
        assert!(!decode::<bool>(b"0").unwrap().value);
        assert!(decode::<bool>(b"2").is_err());
        assert!(decode::<bool>(br#""yes""#).is_err());
    }

    #[test]
    fn null_is_a_misfit_for_a_scalar() {
        let err = decode::<String>(b"null").unwrap_err();
        assert!(err.to_string().contains("found null"), "{err}");
    }

    #[test]
    fn wrong_container_is_drained_and_reported() {
        let err = decode::<i64>(br#"{"a": [1, 2, {"b": 3}]}"#).unwrap_err();
        assert!(err.to_string().contains("expected integer, found object"));
    }

    #[test]
    fn float_rejects_nan_strings() {
        assert!(decode::<f64>(br#""NaN""#).is_err());
        assert_eq!(decode::<f64>(br#""2.5""#).unwrap().value, 2.5);
    }
}
