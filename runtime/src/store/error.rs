//! [`StoreError`]: what went wrong in the durable store.

use std::fmt;

/// A store operation failed. The text names the backend and the
/// operation, never an event's body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The database said no (or could not be reached).
    Backend(String),
    /// A `--store` URL that is neither `sqlite:PATH` nor `postgres://…`,
    /// or a backend this build was compiled without.
    Url(String),
    /// A row that does not read as an event (a column of the wrong type).
    Corrupt(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Backend(text) => f.write_str(text),
            StoreError::Url(text) => write!(f, "store URL: {text}"),
            StoreError::Corrupt(text) => write!(f, "store row: {text}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// An error and its causes on one line ("error connecting to server" alone
/// does not say the connection was refused).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn with_causes(prefix: &str, e: &dyn std::error::Error) -> StoreError {
    let mut text = format!("{prefix}: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    StoreError::Backend(text)
}
