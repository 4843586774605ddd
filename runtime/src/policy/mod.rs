//! The resilience policies, one job each. [`crate::call`] composes them.

pub mod breaker;
pub mod budget;
pub mod bulkhead;
pub mod deadline;
pub mod declared;
pub mod rate_limit;
pub mod retry;
pub mod scope;

pub use declared::{Idempotency, OperationPolicies, Policy};
pub use scope::Scope;
