//! OAuth 2.0 that lives with tokens: provider profiles (quirks as data),
//! token requests, and tokens held in `secrecy` boxes end to end.

mod audit;
mod authenticators;
mod credential;
mod credential_key;
mod credential_metrics;
mod file_store;
mod flow_error;
mod flows;
mod key_source;
#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
mod keyring_store;
mod loopback;
#[cfg(feature = "postgres")]
mod postgres_audit;
#[cfg(feature = "postgres")]
mod postgres_store;
mod profile;
mod request;
mod scheme_auth;
mod store;
mod token;
mod token_endpoint;

pub use audit::{
    AuditAction, AuditError, AuditLog, AuditOutcome, AuditRecord, AuditSink, JsonLinesAudit,
};
pub use authenticators::Authenticators;
pub use credential::{AuthEvent, Credential, CredentialConfig, TokenEndpoint};
#[cfg(feature = "status-page")]
pub(crate) use credential_key::key_parts;
pub use file_store::{create_private_dir, DataKey, EncryptedFileStore, KeyRing};
pub use flows::{
    ClientCredentialsGrant, DeviceAuthorization, FlowError, Introspection, OAuthClient,
    PendingAuthorization, SecurityScheme, ServerMetadata,
};
pub use key_source::{KeySource, MissingSecret, KEY_TOKEN_TYPE};
#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
pub use keyring_store::{
    os_credential_store, KeyringStore, OsStore, OsStoreError, OsStoreUnavailable,
};
pub use loopback::{open_browser, LoopbackListener};
#[cfg(feature = "postgres")]
pub use postgres_audit::PostgresAudit;
#[cfg(feature = "postgres")]
pub use postgres_store::PostgresStore;
pub use profile::{
    parse_token_response, ClientAuth, ProviderProfile, ResponseContext, ScopeSeparator, TokenError,
};
pub use request::{
    authorization_url, endpoint_request, AuthorizationRequest, ClientCredentials, Param,
};
pub use scheme_auth::SchemeAuth;
pub use store::{Lease, MemoryStore, StoreError, StoreFuture, TokenStore};
pub use token::TokenSet;
