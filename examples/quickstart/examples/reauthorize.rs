//! `cargo run --example reauthorize`: an app that lives through the user
//! revoking it. The sandbox revokes every grant (as a user does in the
//! provider's settings); the next call's 401 leads to one refresh, which
//! fails with `invalid_grant`; wharf stops asking the server, emits
//! `AuthEvent::ReauthorizationRequired` and fails calls with
//! `AuthFailure::ReauthorizationRequired`. The app reacts by logging in
//! again, and carries on with the same client.

use std::sync::Arc;
use std::time::Duration;
use wharf::auth::AuthEvent;
use wharf::call::{AuthFailure, ErrorKind};
use wharf::client::ApiError;
use wharf::testing::sandbox::{self, Sandbox};
use wharf_quickstart::{login, narrate};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = login::login().await?;
    let client = &session.client;
    session.credential.on_event(|event| {
        if let AuthEvent::ReauthorizationRequired { credential } = event {
            narrate::step(&format!(
                "[auth] {credential}: the grant is gone; asking the user to log in again"
            ));
        }
    });

    narrate::section("the user revokes the app in the provider's settings");
    session.sandbox.revoke_grants();
    let failure = client.get_user(Default::default()).await;
    match failure {
        Err(ApiError::Call(e))
            if matches!(
                e.kind,
                ErrorKind::Auth(AuthFailure::ReauthorizationRequired { .. })
            ) =>
        {
            narrate::step(&format!("get_user → {e}"));
        }
        other => {
            return Err(format!(
                "expected re-authorization, got {:?}",
                other.map(|r| r.status)
            )
            .into())
        }
    }
    // No more token requests while the grant is dead.
    let before = session.sandbox.log().token_requests.len();
    let _ = client.get_user(Default::default()).await;
    let asked = session.sandbox.log().token_requests.len() - before;
    narrate::step(&format!(
        "a second call fails the same way; token requests it made: {asked}"
    ));

    narrate::section("log in again; the same client carries on");
    let oauth = session
        .sandbox
        .oauth_client(
            sandbox::QUICKSTART_CLIENT_ID,
            Arc::new(Sandbox::transport()?),
        )
        .ok_or("no quickstart client")?;
    let scopes = ["user:read".to_owned(), "repo:read".to_owned()];
    let tokens = oauth
        .login_loopback(
            &scopes,
            |url| drop(sandbox::auto_browser(url)),
            Duration::from_secs(10),
        )
        .await?;
    session.credential.set_tokens(tokens).await?;
    let me = client.get_user(Default::default()).await?.value;
    narrate::step(&format!("get_user → {} again", me.login));
    session.cleanup();
    Ok(())
}
