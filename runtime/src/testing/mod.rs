//! Test support (feature `testing`): a scripted fault-injecting server and
//! an in-memory transport for it, for wharf's tests and for users' own.

pub mod fault;
pub mod http_server;
pub mod tls;

pub use fault::{Fault, FaultServer, FaultTransport, Log, Seen};
pub use http_server::FaultHttpServer;
pub use tls::{ServerCert, TestCa};
