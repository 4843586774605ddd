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
pub struct BodySize<'a>(pub &'a [u8]);

impl fmt::Debug for BodySize<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// Shortest run of token characters taken for a credential in provider text.
const TOKEN_LIKE_LEN: usize = 24;

/// Text a provider sent (an `error_description`, a message), made safe to
/// keep in an error or a log: every occurrence of a secret the request
/// carried is replaced, and so is any run of 24 or more token characters
/// (letters, digits, `-._~+/=`), since providers echo credentials in forms
/// the request did not hold (truncated, re-encoded).
pub fn provider_text(text: &str, sent_secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in sent_secrets {
        // Shorter values would replace ordinary words.
        if secret.len() >= 4 && out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    let mut cleaned = String::with_capacity(out.len());
    let mut run = String::new();
    let flush = |run: &mut String, cleaned: &mut String| {
        if run.len() >= TOKEN_LIKE_LEN {
            cleaned.push_str(REDACTED);
        } else {
            cleaned.push_str(run);
        }
        run.clear();
    };
    for c in out.chars() {
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut cleaned);
            cleaned.push(c);
        }
    }
    flush(&mut run, &mut cleaned);
    cleaned
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
    fn provider_text_loses_what_looks_like_a_credential() {
        assert_eq!(
            provider_text("refresh token rt-short is revoked", &["rt-short"]),
            "refresh token [redacted] is revoked"
        );
        let echoed = "Token 9f8e7d6c5b4a39281706f5e4d3c2b1a0 was revoked (client abc)";
        assert_eq!(
            provider_text(echoed, &[]),
            "Token [redacted] was revoked (client abc)"
        );
        assert_eq!(
            provider_text("The refresh token is invalid or expired.", &[]),
            "The refresh token is invalid or expired."
        );
    }

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
