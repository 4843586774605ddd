//! Test support (feature `testing`): a scripted fault-injecting server and
//! an in-memory transport for it, and the embedded sandbox provider, for
//! wharf's tests and for users' own.

pub mod fault;
pub mod http_server;
pub mod sandbox;
pub mod tls;
mod wire;

pub use fault::{Fault, FaultServer, FaultTransport, Log, Seen};
pub use http_server::FaultHttpServer;
pub use sandbox::{Sandbox, SandboxConfig};
pub use tls::{ServerCert, TestCa};
