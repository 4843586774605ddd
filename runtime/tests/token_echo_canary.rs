//! A token endpoint that quotes the refused refresh token in its
//! `error_description` (as some do): the token reaches neither the
//! `TokenError` (Display, Debug), nor the call's `AuthFailure`, nor the
//! WARN line of the failed refresh. A binary of its own, as every test
//! that reads captured logs (see `log_capture`).

mod common;
mod log_capture;

use log_capture::Captured;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wharf_runtime::auth::{
    ClientCredentials, Credential, MemoryStore, OAuthClient, ProviderProfile, ServerMetadata,
    TokenEndpoint, TokenSet, TokenStore,
};
use wharf_runtime::call::{CallOptions, ErrorKind, Integration, IntegrationConfig, Request};
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport};
use wharf_runtime::time::{Clock, TokioClock};

/// Short enough that only the exact-secret redaction can catch it.
const SHORT_CANARY: &str = "rt-canary-7f3a";
/// Long: also caught as token-like text, echoed or not.
const LONG_CANARY: &str = "RT.9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// A token endpoint that refuses every refresh, quoting the token it got
/// and the client secret it was sent.
fn echoing_endpoint(refresh_token: &'static str) -> OAuthClient {
    let server = FaultServer::new(move |_| {
        Fault::Respond {
        status: 400,
        headers: vec![("content-type".into(), "application/json".into())],
        body: format!(
            "{{\"error\":\"invalid_request\",\"error_description\":\"refresh_token {refresh_token} is malformed (client client-secret-1)\"}}"
        )
        .into(),
    }
    });
    let clock: Arc<dyn Clock> = Arc::new(TokioClock);
    let metadata = ServerMetadata {
        token_endpoint: "https://auth.test/token".into(),
        ..ServerMetadata::default()
    };
    let client = ClientCredentials {
        client_id: "wharf".into(),
        client_secret: Some(SecretString::from("client-secret-1".to_owned())),
    };
    let transport = Arc::new(FaultTransport::new(server, clock));
    OAuthClient::new(metadata, ProviderProfile::default(), client, transport)
}

#[tokio::test(flavor = "current_thread")]
async fn an_echoed_refresh_token_is_redacted_everywhere() {
    let captured = Captured::default();
    let _guard = captured.install();
    let mut seen = Vec::new();
    for canary in [SHORT_CANARY, LONG_CANARY] {
        let oauth = echoing_endpoint(canary);
        let refused = oauth
            .refresh(
                &SecretString::from(canary.to_owned()),
                &[],
                SystemTime::now(),
            )
            .await
            .unwrap_err();
        seen.push(refused.to_string());
        seen.push(format!("{refused:?}"));
        assert!(refused.to_string().contains("is malformed"), "{refused}");

        // Through a credential and a call.
        let store = Arc::new(MemoryStore::new());
        let expired = TokenSet {
            access_token: SecretString::from("AT-0".to_owned()),
            refresh_token: Some(SecretString::from(canary.to_owned())),
            id_token: None,
            token_type: "Bearer".into(),
            issued_at: SystemTime::now() - Duration::from_secs(200),
            lifetime: Some(Duration::from_secs(100)),
            scopes: ["read".to_owned()].into_iter().collect(),
        };
        store.save("me", &expired).await.unwrap();
        let credential = Credential::new("me", store, Arc::new(oauth), Arc::new(TokioClock));
        let api = FaultServer::new(|_| Fault::ok());
        let integration = Integration::builder("github")
            .config(IntegrationConfig::default())
            .transport(Arc::new(FaultTransport::new(api, Arc::new(TokioClock))))
            .authenticator(Arc::new(credential))
            .build()
            .unwrap();
        let err = integration
            .call(
                Request::new(common::secured_get(), "https://api.test/repos"),
                CallOptions::default(),
            )
            .await
            .unwrap_err();
        let ErrorKind::Auth(failure) = &err.kind else {
            panic!("{err:?}");
        };
        seen.extend([
            err.to_string(),
            format!("{err:?}"),
            failure.to_string(),
            format!("{failure:?}"),
        ]);
    }
    let logs = captured.text();
    assert!(
        logs.contains("token refresh failed"),
        "the failed refresh is logged:\n{logs}"
    );
    seen.push(logs);
    for text in &seen {
        for canary in [SHORT_CANARY, LONG_CANARY, "client-secret-1"] {
            assert!(!text.contains(canary), "{canary} leaked into: {text}");
        }
    }
}
