//! Making integrations operable: the Prometheus exporter (feature
//! `prometheus`) and the listener that serves it, and alerting rules for
//! what it exports.

mod alert_rules;

#[cfg(feature = "prometheus")]
mod exporter;
#[cfg(feature = "prometheus")]
mod listener;

#[cfg(feature = "prometheus")]
pub use exporter::{Exporter, ExporterError};
#[cfg(feature = "prometheus")]
pub use listener::OpsListener;
#[cfg(feature = "prometheus")]
use listener::OpsRoutes;

pub use alert_rules::{
    alert_rules, AlertConfig, AlertConfigError, LatencyAlert, Levels, P99_RECORD,
};
