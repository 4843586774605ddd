//! Objects: the pieces the `object!` macro writes a generated type's
//! `DecodeObject` impl with.
//!
//! A generated object type reads like this:
//!
//! ```text
//! ::wharf::__private::object! {
//!     pub struct Repo {
//!         pub id: i64 = Required("id"),
//!         pub topics: Option<Vec<String>> = Optional("topics"),
//!     }
//! }
//! ```
//!
//! Each field's slot ([`Required`], [`RequiredNullable`], [`Optional`],
//! [`OptionalJson`]) decides what a missing, `null` or misfit value means.
//! The decoder reads every key into its slot (unknown keys are drift, or go
//! to the `..` field that holds `additionalProperties`), then takes each
//! slot. The whole object is always consumed before a missing or unusable
//! required field is reported, so the input stays consistent.

use super::scalars::drain_seq;
use super::sequences::{reject_scalars, NullableVisitor};
use super::{Cx, Decode, Decoding, Misfit, Seed};
use crate::drift::{DriftKind, JsonType};
use crate::nullable::Nullable;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// A generated object type: decodes its fields from a JSON object.
pub trait DecodeObject: Sized {
    /// Decodes the fields of one object, consuming all of `map`.
    fn decode_fields<'de, A: MapAccess<'de>>(map: &mut A, cx: &mut Cx) -> Decoding<Self, A::Error>;
}

/// Decodes an object type; other JSON types are misfits.
pub fn decode_object<'de, T: DecodeObject, D: Deserializer<'de>>(
    de: D,
    cx: &mut Cx,
) -> Decoding<T, D::Error> {
    de.deserialize_any(ObjectVisitor::<T> {
        cx,
        marker: PhantomData,
    })
}

struct ObjectVisitor<'a, T> {
    cx: &'a mut Cx,
    marker: PhantomData<fn() -> T>,
}

impl<'de, T: DecodeObject> Visitor<'de> for ObjectVisitor<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    reject_scalars!("object");

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(self.cx.wrong_type("object", JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        T::decode_fields(&mut map, self.cx)
    }
}

/// An object key, borrowed from the input when it has no escapes.
pub struct Key<'de>(KeyText<'de>);

enum KeyText<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl<'de> Key<'de> {
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            KeyText::Borrowed(s) => s,
            KeyText::Owned(s) => s,
        }
    }

    pub fn into_string(self) -> String {
        match self.0 {
            KeyText::Borrowed(s) => s.to_owned(),
            KeyText::Owned(s) => s,
        }
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(KeyText::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(KeyText::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(KeyText::Owned(v)))
    }
}

/// The slot of a required field while its object is decoded.
pub struct Required<T> {
    value: Option<T>,
    // Boxed: the slot lives on the decoder's stack once per required field.
    misfit: Option<Box<Misfit>>,
}

impl<T> Default for Required<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Required<T> {
    pub fn new() -> Self {
        Required {
            value: None,
            misfit: None,
        }
    }

    /// The decoded value, or `None` after recording why there is none (the
    /// value's own misfit, or "missing required field").
    #[inline]
    pub fn take(self, cx: &mut Cx, name: &'static str) -> Option<T> {
        match (self.value, self.misfit) {
            (Some(v), _) => Some(v),
            (None, Some(m)) => {
                cx.set_misfit(*m);
                None
            }
            (None, None) => {
                cx.missing_field(name);
                None
            }
        }
    }
}

impl<T> Required<Option<T>> {
    /// A required nullable field's value: absent is taken as `null`, with
    /// drift (providers' older payloads predate fields the spec now
    /// requires), where a non-nullable one would be a misfit.
    #[inline]
    pub fn take_nullable(self, cx: &mut Cx, name: &'static str) -> Option<Option<T>> {
        if self.value.is_none() && self.misfit.is_none() {
            cx.enter_field(name);
            cx.drift(DriftKind::MissingNullable);
            cx.leave();
            return Some(None);
        }
        self.take(cx, name)
    }
}

