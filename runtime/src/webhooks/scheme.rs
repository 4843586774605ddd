//! [`Scheme`]: how a provider signs its deliveries.

use std::fmt;
use std::str::FromStr;

/// A signing scheme, and what it signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp` and
    /// `webhook-signature` (`v1,<base64>` HMAC-SHA256 with a `whsec_`
    /// secret, or `v1a,<base64>` ed25519 with `whpk_`/`whsk_` keys) over
    /// `id.timestamp.body`; several signatures, space-separated.
    Standard,
    /// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` with
    /// HMAC-SHA256 over `t.body`; other schemes in the header are ignored.
    Stripe,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 over the
    /// body. No timestamp: replays are caught by the event id
    /// (`X-GitHub-Delivery`).
    GitHub,
    /// Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 over
    /// `v0:timestamp:body`, with `X-Slack-Request-Timestamp`.
    Slack,
    /// Shopify: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 over the body.
    Shopify,
    /// Twilio: `X-Twilio-Signature: <base64>`, HMAC-SHA1 over the full URL
    /// followed by each form parameter's name and value, sorted by name.
    Twilio,
}

impl Scheme {
    pub const ALL: [Scheme; 6] = [
        Scheme::Standard,
        Scheme::Stripe,
        Scheme::GitHub,
        Scheme::Slack,
        Scheme::Shopify,
        Scheme::Twilio,
    ];

    /// The name the command line and configuration use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Standard => "standard",
            Scheme::Stripe => "stripe",
            Scheme::GitHub => "github",
            Scheme::Slack => "slack",
            Scheme::Shopify => "shopify",
            Scheme::Twilio => "twilio",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scheme name that is not one of [`Scheme::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScheme;

impl fmt::Display for UnknownScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown scheme (standard, stripe, github, slack, shopify or twilio)")
    }
}

impl std::error::Error for UnknownScheme {}

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownScheme)
    }
}
