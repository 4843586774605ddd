//! `wharf key set|status|delete`: API keys, passwords and static tokens of
//! providers without OAuth, kept encrypted in the same store as the tokens
//! of `wharf login`. An app reads one with
//! `KeySource::from_store(&store, "stripe:secret_key")` and picks up a key
//! set again later with `KeySource::reload_from`, without a restart.

use crate::auth_config::{AuthConfig, DEFAULT_PATH};
use crate::summary::say;
use crate::token_store::CliStore;
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use wharf::auth::KEY_TOKEN_TYPE;

/// The longest key read from standard input (a key is one line).
const MAX_KEY_BYTES: usize = 8192;

/// The config naming the store; the default file may be absent (then the
/// default store, `.wharf/tokens`, is used: keys need no integration entry).
fn config(path: &Path) -> Result<AuthConfig, String> {
    if path == Path::new(DEFAULT_PATH) && !path.exists() {
        return AuthConfig::parse(path, "{}");
    }
    AuthConfig::load(path)
}

/// A key name: what the app passes to `KeySource::from_store`, by
/// convention `integration:scheme`.
fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.:".contains(c);
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(format!(
            "key name {name:?}: use letters, digits and `_ - . :` (e.g. `stripe:secret_key`)"
        ));
    }
    Ok(())
}

/// Where the secret comes from: an environment variable, or one line of
/// standard input.
fn read_secret(from_env: Option<&str>) -> Result<SecretString, String> {
    let text = match from_env {
        Some(variable) => std::env::var(variable)
            .map_err(|_| format!("environment variable {variable} is not set (or not UTF-8)"))?,
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("Paste the key and press Enter:");
            }
            let mut line = Vec::new();
            let mut limited = std::io::Read::take(stdin.lock(), MAX_KEY_BYTES as u64 + 1);
            std::io::BufReader::new(&mut limited)
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading the key from standard input: {e}"))?;
            if line.len() > MAX_KEY_BYTES {
                return Err(format!("the key is longer than {MAX_KEY_BYTES} bytes"));
            }
            String::from_utf8(line).map_err(|_| "the key is not UTF-8".to_owned())?
        }
    };
    let key = text.trim_end_matches(['\n', '\r']);
    if key.trim().is_empty() {
        return Err("the key is empty".into());
    }
    // It is sent in a header, query or cookie: control characters cannot be.
    if let Some(at) = key.chars().position(char::is_control) {
        return Err(format!(
            "the key has a control character at position {} (not sendable in a request)",
            at + 1
        ));
    }
    Ok(SecretString::from(key.to_owned()))
}

pub(crate) async fn set(
    config_path: PathBuf,
    name: String,
    from_env: Option<String>,
) -> Result<(), String> {
    check_name(&name)?;
    let config = config(&config_path)?;
    let secret = read_secret(from_env.as_deref())?;
    let length = secret.expose_secret().chars().count();
    let store = CliStore::create(&config, &name)?;
    // Never over OAuth tokens, nor over an entry that cannot be read (which
    // may be them): both are refused with what to do instead.
    let replaced = match store.load(&config).await {
        Ok(None) => false,
        Ok(Some(old)) if old.token_type == KEY_TOKEN_TYPE => true,
        Ok(Some(_)) => {
            return Err(format!(
                "{name} holds OAuth tokens, not a key; pick another name (by convention `integration:scheme`) or `wharf token revoke {name}` first"
            ))
        }
        Err(e) => {
            return Err(format!(
                "{e}; nothing was replaced (`wharf key delete {name}` removes the entry)"
            ))
        }
    };
    store.save_key(&config, secret).await?;
    say(&format!(
        "{} the key {name} ({length} characters) in {}.\nAn app reads it with KeySource::from_store(&store, {name:?}); running apps pick it up with KeySource::reload_from.\n",
        if replaced { "Replaced" } else { "Stored" },
        store.path().display()
    ));
    Ok(())
}

pub(crate) async fn status(config_path: PathBuf, name: String) -> Result<(), String> {
    check_name(&name)?;
    let config = config(&config_path)?;
    let nothing = || {
        format!(
            "no key is stored under {name} (store {}); run `wharf key set {name}`",
            config.store_dir.display()
        )
    };
    let Some(store) = CliStore::existing(&config, &name)? else {
        return Err(nothing());
    };
    let Some(saved) = store.load(&config).await? else {
        return Err(nothing());
    };
    if saved.token_type != KEY_TOKEN_TYPE {
        return Err(format!(
            "{name} holds OAuth tokens, not a key: see `wharf token status {name}`"
        ));
    }
    let when: DateTime<Utc> = saved.issued_at.into();
    say(&format!(
        "A key is stored under {name} ({} characters), saved {}.\n  store file: {}\n",
        saved.access_token.expose_secret().chars().count(),
        when.to_rfc3339_opts(SecondsFormat::Secs, true),
        store.path().display()
    ));
    Ok(())
}

pub(crate) async fn delete(config_path: PathBuf, name: String) -> Result<(), String> {
    check_name(&name)?;
    let config = config(&config_path)?;
    let Some(store) = CliStore::existing(&config, &name)? else {
        return Err(format!("no key is stored under {name}"));
    };
    // An entry that cannot be read is deleted too: that is how it is fixed.
    if let Ok(Some(saved)) = store.load(&config).await {
        if saved.token_type != KEY_TOKEN_TYPE {
            return Err(format!(
                "{name} holds OAuth tokens, not a key: use `wharf token revoke {name}`"
            ));
        }
    }
    store.delete(&config).await?;
    say(&format!("Deleted the key {name}.\n"));
    Ok(())
}
