//! The request path every call goes through, in one orchestrator
//! ([`orchestrator`]'s docs draw it): an operation deadline around
//! everything, admission (bulkhead, breaker, rate limits), and an attempt
//! function that resolves the credential and sends within the attempt
//! timeout; the retry strategy decides after each attempt.
//!
//! The breaker is asked before the rate limiter so a call refused by an
//! open breaker does not use up a rate-limit slot.

mod address_guard;
mod attempt;
mod auth_hook;
mod call_metrics;
mod call_stats;
mod classify;
mod components;
mod config;
mod drift_sink;
mod error;
mod health;
mod health_check;
mod idempotency;
mod integration;
mod orchestrator;
mod request_signer;
mod reqwest_transport;
mod retry_after;
mod retry_strategy;
mod transport;
mod verdict;

pub use crate::operation::{
    scopes_for, Body, ByteStream, Chunks, HttpRequest, Opened, OperationMeta, Request, Response,
    SchemeScopes, SecurityRequirement, StreamingResponse, WriteError,
};
pub use address_guard::AddressGuard;
pub use auth_hook::{AuthFailure, AuthFuture, Authenticator, Authorization, Placement};
pub use classify::{default_class, Classifier, Outcome, ShouldRetryHeader};
pub use config::{CallOptions, IntegrationConfig};
pub use drift_sink::{DriftSink, LogDrift};
pub use error::{Error, ErrorClass, ErrorKind, TransportError, TransportErrorKind};
pub use health::{BreakerTransition, CallCounts, CheckResult, Health};
pub use health_check::HealthCheck;
pub use idempotency::{IdempotencyKey, InvalidKey};
pub use integration::{Integration, IntegrationBuilder};
pub use request_signer::{RequestSigner, SigningInput};
pub use reqwest_transport::{ReqwestTransport, ReqwestTransportBuilder};
pub use retry_after::requested_delay;
pub use transport::{SendFuture, StreamingSendFuture, Transport};
pub use verdict::Verdict;
