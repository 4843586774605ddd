//! Inbound webhooks: verifying what a provider sends before anything reads
//! it. One [`Verifier`] per endpoint holds its scheme, its secrets (several
//! while a secret rotates) and its tolerance window; it checks the raw body
//! bytes and the headers, and either says which event id and timestamp it
//! verified or refuses with a [`VerifyError`] that says why without the
//! secret or any signature.
//!
//! Schemes: Standard Webhooks (`v1` HMAC-SHA256 and `v1a` ed25519), Stripe,
//! GitHub, Slack, Shopify and Twilio. Each signs something different; the
//! [`Scheme`] docs say what. Comparisons are constant-time (`subtle`, and
//! the MAC's own `verify`); crypto is RustCrypto's.
//!
//! Then the inbox: a [`Receiver`] stores each verified delivery in a
//! [`crate::store::Store`] before it answers 2xx (redeliveries are
//! deduplicated by event id), and a [`Worker`] runs the app's [`Handler`]
//! on stored events with retries, a lease, and a dead-letter queue.

mod delivery;
mod error;
mod events;
mod metrics;
mod receiver;
mod retry_schedule;
mod scheme;
mod schemes;
mod secret;
mod sender;
mod verifier;
mod worker;

pub use delivery::{Delivery, Signed, Verified};
pub use error::VerifyError;
pub use events::{decode_boxed, select_event, EventInfo, UnknownEvent};
pub use receiver::{OrderKey, Receipt, Receiver, ReceiverBuilder, DEFAULT_MAX_BODY};
pub use retry_schedule::RetrySchedule;
pub use scheme::{Scheme, UnknownScheme};
pub use secret::{SecretError, WebhookSecret};
pub use sender::{RegisterError, SendPass, Sender, SenderConfig};
pub use verifier::{Verifier, DEFAULT_TOLERANCE};
pub use worker::{Handler, HandlerError, Pass, Worker, WorkerConfig};

/// A new event id for a delivery one signs (`msg_` and 32 hex digits of
/// OS randomness).
pub fn new_event_id() -> Result<String, crate::ids::RandomSourceFailed> {
    Ok(format!("msg_{}", crate::ids::correlation_id()?))
}
