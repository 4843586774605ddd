// Paths are relative to the crate trybuild makes: target/tests/trybuild/<crate>/.
mod api {
    wharf::generate!("../../../../specs/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: the attribute goes on async functions.
#[wharf::policy(timeout = "2s")]
fn read() {}

fn main() {}
