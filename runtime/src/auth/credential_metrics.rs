//! A credential's health as metrics, labelled by integration (the part of
//! the credential's key before `:`, e.g. `github` of `github:alice`; never
//! the subject, which is unbounded):
//! `wharf_credentials_reauthorization_required{integration}` (how many
//! need a new login), `wharf_credential_refresh_failures_total{integration}`
//! and `wharf_credential_expiry_timestamp_seconds{integration}` (the expiry
//! of the token most recently made current).

use super::token::TokenSet;
use std::time::UNIX_EPOCH;

/// The integration a credential key belongs to.
pub(crate) fn integration_of(key: &str) -> String {
    super::credential_key::key_parts(key).0.to_owned()
}

/// A credential started (`true`) or stopped (`false`) needing a new login.
pub(super) fn reauthorization_required(key: &str, required: bool) {
    let gauge = metrics::gauge!(
        "wharf_credentials_reauthorization_required",
        "integration" => integration_of(key)
    );
    if required {
        gauge.increment(1.0);
    } else {
        gauge.decrement(1.0);
    }
}

pub(super) fn refresh_failed(key: &str) {
    metrics::counter!(
        "wharf_credential_refresh_failures_total",
        "integration" => integration_of(key)
    )
    .increment(1);
}

/// `tokens` became current.
pub(super) fn current(key: &str, tokens: &TokenSet) {
    let Some(expires) = tokens.expires_at() else {
        return;
    };
    let seconds = expires
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    metrics::gauge!(
        "wharf_credential_expiry_timestamp_seconds",
        "integration" => integration_of(key)
    )
    .set(seconds);
}
