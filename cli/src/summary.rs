//! What the OAuth verbs print about stored tokens: scopes, expiry, whether
//! a refresh token exists, where the file is. Never a token.

use crate::time_text::{relative, utc};
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;
use wharf::auth::TokenSet;

/// The facts about `tokens`, one `label: value` line each.
pub(crate) fn describe(
    tokens: &TokenSet,
    requested: Option<&[String]>,
    store_file: &Path,
    now: SystemTime,
) -> String {
    let mut text = String::new();
    let mut line = |label: &str, value: &str| {
        text.push_str(&format!("  {label:<14} {value}\n"));
    };
    let granted: Vec<&str> = tokens.scopes.iter().map(String::as_str).collect();
    line(
        "scopes:",
        &if granted.is_empty() {
            "none".to_owned()
        } else {
            granted.join(" ")
        },
    );
    if let Some(requested) = requested {
        let missing: Vec<&str> = requested
            .iter()
            .map(String::as_str)
            .filter(|s| !tokens.scopes.contains(*s))
            .collect();
        if !missing.is_empty() {
            line("not granted:", &missing.join(" "));
        }
    }
    let expiry = match tokens.expires_at() {
        Some(at) if at > now => format!("expires {} ({})", relative(at, now), utc(at)),
        Some(at) => format!("expired {} ({})", relative(at, now), utc(at)),
        None => "no expiry given by the provider".to_owned(),
    };
    line("access token:", &expiry);
    line(
        "refresh token:",
        if tokens.refresh_token.is_some() {
            "stored"
        } else {
            "none (sign in again when the access token expires)"
        },
    );
    line("store file:", &store_file.display().to_string());
    text
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a
/// panic, so failures are dropped.
pub(crate) fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
