//! [`VerifyError`]: why a delivery was refused. It names headers and
//! counts seconds; it never holds a secret, a received signature or a
//! computed one.

use std::fmt;

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the scheme needs is absent.
    MissingHeader { header: &'static str },
    /// A header is there but cannot be read (`why` says what is wrong
    /// with its shape, never its value).
    MalformedHeader {
        header: &'static str,
        why: &'static str,
    },
    /// The delivery's timestamp is `skew` seconds away from now (negative:
    /// in the past), outside the tolerance of `tolerance` seconds.
    OutsideTolerance { skew: i64, tolerance: u64 },
    /// No signature in the delivery matches any of the endpoint's secrets.
    NoMatchingSignature,
    /// The scheme needs something the call did not give (Twilio: the URL
    /// the provider signed).
    MissingContext { what: &'static str },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingHeader { header } => write!(f, "missing header {header}"),
            VerifyError::MalformedHeader { header, why } => {
                write!(f, "malformed header {header}: {why}")
            }
            VerifyError::OutsideTolerance { skew, tolerance } => {
                let (amount, side) = if *skew < 0 {
                    (skew.unsigned_abs(), "in the past")
                } else {
                    (skew.unsigned_abs(), "in the future")
                };
                write!(
                    f,
                    "timestamp {amount} s {side}, outside the tolerance of {tolerance} s"
                )
            }
            VerifyError::NoMatchingSignature => f.write_str("no signature matches"),
            VerifyError::MissingContext { what } => write!(f, "cannot verify without {what}"),
        }
    }
}

impl std::error::Error for VerifyError {}
