//! Tolerant decoding of provider responses.
//!
//! Every generated type implements [`Decode`]. A decoder consumes exactly one
//! JSON value and returns `Ok(Some(value))`, `Ok(None)` for a *misfit* (a
//! value that cannot be this type; the reason is left in the [`Cx`]), or `Err`
//! for malformed input. Because a misfit always leaves the input positioned
//! after the offending value, an enclosing optional field can drop it, record
//! drift, and carry on, without buffering the payload.
//!
//! Two entry points: [`decode`] collects drift with JSON pointers; the plain
//! `serde::Deserialize` impls of generated types (see [`deserialize`]) are just
//! as tolerant but record nothing, so they stay close to derived-serde speed.

mod context;
mod enums;
mod error;
mod formats;
mod object;
pub(crate) mod scalars;
mod sequences;
mod union;

pub use context::{Cx, Misfit};
pub use enums::{decode_enum, StringEnum};
pub use error::DecodeError;
pub use formats::{Date, DateTime, Uuid};
pub use object::{
    decode_object, DecodeObject, ExtraFields, Key, NoExtra, Optional, OptionalJson, OptionalSlot,
    Required, RequiredNullable,
};
pub use union::{decode_union, discriminator, DecodeUnion, UnionTrial};

use crate::drift::Drift;
use serde::de::{DeserializeSeed, Deserializer, Error as _};
use std::marker::PhantomData;

/// The result of a tolerant decoder: `Ok(None)` is a misfit (see module docs).
pub type Decoding<T, E> = Result<Option<T>, E>;

/// A type that can be decoded tolerantly. Implemented by every generated type
/// and by the scalars, containers and formats they are built from.
pub trait Decode: Sized {
    /// Decodes one value from `de`, recording drift and misfits in `cx`.
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error>;
}

/// A decoded value and the contract drift found while decoding it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    /// The value.
    pub value: T,
    /// Every fix-up applied, in document order.
    pub drift: Vec<Drift>,
}

impl<T> Decoded<T> {
    /// The value changed by `f`, with the same drift.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        Decoded {
            value: f(self.value),
            drift: self.drift,
        }
    }
}

/// Decodes a JSON document tolerantly, collecting drift.
///
/// ```
/// let decoded = wharf_runtime::decode::<Vec<i64>>(br#"[1, "2", 3.0]"#).unwrap();
/// assert_eq!(decoded.value, vec![1, 2, 3]);
/// assert_eq!(decoded.drift.len(), 2);
/// assert_eq!(decoded.drift[0].pointer, "/1");
/// ```
pub fn decode<T: Decode>(bytes: &[u8]) -> Result<Decoded<T>, DecodeError> {
    let mut cx = Cx::collecting();
    let value = decode_in(bytes, &mut cx)?;
    Ok(Decoded {
        value,
        drift: cx.take_drift(),
    })
}

/// Decodes a JSON document with a caller-provided context.
pub fn decode_in<T: Decode>(bytes: &[u8], cx: &mut Cx) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let outcome = T::decode(&mut de, cx).map_err(DecodeError::from_json)?;
    de.end().map_err(DecodeError::from_json)?;
    match outcome {
        Some(value) => Ok(value),
        None => Err(DecodeError::from_misfit(cx.take_misfit())),
    }
}

/// The plain `serde::Deserialize` path of generated types: tolerant, but
/// without drift collection. A misfit at the top becomes a serde error.
pub fn deserialize<'de, T: Decode, D: Deserializer<'de>>(de: D) -> Result<T, D::Error> {
    let mut cx = Cx::quiet();
    match T::decode(de, &mut cx)? {
        Some(value) => Ok(value),
        None => {
            let misfit = cx.take_misfit();
            Err(D::Error::custom(DecodeError::from_misfit(misfit)))
        }
    }
}

/// A `DeserializeSeed` that runs a tolerant decoder; used for nested values.
pub struct Seed<'a, T> {
    cx: &'a mut Cx,
    marker: PhantomData<fn() -> T>,
}

impl<'a, T> Seed<'a, T> {
    pub fn new(cx: &'a mut Cx) -> Self {
        Seed {
            cx,
            marker: PhantomData,
        }
    }
}

impl<'de, T: Decode> DeserializeSeed<'de> for Seed<'_, T> {
    type Value = Option<T>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<T>, D::Error> {
        T::decode(de, self.cx)
    }
}
