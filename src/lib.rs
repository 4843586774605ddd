//! # wharf
//!
//! Typed Rust clients generated from providers' OpenAPI documents, running
//! every call through one shared runtime: OAuth and the resilience stack
//! (deadlines, retries with jitter and a budget, circuit breakers, rate
//! limits, bulkheads, idempotency keys). This crate is the one dependency an
//! application adds: generated code refers only to `::wharf::…` paths.
//!
//! Every example below compiles and runs as a test (`cargo test --doc`).
//!
//! ## Tolerant decoding, with drift reported
//!
//! ```
//! let decoded = wharf::decode::<Vec<u32>>(br#"[1, "2"]"#).unwrap();
//! assert_eq!(decoded.value, [1, 2]);
//! assert_eq!(decoded.drift[0].pointer, "/1");
//! ```
//!
//! ## A client generated from a spec
//!
//! In `build.rs` ([`codegen::Generator`]), with the `wharf` command line, or
//! in place with [`generate!`] (paths are relative to the crate root).
//! Each operation also gets a metadata static, used by the runtime and
//! for least-privilege scopes:
//!
//! ```
//! mod payments {
//!     wharf::generate!("specs/policies.yaml", tags = ["accounts"]);
//! }
//! let needed = wharf::scopes_for(payments::operations::ALL.iter().copied());
//! assert_eq!(needed.into_iter().collect::<Vec<_>>(), ["accounts:read", "cards:write"]);
//! ```
//!
//! ## Calls go through an integration
//!
//! An [`call::Integration`] is one provider: its connection pool (or any
//! [`call::Transport`]), its policies and its health. Here a canned
//! transport stands in for the provider, which sends the balance as a
//! string; the typed value still decodes, and the drift is reported:
//!
//! ```
//! use std::sync::Arc;
//! use wharf::call::{HttpRequest, Integration, Response, SendFuture, Transport};
//!
//! mod payments {
//!     wharf::generate!("specs/policies.yaml", operations = ["getAccount"]);
//! }
//!
//! #[derive(Debug)]
//! struct Canned;
//! impl Transport for Canned {
//!     fn send(&self, _request: HttpRequest) -> SendFuture {
//!         Box::pin(async {
//!             Ok(Response {
//!                 status: wharf::http::StatusCode::OK,
//!                 headers: Default::default(),
//!                 body: r#"{"id": "acct_1", "balance": "12"}"#.into(),
//!             })
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let integration = Integration::builder("payments").transport(Arc::new(Canned)).build()?;
//! let client = payments::Client::new(integration, payments::Client::DEFAULT_BASE_URL);
//! let account = client.get_account("acct_1", Default::default()).await?.value;
//! assert_eq!(account.balance, 12);
//! # Ok(())
//! # }
//! ```
//!
//! For real providers use [`call::ReqwestTransport`] (TLS only, plain HTTP
//! to loopback only when allowed) and tune [`call::IntegrationConfig`].
//!
//! ## Policies in source
//!
//! Attach policies to generated operations (`policies = { ... }` in
//! [`generate!`], [`codegen::Generator::policy`] in `build.rs`) and to your
//! own functions with [`policy`](macro@policy). Rules are checked at compile
//! time against the spec; resolution is per call > per operation > per tag >
//! per integration > defaults (see [`policy::declared`]).
//!
//! ```
//! mod payments {
//!     wharf::generate!(
//!         "specs/policies.yaml",
//!         policies = { client = { timeout = "10s" }, tag("accounts") = { retry(max = 3) } },
//!     );
//! }
//! use payments::operations::CREATE_TRANSFER;
//!
//! /// One deadline for the whole function, three attempts, and the same
//! /// idempotency key on each: the order id.
//! #[wharf::policy(
//!     calls = [CREATE_TRANSFER],
//!     timeout = "2s",
//!     retry(max = 3, base = "100ms"),
//!     idempotency = natural_key(order_id),
//!     scopes = ["transfers:write"],
//! )]
//! async fn pay(client: &payments::Client, order_id: u64) -> Result<(), wharf::client::ApiError<()>> {
//!     let transfer = payments::NewTransfer { from: "acct_1".into(), to: "acct_2".into(), amount: 500 };
//!     client.create_transfer(&transfer, Default::default()).await?;
//!     Ok(())
//! }
//! ```
//!
//! A mutating endpoint retried without an idempotency plan does not compile:
//!
//! ```compile_fail,E0080
//! mod payments {
//!     wharf::generate!("specs/policies.yaml");
//! }
//! #[wharf::policy(calls = [payments::operations::CREATE_TRANSFER], timeout = "2s", retry(max = 3))]
//! async fn pay(client: &payments::Client, t: &payments::NewTransfer) {
//!     let _ = client.create_transfer(t, Default::default()).await;
//! }
//! ```
//!
//! ## OAuth
//!
//! [`auth::OAuthClient`] runs the flows (PKCE authorization code through a
//! loopback listener, client credentials, device code, refresh, revocation);
//! [`auth::Credential`] keeps a token fresh (refresh at 80% of its lifetime,
//! one refresh at a time, re-authorization signalled) and authenticates an
//! integration's calls.
//!
//! ```
//! use std::sync::Arc;
//! use wharf::auth::{ClientCredentials, OAuthClient, ProviderProfile, ServerMetadata};
//! use wharf::call::ReqwestTransport;
//!
//! let metadata = ServerMetadata {
//!     authorization_endpoint: Some("https://id.example.test/authorize".into()),
//!     token_endpoint: "https://id.example.test/token".into(),
//!     ..ServerMetadata::default()
//! };
//! let client = ClientCredentials { client_id: "my-cli".into(), client_secret: None };
//! let transport = Arc::new(ReqwestTransport::builder().build()?);
//! let oauth = OAuthClient::new(metadata, ProviderProfile::default(), client, transport);
//! let pending = oauth.start_authorization(&["repo:read".into()], "http://127.0.0.1:8765/callback")?;
//! assert!(pending.url.contains("code_challenge_method=S256"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Token stores
//!
//! Tokens at rest are encrypted (XChaCha20-Poly1305) in an
//! [`auth::EncryptedFileStore`]; the OS keyring, PostgreSQL (for several
//! instances) and memory are the other [`auth::TokenStore`]s.
//!
//! ```
//! use wharf::auth::{DataKey, EncryptedFileStore, KeyRing, TokenSet, TokenStore};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("wharf-doc-{}", std::process::id()));
//! let store = EncryptedFileStore::open(&dir, KeyRing::new(DataKey::generate("k1")?))?;
//! let tokens = TokenSet {
//!     access_token: "canary-access-token".to_owned().into(),
//!     refresh_token: None,
//!     id_token: None,
//!     token_type: "Bearer".into(),
//!     issued_at: std::time::SystemTime::now(),
//!     lifetime: Some(std::time::Duration::from_secs(3600)),
//!     scopes: ["repo:read".to_owned()].into(),
//! };
//! store.save("harbor", &tokens).await?;
//! let on_disk = std::fs::read(store.path_of("harbor"))?;
//! assert!(!on_disk.windows(6).any(|w| w == b"canary"));
//! assert!(store.load("harbor").await?.is_some());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

