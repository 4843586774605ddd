//! [`ConfigError`]: a configuration refused when it is built, saying which
//! setting and why (and, for a part that failed to build, its own error as
//! the `source()`).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A setting that cannot work, refused before any call is made.
#[derive(Debug, Clone)]
pub struct ConfigError {
    setting: Cow<'static, str>,
    reason: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl ConfigError {
    /// `setting` (a path such as `breaker.failure_rate`) refused for `reason`.
    pub fn new(setting: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        ConfigError {
            setting: setting.into(),
            reason: reason.into(),
            source: None,
        }
    }

    /// A part that failed to build, with its error as the source.
    pub fn caused_by(
        setting: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ConfigError {
            setting: setting.into(),
            reason: source.to_string(),
            source: Some(Arc::new(source)),
        }
    }

    /// Which setting: a dotted path (`retry.max_attempts`,
    /// `operations.createThing.retry.base`).
    pub fn setting(&self) -> &str {
        &self.setting
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The same error for the setting nested under `prefix`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.setting = Cow::Owned(format!("{prefix}.{}", self.setting));
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.reason)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for ConfigError {
    fn eq(&self, other: &Self) -> bool {
        self.setting == other.setting && self.reason == other.reason
    }
}
