//! `wharf token status|refresh|revoke`: the stored tokens of one
//! integration, looked at, renewed, or ended at the provider.

use crate::auth_config::AuthConfig;
use crate::provider::Provider;
use crate::summary::{describe, say};
use crate::token_store::CliStore;
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use wharf::auth::{TokenEndpoint, TokenError, TokenSet};

/// The config, the checked integration name, the store and its tokens;
/// an error that says to log in when nothing is stored.
async fn stored(
    config: &Path,
    integration: &str,
) -> Result<(AuthConfig, String, CliStore, TokenSet), String> {
    let config = AuthConfig::load(config)?;
    let name = config.integration(integration)?.name;
    let nothing = |config: &AuthConfig| {
        format!(
            "no tokens stored for {name} (store {}); run `{}`",
            config.store_dir.display(),
            config.login_command(&name)
        )
    };
    let Some(store) = CliStore::existing(&config, &name)? else {
        return Err(nothing(&config));
    };
    let Some(tokens) = store.load(&config).await? else {
        return Err(nothing(&config));
    };
    Ok((config, name, store, tokens))
}

pub(crate) async fn status(config: PathBuf, integration: String) -> Result<(), String> {
    let (_, name, store, tokens) = stored(&config, &integration).await?;
    let mut text = format!("Tokens stored for {name}.\n");
    text.push_str(&describe(&tokens, None, &store.path(), SystemTime::now()));
    say(&text);
    Ok(())
}

pub(crate) async fn refresh(config: PathBuf, integration: String) -> Result<(), String> {
    let (config, name, store, tokens) = stored(&config, &integration).await?;
    let Some(old_refresh) = &tokens.refresh_token else {
        return Err(format!(
            "the tokens stored for {name} have no refresh token (the provider issued none); run `{}`",
            config.login_command(&name)
        ));
    };
    let provider = Provider::connect(&config.integration(&name)?).await?;
    let scopes: Vec<String> = tokens.scopes.iter().cloned().collect();
    let fresh = provider
        .client
        .refresh(old_refresh, &scopes, SystemTime::now())
        .await
        .map_err(|e| match e {
            TokenError::InvalidGrant { .. } => format!(
                "the provider refused the refresh token of {name} ({e}); run `{}`",
                config.login_command(&name)
            ),
            other => format!(
                "refresh of {name} at {} failed: {other}",
                provider.client.metadata.token_endpoint
            ),
        })?;
    // The response's refresh token replaces the old one (rotation); the
    // parser keeps the old one when the server sends none.
    let rotated = fresh
        .refresh_token
        .as_ref()
        .is_some_and(|new| new.expose_secret() != old_refresh.expose_secret());
    store.save(&config, &fresh).await?;
    let mut text = format!("Refreshed the tokens of {name}.\n");
    text.push_str(&describe(&fresh, None, &store.path(), SystemTime::now()));
    text.push_str(if rotated {
        "  (the provider rotated the refresh token; the new one is stored)\n"
    } else {
        "  (the refresh token stays the same)\n"
    });
    say(&text);
    Ok(())
}

pub(crate) async fn revoke(
    config: PathBuf,
    integration: String,
    local_only: bool,
) -> Result<(), String> {
    let (config, name, store, tokens) = stored(&config, &integration).await?;
    let file = store.path();
    if local_only {
        store.delete(&config).await?;
        say(&format!(
            "Deleted the tokens of {name} from {} without contacting the provider; they stay valid there until they expire.\n",
            file.display()
        ));
        return Ok(());
    }
    let provider = Provider::connect(&config.integration(&name)?).await?;
    let Some(endpoint) = provider.client.metadata.revocation_endpoint.clone() else {
        store.delete(&config).await?;
        say(&format!(
            "The provider of {name} has no known revocation endpoint (set `issuer` for discovery, or `revocation_url`, in {}).\nDeleted the tokens from {} only; they stay valid at the provider until they expire.\n",
            config.path.display(),
            file.display()
        ));
        return Ok(());
    };
    let keep = |what: &str, e: wharf::auth::FlowError| {
        format!(
            "revoking the {what} of {name} at {endpoint} failed: {e}; the tokens are still stored (retry, or `wharf token revoke {name} --local-only` to only delete them)"
        )
    };
    let mut done = Vec::new();
    if let Some(refresh) = &tokens.refresh_token {
        provider
            .client
            .revoke(refresh, "refresh_token")
            .await
            .map_err(|e| keep("refresh token", e))?;
        done.push("the refresh token");
    }
    // The access token too: servers need not end it with its grant.
    match provider
        .client
        .revoke(&tokens.access_token, "access_token")
        .await
    {
        Ok(()) => done.push("the access token"),
        // With the refresh token revoked, the grant is over; the access
        // token expires on its own.
        Err(e) if !done.is_empty() => {
            eprintln!("warning: revoking the access token of {name} failed: {e}; it stays valid until it expires");
        }
        Err(e) => return Err(keep("access token", e)),
    }
    store.delete(&config).await?;
    say(&format!(
        "Revoked {} of {name} at {endpoint} and deleted {}.\n",
        done.join(" and "),
        file.display()
    ));
    Ok(())
}