pub use wharf_runtime::{
    decode, Binary, Date, DateTime, DecodeError, Decoded, Drift, DriftKind, JsonObject, JsonType,
    Nullable, Uuid, Value,
};

/// OAuth: flows, credentials that refresh themselves, token stores.
pub use wharf_runtime::auth;
/// The request path and its types (`Integration`, `OperationMeta`, ...).
pub use wharf_runtime::call;
pub use wharf_runtime::call::{
    scopes_for, Body, ByteStream, OperationMeta, SchemeScopes, SecurityRequirement,
};
/// What generated clients are made of: `ClientCore`, `Reply`, `ApiError`,
/// parameter styles, bodies and pagination streams.
pub use wharf_runtime::client;
/// HTTP types (`Method`, `HeaderMap`, ...), for generated code.
pub use wharf_runtime::http;
/// Operability: the Prometheus exporter (feature `prometheus`), alert
/// rules, health checks, the status page and the credential audit log.
pub use wharf_runtime::observe;
/// The resilience policies and their configuration.
pub use wharf_runtime::policy;
/// Polling providers without webhooks: a durable cursor per sync, only
/// changed records handed on, an interval that backs off when quiet.
pub use wharf_runtime::poll;
/// The relay of queued calls: what an app captured into its outbox
/// (`wharf::client::capture`), sent through the request path.
pub use wharf_runtime::relay;
/// The secret types keys and tokens are held in (`SecretString`).
pub use wharf_runtime::secrecy;
/// The durable store under the webhook inbox (SQLite, feature `sqlite`;
/// PostgreSQL, feature `postgres`).
pub use wharf_runtime::store;
/// The scripted fault server, for tests and demos (feature `testing`).
#[cfg(feature = "testing")]
pub use wharf_runtime::testing;
/// Clocks (`TokioClock`), for tests that pause time.
pub use wharf_runtime::time;
/// Inbound webhooks: signature verification (Standard Webhooks, Stripe,
/// GitHub, Slack, Shopify, Twilio), the receiver that stores before it
/// acknowledges, and the worker that processes with retries and a
/// dead-letter queue.
pub use wharf_runtime::webhooks;

/// The generator, for `build.rs` scripts (`wharf::codegen::Generator`;
/// feature `build`).
#[cfg(feature = "build")]
pub use wharf_codegen as codegen;

/// What reading generated `_stream` methods needs, so an app needs no
/// futures crate of its own: `use wharf::prelude::*;`.
pub use wharf_runtime::prelude;

/// Generates a client from a spec at compile time, and puts policies on
/// functions that call endpoints (feature `macros`).
#[cfg(feature = "macros")]
pub use wharf_macros::{generate, policy};

#[doc(hidden)]
pub mod __private {
    pub use wharf_runtime::__impl_decode as impl_decode;
    pub use wharf_runtime::__object as object;
    pub use wharf_runtime::__private::*;
    pub use wharf_runtime::__string_enum as string_enum;
}
