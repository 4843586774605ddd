//! Containers: arrays, string-keyed maps, raw JSON, boxes and nullable values.
//!
//! An element that misfits makes its whole container misfit (after the rest
//! is consumed): dropping one element would silently shift indices, and an
//! enclosing optional field is the place where a value may be dropped.

use super::scalars::{drain_map, drain_seq};
use super::{Cx, Decode, Decoding, Key, Seed};
use crate::drift::JsonType;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// Visitor for the containers below; `K` selects which container.
struct ContainerVisitor<'a, K> {
    cx: &'a mut Cx,
    marker: PhantomData<fn() -> K>,
}

fn container<'de, K, D>(de: D, cx: &mut Cx) -> Decoding<K, D::Error>
where
    D: Deserializer<'de>,
    for<'a> ContainerVisitor<'a, K>: Visitor<'de, Value = Option<K>>,
{
    de.deserialize_any(ContainerVisitor::<K> {
        cx,
        marker: PhantomData,
    })
}

/// Rejects the JSON types a container cannot be made from.
macro_rules! reject_scalars {
    ($expected:literal) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::Bool))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::Integer))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::Integer))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::Float))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::String))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.cx.wrong_type($expected, JsonType::Null))
        }
    };
}
pub(crate) use reject_scalars;

impl<'de, T: Decode> Visitor<'de> for ContainerVisitor<'_, Vec<T>> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    reject_scalars!("array");

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(self.cx.wrong_type("array", JsonType::Object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let cx = self.cx;
        // Cap the pre-allocation: the hint comes from the input.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        let mut failure = None;
        let mut index = 0;
        loop {
            cx.enter_index(index);
            let next = seq.next_element_seed(Seed::<T>::new(cx));
            cx.leave();
            match next? {
                None => break,
                Some(Some(v)) => out.push(v),
                Some(None) => {
                    if failure.is_none() {
                        failure = cx.take_misfit();
                    }
                }
            }
            index += 1;
        }
        match failure {
            None => Ok(Some(out)),
            Some(m) => {
                cx.set_misfit(m);
                Ok(None)
            }
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        container(de, cx)
    }
}

impl<'de, T: Decode> Visitor<'de> for ContainerVisitor<'_, BTreeMap<String, T>> {
    type Value = Option<BTreeMap<String, T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    reject_scalars!("object");

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(self.cx.wrong_type("object", JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let cx = self.cx;
        let mut out = BTreeMap::new();
        let mut failure = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            cx.enter_key(key.as_str());
            let value = map.next_value_seed(Seed::<T>::new(cx));
            cx.leave();
            match value? {
                Some(v) => {
                    out.insert(key.into_string(), v);
                }
                None => {
                    if failure.is_none() {
                        failure = cx.take_misfit();
                    }
                }
            }
        }
        match failure {
            None => Ok(Some(out)),
            Some(m) => {
                cx.set_misfit(m);
                Ok(None)
            }
        }
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        container(de, cx)
    }
}

/// Raw JSON of any shape always fits.
impl Decode for serde_json::Value {
    fn decode<'de, D: Deserializer<'de>>(de: D, _cx: &mut Cx) -> Decoding<Self, D::Error> {
        serde_json::Value::deserialize(de).map(Some)
    }
}

impl<'de> Visitor<'de> for ContainerVisitor<'_, serde_json::Map<String, serde_json::Value>> {
    type Value = Option<serde_json::Map<String, serde_json::Value>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    reject_scalars!("object");

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(self.cx.wrong_type("object", JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            out.insert(k, v);
        }
        Ok(Some(out))
    }
}

/// A free-form JSON object.
impl Decode for serde_json::Map<String, serde_json::Value> {
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        container(de, cx)
    }
}

impl<T: Decode> Decode for Box<T> {
    #[inline]
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        Ok(T::decode(de, cx)?.map(Box::new))
    }
}

/// `Option<T>` as a *value*: `null` is `None`. (Optional fields use
/// [`super::OptionalSlot`] instead, where `null` may be drift.)
impl<T: Decode> Decode for Option<T> {
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        de.deserialize_option(NullableVisitor::<T> {
            cx,
            marker: PhantomData,
        })
    }
}

/// Decodes `null` as `Some(None)` and anything else as `T`.
pub(crate) struct NullableVisitor<'a, T> {
    pub(crate) cx: &'a mut Cx,
    pub(crate) marker: PhantomData<fn() -> T>,
}

impl<'de, T: Decode> Visitor<'de> for NullableVisitor<'_, T> {
    type Value = Option<Option<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        Ok(T::decode(de, self.cx)?.map(Some))
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::decode;
    use std::collections::BTreeMap;

    #[test]
    fn array_element_misfit_fails_the_array_with_its_pointer() {
        let err = decode::<Vec<i64>>(br#"[1, "x", 3]"#).unwrap_err();
        assert_eq!(err.pointer(), Some("/1"));
    }

    #[test]
    fn array_of_coercions_reports_each_index() {
        let d = decode::<Vec<bool>>(br#"[true, "false", 1]"#).unwrap();
        assert_eq!(d.value, vec![true, false, true]);
        let pointers: Vec<_> = d.drift.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/1", "/2"]);
    }

    #[test]
    fn map_values_are_tracked_by_key() {
        let d = decode::<BTreeMap<String, i32>>(br#"{"a/b": "1", "c": 2}"#).unwrap();
        assert_eq!(d.value["a/b"], 1);
        assert_eq!(d.drift[0].pointer, "/a~1b");
    }

    #[test]
    fn option_value_treats_null_as_none() {
        assert_eq!(decode::<Option<i64>>(b"null").unwrap().value, None);
        assert_eq!(decode::<Option<i64>>(b"5").unwrap().value, Some(5));
    }

    #[test]
    fn trailing_data_is_malformed() {
        assert!(matches!(
            decode::<i64>(b"1 2"),
            Err(crate::DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(decode::<serde_json::Value>(deep.as_bytes()).is_err());
        assert!(decode::<Vec<Vec<i64>>>(deep.as_bytes()).is_err());
    }
}
