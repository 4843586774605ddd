//! What a credential's key says: `github:alice` is the integration
//! `github` and the subject `alice`. Metrics label by the integration only;
//! audit records and the status page show both.

/// A credential key's parts; a key without `:` names the integration alone.
pub(crate) fn key_parts(key: &str) -> (&str, Option<&str>) {
    match key.split_once(':') {
        Some((integration, subject)) => (integration, Some(subject)),
        None => (key, None),
    }
}
