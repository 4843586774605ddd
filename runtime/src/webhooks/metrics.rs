//! The inbox's metrics and events: deliveries by outcome, dead-letter
//! arrivals, and the queue gauges an alert watches.

use crate::store::{Depth, StoredEvent};
use std::collections::BTreeSet;

/// Counts a delivery: `wharf_webhook_received_total{source, outcome}`.
pub(super) fn received(source: &str, outcome: &'static str) {
    metrics::counter!(
        "wharf_webhook_received_total",
        "source" => source.to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

/// An event reached the dead-letter queue: a warning event and
/// `wharf_webhook_dead_letters_total{source, direction="inbound"}`.
pub(super) fn dead_letter(event: &StoredEvent, error: &str) {
    tracing::warn!(
        source = %event.source,
        event_id = %event.event_id,
        attempts = event.attempts,
        error = %error,
        "webhook event moved to the dead-letter queue"
    );
    metrics::counter!(
        "wharf_webhook_dead_letters_total",
        "source" => event.source.clone(),
        "direction" => "inbound"
    )
    .increment(1);
}

/// `wharf_webhook_queue_depth{source, state="pending"|"dead"}` and
/// `wharf_webhook_oldest_pending_seconds{source}`. `published` holds the
/// sources published before: one the store no longer lists (its queue has
/// drained) is set to zero, not left at its last depth.
pub(super) fn queue_depth(depths: &[Depth], now_ms: i64, published: &mut BTreeSet<String>) {
    let drained: Vec<Depth> = published
        .iter()
        .filter(|name| !depths.iter().any(|d| &d.source == *name))
        .map(|name| Depth {
            source: name.clone(),
            pending: 0,
            dead: 0,
            oldest_pending: None,
        })
        .collect();
    for depth in depths {
        if !published.contains(&depth.source) {
            // Registered at zero before the first dead letter can arrive,
            // so Prometheus's `increase` sees that one too.
            metrics::counter!(
                "wharf_webhook_dead_letters_total",
                "source" => depth.source.clone(),
                "direction" => "inbound"
            )
            .increment(0);
        }
    }
    published.extend(depths.iter().map(|d| d.source.clone()));
    for depth in depths.iter().chain(&drained) {
        metrics::gauge!("wharf_webhook_queue_depth", "source" => depth.source.clone(), "state" => "pending")
            .set(depth.pending as f64);
        metrics::gauge!("wharf_webhook_queue_depth", "source" => depth.source.clone(), "state" => "dead")
            .set(depth.dead as f64);
        let age = depth
            .oldest_pending
            .map_or(0.0, |at| (now_ms.saturating_sub(at)).max(0) as f64 / 1000.0);
        metrics::gauge!("wharf_webhook_oldest_pending_seconds", "source" => depth.source.clone())
            .set(age);
    }
}

/// An outbound message reached the dead-letter queue: a warning (naming
/// the endpoint) and `wharf_webhook_dead_letters_total{source=
/// "outbound_webhooks", direction="outbound"}` (endpoints are the app's
/// customers, too many for a label).
pub(super) fn dead_message(endpoint: &str, message_id: &str, attempts: u32, error: &str) {
    tracing::warn!(
        endpoint = %endpoint,
        message_id = %message_id,
        attempts,
        error = %error,
        "outbound webhook moved to the dead-letter queue"
    );
    metrics::counter!(
        "wharf_webhook_dead_letters_total",
        "source" => crate::outbox_loop::OUTBOUND_WEBHOOKS,
        "direction" => "outbound"
    )
    .increment(1);
}

/// An endpoint was disabled: an error event (naming it) and
/// `wharf_webhook_endpoints_disabled_total`.
pub(super) fn endpoint_disabled(endpoint: &str, why: &str) {
    tracing::error!(endpoint = %endpoint, reason = %why, "webhook endpoint disabled");
    metrics::counter!("wharf_webhook_endpoints_disabled_total").increment(1);
}
