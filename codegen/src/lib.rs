//! wharf-codegen: turns OpenAPI 3.0/3.1 documents into Rust.
//!
//! `load` reads documents (JSON/YAML, `$ref`s across files) into a [`Spec`];
//! `ir` lowers schemas and operations into one model, then runs its passes
//! over it (naming, cycles, sharing, pagination); `emit` writes formatted
//! Rust from the model alone. The [`Generator`] builder drives them for
//! `build.rs`, the macro and the CLI.
//! Nothing here panics on a spec: what cannot be modelled becomes raw JSON
//! with a [`Diagnostic`] naming its JSON pointer.

mod diagnostic;
mod emit;
mod generator;
mod ir;
mod load;
mod naming;
pub mod policy;
mod summary;

pub use diagnostic::{Diagnostic, Severity};
pub use generator::{
    ConfigProblem, ConfigTarget, Generated, Generator, GeneratorError, WebhookSummary,
};
pub use ir::{Paging, SchemeDef};
pub use load::{LoadError, Location, Spec, SpecVersion};
pub use policy::{IdempotencySpec, PolicySpec, PolicyTarget, RateSpec, RetrySpec};
pub use summary::{OperationSummary, PaginationSummary, PagingStyle, SchemeNeed};
