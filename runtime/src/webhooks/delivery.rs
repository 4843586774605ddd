//! What a delivery carries ([`Delivery`]), what verifying it tells
//! ([`Verified`]), and what signing one gives ([`Signed`]).

use http::HeaderMap;

/// What a delivery carries, as received: headers, the raw body bytes (not
/// parsed, not re-serialized), and for Twilio the full URL it was sent to.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub url: Option<&'a str>,
}

/// A delivery that passed: the provider's event id where the scheme sends
/// one in a header, and the signed timestamp where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub event_id: Option<String>,
    pub timestamp: Option<i64>,
}

/// The headers that sign a delivery, in the order to send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub headers: Vec<(&'static str, String)>,
}
