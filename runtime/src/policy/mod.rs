//! The resilience policies, one job each. [`crate::call`] composes them.

pub mod breaker;
pub mod budget;
pub mod bulkhead;
mod config_error;
pub mod deadline;
pub mod declared;
pub mod rate_limit;
pub mod retry;
pub mod scope;

pub use config_error::ConfigError;
pub use declared::{Idempotency, OperationPolicies, Policy};
pub use scope::Scope;
