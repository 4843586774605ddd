//! The credential audit log: a structured record for every login, refresh,
//! refresh-token rotation, revocation, re-authorization required, step-up
//! and token-store key rotation. Who (integration and subject, from the
//! credential's key `integration:subject`), what, when, and the outcome;
//! never a secret (errors are passed through redaction and bounded).
//!
//! An [`AuditLog`] writes to an [`AuditSink`]: [`JsonLinesAudit`] (a file,
//! the embedded default) or `PostgresAudit` (feature `postgres`), or the
//! app's own. [`AuditLog::watch`] records a credential's events.

use super::credential::{AuthEvent, Credential};
use serde::Serialize;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// An error kept in a record is cut to this many bytes.
const DETAIL_LIMIT: usize = 500;

/// What happened to a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Login,
    Refresh,
    /// The server issued a new refresh token on refresh.
    RefreshTokenRotation,
    /// Logout: tokens revoked at the server and deleted here.
    Revocation,
    ReauthorizationRequired,
    StepUp,
    /// The token store's data key was rotated (files re-encrypted).
    KeyRotation,
}

impl AuditAction {
    pub const ALL: [AuditAction; 7] = [
        AuditAction::Login,
        AuditAction::Refresh,
        AuditAction::RefreshTokenRotation,
        AuditAction::Revocation,
        AuditAction::ReauthorizationRequired,
        AuditAction::StepUp,
        AuditAction::KeyRotation,
    ];

    /// The action named `name` (its [`as_str`](Self::as_str)).
    pub fn parse(name: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::Refresh => "refresh",
            AuditAction::RefreshTokenRotation => "refresh_token_rotation",
            AuditAction::Revocation => "revocation",
            AuditAction::ReauthorizationRequired => "reauthorization_required",
            AuditAction::StepUp => "step_up",
            AuditAction::KeyRotation => "key_rotation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Unix milliseconds.
    pub at_ms: i64,
    pub integration: String,
    /// Whose grant (the part of the key after `:`), if the key names one.
    pub subject: Option<String>,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    /// What went wrong, or other context (redacted, bounded).
    pub detail: Option<String>,
}

impl AuditRecord {
    /// A record for the credential with `key` (`integration:subject`).
    pub fn new(key: &str, action: AuditAction, outcome: AuditOutcome) -> Self {
        let (integration, subject) = super::credential_key::key_parts(key);
        AuditRecord {
            at_ms: crate::time::system_ms(SystemTime::now()),
            integration: integration.to_owned(),
            subject: subject.map(str::to_owned),
            action,
            outcome,
            detail: None,
        }
    }

    /// With `detail`, redacted and bounded.
    pub fn detail(mut self, detail: &str) -> Self {
        let mut text = crate::redact::provider_text(detail, &[]);
        if text.len() > DETAIL_LIMIT {
            let mut end = DETAIL_LIMIT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        self.detail = Some(text);
        self
    }

    /// The records a credential event stands for (a refresh that rotated
    /// the refresh token is two).
    pub fn from_event(event: &AuthEvent) -> Vec<AuditRecord> {
        use AuditAction as A;
        use AuditOutcome::{Failure, Success};
        let outcome = |error: &Option<String>| match error {
            None => Success,
            Some(_) => Failure,
        };
        let with_error = |r: AuditRecord, error: &Option<String>| match error {
            Some(e) => r.detail(e),
            None => r,
        };
        match event {
            AuthEvent::LoggedIn { credential } => {
                vec![AuditRecord::new(credential, A::Login, Success)]
            }
            AuthEvent::Refreshed {
                credential,
                refresh_token_rotated,
                ..
            } => {
                let mut records = vec![AuditRecord::new(credential, A::Refresh, Success)];
                if *refresh_token_rotated {
                    records.push(AuditRecord::new(
                        credential,
                        A::RefreshTokenRotation,
                        Success,
                    ));
                }
                records
            }
            AuthEvent::Adopted { credential, .. } => {
                vec![AuditRecord::new(credential, A::Refresh, Success)
                    .detail("adopted the tokens another process refreshed")]
            }
            AuthEvent::RefreshFailed { credential, error } => {
                vec![AuditRecord::new(credential, A::Refresh, Failure).detail(error)]
            }
            AuthEvent::ReauthorizationRequired { credential } => vec![AuditRecord::new(
                credential,
                A::ReauthorizationRequired,
                Success,
            )],
            AuthEvent::SteppedUp { credential, error } => vec![with_error(
                AuditRecord::new(credential, A::StepUp, outcome(error)),
                error,
            )],
            AuthEvent::LoggedOut { credential, error } => vec![with_error(
                AuditRecord::new(credential, A::Revocation, outcome(error)),
                error,
            )],
        }
    }
}

/// Why a record could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError(pub String);

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit log: {}", self.0)
    }
}

impl std::error::Error for AuditError {}

/// Where audit records go.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Writes `record`; durable (or handed to a durable queue) when it
    /// returns. Called from credential events: must not block for long.
    fn write(&self, record: &AuditRecord) -> Result<(), AuditError>;
}

/// The audit log a credential reports to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    sink: Arc<dyn AuditSink>,
}

impl AuditLog {
    pub fn new(sink: impl AuditSink + 'static) -> Self {
        AuditLog {
            sink: Arc::new(sink),
        }
    }

    /// A log writing to a sink the app keeps a handle on too (to read or
    /// flush it).
    pub fn from_shared(sink: Arc<dyn AuditSink>) -> Self {
        AuditLog { sink }
    }

    /// Writes `record`. A failed write is logged and counted
    /// (`wharf_audit_write_failures_total`), never fails the caller.
    pub fn record(&self, record: &AuditRecord) {
        if let Err(e) = self.sink.write(record) {
            tracing::error!(error = %e, action = record.action.as_str(), integration = %record.integration, "audit record not written");
            metrics::counter!("wharf_audit_write_failures_total").increment(1);
        }
    }

    /// Records every event of `credential` from now on.
    pub fn watch(&self, credential: &Credential) {
        let log = self.clone();
        credential.on_event(move |event| {
            for record in AuditRecord::from_event(event) {
                log.record(&record);
            }
        });
    }
}

/// Audit records as JSON lines appended to a file (created private to the
/// user), each synced to disk before `write` returns.
#[derive(Debug)]
pub struct JsonLinesAudit {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl JsonLinesAudit {
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| AuditError(format!("{}: {e}", path.display())))?;
        Ok(JsonLinesAudit {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AuditSink for JsonLinesAudit {
    fn write(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line =
            serde_json::to_vec(record).map_err(|e| AuditError(format!("encoding: {e}")))?;
        line.push(b'\n');
        let mut file = match self.file.lock() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        // One write call per line: appends from several processes do not
        // interleave within a line.
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| AuditError(format!("{}: {e}", self.path.display())))
    }
}