impl<T: Decode> Required<T> {
    #[inline]
    pub fn read<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        cx: &mut Cx,
        name: &'static str,
    ) -> Result<(), A::Error> {
        cx.required(map, name, self)
    }
}

/// The slot of a required nullable field (`F` is its type, `Option<T>`):
/// absent is taken as `null`.
pub struct RequiredNullable<F>(Required<F>);

impl<F> Default for RequiredNullable<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F> RequiredNullable<F> {
    pub fn new() -> Self {
        RequiredNullable(Required::new())
    }
}

impl<T: Decode> RequiredNullable<Option<T>> {
    #[inline]
    pub fn read<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        cx: &mut Cx,
        name: &'static str,
    ) -> Result<(), A::Error> {
        cx.required(map, name, &mut self.0)
    }

    #[inline]
    pub fn take(self, cx: &mut Cx, name: &'static str) -> Option<Option<T>> {
        self.0.take_nullable(cx, name)
    }
}

/// The slot of an optional field, holding an [`OptionalSlot`]: `Option<T>`
/// or [`Nullable<T>`].
pub struct Optional<S>(S);

impl<S: OptionalSlot> Default for Optional<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: OptionalSlot> Optional<S> {
    pub fn new() -> Self {
        Optional(S::ABSENT)
    }

    #[inline]
    pub fn read<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        cx: &mut Cx,
        name: &'static str,
    ) -> Result<(), A::Error> {
        cx.optional(map, name, &mut self.0)
    }

    /// The value: an optional field never makes its object a misfit.
    #[inline]
    pub fn into_inner(self) -> S {
        self.0
    }
}

/// The slot of an optional field whose schema admits any JSON (so `null` is
/// a value, kept as `Some(Value::Null)`). `F`, the field's type, is always
/// `Option<Value>`: generated code names every slot by its field's type.
pub struct OptionalJson<F = Option<serde_json::Value>>(F);

impl Default for OptionalJson {
    fn default() -> Self {
        Self::new()
    }
}

impl OptionalJson {
    pub fn new() -> Self {
        OptionalJson(None)
    }

    #[inline]
    pub fn read<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        _cx: &mut Cx,
        _name: &'static str,
    ) -> Result<(), A::Error> {
        self.0 = Some(map.next_value()?);
        Ok(())
    }

    #[inline]
    pub fn into_inner(self) -> Option<serde_json::Value> {
        self.0
    }
}

/// Where an object without `additionalProperties` puts undeclared keys:
/// nowhere (they are skipped as drift).
pub struct NoExtra;

impl NoExtra {
    #[inline]
    pub fn read<'de, A: MapAccess<'de>>(
        &self,
        map: &mut A,
        cx: &mut Cx,
        key: Key<'de>,
    ) -> Result<(), A::Error> {
        cx.unknown_field(map, &key)
    }
}

/// Where an object with `additionalProperties` puts undeclared keys: its
/// map (a value that does not fit is dropped as drift).
pub struct ExtraFields<M>(M);

impl<T: Decode> Default for ExtraFields<BTreeMap<String, T>> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Decode> ExtraFields<BTreeMap<String, T>> {
    pub fn new() -> Self {
        ExtraFields(BTreeMap::new())
    }

    #[inline]
    pub fn read<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        cx: &mut Cx,
        key: Key<'de>,
    ) -> Result<(), A::Error> {
        cx.extra_field(map, key, &mut self.0)
    }

    pub fn into_map(self) -> BTreeMap<String, T> {
        self.0
    }
}

/// The slot of an optional field: `Option<T>` (not nullable: `null` is drift)
/// or [`Nullable<T>`] (absent, `null` and a value kept apart). A value that
/// does not fit leaves the slot absent and is reported as drift.
pub trait OptionalSlot: Sized {
    /// The field is not in the payload.
    const ABSENT: Self;

    fn decode_optional<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Result<Self, D::Error>;
}

