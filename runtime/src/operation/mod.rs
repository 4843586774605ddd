//! What one operation is and carries, shared by every other module (the
//! request path, auth, the client side, policies' compile-time checks)
//! and importing none of them: the operation's metadata, its request and
//! response, bodies, and the failure classes retries are decided by.

mod body;
pub mod checks;
mod class;
mod request;

pub use body::{Body, ByteStream, Chunks, Opened, WriteError};
pub use class::{ErrorClass, TransportError, TransportErrorKind};
pub use request::{
    scopes_for, HttpRequest, OperationMeta, Request, Response, SchemeScopes, SecurityRequirement,
    StreamingResponse,
};
