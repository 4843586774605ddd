//! The decoding context threaded through every tolerant decoder: where we are
//! (a path of segments, tracked only when drift is collected), the drift found
//! so far, and the last *misfit* (a value that cannot be decoded into its type).
//!
//! A misfit is a soft failure: the decoder that reports it has already consumed
//! the whole offending value, so the input stream stays consistent and an
//! enclosing optional field can turn the misfit into drift and carry on.

use crate::drift::{Drift, DriftKind, JsonType};
use std::fmt::Write as _;

/// Decoding context. Generated code receives one and passes it on; it never
/// needs to look inside.
#[derive(Debug, Default)]
pub struct Cx {
    collect: bool,
    path: Vec<Segment>,
    drift: Vec<Drift>,
    /// Drift found beyond [`MAX_DRIFT_RECORDS`]: counted, not kept.
    dropped: usize,
    misfit: Option<Misfit>,
}

/// The most drift records kept per decoded document. A hostile or broken
/// payload (a million undeclared fields) would otherwise cost a record
/// each; past this, drift is only counted, and the count is reported as
/// one [`DriftKind::Truncated`] record at the end.
pub const MAX_DRIFT_RECORDS: usize = 1_000;

#[derive(Debug, Clone)]
enum Segment {
    Field(&'static str),
    Key(Box<str>),
    Index(usize),
}

/// Why a value could not be decoded into its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    /// JSON pointer of the value (empty when paths were not tracked).
    pub pointer: String,
    /// The field that failed, when it is a field of an object.
    pub field: Option<String>,
    /// What went wrong, without the offending value.
    pub reason: String,
}

impl Cx {
    /// A context that tracks paths and collects drift (used by `wharf::decode`).
    pub fn collecting() -> Self {
        Cx {
            collect: true,
            ..Cx::default()
        }
    }

    /// A context that only decodes (used by plain `serde` deserialization).
    pub fn quiet() -> Self {
        Cx::default()
    }

    /// Whether drift and paths are being recorded.
    #[inline]
    pub fn is_collecting(&self) -> bool {
        self.collect
    }

    /// A fresh collecting context positioned at the same path, used to trial
    /// union variants without touching this context's drift.
    pub(crate) fn trial(&self) -> Cx {
        Cx {
            collect: true,
            path: self.path.clone(),
            drift: Vec::new(),
            dropped: 0,
            misfit: None,
        }
    }

    /// Whether the record cap is reached (further drift is only counted).
    #[inline]
    fn is_full(&self) -> bool {
        self.drift.len() >= MAX_DRIFT_RECORDS
    }

    pub(crate) fn drift_count(&self) -> usize {
        self.drift.len()
    }

    pub(crate) fn absorb(&mut self, other: Cx) {
        if self.collect {
            let room = MAX_DRIFT_RECORDS.saturating_sub(self.drift.len());
            let extra = other.drift.len().saturating_sub(room);
            self.drift.extend(other.drift.into_iter().take(room));
            self.dropped += extra + other.dropped;
        }
    }

    /// Takes the drift collected so far; past the cap, a last
    /// [`DriftKind::Truncated`] record says how many were dropped.
    pub fn take_drift(&mut self) -> Vec<Drift> {
        let mut drift = std::mem::take(&mut self.drift);
        if self.dropped > 0 {
            drift.push(Drift {
                pointer: String::new(),
                kind: DriftKind::Truncated {
                    dropped: std::mem::take(&mut self.dropped),
                },
            });
        }
        drift
    }

    /// Takes the pending misfit, if any.
    pub fn take_misfit(&mut self) -> Option<Misfit> {
        self.misfit.take()
    }

    #[inline]
    pub(crate) fn enter_field(&mut self, name: &'static str) {
        if self.collect {
            self.path.push(Segment::Field(name));
        }
    }

    #[inline]
    pub(crate) fn enter_key(&mut self, key: &str) {
        if self.collect {
            self.path.push(Segment::Key(key.into()));
        }
    }

    #[inline]
    pub(crate) fn enter_index(&mut self, index: usize) {
        if self.collect {
            self.path.push(Segment::Index(index));
        }
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        if self.collect {
            self.path.pop();
        }
    }

