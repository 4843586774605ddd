//! Redaction for everything that can reach a log, an error or `Debug`
//! output: credential headers, and token/secret/key-like names in query
//! strings and JSON bodies. Bodies are never printed, only their size.

use http::HeaderMap;
use std::fmt;

const REDACTED: &str = "[redacted]";

/// Header, query or field names whose values are secrets.
pub fn is_sensitive(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization"
            | "proxy-authorization"
            | "cookie"
            | "set-cookie"
            | "code"
            | "state"
            | "assertion"
    ) || [
        "token",
        "secret",
        "key",
        "password",
        "passwd",
        "signature",
        "session",
        "credential",
        "verifier",
        "authenticate",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// A URL with sensitive query values replaced.
pub fn url(raw: &str) -> String {
    let Some((base, query)) = raw.split_once('?') else {
        return raw.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, _)) => (q, "#…"),
        None => (query, ""),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}{fragment}", pairs.join("&"))
}

/// Headers for `Debug`: names, with sensitive values replaced.
pub struct Headers<'a>(pub &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if is_sensitive(name.as_str()) || value.is_sensitive() {
                map.entry(&name.as_str(), &REDACTED);
            } else {
                map.entry(&name.as_str(), &value.to_str().unwrap_or("<binary>"));
            }
        }
        map.finish()
    }
}

/// A body for `Debug`: its size only.
pub struct Body<'a>(pub &'a [u8]);

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// Stands in for a secret field in generated `Debug` output.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A map of extra fields for `Debug`, with values under sensitive keys
/// replaced.
pub struct RedactedMap<'a, V>(pub &'a std::collections::BTreeMap<String, V>);

impl<V: fmt::Debug> fmt::Debug for RedactedMap<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in self.0 {
            if is_sensitive(k) {
                map.entry(k, &Redacted);
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_names_and_query_values() {
        assert!(
            is_sensitive("Authorization")
                && is_sensitive("x-api-key")
                && is_sensitive("refresh_token")
        );
        assert!(!is_sensitive("content-type"));
        assert!(
            is_sensitive("WWW-Authenticate"),
            "challenges may carry tokens"
        );
        assert_eq!(
            url("https://h/p?page=2&access_token=CANARY&client_secret=CANARY#x"),
            "https://h/p?page=2&access_token=[redacted]&client_secret=[redacted]#…"
        );
    }
}
