//! Making integrations operable: the Prometheus exporter (feature
//! `prometheus`), the status page (feature `status-page`), the listener
//! that serves them for apps without an HTTP server, and alerting rules for
//! what the exporter exports.

mod alert_rules;
#[cfg(feature = "prometheus")]
mod exporter;
#[cfg(any(feature = "prometheus", feature = "status-page"))]
mod listener;
#[cfg(feature = "status-page")]
mod status_page;

pub use alert_rules::{
    alert_rules, AlertConfig, AlertConfigError, LatencyAlert, Levels, P99_RECORD,
};
#[cfg(feature = "prometheus")]
pub use exporter::{Exporter, ExporterError};
#[cfg(any(feature = "prometheus", feature = "status-page"))]
pub use listener::{OpsListener, OpsServer};
#[cfg(feature = "status-page")]
pub use status_page::{
    render as render_status, CheckStatus, CredentialStatus, IntegrationStatus, LatencySample,
    QueueStatus, StatusPage, StatusSnapshot, TransitionStatus,
};
