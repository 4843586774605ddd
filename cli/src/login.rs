//! `wharf login`: the native-app authorization code flow (RFC 8252) with
//! PKCE. A one-shot listener on 127.0.0.1 receives the redirect, the code
//! is exchanged, and the tokens go to the encrypted store. Only scopes and
//! expiry are printed.

use crate::auth_config::AuthConfig;
use crate::progress::Waiting;
use crate::provider::Provider;
use crate::summary::{describe, say};
use crate::time_text::span;
use crate::token_store::CliStore;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use wharf::auth::{open_browser, FlowError, LoopbackListener};
use wharf::time::TokioClock;

pub(crate) struct LoginArgs {
    pub config: PathBuf,
    pub integration: String,
    pub scopes: Vec<String>,
    pub no_browser: bool,
    pub timeout: Duration,
}

pub(crate) async fn run(args: LoginArgs) -> Result<(), String> {
    let config = AuthConfig::load(&args.config)?;
    let integration = config.integration(&args.integration)?;
    let name = &integration.name;
    let provider = Provider::connect(&integration).await?;
    let scopes = choose_scopes(&args.scopes, integration.scopes.as_deref(), &provider);
    // Opened before the browser: a store problem should not cost a sign-in.
    let store = CliStore::create(&config, name)?;

    let listener = LoopbackListener::bind()
        .await
        .map_err(|e| format!("cannot listen for the redirect on 127.0.0.1: {e}"))?;
    let pending = provider
        .client
        .start_authorization(&scopes, listener.redirect_uri())
        .map_err(|e| format!("cannot start the sign-in to {name:?}: {e}"))?;
    if args.no_browser {
        eprintln!(
            "Open this URL in a browser to sign in to {name}:\n\n  {}\n",
            pending.url
        );
    } else if open_browser(&pending.url) {
        eprintln!(
            "Opened a browser to sign in to {name}. If it did not open, visit:\n\n  {}\n",
            pending.url
        );
    } else {
        eprintln!(
            "Could not start a browser; open this URL to sign in to {name}:\n\n  {}\n",
            pending.url
        );
    }

    let waiting = Waiting::start("Waiting for the sign-in in the browser", args.timeout);
    let mut receive = std::pin::pin!(listener.receive(args.timeout, &TokioClock));
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let query = loop {
        tokio::select! {
            received = &mut receive => break received,
            _ = ticker.tick() => waiting.tick(),
        }
    };
    waiting.finish();
    let query = query.map_err(|e| match e {
        FlowError::TimedOut => format!(
            "the sign-in to {name} was not finished within {} (--timeout to wait longer)",
            span(args.timeout)
        ),
        other => format!("sign-in to {name} failed: {other}"),
    })?;
    let tokens = provider
        .client
        .complete_authorization(&pending, &query)
        .await
        .map_err(|e| match e {
            FlowError::Denied { .. } | FlowError::StateMismatch | FlowError::IssuerMismatch => {
                format!("sign-in to {name} failed: {e}")
            }
            other => format!(
                "sign-in to {name} failed at the token endpoint {}: {other}",
                provider.client.metadata.token_endpoint
            ),
        })?;

    let replacing = store.path().exists();
    store.save(&config, &tokens).await?;
    let mut text = format!("Logged in to {name} as client {}.\n", integration.client_id);
    text.push_str(&describe(
        &tokens,
        Some(&scopes),
        &store.path(),
        SystemTime::now(),
    ));
    if replacing {
        text.push_str("  (replaced the tokens stored before)\n");
    }
    say(&text);
    Ok(())
}

/// `--scope` values, else the config's `scopes`, else every scope of the
/// spec's scheme. Scopes the scheme does not define are asked for anyway
/// (the server decides), with a warning.
fn choose_scopes(
    cli: &[String],
    configured: Option<&[String]>,
    provider: &Provider,
) -> Vec<String> {
    let chosen: Vec<String> = if !cli.is_empty() {
        cli.iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect()
    } else if let Some(configured) = configured {
        configured.to_vec()
    } else {
        provider.scheme_scopes.clone()
    };
    if let Some(scheme) = &provider.scheme_name {
        if !provider.scheme_scopes.is_empty() {
            for s in chosen
                .iter()
                .filter(|s| !provider.scheme_scopes.contains(s))
            {
                eprintln!("warning: scope {s:?} is not defined by security scheme {scheme:?}; asking for it anyway");
            }
        }
    }
    chosen
}
