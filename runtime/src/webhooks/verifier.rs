//! [`Verifier`]: one endpoint's scheme, secrets and tolerance, and the
//! check of a delivery against them (or, for senders and tests, the
//! headers that sign one).

use super::delivery::{Delivery, Signed, Verified};
use super::error::VerifyError;
use super::scheme::Scheme;
use super::schemes;
use super::secret::{SecretError, WebhookSecret};
use secrecy::SecretString;
use std::time::{Duration, SystemTime};

/// How far a delivery's timestamp may be from now: 5 minutes, as Standard
/// Webhooks, Stripe and Slack use.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// An endpoint's verifier. Several secrets verify while one rotates: a
/// delivery passes if any signature it carries matches any secret.
#[derive(Debug)]
pub struct Verifier {
    scheme: Scheme,
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier of `scheme` with `secrets` (at least one; the first signs).
    pub fn new(scheme: Scheme, secrets: &[SecretString]) -> Result<Self, SecretError> {
        let secrets = secrets
            .iter()
            .map(|s| WebhookSecret::parse(scheme, s))
            .collect::<Result<Vec<_>, _>>()?;
        if secrets.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Verifier {
            scheme,
            secrets,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// How far a timestamp may be from now (default [`DEFAULT_TOLERANCE`]).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Checks `delivery` at `now` (the caller's clock, so tests and
    /// replays of recorded traffic pass their own).
    pub fn verify(
        &self,
        delivery: &Delivery<'_>,
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let check = schemes::Check {
            delivery,
            secrets: &self.secrets,
            now,
            tolerance: self.tolerance,
        };
        match self.scheme {
            Scheme::Standard => schemes::standard::verify(&check),
            Scheme::Stripe => schemes::stripe::verify(&check),
            Scheme::GitHub => schemes::github::verify(&check),
            Scheme::Slack => schemes::slack::verify(&check),
            Scheme::Shopify => schemes::shopify::verify(&check),
            Scheme::Twilio => schemes::twilio::verify(&check),
        }
    }

    /// The headers that sign `body` as the provider would: with every
    /// secret that can sign (Standard Webhooks sends one signature per
    /// secret during a rotation) or the first one (the other schemes carry
    /// one signature). `id` and `timestamp` are used where the scheme signs
    /// them; `url` is Twilio's.
    pub fn sign(
        &self,
        body: &[u8],
        id: &str,
        timestamp: i64,
        url: Option<&str>,
    ) -> Result<Signed, VerifyError> {
        let headers = match self.scheme {
            Scheme::Standard => schemes::standard::sign(&self.secrets, body, id, timestamp)?,
            Scheme::Stripe => schemes::stripe::sign(&self.secrets, body, timestamp),
            Scheme::GitHub => schemes::github::sign(&self.secrets, body, id),
            Scheme::Slack => schemes::slack::sign(&self.secrets, body, timestamp),
            Scheme::Shopify => schemes::shopify::sign(&self.secrets, body, id),
            Scheme::Twilio => schemes::twilio::sign(&self.secrets, body, url)?,
        };
        Ok(Signed { headers })
    }
}
