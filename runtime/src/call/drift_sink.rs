//! Where contract drift found in responses goes: by default a `tracing`
//! warning and the `wharf_drift_total` counter; apps can plug in their own
//! sink (to alert, or to collect drift for a provider report).

use crate::drift::Drift;
use std::fmt;

/// Receives the drift found while decoding a response.
pub trait DriftSink: Send + Sync + fmt::Debug {
    fn report(&self, integration: &str, operation: &str, drift: &[Drift]);
}

/// The default sink: one warning per fix-up and a counter by kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogDrift;

impl DriftSink for LogDrift {
    fn report(&self, integration: &str, operation: &str, drift: &[Drift]) {
        for d in drift {
            tracing::warn!(integration, operation, pointer = %d.pointer, kind = %d.kind, "contract drift");
            metrics::counter!(
                "wharf_drift_total",
                "integration" => integration.to_owned(),
                "operation" => operation.to_owned(),
                "kind" => kind_label(&d.kind)
            )
            .increment(1);
        }
    }
}

fn kind_label(kind: &crate::drift::DriftKind) -> &'static str {
    use crate::drift::DriftKind::*;
    match kind {
        UnknownField => "unknown_field",
        UnknownEnumValue { .. } => "unknown_enum_value",
        Coerced { .. } => "coerced",
        NullInNonNullable => "null_in_non_nullable",
        MissingNullable => "missing_nullable",
        Discarded { .. } => "discarded",
        UnmatchedVariant { .. } => "unmatched_variant",
        Truncated { .. } => "truncated",
    }
}
