//! # wharf
//!
//! Typed Rust clients generated from providers' OpenAPI documents, running
//! every call through one shared runtime. This crate is the one dependency an
//! application adds: generated code refers only to `::wharf::…` paths.
//!
//! Decoding is tolerant and reports contract drift:
//!
//! ```
//! let decoded = wharf::decode::<Vec<u32>>(br#"[1, "2"]"#).unwrap();
//! assert_eq!(decoded.value, [1, 2]);
//! assert_eq!(decoded.drift[0].pointer, "/1");
//! ```

pub use wharf_runtime::{
    decode, Binary, Date, DateTime, DecodeError, Decoded, Drift, DriftKind, JsonObject, JsonType,
    Nullable, Uuid, Value,
};

/// OAuth: flows, credentials that refresh themselves, token stores.
pub use wharf_runtime::auth;
/// The request path and its types (`Integration`, `OperationMeta`, ...).
pub use wharf_runtime::call;
pub use wharf_runtime::call::{scopes_for, OperationMeta, SchemeScopes, SecurityRequirement};
/// What generated clients are made of: `ClientCore`, `Reply`, `ApiError`,
/// parameter styles, bodies and pagination streams.
pub use wharf_runtime::client;
/// HTTP types (`Method`, `HeaderMap`, ...), for generated code.
pub use wharf_runtime::http;
/// The resilience policies and their configuration.
pub use wharf_runtime::policy;
/// The scripted fault server, for tests and demos (feature `testing`).
#[cfg(feature = "testing")]
pub use wharf_runtime::testing;
/// Clocks (`TokioClock`), for tests that pause time.
pub use wharf_runtime::time;

/// The generator, for `build.rs` scripts (`wharf::codegen::Generator`).
#[cfg(feature = "cli")]
pub use wharf_codegen as codegen;

/// Generates a client from a spec at compile time, and puts policies on
/// functions that call endpoints (feature `macros`).
#[cfg(feature = "macros")]
pub use wharf_macros::{generate, policy};

#[doc(hidden)]
pub mod __private {
    pub use wharf_runtime::__impl_decode as impl_decode;
    pub use wharf_runtime::__private::*;
}
