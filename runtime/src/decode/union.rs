//! `oneOf` / `anyOf`: the value is buffered as JSON, then either routed by its
//! discriminator or tried against each variant. The variant that fits with
//! the least drift wins (the first that fits with none ends the search); a
//! value no variant fits is kept whole in `Other` and reported as drift, so a
//! union never loses data.

use super::{Cx, Decode, Decoding};
use crate::drift::DriftKind;
use serde::de::{Deserialize, Deserializer};
use serde_json::Value;

/// A generated union type.
pub trait DecodeUnion: Sized {
    /// Chooses a variant for an already-buffered value.
    fn decode_value(value: Value, cx: &mut Cx) -> Self;
}

/// Decodes a union type. Always fits (falling back to its `Other` variant).
pub fn decode_union<'de, T: DecodeUnion, D: Deserializer<'de>>(
    de: D,
    cx: &mut Cx,
) -> Decoding<T, D::Error> {
    let value = Value::deserialize(de)?;
    Ok(Some(T::decode_value(value, cx)))
}

/// The discriminator property of a buffered object, if it is a string.
pub fn discriminator<'v>(value: &'v Value, property: &str) -> Option<&'v str> {
    value.get(property)?.as_str()
}

/// Tries the variants of an untagged union in order.
pub struct UnionTrial<'a, T> {
    value: Value,
    cx: &'a mut Cx,
    best: Option<(T, Cx)>,
    exact: bool,
}

impl<'a, T> UnionTrial<'a, T> {
    pub fn new(value: Value, cx: &'a mut Cx) -> Self {
        UnionTrial {
            value,
            cx,
            best: None,
            exact: false,
        }
    }

    /// Tries variant `V`, keeping it if it fits with less drift than the best
    /// so far.
    pub fn variant<V: Decode>(mut self, wrap: fn(V) -> T) -> Self {
        if self.exact {
            return self;
        }
        let mut trial = self.cx.trial();
        if let Ok(Some(v)) = V::decode(&self.value, &mut trial) {
            let drift = trial.drift_count();
            let better = match &self.best {
                None => true,
                Some((_, best)) => drift < best.drift_count(),
            };
            if better {
                self.exact = drift == 0;
                self.best = Some((wrap(v), trial));
            }
        }
        self
    }

    /// The chosen variant, or `other` with the raw value when none fits.
    pub fn finish(self, other: fn(Value) -> T) -> T {
        match self.best {
            Some((v, trial)) => {
                self.cx.absorb(trial);
                v
            }
            None => {
                self.cx.drift(DriftKind::UnmatchedVariant {
                    reason: "the value fits none of the variants".to_owned(),
                });
                other(self.value)
            }
        }
    }

    /// Decodes the variant named by the discriminator; when it does not fit
    /// its own variant, the raw value is kept in `other`.
    pub fn tagged<V: Decode>(self, wrap: fn(V) -> T, other: fn(Value) -> T) -> T {
        let mut trial = self.cx.trial();
        match V::decode(&self.value, &mut trial) {
            Ok(Some(v)) => {
                self.cx.absorb(trial);
                wrap(v)
            }
            _ => {
                let reason = match trial.take_misfit() {
                    Some(m) if m.pointer.is_empty() => m.reason,
                    Some(m) => format!("{} (at {})", m.reason, m.pointer),
                    None => "the value does not fit the variant its discriminator names".to_owned(),
                };
                self.cx.drift(DriftKind::UnmatchedVariant { reason });
                other(self.value)
            }
        }
    }

    /// The discriminator names no known variant: keep the raw value.
    pub fn unknown_tag(self, property: &str, other: fn(Value) -> T) -> T {
        let reason = match self.value.get(property) {
            None => format!("discriminator `{property}` is missing"),
            Some(_) => format!("discriminator `{property}` has a value the spec does not list"),
        };
        self.cx.drift(DriftKind::UnmatchedVariant { reason });
        other(self.value)
    }
}