/// Decodes an optional field's value: `Some(None)` for `null`, `None` for a
/// value that did not fit (already recorded as drift).
fn decode_optional_value<'de, T: Decode, D: Deserializer<'de>>(
    de: D,
    cx: &mut Cx,
) -> Result<Option<Option<T>>, D::Error> {
    let visitor = NullableVisitor::<T> {
        cx: &mut *cx,
        marker: PhantomData,
    };
    let value = de.deserialize_option(visitor)?;
    if value.is_none() {
        cx.discard_misfit();
    }
    Ok(value)
}

impl<T: Decode> OptionalSlot for Option<T> {
    const ABSENT: Self = None;

    #[inline]
    fn decode_optional<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Result<Self, D::Error> {
        Ok(match decode_optional_value(de, cx)? {
            Some(Some(v)) => Some(v),
            Some(None) => {
                cx.drift(DriftKind::NullInNonNullable);
                None
            }
            None => None,
        })
    }
}

impl<T: Decode> OptionalSlot for Nullable<T> {
    const ABSENT: Self = Nullable::Absent;

    #[inline]
    fn decode_optional<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Result<Self, D::Error> {
        Ok(match decode_optional_value(de, cx)? {
            Some(Some(v)) => Nullable::Value(v),
            Some(None) => Nullable::Null,
            None => Nullable::Absent,
        })
    }
}

struct OptionalSeed<'a, S> {
    cx: &'a mut Cx,
    marker: PhantomData<fn() -> S>,
}

impl<'de, S: OptionalSlot> DeserializeSeed<'de> for OptionalSeed<'_, S> {
    type Value = S;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S, D::Error> {
        S::decode_optional(de, self.cx)
    }
}

/// The calls generated `decode_fields` bodies are made of.
impl Cx {
    /// The next key of the object, or `None` at its end.
    #[inline]
    pub fn next_key<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
    ) -> Result<Option<Key<'de>>, A::Error> {
        map.next_key()
    }

    /// Decodes the value of required field `name` into `slot`.
    #[inline]
    pub fn required<'de, A: MapAccess<'de>, T: Decode>(
        &mut self,
        map: &mut A,
        name: &'static str,
        slot: &mut Required<T>,
    ) -> Result<(), A::Error> {
        self.enter_field(name);
        let value = map.next_value_seed(Seed::<T>::new(self));
        self.leave();
        match value? {
            Some(v) => {
                slot.value = Some(v);
                slot.misfit = None;
            }
            None => slot.misfit = self.take_misfit().map(Box::new),
        }
        Ok(())
    }

    /// Decodes the value of optional field `name` into `slot`.
    #[inline]
    pub fn optional<'de, A: MapAccess<'de>, S: OptionalSlot>(
        &mut self,
        map: &mut A,
        name: &'static str,
        slot: &mut S,
    ) -> Result<(), A::Error> {
        self.enter_field(name);
        let value = map.next_value_seed(OptionalSeed::<S> {
            cx: self,
            marker: PhantomData,
        });
        self.leave();
        *slot = value?;
        Ok(())
    }

    /// Skips the value of a field the spec does not declare (drift).
    #[inline]
    pub fn unknown_field<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        key: &Key<'de>,
    ) -> Result<(), A::Error> {
        if self.is_collecting() {
            self.drift_at_key(key.as_str(), DriftKind::UnknownField);
        }
        map.next_value::<IgnoredAny>()?;
        Ok(())
    }

    /// Decodes an undeclared field into the object's `additionalProperties`
    /// map; a value that does not fit is dropped as drift.
    pub fn extra_field<'de, A: MapAccess<'de>, T: Decode>(
        &mut self,
        map: &mut A,
        key: Key<'de>,
        extra: &mut BTreeMap<String, T>,
    ) -> Result<(), A::Error> {
        self.enter_key(key.as_str());
        let value = map.next_value_seed(Seed::<T>::new(self));
        match value {
            Ok(Some(v)) => {
                extra.insert(key.into_string(), v);
            }
            Ok(None) => self.discard_misfit(),
            Err(e) => {
                self.leave();
                return Err(e);
            }
        }
        self.leave();
        Ok(())
    }
}
