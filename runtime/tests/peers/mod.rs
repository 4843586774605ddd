//! Real servers the OAuth tests run against, started per test on loopback
//! ports and stopped on drop. A missing server fails the test.
#![allow(dead_code)]

pub mod oidc;
pub mod postgres;