    /// The JSON pointer of the current position.
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            out.push('/');
            match segment {
                Segment::Field(name) => escape_into(&mut out, name),
                Segment::Key(key) => escape_into(&mut out, key),
                Segment::Index(i) => {
                    let _ = write!(out, "{i}");
                }
            }
        }
        out
    }

    fn current_field(&self) -> Option<String> {
        match self.path.last() {
            Some(Segment::Field(name)) => Some((*name).to_owned()),
            Some(Segment::Key(key)) => Some(key.to_string()),
            _ => None,
        }
    }

    /// Records drift at the current position.
    #[inline]
    pub fn drift(&mut self, kind: DriftKind) {
        if self.collect {
            if self.is_full() {
                self.dropped += 1;
                return;
            }
            let pointer = self.pointer();
            self.drift.push(Drift { pointer, kind });
        }
    }

    /// Records drift at a child of the current position.
    pub(crate) fn drift_at_key(&mut self, key: &str, kind: DriftKind) {
        if self.collect && self.is_full() {
            self.dropped += 1;
        } else if self.collect {
            self.enter_key(key);
            self.drift(kind);
            self.leave();
        }
    }

    /// Records a misfit at the current position and returns `None`, the value
    /// decoders return for it.
    #[cold]
    pub fn misfit<T>(&mut self, reason: impl Into<String>) -> Option<T> {
        self.misfit = Some(Misfit {
            pointer: self.pointer(),
            field: self.current_field(),
            reason: reason.into(),
        });
        None
    }

    pub(crate) fn set_misfit(&mut self, misfit: Misfit) {
        self.misfit = Some(misfit);
    }

    /// Records a misfit for a value of the wrong JSON type.
    #[cold]
    pub(crate) fn wrong_type<T>(&mut self, expected: &str, found: JsonType) -> Option<T> {
        self.misfit(format!("expected {expected}, found {found}"))
    }

    /// Records that a required field is missing from the current object, unless
    /// a more precise misfit for it is already pending.
    #[cold]
    pub(crate) fn missing_field(&mut self, name: &'static str) {
        self.enter_field(name);
        self.misfit = Some(Misfit {
            pointer: self.pointer(),
            field: Some(name.to_owned()),
            reason: format!("missing required field `{name}`"),
        });
        self.leave();
    }

    /// Turns the pending misfit into drift at the current position: the value
    /// is dropped and its optional field treated as absent.
    #[cold]
    pub(crate) fn discard_misfit(&mut self) {
        let misfit = self.misfit.take();
        if self.collect {
            let here = self.pointer();
            let reason = match misfit {
                Some(m) if !m.pointer.is_empty() && m.pointer != here => {
                    format!("{} (at {})", m.reason, m.pointer)
                }
                Some(m) => m.reason,
                None => "value did not fit".to_owned(),
            };
            self.drift(DriftKind::Discarded { reason });
        }
    }
}

fn escape_into(out: &mut String, raw: &str) {
    if !raw.contains(['~', '/']) {
        out.push_str(raw);
        return;
    }
    for c in raw.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_tilde_and_slash() {
        let mut cx = Cx::collecting();
        cx.enter_field("a/b");
        cx.enter_index(3);
        cx.enter_key("m~n");
        assert_eq!(cx.pointer(), "/a~1b/3/m~0n");
    }

    #[test]
    fn drift_past_the_cap_is_counted_not_kept() {
        let mut cx = Cx::collecting();
        for i in 0..MAX_DRIFT_RECORDS + 500 {
            cx.drift_at_key(&format!("f{i}"), DriftKind::UnknownField);
        }
        let mut trial = cx.trial();
        trial.drift(DriftKind::NullInNonNullable);
        cx.absorb(trial);
        let drift = cx.take_drift();
        assert_eq!(drift.len(), MAX_DRIFT_RECORDS + 1);
        assert_eq!(
            drift[MAX_DRIFT_RECORDS - 1].pointer,
            format!("/f{}", MAX_DRIFT_RECORDS - 1)
        );
        assert_eq!(
            drift[MAX_DRIFT_RECORDS].kind,
            DriftKind::Truncated { dropped: 501 }
        );
        assert!(
            cx.take_drift().is_empty(),
            "the count is taken with the records"
        );
    }

    #[test]
    fn quiet_context_records_nothing() {
        let mut cx = Cx::quiet();
        cx.enter_field("a");
        cx.drift(DriftKind::UnknownField);
        assert!(cx.take_drift().is_empty());
        assert_eq!(cx.pointer(), "");
    }
}
